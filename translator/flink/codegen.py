"""Relational IR -> the Flink job: an ordered list of statements, each a template and its
context. All SQL shape decisions live here; templates only lay the statements out.

Shape (docs/flink-job-shape.md): per event table one raw-line source, one validation view
(reasons for the dead-letter sink) and one view of accepted records, shared by every
monitor reading it; the inventory and the monitor config as versioned views; per monitor
*pipeline* (monitors of the same id and shape across tenants share one) the views rows ->
eval (HOP) -> judged (config as of the window) -> ordered -> state (Python UDAF) -> alerts;
one statement set of INSERTs.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from sqlglot import exp

from translator.syntax.lexer import format_duration
from translator import __version__
from translator.flink.connectors import CompileOptions
from translator.flink.connectors import alert_sink_options
from translator.flink.connectors import kafka_options as _kafka
from translator.flink.dialect import to_sql
from translator.flink.expressions import SQL_TYPES, literal, qualified, to_exp
from translator.ir import relational as ir
from translator.ir.lower import DetectEvaluate
from translator.monitors.model import Monitor
from translator.semantic.schema import Catalog, Table

TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
STATE_FUNCTION = "alert_transitions"
STATE_FUNCTION_PATH = "udfs.flink.alert_state.alert_transitions"
INVENTORY = "device.devices"
SAFE_PATH = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*\Z")
EPOCH = "1970-01-01T00:00:00.000Z"
EPOCH_SQL = "TIMESTAMP '1970-01-01 00:00:00.000'"


@dataclass(frozen=True)
class Statement:
    template: str
    context: dict


@dataclass(frozen=True)
class Job:
    statements: tuple[Statement, ...]
    config_records: tuple[dict, ...]
    source_tables: dict  # catalog table -> SQL table name (unquoted), for runners


def q(name: str) -> str:
    """A quoted identifier."""
    return to_sql(exp.to_identifier(name, quoted=True))


def lit(value) -> str:
    return to_sql(literal(value))


def _interval(ms: int) -> str:
    if ms % 60_000 == 0 and ms >= 60_000:
        value, unit = ms // 60_000, "MINUTE"
    else:
        value, unit = ms // 1000, "SECOND"
    return to_sql(exp.Interval(this=exp.Literal.string(str(value)), unit=exp.var(unit)))


def source_name(table: str) -> str:
    return "src_" + ir.column_name(table)


def _json_path(path: str) -> str:
    assert SAFE_PATH.match(path), f"unsafe catalog path {path!r}"
    return lit("$." + path)


# ----------------------------------------------------------------------------- pipelines


@dataclass
class _Pipeline:
    name: str
    evaluate: ir.Evaluate
    every_ms: int
    monitors: list[Monitor]


def _fields(rel: ir.Relation) -> tuple[ir.Scan, ir.Enrich | None, list[ir.Scalar]]:
    filters: list[ir.Scalar] = []
    enrich = None
    while not isinstance(rel, ir.Scan):
        if isinstance(rel, ir.Filter):
            filters.append(rel.condition)
        elif isinstance(rel, ir.Enrich):
            enrich = rel
        rel = rel.input
    return rel, enrich, list(reversed(filters))


def pipelines(lowered: list[tuple[Monitor, ir.Evaluate]]) -> list[_Pipeline]:
    """Monitors with the same id and the same shape (all but thresholds) share a pipeline."""
    groups: dict[tuple, _Pipeline] = {}
    per_id: dict[str, int] = {}
    for monitor, ev in lowered:
        key = (monitor.id, dataclasses.replace(ev, params=()), monitor.every_ms)
        if key not in groups:
            n = per_id[monitor.id] = per_id.get(monitor.id, 0) + 1
            name = f"m_{monitor.id}" if n == 1 else f"m_{monitor.id}_{n}"
            groups[key] = _Pipeline(name, ev, monitor.every_ms, [])
        groups[key].monitors.append(monitor)
    return list(groups.values())


# ----------------------------------------------------------------------------- the job


def generate(lowered: list[tuple[Monitor, ir.Evaluate]], catalog: Catalog, sources: list[str],
             options: CompileOptions = CompileOptions()) -> Job:
    pipes = pipelines(lowered)
    tables: dict[str, dict[str, ir.Field]] = {}
    inventory: dict[str, ir.Field] = {}
    for p in pipes:
        scan, enrich, _ = _fields(p.evaluate.input.input)
        tables.setdefault(scan.table, {}).update({f.path: f for f in scan.fields})
        if enrich is not None:
            inventory.update({f.path: f for f in enrich.fields})
    out: list[Statement] = []
    monitors = sorted(f"{m.tenant}/{m.id}" for p in pipes for m in p.monitors)
    out.append(Statement("header.sql.j2", {"version": __version__, "sources": sources, "monitors": monitors}))
    out.append(Statement("set.sql.j2", {"options": [(lit(k), lit(v)) for k, v in sorted(session_options(options).items())]}))
    out.append(Statement("ddl/function.sql.j2", {"name": q(STATE_FUNCTION), "python_path": lit(STATE_FUNCTION_PATH)}))
    out += _detection_functions(pipes)
    inserts: list[dict] = []
    for name in sorted(tables):
        out += _event_table(catalog.tables[name], tables[name], options, inserts)
    if inventory:
        out += _inventory_table(catalog.tables[INVENTORY], inventory, options, inserts)
    out.append(Statement("ddl/config_source.sql.j2", {"name": q("src_monitor_config"), "time_format": lit(TIME_FORMAT),
                                                      "options": _kafka(options, options.config_topic, "json", source=True)}))
    out.append(Statement("views/latest.sql.j2", {
        "comment": "The monitor configuration in force at each time (versioned by updated_at).",
        "name": q("ver_monitor_config"), "source": q("src_monitor_config"),
        "columns": [q(c) for c in ("config_key", "tenant", "monitor", "enabled", "priority", "name", "tags", "params",
                                   "for_ms", "recover_for_ms", "trigger_condition", "recover_condition", "version_time")],
        "keys": [q("config_key")], "time": q("version_time"),
        "not_null": [q("tenant"), q("monitor"), q("version_time")]}))
    out.append(Statement("ddl/sink.sql.j2", {"name": q("sink_alerts"),
                                             "columns": [{"name": q("alert_id"), "type": "STRING"}, {"name": q("record"), "type": "STRING"}],
                                             "options": alert_sink_options(options)}))
    out.append(Statement("ddl/sink.sql.j2", {"name": q("sink_dead_letters"),
                                             "columns": [{"name": q(c), "type": "STRING"} for c in ("source", "reason", "line")],
                                             "options": _kafka(options, options.dead_letters_topic, "json")}))
    out += _populations(pipes, catalog)
    for p in pipes:
        out += _pipeline(p, catalog, inventory_used=bool(inventory), inserts=inserts)
    out.append(Statement("statement_set.sql.j2", {"inserts": _one_insert_per_sink(inserts)}))
    records = tuple(config_record(m, ev) for m, ev in sorted(lowered, key=lambda x: (x[0].tenant, x[0].id)))
    return Job(tuple(out), records, {name: source_name(name) for name in sorted(tables)}
               | ({INVENTORY: source_name(INVENTORY)} if inventory else {}) | {"monitor_config": "src_monitor_config"})


def session_options(options: CompileOptions) -> dict[str, str]:
    return {
        "table.local-time-zone": "UTC",
        "table.exec.source.idle-timeout": options.idle_timeout,
        "table.exec.uid.generation": "PLAN_ONLY",
        # One optimized block per shared sub-plan: every consumer of a raw-line source (the
        # dead-letter INSERT, each monitor, the impact population) then reads one parsing
        # Calc and one watermark assigner instead of its own copy. Flink generates no common
        # subexpressions, so each copy re-ran a full JSON parse per field and TO_TIMESTAMP
        # (docs/flink-job-shape.md, "Parse once").
        "table.optimizer.reuse-optimize-block-with-digest-enabled": "true",
    }


def _parsed(path: str, ty: str) -> str:
    raw = f"JSON_VALUE(`line`, {_json_path(path)})"
    if ty in ("string",):
        return raw
    return f"TRY_CAST({raw} AS {SQL_TYPES[ty]})"


# Validation of the raw lines (docs/flink-job-shape.md §1 and §3: reasons, and what Flink does
# with the values). Shared by the event tables and the inventory.
#
# not_utf8: the raw format hands the record's bytes to Flink unchanged inside the STRING; every
# function reading it as text (JSON_VALUE, IS JSON, the JSON dead-letter sink) decodes it and
# replaces each malformed sequence by U+FFFD. ENCODE re-encodes that decoded text, CAST(.. AS
# BYTES) gives the bytes as received: they differ iff the record is not valid UTF-8.
NOT_UTF8 = ("CAST(`line` AS BYTES) <> ENCODE(`line`, 'UTF-8')", "not_utf8")
NOT_JSON = ("NOT (`line` IS JSON OBJECT)", "not_json")
MISSING_TENANT = ("`tenant` IS NULL OR `tenant` = ''", "missing_tenant")
# Types read through their JSON text (_json_text) rather than JSON_VALUE, which returns NULL for
# an object or an array (read as a missing value) and the bare text of a string ("NaN" then
# casts to NaN, "Infinity" to Infinity).
JSON_TYPED = ("int", "byte", "float", "duration", "bool")
MAX_DOUBLE = "1.7976931348623157E308"


def _json_text(path: str) -> str:
    """The field's value as JSON text, wrapped in a one-element array: `[182]`, `["182"]`,
    `[true]`, `[{"v":3}]`, `[[3]]`; NULL when the field is missing or null. One parse of the
    line, as JSON_VALUE; numbers come out as JSON_VALUE writes them (`1E+400`, `0.1`)."""
    return f"JSON_QUERY(`line`, {_json_path(path)} WITH UNCONDITIONAL ARRAY WRAPPER)"


def _typed_value(json_col: str, column: str, ty: str) -> tuple[str, str]:
    """(value, well_typed) over a column holding _json_text: the field's SQL value, and a
    condition that is TRUE only for a value of the field's type. A number field takes a JSON
    number only (no string, even "182", no boolean, object or array) that is finite as a
    DOUBLE (1e400 overflows to Infinity); an integer field one whose value is a whole number
    in BIGINT range (3 and 3.0, not 1.5, which TRY_CAST would truncate, nor 1e2); a boolean
    field true or false."""
    text = f"SUBSTR({json_col}, 2, CHAR_LENGTH({json_col}) - 2)"
    if ty == "bool":
        return f"CASE {text} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END", f"{column} IS NOT NULL"
    if SQL_TYPES[ty] == "BIGINT":
        return f"TRY_CAST({text} AS BIGINT)", f"{column} = TRY_CAST({text} AS DOUBLE)"
    return f"TRY_CAST({text} AS {SQL_TYPES[ty]})", f"ABS({column}) <= {MAX_DOUBLE}"


def _field_reading(path: str, column: str, ty: str, columns: list, derived: list, checks: list) -> None:
    """How one field is read: a computed column of the raw source, or (JSON_TYPED) its JSON text
    there, the typed value derived in the check view and a `bad_type:<path>` check."""
    if ty not in JSON_TYPED:
        if ty != "string":
            columns.append({"name": q(column + "_raw"), "expr": _parsed(path, "string")})
            checks.append((f"{q(column + '_raw')} IS NOT NULL AND {q(column)} IS NULL", f"bad_type:{path}"))
        columns.append({"name": q(column), "expr": _parsed(path, ty)})
        return
    json_col = q(column + "_json")
    value, well_typed = _typed_value(json_col, q(column), ty)
    columns.append({"name": json_col, "expr": _json_text(path)})
    derived.append({"name": q(column), "expr": value})
    checks.append((f"{json_col} IS NOT NULL AND ({well_typed}) IS NOT TRUE", f"bad_type:{path}"))


def _checked(table: str, name: str, source: str, kept: list[str], derived: list, checks: list) -> Statement:
    return Statement("views/checked.sql.j2", {"table": table, "name": q(name), "source": q(source), "columns": kept,
                                              "derived": derived,
                                              "checks": [{"condition": c, "reason": lit(r)} for c, r in checks]})


def _event_table(table: Table, fields: dict[str, ir.Field], o: CompileOptions, inserts: list) -> list[Statement]:
    src, chk, ok = source_name(table.name), "chk_" + ir.column_name(table.name), "ok_" + ir.column_name(table.name)
    time_raw = ir.column_name(table.time_field) + "_raw"
    parsed_time = f"TO_TIMESTAMP({_parsed(table.time_field, 'string')}, {lit(TIME_FORMAT)})"
    columns = [{"name": q("tenant"), "expr": _parsed("tenant", "string")},
               {"name": q(time_raw), "expr": _parsed(table.time_field, "string")},
               {"name": q("ts_parsed"), "expr": parsed_time},
               # a NULL rowtime stops the job before any WHERE runs: unparsable times get the
               # epoch and are rejected by the check view
               {"name": q("ts"), "expr": f"COALESCE({parsed_time}, {EPOCH_SQL})"}]
    checks = [NOT_UTF8, NOT_JSON, MISSING_TENANT,
              (f"{q(time_raw)} IS NULL", "missing_event_time"), ("`ts_parsed` IS NULL", "bad_event_time")]
    derived: list[dict] = []
    for f in sorted(fields.values(), key=lambda f: f.column):
        _field_reading(f.path, f.column, f.ty, columns, derived, checks)
    checks.append(("`ts` <= CURRENT_WATERMARK(`ts`)", "late"))
    kept = [q("tenant"), q("ts")] + [q(f.column) for f in sorted(fields.values(), key=lambda f: f.column)]
    inserts.append({"target": q("sink_dead_letters"),
                    "query": f"SELECT {lit(table.name)}, `reject_reason`, `line`\nFROM {q(chk)}\nWHERE `reject_reason` IS NOT NULL"})
    return [
        Statement("ddl/raw_source.sql.j2", {
            "comment": f"{table.name}: one raw JSON line per record; fields parsed without failing.",
            "name": q(src), "columns": columns, "time_column": q("ts"), "lateness": _interval(o.lateness_ms),
            "options": _kafka(o, table.topic, "raw", source=True)}),
        _checked(table.name, chk, src, kept, derived, checks),
        Statement("views/accepted.sql.j2", {"name": q(ok), "checked": q(chk), "columns": kept}),
    ]


def _inventory_table(table: Table, fields: dict[str, ir.Field], o: CompileOptions, inserts: list) -> list[Statement]:
    src, chk = source_name(table.name), "chk_" + ir.column_name(table.name)
    cols = {ir.column_name(p): (p, f.ty) for p, f in fields.items()}
    cols.pop("collector_uid", None)
    parsed_time = f"TO_TIMESTAMP({_parsed('last_seen', 'string')}, {lit(TIME_FORMAT)})"
    columns = [{"name": q("tenant"), "expr": _parsed("tenant", "string")},
               {"name": q("collector_uid"), "expr": _parsed("collector.uid", "string")},
               # one key column holding the tenant: see the note on versioned keys in _pipeline
               {"name": q("device_key"), "expr": f"CONCAT({_parsed('tenant', 'string')}, '|', {_parsed('collector.uid', 'string')})"},
               {"name": q("last_seen_parsed"), "expr": parsed_time},
               {"name": q("last_seen"), "expr": f"COALESCE({parsed_time}, {EPOCH_SQL})"}]
    checks = [NOT_UTF8, NOT_JSON, MISSING_TENANT,
              ("`collector_uid` IS NULL", "missing_key:collector.uid"), ("`last_seen_parsed` IS NULL", "bad_version_time:last_seen")]
    derived: list[dict] = []
    for c, (p, ty) in sorted(cols.items()):
        _field_reading(p, c, ty, columns, derived, checks)
    kept = [q("device_key"), q("tenant"), q("collector_uid")] + [q(c) for c in sorted(cols)] + [q("last_seen")]
    inserts.append({"target": q("sink_dead_letters"),
                    "query": f"SELECT {lit(table.name)}, `reject_reason`, `line`\nFROM {q(chk)}\nWHERE `reject_reason` IS NOT NULL"})
    return [
        Statement("ddl/raw_source.sql.j2", {
            "comment": f"{table.name}: the inventory, versioned by last_seen; same raw-line reading as events.",
            "name": q(src), "columns": columns, "time_column": q("last_seen"), "lateness": _interval(0),
            "options": _kafka(o, table.topic, "raw", source=True)}),
        _checked(table.name, chk, src, kept, derived, checks),
        Statement("views/latest.sql.j2", {
            "comment": "Each device's attributes as of any time: the latest version per tenant + collector uid.",
            "name": q("ver_device_devices"), "source": q(chk), "columns": kept,
            "keys": [q("device_key")], "time": q("last_seen"),
            "not_null": ["`reject_reason` IS NULL AND `tenant`", q("collector_uid"), q("last_seen")]}),
    ]


def _pipeline(p: _Pipeline, catalog: Catalog, inventory_used: bool, inserts: list) -> list[Statement]:
    ev = p.evaluate
    w = ev.input
    scan, enrich, filters = _fields(w.input)
    table = catalog.tables[scan.table]
    inv_cols = {f.column: ir.column_name(f.path) for f in (enrich.fields if enrich else ())}

    def row_col(name: str) -> exp.Expression:
        if name in inv_cols:
            return exp.column(inv_cols[name], table="d")
        return exp.column(name, table="e")

    n = lambda suffix: q(f"{p.name}__{suffix}")  # noqa: E731
    tenants = sorted({m.tenant for m in p.monitors})
    tenant_filter = "`e`.`tenant` IN (" + ", ".join(lit(t) for t in tenants) + ")"
    columns = ["`e`.`tenant`", "`e`.`ts`"] + [f"`e`.{q(f.column)}" for f in scan.fields]
    columns += [f"`d`.{q(src)} AS {q(col)}" for col, src in inv_cols.items()]
    # A WHERE on inventory attributes would be pushed by Flink's planner into the versioned
    # inventory view, whose changelog then carries UPDATE_BEFORE rows stamped with the old
    # version's time; the event-time temporal join reads those as "no version" and drops
    # events (seen on Flink 2.3). Such filters become a `keep` column instead, applied by
    # conditional aggregation, which the planner cannot push anywhere.
    deferred = [f for f in filters if _columns(f) & set(inv_cols)]
    filters = [f for f in filters if f not in deferred]
    keep = ir.Col(KEEP, "bool") if deferred else None
    if keep is not None:
        columns.append(f"COALESCE({to_sql(to_exp(_conjunction(deferred), row_col))}, FALSE) AS {q(KEEP)}")
    rows = {"title": f"monitor {p.name[2:]} ({', '.join(tenants)})", "name": n("rows"), "columns": columns,
            "events": q("ok_" + ir.column_name(scan.table)), "inventory": q("ver_device_devices") if enrich else "",
            "join_kind": "JOIN" if (enrich is None or enrich.inner) else "LEFT JOIN",
            "filters": [tenant_filter] + [to_sql(to_exp(f, row_col)) for f in filters]}
    keys = [q(k.expr.name) for k in w.keys]
    group_json = ("JSON_OBJECT(" + ", ".join(f"{lit(k.name)} VALUE {q(k.expr.name)}" for k in w.keys) + ")") if w.keys else lit("{}")
    has_users = "user.name" in table.fields
    measures = [ir.Measure(m.name, _only_kept(m.expr, keep), m.ty) for m in w.measures]
    impact_devices = _only_kept(ir.Agg("count_distinct", ir.Col("device_collector_uid", "string"), None, "int"), keep)
    impact_users = (to_sql(to_exp(_only_kept(ir.Agg("count_distinct", ir.Col("user_name", "string"), None, "int"), keep)))
                    if has_users else "CAST(NULL AS BIGINT)")
    evaluation = {"name": n("eval"), "monitor": lit(p.monitors[0].id), "rows": n("rows"),
                  "size": _interval(w.size_ms), "slide": _interval(w.slide_ms), "size_text": format_duration(w.size_ms),
                  "slide_text": format_duration(w.slide_ms), "group_json": group_json,
                  "measures": [{"name": q(m.name), "expr": to_sql(to_exp(m.expr))} for m in measures]
                  + [{"name": k, "expr": k} for k in keys],
                  "keys": keys, "having": f"COUNT(CASE WHEN {q(KEEP)} THEN 1 END) > 0" if keep else "",
                  "impact_devices": to_sql(to_exp(impact_devices)), "impact_users": impact_users}
    v = qualified("v")
    param = lambda name: exp.Bracket(this=exp.column("params", table="c"), expressions=[exp.Literal.string(name)])  # noqa: E731
    judged_filter = to_sql(to_exp(w.having, v)) if w.having is not None else ""
    if isinstance(ev, DetectEvaluate):
        return _detect_pipeline(p, ev, n, table.name, inserts, [
            Statement("views/monitor_rows.sql.j2", rows), Statement("views/monitor_eval.sql.j2", evaluation)])
    judged = {"name": n("judged"), "eval": n("eval"), "config": q("ver_monitor_config"), "time_format": lit(TIME_FORMAT),
              "trigger": to_sql(to_exp(ev.trigger, v, param)), "recover": to_sql(to_exp(ev.recover, v, param)),
              "values": [f"{lit(m.name)} VALUE `v`.{q(m.name)}" for m in w.measures], "extra_filter": judged_filter}
    inserts.append({"target": q("sink_alerts"), "query": _alert_query(n("alerts"))})
    return [Statement("views/monitor_rows.sql.j2", rows),
            Statement("views/monitor_eval.sql.j2", evaluation),
            Statement("views/monitor_judged.sql.j2", judged)] + _state_tail(p, n)


def _state_tail(p: _Pipeline, n, function: str = STATE_FUNCTION, extra: tuple[str, ...] = (),
                spec: str | None = None) -> list[Statement]:
    """judged -> ordered (event-time sort per group) -> state (the alert state UDAF) -> alerts,
    for every monitor kind; `extra` judged columns travel to the UDAF, then `spec` literal."""
    args = list(extra) + ([lit(spec)] if spec is not None else [])
    return [Statement("views/monitor_ordered.sql.j2", {"name": n("ordered"), "judged": n("judged"), "extra": list(extra)}),
            Statement("views/monitor_state.sql.j2", {"name": n("state"), "function": q(function),
                                                     "ordered": n("ordered"), "every_ms": str(p.every_ms),
                                                     "extra": args}),
            Statement("views/monitor_alerts.sql.j2", {"name": n("alerts"), "state": n("state")})]


KEEP = "keep"


def _columns(e) -> set[str]:
    """Column names an IR scalar reads."""
    if isinstance(e, ir.Col):
        return {e.name}
    out: set[str] = set()
    for value in vars(e).values():
        for item in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(item):
                out |= _columns(item)
    return out


def _conjunction(items: list[ir.Scalar]) -> ir.Scalar:
    return items[0] if len(items) == 1 else ir.Bool("AND", tuple(items))


def _only_kept(e: ir.Scalar, keep: ir.Col | None) -> ir.Scalar:
    """Every aggregate in e counts only rows where `keep` is true."""
    if keep is None:
        return e
    if isinstance(e, ir.Agg):
        return dataclasses.replace(e, cond=keep if e.cond is None else ir.Bool("AND", (keep, e.cond)))
    if isinstance(e, ir.Arith):
        return dataclasses.replace(e, left=_only_kept(e.left, keep), right=_only_kept(e.right, keep))
    return e


def _one_insert_per_sink(inserts: list[dict]) -> list[dict]:
    """One INSERT per sink table, its queries joined by UNION ALL: every INSERT becomes its
    own Kafka sink, and exactly-once sinks of one job must not share a transactional id."""
    by_target: dict[str, list[str]] = {}
    for insert in inserts:
        by_target.setdefault(insert["target"], []).append(insert["query"])
    return [{"target": t, "query": "\nUNION ALL\n".join(qs)} for t, qs in by_target.items()]


def _alert_query(alerts_view: str) -> str:
    from translator.flink.render import render

    return render("alert_record.sql.j2", {"alerts": alerts_view}).rstrip()


def config_record(m: Monitor, ev: ir.Evaluate) -> dict:
    spec = m.spec
    recover_text = spec.recover_when.text if spec.recover_when else f"not ({spec.trigger_when.text})" if spec.trigger_when else ""
    if isinstance(ev, DetectEvaluate):
        return _detect_config_record(m, ev)
    return {
        "tenant": m.tenant, "monitor": m.id, "updated_at": EPOCH, "enabled": spec.enabled, "priority": spec.priority,
        "name": spec.name, "tags": list(spec.tags), "params": {k: v for k, v in ev.params},
        "for_ms": spec.trigger_for_ms, "recover_for_ms": spec.recover_for_ms,
        "trigger_condition": spec.trigger_when.text if spec.trigger_when else "",
        "recover_condition": recover_text,
    }


# ----------------------------------------------------------------------------- detection
# Seasonal and change monitors (docs/seasonal.md, "On Flink"). The rows and eval views are
# the threshold ones; then, per pipeline:
#   population  tenants' active devices per TUMBLE(size) of the accepted events, versioned;
#               one per table and window size, shared (_populations)
#   populated   eval ⋈ population as of window_time (temporal join), the metric as DOUBLE
#   seasonal:   judged (config as of window_time, payload) -> ordered -> state: the UDAF
#               alert_transitions_seasonal keeps the group's per-slot history, scores each
#               evaluation against its slot's baseline, decides the breach and runs the
#               threshold monitors' state machine (one Python operator, as for thresholds)
#   change:     scored (built-in SUM/COUNT OVER (tenant, group) RANGE history) -> judged
#               (breach in SQL) -> ordered -> state (the threshold monitors' UDAF)
#   alerts      transitions; the alert record derives the priority (PRIORITY_RULE).

SEASONAL_FUNCTION = "alert_transitions_seasonal"
SEASONAL_FUNCTION_PATH = "udfs.flink.alert_state.alert_transitions_seasonal"
SEASONAL_TZ = "UTC"          # no tenant time zone in the monitor format yet; the UDAF takes one
SEASONAL_WEEKLY = "auto"
SEASONAL_MIN_SAMPLES = 4
SEASONAL_MIN_DAYS = 2
PRIORITY_RULE = ("priority = the monitor's, +1 if the metric is at least 2x as far out as the band edge "
                 "(|deviation| >= 2 x deviations; change: |relative| >= 2 x change), +1 if the affected "
                 "devices are >= 25% of the tenant's active devices in the window, -1 if < 5%; "
                 "clamped to low..critical")


def seasonal_detect_spec(det):
    """What shapes a seasonal group's state and breach (udfs.flink.baseline.DetectSpec)."""
    from udfs.baseline.seasonal import SeasonalParams
    from udfs.flink.baseline import DetectSpec

    params = SeasonalParams(direction=det.direction, slot_s=det.slot_ms / 1000, history_s=det.history_ms / 1000,
                            tz=SEASONAL_TZ, weekly=SEASONAL_WEEKLY, min_samples=SEASONAL_MIN_SAMPLES,
                            min_days=SEASONAL_MIN_DAYS)
    return DetectSpec(params, det.default_recover)


def seasonal_spec(det) -> str:
    """The DetectSpec as the literal the state UDAF receives."""
    return seasonal_detect_spec(det).text()


def population_name(table: str, w: ir.WindowAggregate, prefix: str = "ver_") -> str:
    """The versioned population of a table's tenants per window size (see _populations);
    prefix "" names the tumbles it is versioned from, "seen_" the devices they count."""
    return q(f"{prefix}pop_{ir.column_name(table)}__{w.size_ms // 1000}s")


def _populations(pipes: list[_Pipeline], catalog: Catalog) -> list[Statement]:
    """The tenants' active populations: per table and window size read by a detection
    monitor, the devices seen per TUMBLE, their count per tenant and its versioned view
    (latest per tenant), shared by every detection monitor with that size. All tenants of the table: a tenant filter
    would make `tenant` a constant the planner folds out of the temporal join's key
    (docs/flink-job-shape.md §6)."""
    windows: dict[tuple[str, int], ir.WindowAggregate] = {}
    for p in pipes:
        if isinstance(p.evaluate, DetectEvaluate):
            w = p.evaluate.input
            windows[_fields(w.input)[0].table, w.size_ms] = w
    out = []
    for (table, _), w in sorted(windows.items()):
        tumbles, devices = population_name(table, w, prefix=""), population_name(table, w, prefix="seen_")
        size = {"table": table, "size": _interval(w.size_ms), "size_text": format_duration(w.size_ms)}
        out += [Statement("views/monitor_population_devices.sql.j2", size | {"name": devices, "source": q(source_name(table))}),
                Statement("views/monitor_population.sql.j2", size | {"name": tumbles, "devices": devices}),
                Statement("views/latest.sql.j2", {
                    "comment": f"The active population of each tenant as of any time (the latest {format_duration(w.size_ms)} tumble).",
                    "name": population_name(table, w), "source": tumbles,
                    "columns": [q("tenant"), q("window_time"), q("active_devices")],
                    "keys": [q("tenant")], "time": q("window_time"), "not_null": [q("tenant")]})]
    return out


def _detection_functions(pipes: list[_Pipeline]) -> list[Statement]:
    if not any(isinstance(p.evaluate, DetectEvaluate) and p.evaluate.detection.type == "seasonal" for p in pipes):
        return []
    return [Statement("ddl/function.sql.j2", {"name": q(SEASONAL_FUNCTION), "python_path": lit(SEASONAL_FUNCTION_PATH)})]


def _day_interval(ms: int) -> str:
    """An interval literal Flink accepts for any length up to 99 days (DAY(2) TO SECOND(3))."""
    days, rest = divmod(ms, 86_400_000)
    h, rest = divmod(rest, 3_600_000)
    m, rest = divmod(rest, 60_000)
    return f"INTERVAL '{days} {h:02d}:{m:02d}:{rest // 1000:02d}.{rest % 1000:03d}' DAY TO SECOND(3)"


def _detect_pipeline(p: _Pipeline, ev: DetectEvaluate, n, table: str, inserts: list,
                     head: list[Statement]) -> list[Statement]:
    det, w = ev.detection, ev.input
    eval_columns = ["tenant", "monitor", "group_json", "window_start", "window_end", "window_time"]
    eval_columns += [m.name for m in w.measures] + [k.expr.name for k in w.keys if k.expr.name not in
                                                    {m.name for m in w.measures}]
    eval_columns += ["impact_devices", "impact_users"]
    eval_columns = list(dict.fromkeys(eval_columns))
    populated = {"name": n("populated"), "eval": n("eval"), "population": population_name(table, w),
                 "metric": q(det.metric),
                 "joined_columns": [f"`v`.{q(c)}" for c in eval_columns]}
    param = lambda name: exp.Bracket(this=exp.column("nql_params"), expressions=[exp.Literal.string(name)])  # noqa: E731
    when = ev.trigger
    extra = None if isinstance(when, ir.Lit) and when.value is True else to_sql(to_exp(when, param=param))
    common = {"name": n("judged"), "config": q("ver_monitor_config"), "time_format": lit(TIME_FORMAT),
              "metric": det.metric, "direction": det.direction, "param": lit(det.param),
              "columns": [f"`s`.{q(c)}" for c in eval_columns] + ["`s`.`active_devices`"],
              "values": [f"{lit(m.name)} VALUE {q(m.name)}" for m in w.measures],
              "extra_filter": to_sql(to_exp(w.having)) if w.having is not None else ""}
    if det.type == "seasonal":
        judged = common | {"populated": n("populated"), "sensitivity_name": "deviations",
                           "slot_text": format_duration(det.slot_ms), "history_text": format_duration(det.history_ms),
                           "trigger": extra or "TRUE",
                           "recover": "CAST(NULL AS BOOLEAN)" if det.default_recover
                           else to_sql(to_exp(ev.recover, param=param))}
        middle = [Statement("views/monitor_judged_seasonal.sql.j2", judged)]
        tail = _state_tail(p, n, SEASONAL_FUNCTION, ("`nql_enabled`", "`nql_value`", "`nql_sensitivity`"),
                           seasonal_spec(det))
    else:
        scored = {"name": n("scored"), "populated": n("populated"), "metric": q(det.metric),
                  "columns": [q(c) for c in eval_columns], "history_text": format_duration(det.history_ms),
                  "range": _day_interval(det.history_ms)}
        centre = "CASE WHEN `s`.`ref_n` > 0 THEN `s`.`ref_sum` / `s`.`ref_n` END"
        scaled = {"above": "(`nql_value` - `nql_centre`) / `nql_spread` > `nql_sensitivity`",
                  "below": "(`nql_value` - `nql_centre`) / `nql_spread` < -`nql_sensitivity`",
                  "both": "ABS(`nql_value` - `nql_centre`) / `nql_spread` > `nql_sensitivity`"}[det.direction]
        flat = {"above": "`nql_value` > `nql_centre`", "below": "`nql_value` < `nql_centre`",
                "both": "`nql_value` <> `nql_centre`"}[det.direction]
        trigger = f"(`nql_breach` AND {extra})" if extra else "`nql_breach`"
        recover = f"NOT {trigger}" if det.default_recover else to_sql(to_exp(ev.recover, param=param))
        # a learning evaluation (no reference) is not judged: it neither triggers nor, by the
        # default recovery, closes an open alert (as for seasonal); an explicit recover.when applies
        judged_when = "`nql_enabled` IS NOT FALSE AND `nql_centre` IS NOT NULL"
        judged = common | {"scored": n("scored"), "sensitivity_name": "change", "trigger": trigger, "recover": recover,
                           "trigger_when": judged_when,
                           "recover_when": judged_when if det.default_recover else "`nql_enabled` IS NOT FALSE",
                           "breach_scaled": scaled, "breach_flat": flat, "centre": centre,
                           "spread": f"ABS({centre})", "history_size": "`s`.`ref_n`"}
        middle = [Statement("views/monitor_scored_change.sql.j2", scored),
                  Statement("views/monitor_judged_change.sql.j2", judged)]
        tail = _state_tail(p, n)
    inserts.append({"target": q("sink_alerts"), "query": _detect_alert_query(n("alerts"))})
    return head + [Statement("views/monitor_populated.sql.j2", populated), *middle, *tail]


def _detect_alert_query(alerts_view: str) -> str:
    from translator.flink.render import render

    return render("alert_record_detect.sql.j2", {"alerts": alerts_view}).rstrip()


def detection_condition_text(m: Monitor) -> str:
    det = m.spec.detection
    side, sign = {"above": ("above", "+"), "below": ("below", "-"), "both": ("outside", "±")}[det.direction]
    if det.type == "seasonal":
        text = (f"{det.metric} {side} seasonal baseline {sign} {det.deviations:g} spreads "
                f"(slot {format_duration(det.slot_ms)}, history {format_duration(det.history_ms)})")
    else:
        text = f"{det.metric} {side} its {format_duration(det.history_ms)} average {sign} {det.change * 100:g}%"
    return f"{text} and {m.spec.trigger_when.text}" if m.spec.trigger_when else text


def _detect_config_record(m: Monitor, ev: DetectEvaluate) -> dict:
    spec = m.spec
    trigger_text = detection_condition_text(m)
    return {
        "tenant": m.tenant, "monitor": m.id, "updated_at": EPOCH, "enabled": spec.enabled, "priority": spec.priority,
        "name": spec.name, "tags": list(spec.tags), "params": {k: v for k, v in ev.params},
        "for_ms": spec.trigger_for_ms, "recover_for_ms": spec.recover_for_ms,
        "trigger_condition": trigger_text,
        "recover_condition": spec.recover_when.text if spec.recover_when else f"not ({trigger_text})",
    }
