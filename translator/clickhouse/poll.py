"""The polling back end at run time: the catalog's tables on a ClickHouse connection, loading
JSONL records into them, and the backtest: each monitor's evaluation query over (from, to],
the alert state machine of udfs/alerting over each group's evaluations in time order, and the
alert records in the streaming job's JSON shape (spec/monitors.md "The alert record").

The records are the text the Flink job writes (sql/alert_record.sql.j2 through Flink's
JSON_OBJECT): keys sorted, no spaces, non-ASCII as is, numbers as Java prints them (a DOUBLE
`404.6627777777778`, `1.0E7`; a BIGINT `18`), so alert files of both engines compare as text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from nql_flink.translator.clickhouse import codegen, tables
from nql_flink.translator.clickhouse.connection import ClickHouseError, Connection
from nql_flink.translator.ir import relational as ir
from nql_flink.translator.semantic.schema import Catalog
from nql_flink.udfs.alerting.state_machine import AlertState


def render_sql(template: str, context: dict) -> str:
    from nql_flink.translator.flink.render import render  # the one Jinja environment (StrictUndefined)

    return render(template, context)


def create_tables(conn: Connection, catalog: Catalog) -> None:
    """The database and every catalog table (kept if they exist)."""
    conn.execute(render_sql("clickhouse/create_database.sql.j2", {"database": tables.ident(tables.DATABASE)}))
    for table in tables.catalog_tables(catalog):
        conn.execute(render_sql("clickhouse/create_table.sql.j2", tables.ddl_context(table)))


def load_file(conn: Connection, catalog: Catalog, table_name: str, path: str) -> tables.Loaded:
    """The records of a JSONL file into a catalog table; the rejected ones counted by reason."""
    table = catalog.lookup(table_name)
    if table is None:
        raise ClickHouseError("bad-input", f"unknown table {table_name!r} (tables: {', '.join(sorted(catalog.tables))})")
    try:
        with open(path, encoding="utf-8", errors="strict") as f:
            loaded = tables.read_records(table, f)
    except UnicodeDecodeError as exc:
        raise ClickHouseError("bad-input", f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ClickHouseError("bad-input", f"{path}: {exc.strerror or exc}") from None
    insert(conn, table, loaded.rows)
    return loaded


def insert(conn: Connection, table, rows: list[tuple]) -> None:
    """Rows read by tables.read_records into their catalog table, in the order read (an object
    table's versions take effect as the streaming job applies them: tables.effective_versions)."""
    rows = tables.effective_versions(table, rows)
    if rows:
        conn.insert(tables.qualified(table), [(c, t) for c, _, t in tables.columns(table)], rows)


@dataclass(frozen=True)
class Evaluated:
    """One evaluation of a group: its row of the evaluation query."""

    group_json: str
    group: dict
    window_start: int
    window_end: int
    values: dict
    impact_devices: int | None
    impact_users: int | None
    active_devices: int | None
    trig: bool | None
    rec: bool | None


def evaluations(conn: Connection, evaluation: codegen.Evaluation, from_ms: int, to_ms: int) -> list[Evaluated]:
    """The monitor's evaluations with window ends in (from_ms, to_ms], per group in time order."""
    out = []
    nk, nm = len(evaluation.keys), len(evaluation.measures)
    for row in conn.rows(evaluation.sql(from_ms, to_ms)):
        start, end = int(row[0]), int(row[1])
        group = {name: typed(v, t) for (name, t), v in zip(evaluation.keys, row[2:2 + nk])}
        values = {name: typed(v, t) for (name, t), v in zip(evaluation.measures, row[2 + nk:2 + nk + nm])}
        devices, users, active, trig, rec = row[2 + nk + nm:]
        out.append(Evaluated(java_json(group), group, start, end, values, devices, users,
                             None if active is None else int(active), _bool(trig), _bool(rec)))
    out.sort(key=lambda e: (e.group_json, e.window_end))
    return out


def _bool(v) -> bool | None:
    return None if v is None else bool(v)


def typed(value, sql_type: str):
    """A value of the evaluation's row as the Flink job's record holds it (its SQL type)."""
    if value is None:
        return None
    if sql_type in ("INT", "BIGINT"):
        return int(value)
    if sql_type == "DOUBLE":
        return float(value)
    if sql_type.startswith("DECIMAL"):
        scale = int(sql_type.rstrip(")").split(",")[1])
        return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-scale))
    if sql_type == "BOOLEAN":
        return bool(value)
    return str(value)


def alert_records(monitor: ir.Monitor, evaluated: list[Evaluated]) -> list[str]:
    """The state machine over each group's evaluations (time order): one record per transition."""
    cfg = monitor.config
    if not cfg.enabled:  # a disabled monitor's conditions are NULL in the job: no alerts
        return []
    every = monitor.every_ms
    out, states = [], {}
    for e in evaluated:
        state = states.setdefault(e.group_json, AlertState())
        tr = state.step(e.window_end, e.trig, e.rec, cfg.for_ms, cfg.recover_for_ms, every, monitor.tenant,
                        monitor.id, e.group_json)
        if tr is None:
            continue
        rated = impact(e)
        record = {"alert_id": tr.alert_id, "tenant": monitor.tenant, "monitor": monitor.id, "status": tr.status,
                  "at": tables.format_time(tr.at_ms), "group": e.group, "values": e.values,
                  "window": {"start": tables.format_time(e.window_start), "end": tables.format_time(e.window_end)},
                  "condition": cfg.trigger_text if tr.status == "triggered" else cfg.recover_text,
                  "baseline": None, "impact": rated | {"share": nested_double(rated["share"])},
                  "priority": derived_priority(cfg.priority, rated["share"]),
                  "name": cfg.name, "tags": list(cfg.tags)}
        out.append(java_json(record))
    return out


def impact(e: Evaluated) -> dict:
    """The record's impact as the Flink job's (docs/nql-dialect.md): devices, users, the tenant's
    active devices in the window and the share (NULL when the population is not known or 0)."""
    share = e.impact_devices / e.active_devices if e.impact_devices is not None and e.active_devices else None
    return {"devices": e.impact_devices, "users": e.impact_users, "active_devices": e.active_devices,
            "share": None if share is None else float(share)}


PRIORITIES = ("low", "medium", "high", "critical")


def derived_priority(priority: str, share: float | None) -> str:
    """The alert's priority from the monitor's and the share (sql/alert_record.sql.j2's rule for
    threshold alerts): +1 at 25% of the active devices or more, -1 under 5%, clamped."""
    level = PRIORITIES.index(priority) + 1 if priority in PRIORITIES else 2
    if share is not None:
        level += 1 if share >= 0.25 else -1 if share < 0.05 else 0
    return PRIORITIES[max(1, min(4, level)) - 1]


def backtest(conn: Connection, monitors: list[codegen.Evaluation], from_ms: int, to_ms: int) -> list[str]:
    """Every monitor's alert records over (from_ms, to_ms], sorted as the embedded runner sorts
    the streaming job's (deploy/embedded/runner.py)."""
    lines: list[str] = []
    for evaluation in monitors:
        lines += alert_records(evaluation.monitor, evaluations(conn, evaluation, from_ms, to_ms))
    return sorted(lines)


def write_lines(path: str, lines: list[str]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


# ----------------------------------------------------------------------------- JSON as Flink writes it


def java_double(x: float) -> str:
    """A DOUBLE as Java's Double.toString prints it (Jackson writes numbers so): plain from
    1e-3 to 1e7, else `d.dddE<n>`; always a fraction digit."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)
        return text if ("." in text or "e" in text) else text + ".0"
    sign, digits, exponent = Decimal(repr(x)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    return ("-" if sign else "") + text[0] + "." + (text[1:] or "0") + f"E{power}"


def nested_double(x: float | None) -> Decimal | float | None:
    """A DOUBLE as Flink writes it inside a nested JSON_OBJECT (the alert's impact share): the
    inner object's text read back as a BigDecimal, written as one (udfs/jvm JsonText.nested:
    5.0E-6 becomes 0.0000050, 1.0E7 becomes 1.0E+7; Python's Decimal prints by the same rule)."""
    return x if x is None or not math.isfinite(x) else Decimal(java_double(x))


def java_json(value) -> str:
    """Compact JSON with sorted keys and Java's numbers: the text of Flink's JSON_OBJECT."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{java_json(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(java_json(v) for v in value) + "]"
    raise TypeError(f"no JSON for {type(value).__name__}")
