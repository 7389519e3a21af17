"""The generator API: deterministic telemetry for every catalog table.

    sim = Simulation(SimConfig(start="2026-11-26T07:00:00Z", duration="2h", devices=2000, seed=7))
    for rec in sim.records("session.vdi_events"): ...          # dicts, event-time order
    for table, t_ms, rec in sim.stream(): ...                    # all tables merged by event time
    for t_ms, key, value in sim.encoded("session.vdi_events"): ...  # Kafka-ready bytes

Generation runs in one-hour chunks aligned to UTC hours; each (table, tenant, hour) has
its own random stream, so a given hour is identical whatever window contains it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator

import numpy as np

from . import models
from .catalog import NUMERIC_TYPES, TENANT, Table, get_table, load_catalog, record_builder
from .config import SimConfig
from .fleet import Fleet, Sessions, build_fleet, build_sessions, load_profile, rng_for

HOUR_MS = models.HOUR_MS

FILLER = {"string": "", "int": 0, "float": 0.0, "duration": 0.0, "byte": 0, "bitrate": 0, "ratio": 0.0,
          "bool": False, "ip": "0.0.0.0", "version": "0.0.0"}


def format_times(ms: np.ndarray) -> list[str]:
    """Epoch ms -> ['2026-11-26T10:00:30.000Z', ...] (vectorized)."""
    s = np.datetime_as_string(np.asarray(ms, dtype="datetime64[ms]"), unit="ms")
    return [x + "Z" for x in s.tolist()]


def _to_list(values) -> list:
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)


class Simulation:
    def __init__(self, config: SimConfig | None = None, **kwargs):
        self.config = config or SimConfig(**kwargs)
        cfg = self.config
        self.profile = load_profile(cfg.profile)
        self.catalog = load_catalog(cfg.catalog)
        names = list(self.catalog)
        self.tables: list[str] = [get_table(t, cfg.catalog).name for t in cfg.tables] if cfg.tables else names
        self.fleets: list[Fleet] = [
            build_fleet(t, cfg.devices, cfg.vdi_share, cfg.seed, self.profile, cfg.pools) for t in cfg.tenants]
        names_seen = [f.tenant for f in self.fleets]
        if len(set(names_seen)) != len(names_seen):
            raise ValueError(f"duplicate tenant in {names_seen}")
        self.sessions: list[Sessions] = [
            build_sessions(f, cfg.seed, self.profile, cfg.start, cfg.end) for f in self.fleets]
        self.incidents = [models.IncidentSet(cfg.incidents, f) for f in self.fleets]
        tenants = {f.tenant for f in self.fleets}
        metrics = {"crash_rate"} | {f.path for t in self.catalog.values() for f in t.fields if f.type in NUMERIC_TYPES}
        for inc in cfg.incidents:
            if inc.tenant is not None and inc.tenant not in tenants:
                raise ValueError(f"incident {inc.name}: tenant {inc.tenant!r} is not simulated")
            if inc.metric not in metrics:
                raise ValueError(f"incident {inc.name}: {inc.metric!r} is not a numeric catalog field "
                                 f"(one of {', '.join(sorted(metrics))})")

    # ------------------------------------------------------------------ chunks of columns

    def window(self, table: str) -> tuple[int, int]:
        """[lo, hi) of event times for a table (the inventory starts one version earlier)."""
        cfg = self.config
        if get_table(table, cfg.catalog).kind == "object":
            return cfg.start - cfg.inventory_every, cfg.end
        return cfg.start, cfg.end

    def chunks(self, table: str) -> list[tuple[int, int]]:
        lo, hi = self.window(table)
        first = (lo // HOUR_MS) * HOUR_MS
        return [(c, c + HOUR_MS) for c in range(first, hi, HOUR_MS)]

    def _generate(self, table: Table, fleet: Fleet, ses: Sessions, inc, c0: int, c1: int) -> dict:
        cfg = self.config
        rng = rng_for(cfg.seed, table.name, fleet.tenant, c0)
        name = table.name
        if name == "session.vdi_events":
            return models.gen_vdi_events(fleet, ses, inc, rng, c0, c1)
        if name == "device_performance.events":
            return models.gen_device_performance(fleet, ses, inc, rng, c0, c1)
        if name == "session.logins":
            return models.gen_logins(fleet, ses, inc, rng, c0, c1)
        if name == "session.events":
            return models.gen_session_events(fleet, ses, inc, rng, c0, c1)
        if name == "execution.crashes":
            return models.gen_crashes(fleet, ses, inc, rng, c0, c1, self.profile)
        if name == "device.devices":
            return models.gen_devices(fleet, rng, c0, c1, cfg.inventory_every, cfg.start)
        return {"_t": np.zeros(0, np.int64), "_dev": np.zeros(0, np.int64)}  # a table nobody models yet

    def chunk_columns(self, table: str, c0: int, c1: int) -> dict:
        """Columns of one chunk for all tenants, sorted by (event time, tenant, device)."""
        tab = get_table(table, self.config.catalog)
        lo, hi = self.window(tab.name)
        parts = []
        for ti, (fleet, ses, inc) in enumerate(zip(self.fleets, self.sessions, self.incidents)):
            cols = self._generate(tab, fleet, ses, inc, c0, c1)
            keep = (cols["_t"] >= max(lo, c0)) & (cols["_t"] < min(hi, c1))
            cols = {k: np.asarray(v)[keep] for k, v in cols.items()}
            cols[TENANT] = np.full(int(keep.sum()), fleet.tenant, dtype=object)
            cols["_tenant"] = np.full(int(keep.sum()), ti)
            parts.append(cols)
        keys = parts[0].keys()
        merged = {k: np.concatenate([p[k] for p in parts]) for k in keys}
        order = np.lexsort((merged["_dev"], merged["_tenant"], merged["_t"]))
        return {k: v[order] for k, v in merged.items()}

    def chunk_records(self, table: str, cols: dict) -> Iterator[dict]:
        """Record dicts of a chunk, built lazily (a chunk can hold ~10^5 records)."""
        tab = get_table(table, self.config.catalog)
        build = record_builder(tab.name, self.config.catalog)
        n = len(cols["_t"])
        lists = [_to_list(cols[TENANT])]
        for f in tab.fields:
            v = cols.get(f.path)
            if v is None:
                if f.type == "datetime":
                    lists.append(format_times(cols["_t"]))
                else:
                    lists.append([f.values[0] if f.type == "enum" else FILLER.get(f.type)] * n)
            elif f.type == "datetime":
                lists.append(format_times(v))
            else:
                lists.append(_to_list(v))
        return (build(*row) for row in zip(*lists))

    # ------------------------------------------------------------------ public iterators

    def timed_records(self, table: str, progress: Callable[[str, int, int, int], None] | None = None
                      ) -> Iterator[tuple[int, dict]]:
        """(event time epoch ms, record dict) in event-time order for one table."""
        chunks = self.chunks(table)
        for i, (c0, c1) in enumerate(chunks):
            cols = self.chunk_columns(table, c0, c1)
            yield from zip(cols["_t"].tolist(), self.chunk_records(table, cols))
            if progress:
                progress(table, i + 1, len(chunks), len(cols["_t"]))

    def records(self, table: str) -> Iterator[dict]:
        for _, rec in self.timed_records(table):
            yield rec

    def stream(self, tables: list[str] | None = None) -> Iterator[tuple[str, int, dict]]:
        """All tables merged by event time: (table, event time ms, record)."""
        tables = tables or self.tables
        its = [((t, ms, r) for ms, r in self.timed_records(t)) for t in tables]
        yield from heapq.merge(*its, key=lambda x: x[1])

    def encoded(self, table: str) -> Iterator[tuple[int, bytes, bytes]]:
        """(event time ms, Kafka key b'tenant|entity', JSON value) for one table."""
        import orjson

        ent = get_table(table, self.config.catalog).entity_path.split(".")
        for ms, rec in self.timed_records(table):
            node = rec
            for p in ent:
                node = node[p]
            yield ms, f"{rec[TENANT]}|{node}".encode(), orjson.dumps(rec)

    # ------------------------------------------------------------------ ground truth

    def describe(self) -> dict:
        """What was simulated (fleet sizes, pools, sessions, incidents): deterministic."""
        from .config import format_time

        cfg = self.config
        out = {"start": format_time(cfg.start), "end": format_time(cfg.end), "seed": cfg.seed,
               "devices_per_tenant": cfg.devices, "tenants": {}, "incidents": [i.describe() for i in cfg.incidents]}
        for f, s in zip(self.fleets, self.sessions):
            active = (s.start < cfg.end) & (s.end > cfg.start)
            pools = {}
            for p in sorted({x for x in f.pool.tolist() if x}):
                on = f.pool[s.dev] == p
                pools[p] = {"devices": int((f.pool == p).sum()), "sessions": int((on & active).sum())}
            out["tenants"][f.tenant] = {
                "utc_offset_minutes": f.offset_ms // 60_000,
                "vdi_devices": int(f.is_vdi.sum()), "physical_devices": int((~f.is_vdi).sum()),
                "sessions_in_window": int(active.sum()), "pools": pools}
        return out
