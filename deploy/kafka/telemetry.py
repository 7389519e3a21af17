"""Telemetry onto Kafka: the simulator's records to each catalog table's topic, and 'flush'
records that move event time past the end of a data set.

Keys: tenant + entity id (b'acme|c-00001'), so one device's records stay in one partition
and in order. Topic per table = the catalog's `topic` (prefixed with topic_prefix).

Why flush records: a streaming job's windows fire when the watermark passes them, and on
Kafka the watermark only moves with new records (or when a source is marked idle, and when
EVERY source is idle, nothing moves). After the last real record the last windows stay open.
A flush record is a valid record of tenant `__flush__` (a tenant with no monitors, so the
generated per-tenant filter drops it) with the current wall-clock time as its event time,
sent to every partition of a topic. Not a time in the future: a record more than the clock
skew bound ahead of the processing clock is dead-lettered `future` and moves nothing. For a
data set older than the tenant lag bound (10 minutes by default) it moves that topic's
watermark so far that every tenant in the data set counts as silent and behind, so its open
windows are evaluated and emitted (docs/flink-job-shape.md, "Event time per tenant"). Tests
and demos use it; production data never needs it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

FLUSH_TENANT = "__flush__"


def flush_time(seconds_ago: float = 0.0) -> str:
    """Now (minus ``seconds_ago``), UTC, as the catalog's timestamp text ('2026-12-01T02:30:00.123Z')."""
    from datetime import datetime, timedelta, timezone

    t = datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _nested(paths: dict[str, object]) -> dict:
    out: dict = {}
    for path, value in paths.items():
        node = out
        *head, last = path.split(".")
        for p in head:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def flush_record(table: str, at: str | None = None) -> tuple[bytes, bytes]:
    """(key, value) of the flush record of a catalog table ('monitor_config' for the config topic),
    event time ``at`` (default: now)."""
    at = at or flush_time()
    if table == "monitor_config":
        rec = {"tenant": FLUSH_TENANT, "monitor": FLUSH_TENANT, "updated_at": at, "enabled": False, "params": {}}
        return f"{FLUSH_TENANT}/{FLUSH_TENANT}".encode(), json.dumps(rec).encode()
    from nql_flink.simulator.catalog import get_table

    t = get_table(table)
    rec = _nested({"tenant": FLUSH_TENANT, t.time_field: at, t.entity_path: FLUSH_TENANT})
    return f"{FLUSH_TENANT}|{FLUSH_TENANT}".encode(), json.dumps(rec, separators=(",", ":")).encode()


def flush_records(table: str) -> list[tuple[bytes, bytes]]:
    """The flush of a catalog table: two records, 1 minute ago and now. The second moves the
    watermark past the first one's 30-second tick (a window of the table's own records, which
    fires only when the watermark passes its end): the tick brings every tenant's clock the
    news that the table is at now - 1 minute, which drags silent tenants past their windows."""
    return [flush_record(table, flush_time(60)), flush_record(table, flush_time())]


def flush(bootstrap: str | None, topic: str, table: str) -> int:
    """Send `table`'s flush records to every partition of `topic`; returns the partitions."""
    from nql_flink.deploy.kafka import client as kc

    records = flush_records(table)
    parts = kc.partitions(bootstrap, topic) or [0]
    for p in parts:
        kc.produce(bootstrap, topic, records, partition=p)
    return len(parts)


def record_key(table: str) -> Callable[[bytes], bytes | None]:
    """JSON line -> b'tenant|entity' (None when the line has neither, e.g. a corrupted one)."""
    from nql_flink.simulator.catalog import get_table

    path = get_table(table).entity_path.split(".")

    def key(line: bytes) -> bytes | None:
        try:
            rec = json.loads(line)
            node = rec
            for p in path:
                node = node[p]
            return f"{rec['tenant']}|{node}".encode()
        except (ValueError, KeyError, TypeError):
            return None
    return key


def produce_lines(bootstrap: str | None, topic: str, table: str, lines: Iterable[bytes]) -> int:
    from nql_flink.deploy.kafka import client as kc

    key = record_key(table)
    return kc.produce(bootstrap, topic, ((key(ln), ln.rstrip(b"\n")) for ln in lines if ln.strip()), timeout=120)


def produce_simulation(sim, bootstrap: str | None, *, topic_prefix: str = "", partitions: int = 1,
                       out_of_order: float = 0.0, lateness_ms: int = 0, bad_fraction: float = 0.0,
                       flush_after: bool = False, progress: Callable[[str, str, int], None] | None = None) -> dict:
    """Produce every table of a Simulation to its topic (inventory first), creating topics
    (the inventory compacted). Returns {topic: records}."""
    from nql_flink.deploy.kafka import client as kc
    from nql_flink.simulator.catalog import get_table
    from nql_flink.simulator.output import table_lines

    tables = sorted(sim.tables, key=lambda t: get_table(t).kind != "object")  # inventory first
    counts: dict[str, int] = {}
    for table in tables:
        t = get_table(table)
        topic = topic_prefix + t.topic
        kc.create_topics(bootstrap, [topic], partitions=partitions, compacted=t.kind == "object")
        lines = table_lines(sim, table, out_of_order=out_of_order, lateness_ms=lateness_ms, bad_fraction=bad_fraction)
        counts[topic] = produce_lines(bootstrap, topic, table, lines)
        if flush_after:
            flush(bootstrap, topic, table)
        if progress:
            progress(table, topic, counts[topic])
    return counts
