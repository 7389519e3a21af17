"""Simulation parameters, time/duration parsing and incidents (described as data)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nql_flink.translator.syntax.durations import option_duration

def parse_duration(text) -> int:
    """A duration in the project's one grammar (nql_flink.translator.syntax.durations, as a
    command-line option: '2h', '90min', '1.5h', '30s', '250ms', '1d', '0') -> milliseconds."""
    ms = option_duration(str(text))
    if ms is None:
        raise ValueError(f"bad duration {text!r} (use e.g. 30s, 5min, 1.5h, 2d)")
    return ms


def parse_time(text) -> int:
    """ISO-8601 (Z, offset or naive = UTC) or a datetime -> epoch milliseconds."""
    if isinstance(text, datetime):
        dt = text
    else:
        s = str(text).strip().replace(" ", "T")
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(round(dt.timestamp() * 1000))


def format_time(ms: int) -> str:
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def parse_offset(text: str) -> int:
    """'+01:00' / '-05:00' / '+0530' -> milliseconds east of UTC."""
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", str(text).strip())
    if not m:
        raise ValueError(f"bad UTC offset {text!r} (use e.g. +01:00)")
    sign = 1 if m.group(1) == "+" else -1
    return sign * (int(m.group(2)) * 3_600_000 + int(m.group(3) or 0) * 60_000)


# ---------------------------------------------------------------------------- incidents

FILTER_KEYS = ("tenant", "pool", "entity", "device", "hardware_type", "binary")


@dataclass(frozen=True)
class Incident:
    """A change to one metric for matching records whose event time is in [start, end).

    metric: a catalog field name (e.g. network_latency, cpu_queue_length) or `crash_rate`.
    Filters (None = any): tenant, pool (desktop pool), entity, device (name, `*` glob),
    hardware_type, binary (crashes only). Effect: value * mul + add, or `set` (replace).
    ramp_ms > 0 blends the effect in linearly over ramp_ms after start and out before end.
    """

    metric: str
    start_ms: int
    end_ms: int
    tenant: str | None = None
    pool: str | None = None
    entity: str | None = None
    device: str | None = None
    hardware_type: str | None = None
    binary: str | None = None
    table: str | None = None
    add: float = 0.0
    mul: float = 1.0
    set: float | None = None
    ramp_ms: int = 0
    name: str = ""

    def describe(self) -> dict:
        d = {"name": self.name, "metric": self.metric, "start": format_time(self.start_ms),
             "end": format_time(self.end_ms)}
        for k in (*FILTER_KEYS, "table"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.set is not None:
            d["set"] = self.set
        else:
            if self.add:
                d["add"] = self.add
            if self.mul != 1.0:
                d["mul"] = self.mul
        if self.ramp_ms:
            d["ramp_ms"] = self.ramp_ms
        return d


def incident_from_mapping(spec: dict, default_tenant: str | None = None, index: int = 0) -> Incident:
    spec = {str(k).strip().lower(): v for k, v in spec.items()}
    if "metric" not in spec or "start" not in spec:
        raise ValueError(f"incident needs metric= and start=: {spec}")
    start = parse_time(spec.pop("start"))
    if "end" in spec:
        end = parse_time(spec.pop("end"))
    elif "minutes" in spec:
        end = start + int(round(float(spec.pop("minutes")) * 60_000))
    elif "duration" in spec:
        end = start + parse_duration(spec.pop("duration"))
    else:
        raise ValueError(f"incident needs end=, minutes= or duration=: {spec}")
    if end <= start:
        raise ValueError("incident end must be after start")
    kw: dict = {"metric": str(spec.pop("metric")), "start_ms": start, "end_ms": end}
    for key in list(spec):
        val = spec[key]
        base = re.sub(r"_(ms|s|bps|pct)$", "", key)
        unit = key[len(base) + 1:] if key != base else ""
        scale = {"s": 1000.0}.get(unit, 1.0)
        if base in ("add", "set"):
            kw[base] = float(val) * scale
        elif base == "mul":
            kw["mul"] = float(val)
        elif key == "ramp":
            kw["ramp_ms"] = parse_duration(val)
        elif key in FILTER_KEYS or key in ("table", "name"):
            kw[key] = str(val)
        else:
            raise ValueError(f"unknown incident key {key!r}")
    kw.setdefault("tenant", default_tenant)
    kw.setdefault("name", f"incident-{index + 1}")
    return Incident(**kw)


def parse_incident(text: str, default_tenant: str | None = None, index: int = 0) -> Incident:
    """'pool=Finance-Win11,metric=network_latency,start=2026-11-26T10:00:00Z,minutes=12,add_ms=250'."""
    spec = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"bad incident item {part!r} (expected key=value)")
        k, v = part.split("=", 1)
        spec[k.strip()] = v.strip()
    return incident_from_mapping(spec, default_tenant, index)


def load_incidents(path: str | Path, default_tenant: str | None = None, first_index: int = 0) -> list[Incident]:
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    items = doc.get("incidents", []) if isinstance(doc, dict) else doc
    return [incident_from_mapping(dict(it), default_tenant, first_index + i) for i, it in enumerate(items)]


# ---------------------------------------------------------------------------- config

@dataclass
class SimConfig:
    start: int | str = "2026-11-26T07:00:00Z"
    duration: int | str = "1h"
    devices: int = 2000                    # per tenant (tenants mirror each other's fleet)
    seed: int = 7
    tenants: tuple[str, ...] | list[str] | str = ("acme", "globex")
    vdi_share: float = 0.6                 # fraction of each tenant's devices that are VDI desktops
    pools: tuple[str, ...] | None = None   # subset of the profile's pools (default: all)
    incidents: list[Incident] = field(default_factory=list)
    tables: tuple[str, ...] | None = None  # default: all catalog tables
    profile: str | None = None             # fleet profile YAML (default: simulator/profiles.yaml)
    catalog: str | None = None             # catalog YAML (default: translator/catalog/tables.yaml)
    inventory_every: int | str = "1h"      # devices: re-emit a version (last_seen) this often per device

    def __post_init__(self):
        if not isinstance(self.start, int):
            self.start = parse_time(self.start)
        if not isinstance(self.duration, int):
            self.duration = parse_duration(self.duration)
        if not isinstance(self.inventory_every, int):
            self.inventory_every = parse_duration(self.inventory_every)
        if isinstance(self.tenants, str):
            self.tenants = tuple(t for t in self.tenants.split(",") if t)
        self.tenants = tuple(self.tenants)
        if isinstance(self.pools, str):
            self.pools = tuple(p for p in self.pools.split(",") if p)
        if self.duration <= 0:
            raise ValueError("duration must be positive")
        if self.devices < 1:
            raise ValueError("devices must be >= 1")
        if not self.tenants:
            raise ValueError("at least one tenant")

    @property
    def end(self) -> int:
        return self.start + self.duration
