"""The catalog's tables on ClickHouse: one table per catalog table (translator/catalog/tables.yaml),
its fields flattened to columns as the IR names them (`device.collector.uid` ->
`device_collector_uid`), every field Nullable (a missing value is NULL); `tenant` and the
table's time (`nql_time`: the event time, or the inventory's version time) are never NULL.

Records are read as the streaming job reads them (docs/flink-job-shape.md "Dead-letter
reasons"): a record that is not a JSON object, lacks its tenant or time, has a time not
`yyyy-MM-ddTHH:mm:ss.SSSZ` or more than the clock skew bound ahead of the clock (`future`), or
a field of the wrong type is rejected with that reason and not loaded (counted, never silently
lost).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field

from nql_flink.translator.clickhouse.expressions import CH_TYPES, ident, lit
from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.ir.relational import column_name
from nql_flink.translator.semantic.schema import Catalog, Table

DATABASE = "nql"
TIME_COLUMN = "nql_time"
# An event or version time further ahead of the clock than this is `future`, as in the job
# (CompileOptions.max_clock_skew_ms's default): an inventory version from a wrong clock would
# otherwise be the newest for ever (effective_versions).
MAX_CLOCK_SKEW_MS = CompileOptions.max_clock_skew_ms
# catalog field types -> the IR's (translator/ir/lower.py `_ty`)
IR_TYPES = {"enum": "string", "ratio": "float", "bitrate": "float", "ip": "string", "version": "string"}
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z\Z")


def ir_type(table: Table, path: str) -> str:
    name = table.fields[path].name
    return IR_TYPES.get(name, name)


def table_name(table: Table) -> str:
    """`session.vdi_events` -> `session_vdi_events` (in database `nql`)."""
    return column_name(table.name)


def qualified(table: Table) -> str:
    return f"{ident(DATABASE)}.{ident(table_name(table))}"


def columns(table: Table) -> list[tuple[str, str, str]]:
    """(column, catalog path, ClickHouse type) of a table, tenant and time first."""
    out = [("tenant", "tenant", "String"), (TIME_COLUMN, table.time_field, CH_TYPES["datetime"])]
    for path in sorted(table.fields):
        out.append((column_name(path), path, f"Nullable({CH_TYPES[ir_type(table, path)]})"))
    return out


def ddl_context(table: Table) -> dict:
    """The context of sql/clickhouse/create_table.sql.j2."""
    key = ["tenant", TIME_COLUMN]
    return {"database": ident(DATABASE), "name": qualified(table), "comment": lit(f"catalog table {table.name}"),
            "columns": [{"name": ident(c), "type": t} for c, _, t in columns(table)],
            "order_by": [ident(c) for c in key]}


def parse_time(text) -> int | None:
    """Milliseconds since the epoch of a `yyyy-MM-ddTHH:mm:ss.SSSZ` text; None otherwise."""
    m = _TIME.match(text) if isinstance(text, str) else None
    if m is None:
        return None
    try:
        t = dt.datetime(*(int(x) for x in m.groups()[:6]), int(m.group(7)) * 1000, tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    return int(t.timestamp()) * 1000 + int(m.group(7))


def _now_ms() -> int:
    return int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)


def format_time(ms: int) -> str:
    """The wire format of a time: `2026-11-26T10:00:30.000Z`."""
    t = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _lookup(record: dict, path: str):
    value = record
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _typed(value, ty: str):
    """(value as the column holds it, ok): a missing or null value is None; a value of the
    wrong type is not ok (docs/flink-job-shape.md, the bad_type rules)."""
    if value is None:
        return None, True
    if ty in ("float", "duration"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))
        return (float(value) if ok else None), ok
    if ty in ("int", "byte"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() \
            and -2**63 <= value < 2**63
        return (int(value) if ok else None), ok
    if ty == "bool":
        return (value if isinstance(value, bool) else None), isinstance(value, bool)
    if ty == "datetime":
        ms = parse_time(value)
        return ms, ms is not None
    if isinstance(value, (dict, list)):
        return None, True  # an object or array reads as missing
    if isinstance(value, bool):
        return ("true" if value else "false"), True
    return str(value), True


@dataclass
class Loaded:
    """Rows of one table (tuples in `columns` order, times in ms) and the rejected records'
    reasons counted."""

    rows: list[tuple] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)


def read_records(table: Table, lines) -> Loaded:
    """The rows of JSON lines for `table`."""
    cols = columns(table)
    out = Loaded()
    latest = _now_ms() + MAX_CLOCK_SKEW_MS   # the clock read once per read, not per record
    for line in lines:
        if not line.strip():
            continue
        reason, row = _row(table, cols, line, latest)
        if reason:
            out.rejected[reason] = out.rejected.get(reason, 0) + 1
        else:
            out.rows.append(row)
    return out


def _row(table: Table, cols, line: str, latest: int):
    try:
        record = json.loads(line)
    except ValueError:
        return "not_json", None
    if not isinstance(record, dict):
        return "not_json", None
    tenant = record.get("tenant")
    if tenant is None or tenant == "" or isinstance(tenant, (dict, list)):
        return "missing_tenant", None
    raw_time = _lookup(record, table.time_field)
    if raw_time is None:
        return ("missing_event_time" if table.is_event else f"bad_version_time:{table.time_field}"), None
    ms = parse_time(raw_time)
    if ms is None:
        return ("bad_event_time" if table.is_event else f"bad_version_time:{table.time_field}"), None
    if ms > latest:
        return "future", None   # as the job: a time from a wrong clock, ahead of this one
    row = [_typed(tenant, "string")[0], ms]
    for _, path, _ in cols[2:]:
        value, ok = _typed(_lookup(record, path), ir_type(table, path))
        if not ok:
            return f"bad_type:{path}", None
        row.append(value)
    if table.identity and row[2 + sorted(table.fields).index(table.identity)] is None:
        return f"missing_key:{table.identity}", None
    return None, tuple(row)


def effective_versions(table: Table, rows: list[tuple]) -> list[tuple]:
    """The versions of an object table (the inventory) as the streaming job applies them, from
    rows in the order read (one file: one Kafka partition): `nql_time` becomes the version's
    effective time (udfs/jvm VersionOrder, docs/polling.md "Inventory read out of version
    order"). With `newest` the largest version time read before: a version at t >= newest takes
    effect at t; one at t < newest at newest, unless its device has a version in order at newest
    (then it never applies: dropped); of two versions of a device taking effect at one time, the
    in-order one, else the one with the later version time, else the later read, is kept.
    Event tables' rows are returned as they are."""
    if table.is_event or not table.identity:
        return rows
    key_at = 2 + sorted(table.fields).index(table.identity)
    newest = None
    at_newest: set = set()
    kept: dict[tuple, tuple] = {}        # (effective time, tenant, device) -> row
    for row in rows:
        t, device = row[1], (row[0], row[key_at])
        if newest is None or t >= newest:
            if newest is None or t > newest:
                newest, at_newest = t, set()
            at_newest.add(device)
            kept[(t, *device)] = row
        elif device not in at_newest:
            before = kept.get((newest, *device))
            if before is None or before[1] <= t:
                kept[(newest, *device)] = row
    return [(row[0], effective, *row[2:]) for (effective, *_), row in kept.items()]


def catalog_tables(catalog: Catalog) -> list[Table]:
    return [catalog.tables[name] for name in sorted(catalog.tables)]
