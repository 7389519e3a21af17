"""Relational IR -> the Flink job: an ordered list of statements, each a template and its
context. All SQL shape decisions live here; templates only lay the statements out.

Shape (docs/flink-job-shape.md): per event table one raw-line source, one validation view
(reasons for the dead-letter sink), one clock view (each tenant's event time per Kafka
partition, which decides lateness per tenant), one view of accepted records and one tick
stream (the table's progress), shared by every monitor reading it; the inventory and the
monitor config as versioned views; per monitor *pipeline* (monitors of the same id and shape
across tenants share one) the views rows -> input (rows and ticks) -> windows (the Java
process table function `nql_windows`: HOP windows per tenant in the tenant's own event
time) -> eval (measures) -> judged (config as of the window) -> states (the Java process
table function `nql_alert_states`: the alert state machine per group, its state changes and
eviction; seasonal and change monitors: a Python UDAF) -> alerts and the state topic; one
statement set of INSERTs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from nql_flink.translator.syntax.durations import format_duration
from nql_flink.translator import __version__
from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.flink.connectors import alert_sink_options, alert_state_sink_options, file_options
from nql_flink.translator.flink.connectors import kafka_options as _kafka
from nql_flink.translator.flink.dialect import to_sql
from nql_flink.translator.flink.expressions import SCALAR_FUNCTIONS, SQL_TYPES, double, literal, qualified, to_exp, when
from nql_flink.translator.flink import conditions, monitor_config
from nql_flink.translator.flink.monitor_config import KEY_COLUMN, TIME_COLUMN, VIEW_COLUMNS
from nql_flink.translator.flink.monitor_config import config_record
from nql_flink.translator.ir import relational as ir
from nql_flink.translator.semantic.schema import Catalog, Table

TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
STATES_FUNCTION = "nql_alert_states"
STATES_FUNCTION_CLASS = "dev.nqlflink.udfs.AlertStates"
# What the alert state function's state means (its uid hashes it, state_uid): its state row,
# AlertStates.STATE_TYPE (tests/flink/test_alert_states.py checks they agree), per group key.
ALERT_STATES_LAYOUT = ("ROW<status STRING, last_t BIGINT, streak BIGINT, alert_id STRING, trigger_at BIGINT, "
                       "shown STRING, shown_since BIGINT, shown_due BIGINT, evict_due BIGINT, timer_at BIGINT, "
                       "checked_t BIGINT> by tenant/monitor/group_json, no TTL")
WINDOWS_FUNCTION = "nql_windows"
WINDOWS_FUNCTION_CLASS = "dev.nqlflink.udfs.TenantWindows"
# The windows function that looks each record's device up in the inventory's versions itself
# (they come in its table, `nql_inventory`) instead of after a temporal join (_table_windows).
INVENTORY_WINDOWS_FUNCTION = "nql_inventory_windows"
INVENTORY_WINDOWS_FUNCTION_CLASS = "dev.nqlflink.udfs.InventoryWindows"
# One row per argument: the tenants each tick is repeated for (views/table_input.sql.j2).
EACH_FUNCTION = "nql_each"
EACH_FUNCTION_CLASS = "dev.nqlflink.udfs.Each"
INVENTORY = "device.devices"
SAFE_PATH = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*\Z")
# The Kafka partition a record came from: each tenant's clock is kept per partition, whose
# order Kafka preserves, whatever the source's interleaving of partitions (catch-up reads).
SPLIT_COLUMN = "nql_split"
# A record's line (as bytes) in a windows function that keeps the clocks: for its 'reject' rows;
# carried only when the hint (udfs/jvm LateHint, in the source's chain) says it may be late.
LINE_COLUMN = "nql_line"
# The first record of each tick that the ticks' window aggregation needs (udfs/jvm FirstTick):
# it gets one record per tick, not every record.
FIRST_TICK_FUNCTION = "nql_first_tick"
FIRST_TICK_FUNCTION_CLASS = "dev.nqlflink.udfs.FirstTick"
# the alert-state record's text (sql/alert_state_record.sql.j2), written without a JSON tree
STATE_RECORD_FUNCTION = "nql_state_record"
STATE_RECORD_FUNCTION_CLASS = "dev.nqlflink.udfs.StateRecord"
# a group of STRING keys as JSON_OBJECT's text, written without a JSON tree (codegen._group)
GROUP_OBJECT_FUNCTION = "nql_group_object"
GROUP_OBJECT_FUNCTION_CLASS = "dev.nqlflink.udfs.GroupObject"
# a threshold monitor's alert record text (sql/alert_record.sql.j2), written without a JSON tree
ALERT_RECORD_FUNCTION = "nql_alert_record"
ALERT_RECORD_FUNCTION_CLASS = "dev.nqlflink.udfs.AlertRecord"
LATE_HINT_FUNCTION = "nql_late_hint"
LATE_HINT_FUNCTION_CLASS = "dev.nqlflink.udfs.LateHint"
SPLIT_METADATA = "partition"
# Each tenant's event time per Kafka partition of an event table, and the clock rows that carry
# it past the inventory join (udfs/jvm PartitionClock, views/clock.sql.j2). Its state is the
# table's (deploy/plan.py TABLE_KINDS: role `clock`).
CLOCK_FUNCTION = "nql_clock"
CLOCK_FUNCTION_CLASS = "dev.nqlflink.udfs.PartitionClock"
CLOCK_STATE = "ROW<newest BIGINT, clock BIGINT, sw BIGINT, tenant STRING, split INT> by tenant and partition"


@dataclass(frozen=True)
class Metadata:
    """A column a table reads from its connector's record metadata (`METADATA FROM key`),
    with the constant it takes where the connector has none (`on_files`)."""

    column: str  # unquoted
    sql_type: str
    key: str
    constant: str | None = None  # SQL; set: the column is this constant instead


@dataclass(frozen=True)
class Connector:
    """Where a table's records come from or go to: its options (unquoted, rendered as the
    WITH clause) and the metadata columns it reads."""

    table: str  # the table's SQL name, unquoted
    options: dict[str, str]
    metadata: tuple[Metadata, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One statement of the job as data: its template (the layout: sql/<kind>/...), the
    template's context (SQL fragments made here) and, for a CREATE TABLE, its connector.
    Rendered to SQL text only at the edge (render.render_statement); runners, deploy and
    explain change connectors and options here, never in the text."""

    template: str
    context: dict
    connector: Connector | None = None

    @property
    def kind(self) -> str:
        """header | set | function | table | view | statement_set | execute_plan"""
        if self.template == "ddl/function.sql.j2":
            return "function"
        if self.template.startswith("ddl/"):
            return "table"
        if self.template.startswith("views/"):
            return "view"
        return self.template.removesuffix(".sql.j2")


@dataclass(frozen=True)
class Job:
    statements: tuple[Statement, ...]
    config_records: tuple[dict, ...]
    source_tables: dict  # catalog table -> SQL table name (unquoted), for runners
    pipelines: dict = dataclasses.field(default_factory=dict)  # pipeline name -> its monitors' (tenant, id)

    def script(self) -> str:
        """The sql-client script: every statement, in order, separated by a blank line."""
        from nql_flink.translator.flink.render import render_statement
        return "\n".join(render_statement(s) for s in self.statements)

    def executable(self) -> list[str]:
        """Each statement to execute on its own (without the header and the SET lines: a
        runner sets its session options itself)."""
        from nql_flink.translator.flink.render import render_statement
        return [render_statement(s).strip().rstrip(";") for s in self.statements if s.kind not in ("header", "set")]

    def on_files(self, inputs: dict[str, str], output_dir: str) -> "Job":
        """The same job on files instead of Kafka (embedded runs, planning): a table named in
        `inputs` reads that file (bounded), every other table writes under
        `<output_dir>/<table>/`; records are parsed and written as on Kafka; a file is one
        Kafka partition, so the partition metadata is the constant 0. Nothing else changes."""
        out = []
        for s in self.statements:
            c = s.connector
            if c is not None:
                path = inputs.get(c.table) or str(Path(output_dir, c.table))
                metadata = tuple(dataclasses.replace(m, constant="0") for m in c.metadata)
                s = dataclasses.replace(s, connector=Connector(c.table, file_options(c.options, str(Path(path).resolve())),
                                                              metadata))
            out.append(s)
        return dataclasses.replace(self, statements=tuple(out))

    def with_statements(self, statements) -> "Job":
        return dataclasses.replace(self, statements=tuple(statements))


def q(name: str) -> str:
    """A quoted identifier."""
    return to_sql(exp.to_identifier(name, quoted=True))


def lit(value) -> str:
    return to_sql(literal(value))


def by_pipeline(branches, column: str = "`nql_pipeline`", otherwise: str | None = None) -> str:
    """A CASE over the row's pipeline from (pipeline name, value SQL) pairs, one WHEN per
    distinct value listing the pipelines that have it: the generated Java grows with the
    distinct values (a few: `every`, measure positions), not with the pipelines. One WHEN per
    pipeline made Flink's code splitter take minutes and the heap for 500 (issue 15)."""
    names: dict[str, list[str]] = {}
    for name, value in branches:
        names.setdefault(value, []).append(lit(name))
    whens = "".join(f"\n    WHEN {column} " + (f"= {ps[0]}" if len(ps) == 1 else f"IN ({', '.join(ps)})") + f" THEN {value}"
                    for value, ps in names.items())
    return f"CASE{whens}" + (f" ELSE {otherwise}" if otherwise is not None else "") + " END"


def alert_values(pipes) -> str:
    """The alert record's `values`: each threshold pipeline's measures as a JSON object's text."""
    return by_pipeline((p.name, f"JSON_OBJECT({', '.join(values_pairs(p.evaluate.input.measures))})") for p in pipes)


def _interval(ms: int) -> str:
    if ms % 60_000 == 0 and ms >= 60_000:
        value, unit = ms // 60_000, "MINUTE"
    elif ms % 1000:
        return f"INTERVAL '{ms / 1000:.3f}' SECOND"  # (sqlglot would add a precision Flink reads otherwise)
    else:
        value, unit = ms // 1000, "SECOND"
    return to_sql(exp.Interval(this=exp.Literal.string(str(value)), unit=exp.var(unit)))


def source_name(table: str) -> str:
    return "src_" + ir.column_name(table)


# ----------------------------------------------------------------------------- pipelines


@dataclass
class _Pipeline:
    name: str
    evaluate: ir.Evaluate
    every_ms: int
    monitors: list[ir.Monitor]



def pipelines(monitors: list[ir.Monitor]) -> list[_Pipeline]:
    """Monitors whose IR is the same but for thresholds (config parameters) share a pipeline:
    threshold monitors whatever their ids and tenants (each row of the pipeline's windows is
    emitted by the windows function once per monitor of its tenant: _served), detection and regroup monitors per id
    (their state functions are named from the pipeline)."""
    groups: dict[tuple, _Pipeline] = {}
    per_id: dict[str, int] = {}
    for monitor in monitors:
        ev = monitor.evaluate
        merged = ev.detection is None and not isinstance(ev.input, ir.Regroup)
        key = (None if merged else monitor.id, dataclasses.replace(ev, params=()))
        if key not in groups:
            n = per_id[monitor.id] = per_id.get(monitor.id, 0) + 1
            name = f"m_{monitor.id}" if n == 1 else f"m_{monitor.id}_{n}"
            groups[key] = _Pipeline(name, ev, monitor.every_ms, [])
        groups[key].monitors.append(monitor)
    return list(groups.values())


def _pairs(pipes) -> set[tuple[str, str]]:
    """(tenant, monitor id) of the pipelines' monitors."""
    return {(m.tenant, m.id) for p in pipes for m in p.monitors}


def _served(pipes) -> str:
    """The monitors a shape serves per tenant, each with its pipeline, as its windows spec lists
    them: the function emits each of the shape's rows once per monitor of the row's tenant, with
    the pipeline that judges it (the fan-out: a constant of the job, so adding a monitor of an
    existing shape resets nothing; docs/sharing.md)."""
    tenants: dict[str, list[str]] = {}
    for tenant, monitor, pipeline in sorted({(m.tenant, m.id, p.name) for p in pipes for m in p.monitors}):
        tenants.setdefault(tenant, []).append(f"{monitor}@{pipeline}")
    return "; ".join(f"{t}: {', '.join(ids)}" for t, ids in tenants.items())


def generate(monitors: list[ir.Monitor], catalog: Catalog, sources: list[str],
             options: CompileOptions = CompileOptions()) -> Job:
    """The job of `monitors` (each monitor's IR), in the order given; `sources` are the
    monitor files, named in the header."""
    pipes = pipelines(monitors)
    tables: dict[str, dict[str, ir.Field]] = {}
    ticks: dict[str, int] = {}
    grains: dict[str, int] = {}   # where the table's windows end: the GCD of its slides
    inventory: dict[str, ir.Field] = {}
    for p in pipes:
        scan, enrich, _ = ir.scan_parts(ir.windows(p.evaluate).input)
        tables.setdefault(scan.table, {}).update({f.path: f for f in scan.fields})
        ticks[scan.table] = min(ticks.get(scan.table, p.every_ms), p.every_ms)
        grains[scan.table] = math.gcd(grains.get(scan.table, 0), p.every_ms)
        if enrich is not None:
            inventory.update({f.path: f for f in enrich.fields})
    out: list[Statement] = []
    names = sorted(f"{m.tenant}/{m.id}" for m in monitors)
    out.append(Statement("header.sql.j2", {"version": __version__, "sources": sources, "monitors": names}))
    out.append(Statement("set.sql.j2", {"options": [(lit(k), lit(v)) for k, v in sorted(session_options(options).items())]}))
    out.append(Statement("ddl/function.sql.j2", {"name": q(WINDOWS_FUNCTION), "path": lit(WINDOWS_FUNCTION_CLASS),
                                                 "language": "JAVA"}))
    out.append(Statement("ddl/function.sql.j2", {"name": q(EACH_FUNCTION), "path": lit(EACH_FUNCTION_CLASS),
                                                 "language": "JAVA"}))
    if any(isinstance(p.evaluate.input, ir.Regroup) for p in pipes):
        out.append(Statement("ddl/function.sql.j2", {"name": q(REGROUP_FUNCTION), "path": lit(REGROUP_FUNCTION_CLASS),
                                                     "language": "JAVA"}))
    out.append(Statement("ddl/function.sql.j2", {"name": q(READ_FUNCTION), "path": lit(READ_FUNCTION_CLASS),
                                                 "language": "JAVA"}))
    out.append(Statement("ddl/function.sql.j2", {"name": q(FIRST_TICK_FUNCTION), "path": lit(FIRST_TICK_FUNCTION_CLASS),
                                                 "language": "JAVA"}))
    out.append(Statement("ddl/function.sql.j2", {"name": q(STATE_RECORD_FUNCTION),
                                                 "path": lit(STATE_RECORD_FUNCTION_CLASS), "language": "JAVA"}))
    out.append(Statement("ddl/function.sql.j2", {"name": q(ALERT_RECORD_FUNCTION),
                                                 "path": lit(ALERT_RECORD_FUNCTION_CLASS), "language": "JAVA"}))
    prepared = [_prepare(p, catalog) for p in pipes]
    if any(g.written for x in prepared for g in _groups(x)):
        out.append(Statement("ddl/function.sql.j2", {"name": q(GROUP_OBJECT_FUNCTION),
                                                     "path": lit(GROUP_OBJECT_FUNCTION_CLASS), "language": "JAVA"}))
    if any(x.pipeline.evaluate.detection is None and not x.programs for x in prepared):
        # the job's alert state function: for the threshold monitors no windows function judges
        out.append(Statement("ddl/function.sql.j2", {"name": q(STATES_FUNCTION), "path": lit(STATES_FUNCTION_CLASS),
                                                     "language": "JAVA"}))
    looked_up = {name for name in tables if uses_inventory_windows([x for x in prepared if x.table == name])}
    # a table whose records pass the inventory's temporal join keeps the clock function ahead of
    # it (PartitionClock); every other table's windows function keeps the clocks itself
    joined_tables = {name for name in tables if uses_inventory_join([x for x in prepared if x.table == name])}
    if joined_tables:
        out.append(Statement("ddl/function.sql.j2", {"name": q(CLOCK_FUNCTION), "path": lit(CLOCK_FUNCTION_CLASS),
                                                     "language": "JAVA"}))
    if joined_tables != set(tables):
        out.append(Statement("ddl/function.sql.j2", {"name": q(LATE_HINT_FUNCTION),
                                                     "path": lit(LATE_HINT_FUNCTION_CLASS), "language": "JAVA"}))
    if looked_up:
        out.append(Statement("ddl/function.sql.j2", {"name": q(INVENTORY_WINDOWS_FUNCTION),
                                                     "path": lit(INVENTORY_WINDOWS_FUNCTION_CLASS), "language": "JAVA"}))
    if inventory:
        out.append(Statement("ddl/function.sql.j2", {"name": q(ORDER_FUNCTION), "path": lit(ORDER_FUNCTION_CLASS),
                                                     "language": "JAVA"}))
    out += _detection_functions(pipes)
    out += [Statement("ddl/function.sql.j2", {"name": q(name), "path": lit(path), "language": "JAVA"})
            for name, path in scalar_functions([p.evaluate for p in pipes])]
    inserts: list[dict] = []
    for name in sorted(tables):
        out += _event_table(catalog.tables[name], tables[name], ticks[name], grains[name], options, inserts,
                            name in joined_tables)
    if inventory:
        # the versioned view only if a temporal join reads it (a table whose windows function
        # does not look the inventory up itself)
        out += _inventory_table(catalog.tables[INVENTORY], inventory, options, inserts, bool(joined_tables))
    out += _config_table(options, inserts)
    out.append(sink("sink_alerts", {"alert_id": "STRING", "record": "STRING"}, alert_sink_options(options)))
    out.append(sink("sink_dead_letters", dict.fromkeys(("source", "reason", "line"), "STRING"),
                    _kafka(options, options.dead_letters_topic, "json")))
    out.append(sink(STATE_SINK, {"key": "STRING", "value": "STRING"}, alert_state_sink_options(options)))
    for name in sorted(tables):
        out += _table_windows(catalog.tables[name], tables[name], [x for x in prepared if x.table == name], options,
                              inserts)
    for x in prepared:
        out += _pipeline(x, [y for y in prepared if y.shape.id == x.shape.id], options, inserts)
    # the evaluations of plain pipelines carry their config (the windows function keeps it);
    # regrouped ones are joined with it
    # (and those its windows function judges come out of it as transitions and state changes)
    configured, judged_tables, state_changes = [], [], []
    for name in sorted(tables):
        plain = [x for x in prepared if x.table == name and _plain(x)]
        elsewhere, here = [x for x in plain if not x.programs], [x for x in plain if x.programs]
        if elsewhere:
            out.append(_table_evaluated(name, elsewhere, options))
            configured.append(q(f"t_{ir.column_name(name)}__evaluated"))
        if here:
            out += _table_states(name, here, options)
            judged_tables.append(table_states_view(name))
            state_changes.append(table_state_changes_view(name))
    regrouped = [x.pipeline for x in prepared if x.regroup and _judged_here(x.pipeline)]
    joined = [q(f"{p.name}__evaluated") for p in regrouped]
    threshold = [p for p in pipes if p.evaluate.detection is None]
    if threshold:
        out += _job_states(threshold, configured, joined, {p.name for p in regrouped},
                           {x.pipeline.name for x in prepared if x.programs}, judged_tables, state_changes, inserts)
    from nql_flink.translator.flink import history, processing  # (import this module)

    out += processing.statements(monitors, options, inserts)  # alert processing (docs/processing.md); none when off
    out += history.statements(options, inserts)  # the alert history (docs/history.md); none when off
    out.append(Statement("statement_set.sql.j2", {"inserts": _one_insert_per_sink(inserts)}))
    records = tuple(config_record(m) for m in sorted(monitors, key=lambda m: (m.tenant, m.id)))
    return Job(tuple(out), records, {name: source_name(name) for name in sorted(tables)}
               | ({INVENTORY: source_name(INVENTORY)} if inventory else {}) | {"monitor_config": "src_monitor_config"}
               | processing.sources(out),
               {p.name: [(m.tenant, m.id) for m in p.monitors] for p in pipes})


def sink(name: str, columns: dict[str, str], options: dict[str, str]) -> Statement:
    """CREATE TABLE of a sink: its columns (name -> SQL type) and connector options."""
    return Statement("ddl/sink.sql.j2", {"name": q(name), "columns": [{"name": q(c), "type": t} for c, t in columns.items()]},
                     Connector(name, options))


def scalar_functions(nodes) -> list[tuple[str, str]]:
    """The Java scalar functions (expressions.SCALAR_FUNCTIONS) the IR nodes use, as (name,
    class), in a fixed order."""
    used: set[type] = set()

    def walk(n) -> None:
        if type(n) in SCALAR_FUNCTIONS:
            used.add(type(n))
        if dataclasses.is_dataclass(n):
            for f in dataclasses.fields(n):
                walk(getattr(n, f.name))
        elif isinstance(n, tuple):
            for x in n:
                walk(x)

    for n in nodes:
        walk(n)
    return sorted(SCALAR_FUNCTIONS[t] for t in used)


def state_bounds(options: CompileOptions) -> dict:
    """How long per-device and per-tenant state (inventory versions and joins, clocks) may
    stay untouched before Flink drops it (deploy/plan.py bound_state; the alert states evict
    by their own event-time rule, AlertStates); never the monitor configs."""
    return {"idle_ms": options.evict_after_ms, "never": ["src_monitor_config"]}


def session_options(options: CompileOptions) -> dict[str, str]:
    return {
        "table.local-time-zone": "UTC",
        "table.exec.source.idle-timeout": options.idle_timeout,
        "table.exec.uid.generation": "PLAN_ONLY",
        # One optimized block per shared sub-plan: every consumer of a raw-line source (the
        # dead-letter INSERT, the clock, the ticks) then reads one parsing Calc and one
        # watermark assigner instead of its own copy. Flink generates no common
        # subexpressions, so each copy re-ran a full JSON parse per field and TO_TIMESTAMP
        # (docs/flink-job-shape.md, "Parse once").
        "table.optimizer.reuse-optimize-block-with-digest-enabled": "true",
        # No copy of each row between chained operators: the table runtime's operators do not
        # keep or change the rows they are given, and neither do the job's functions (udfs/jvm:
        # the process table functions get converted `Row`s, LateHint copies the tenant it
        # keeps; Flink's Python operators copy what they buffer). The copies were about a
        # seventh of the seed monitor's processing CPU (docs/flink-job-shape.md, "Object reuse").
        "pipeline.object-reuse": "true",
    }


# Validation of the raw lines (docs/flink-job-shape.md §1 and §3: reasons, and what Flink does
# with the values). Shared by the event tables and the inventory: one call of the Java function
# nql_read per record (udfs/jvm ReadRecord) parses the line once and returns a ROW of the typed
# fields and the first reason the record cannot be used, with the results the per-field
# JSON_VALUE / JSON_QUERY, IS JSON OBJECT, ENCODE and TO_TIMESTAMP conditions gave before.
READ_FUNCTION = "nql_read"
READ_FUNCTION_CLASS = "dev.nqlflink.udfs.ReadRecord"
RECORD_COLUMN = "nql_rec"
# catalog type (after lowering) -> how nql_read reads and checks it
READ_TYPES = {"int": "int", "byte": "int", "float": "float", "duration": "float", "bool": "bool",
              "datetime": "datetime", "string": "string"}


def _read_call(entries: list[tuple[str, str, str, str]]) -> str:
    """The nql_read call for (column, role, path, argument) entries, in the order of their
    reasons; its result type is inferred from the schema literal."""
    for _, _, path, _ in entries:
        assert SAFE_PATH.match(path), f"unsafe catalog path {path!r}"
    schema = ", ".join(" ".join(x for x in e if x) for e in entries)
    return f"{READ_FUNCTION}(`line`, {lit(schema)})"


def _raw_reading(entries: list[tuple[str, str, str, str]], time_column: str) -> list[dict]:
    """The computed columns of a raw-line source: the record as nql_read reads it, and its
    rowtime. A computed column cannot read another one, so the rowtime calls nql_read again in
    the same Calc, on the same line: the function keeps its last record's row and does not
    parse it twice (the execution plan has one Calc calling it per source)."""
    call = _read_call(entries)
    return [{"name": q(RECORD_COLUMN), "expr": call}, {"name": q(time_column), "expr": f"{call}.{q(time_column)}"}]


def _record_fields(columns: list[str]) -> list[str]:
    return [f"{q(RECORD_COLUMN)}.{q(c)} AS {q(c)}" for c in columns]


def _field_entries(fields) -> list[tuple[str, str, str, str]]:
    """(column, path, type) of the fields monitors read, as nql_read entries: `bad_type:<path>`
    when present, not null and not of the type."""
    return [(column, "field", path, READ_TYPES[ty]) for column, path, ty in fields]


def _rejected(source: str, view: str, line: str = "`line`", where: str = "`reject_reason` IS NOT NULL") -> str:
    """The dead-letter query of a checked view: its records with a reason, as `source`."""
    return f"SELECT {lit(source)}, `reject_reason`, {line}\nFROM {view if view.startswith('`') else q(view)}\nWHERE {where}"


def _checked(table: str, name: str, source: str, columns: list[str]) -> Statement:
    return Statement("views/checked.sql.j2", {"table": table, "name": q(name), "source": q(source), "columns": columns,
                                              "record": q(RECORD_COLUMN)})


def _event_table(table: Table, fields: dict[str, ir.Field], tick_ms: int, grain_ms: int, o: CompileOptions,
                 inserts: list, clocked: bool) -> list[Statement]:
    """An event table's source, its checked records and ticks; and, when its records pass the
    inventory's temporal join (`clocked`), the clock function ahead of it (its windows function
    keeps the clocks otherwise: _table_windows)."""
    t = ir.column_name(table.name)
    src, chk, cin, clk, ok = source_name(table.name), "chk_" + t, "cin_" + t, "clk_" + t, "ok_" + t
    read = sorted(fields.values(), key=lambda f: f.column)
    # The rowtime `ts`: a NULL rowtime stops the job before any WHERE runs, so missing and
    # unparsable times get the epoch; so do times further ahead of the processing clock than the
    # allowed skew (a device with a wrong clock): all are rejected and none moves the watermark.
    entries = [("tenant", "tenant", "tenant", "string"), ("ts", "time", table.time_field, str(o.max_clock_skew_ms))]
    entries += _field_entries((f.column, f.path, f.ty) for f in read)
    columns = _raw_reading(entries, "ts")
    kept = [q("tenant"), q("ts")] + [q(f.column) for f in read]
    inserts.append({"target": q("sink_dead_letters"), "query": _rejected(table.name, chk)})
    tickable = "tickable_" + t
    clock = []
    if clocked:
        # the clock function reads the line as bytes: a Java function gets each STRING decoded and
        # encoded again, and only the records it rejects need it
        inserts.append({"target": q("sink_dead_letters"), "query": _rejected(table.name, clk, "CAST(`line` AS STRING)")})
        clock = [
            Statement("views/clock_input.sql.j2", {"table": table.name, "name": q(cin), "checked": q(chk),
                                                   "columns": kept, "split": q(SPLIT_COLUMN)}),
            Statement("views/clock.sql.j2", {"table": table.name, "name": q(clk), "function": q(CLOCK_FUNCTION),
                                             "input": q(cin), "lateness_ms": o.lateness_ms,
                                             "lateness_text": format_duration(o.lateness_ms),
                                             "lag_ms": o.max_tenant_lag_ms,
                                             "lag_text": format_duration(o.max_tenant_lag_ms), "grain_ms": grain_ms,
                                             "grain_text": format_duration(grain_ms),
                                             "uid": lit(state_uid(f"e_{t}", "clock", CLOCK_STATE))}),
            Statement("views/accepted_clocked.sql.j2", {"name": q(ok), "clock": q(clk),
                                                        "columns": [q("tenant"), f"{q('rowtime')} AS {q('ts')}"]
                                                        + kept[2:], "split": q(SPLIT_COLUMN)}),
        ]
    return [
        Statement("ddl/raw_source.sql.j2", {
            "comment": f"{table.name}: one raw JSON line per record, read once by {READ_FUNCTION}.",
            "name": q(src), "columns": columns, "time_column": q("ts"), "lateness": _interval(o.lateness_ms)},
            Connector(src, _kafka(o, table.topic, "raw", source=True), (Metadata(SPLIT_COLUMN, "INT", SPLIT_METADATA),))),
        _checked(table.name, chk, src, _record_fields(["tenant"]) + [q("ts")] + _record_fields([f.column for f in read])
                 + [q(SPLIT_COLUMN)]),
        *clock,
        Statement("views/tickable.sql.j2", {"table": table.name, "name": q(tickable), "checked": q(chk),
                                            "function": q(FIRST_TICK_FUNCTION), "size_ms": tick_ms}),
        Statement("views/ticks.sql.j2", {"table": table.name, "name": q("tick_" + t), "tickable": q(tickable),
                                         "size": _interval(tick_ms), "size_text": format_duration(tick_ms)}),
    ]


# The inventory's versions in an order the event-time temporal join can use (udfs/jvm
# VersionOrder): per Kafka partition, a version read behind a newer one takes effect from the
# newest version time read before it, so the join's outcome depends on each partition's order
# only, never on how the inventory and the events interleave (docs/polling.md "Inventory read
# out of version order"). Its state is the table's, whatever monitors read it (deploy/plan.py
# TABLE_KINDS: role `order`).
ORDER_FUNCTION = "nql_version_order"
ORDER_FUNCTION_CLASS = "dev.nqlflink.udfs.VersionOrder"
ORDER_STATE = ("ROW<newest BIGINT>, MAP<device, BOOLEAN>, "
               "MAP<effective/device, ROW<device_key STRING, version BIGINT, line STRING>> by partition")
VERSION_COLUMN = "nql_version"
# The inventory's watermark trails its newest version time by this much: an event at t is joined
# once a version after t is read, so every version at t read in order before it counts.
INVENTORY_LATENESS_MS = 1


def _inventory_table(table: Table, fields: dict[str, ir.Field], o: CompileOptions, inserts: list,
                     versioned: bool = True) -> list[Statement]:
    t = ir.column_name(table.name)
    src, chk, good, order, read = source_name(table.name), "chk_" + t, "vin_" + t, "ord_" + t, "vrd_" + t
    cols = {ir.column_name(p): (p, f.ty) for p, f in fields.items()}
    cols.pop("collector_uid", None)
    # a version more than the clock skew bound ahead of the processing clock is `future`, as an
    # event is: from a wrong clock it would be the newest for ever (VersionOrder)
    entries = [("tenant", "tenant", "tenant", "string"), ("collector_uid", "key", "collector.uid", "string"),
               ("last_seen", "version", "last_seen", str(o.max_clock_skew_ms))]
    entries += _field_entries((c, p, ty) for c, (p, ty) in sorted(cols.items()))
    kept = [q("device_key"), q("tenant"), q("collector_uid")] + [q(c) for c in sorted(cols)] + [q("last_seen")]
    inserts.append({"target": q("sink_dead_letters"),
                    "query": _rejected(table.name, chk)})
    record = q(RECORD_COLUMN)
    out = [
        Statement("ddl/raw_source.sql.j2", {
            "comment": f"{table.name}: the inventory, versioned by last_seen; same raw-line reading as events.",
            "name": q(src), "columns": _raw_reading(entries, "last_seen"), "time_column": q("last_seen"),
            "lateness": _interval(INVENTORY_LATENESS_MS)},
            Connector(src, _kafka(o, table.topic, "raw", source=True), (Metadata(SPLIT_COLUMN, "INT", SPLIT_METADATA),))),
        # one key column holding the tenant: see the note on versioned keys in _pipeline
        _checked(table.name, chk, src, [f"CONCAT({record}.`tenant`, '|', {record}.`collector_uid`) AS `device_key`"]
                 + _record_fields(["tenant", "collector_uid"] + sorted(cols)) + [q("last_seen"), q(SPLIT_COLUMN)]),
        Statement("views/version_input.sql.j2", {
            "table": table.name, "name": q(good), "checked": q(chk), "split": q(SPLIT_COLUMN), "time": q("last_seen"),
            "not_null": ["`reject_reason` IS NULL AND `tenant`", q("collector_uid"), q("last_seen")]}),
        Statement("views/version_order.sql.j2", {
            "table": table.name, "name": q(order), "function": q(ORDER_FUNCTION), "input": q(good),
            "split": q(SPLIT_COLUMN), "time": q("last_seen"), "uid": lit(state_uid(f"d_{t}", "order", ORDER_STATE))}),
        Statement("views/version_read.sql.j2", {
            "table": table.name, "name": q(read), "order": q(order), "read": _read_call(entries), "record": record,
            "fields": _record_fields(["tenant", "collector_uid"] + sorted(cols) + ["last_seen"]),
            "version": q(VERSION_COLUMN)}),
    ]
    if versioned:
        out.append(Statement("views/latest.sql.j2", {
            "comment": "Each device's attributes as of any time: the latest version per tenant + collector uid, by\n"
                       "-- effective time.",
            "name": q("ver_device_devices"), "source": q(read), "columns": kept + [q(VERSION_COLUMN)],
            "keys": [q("device_key")], "time": q(VERSION_COLUMN), "where": ["`device_key` IS NOT NULL"]}))
    return out


CONFIG_CHECKED = "chk_monitor_config"


def _good_config() -> list[str]:
    """The config records a job applies: read without a reason, with a tenant and a monitor."""
    return ["`reject_reason` IS NULL", "`tenant` IS NOT NULL", "`monitor` IS NOT NULL"]


def _config_table(o: CompileOptions, inserts: list) -> list[Statement]:
    """The monitor-config topic, read as raw lines as the inventory is (translator/flink/
    monitor_config.py): a record nql_read refuses goes to the dead letters with its reason; the
    others, versioned by `updated_at`, are the configuration in force at each time."""
    src, chk = "src_monitor_config", CONFIG_CHECKED
    record = q(RECORD_COLUMN)
    inserts.append({"target": q("sink_dead_letters"),
                    "query": _rejected(monitor_config.SOURCE, chk)})
    return [
        Statement("ddl/raw_source.sql.j2", {
            "comment": "Monitor configuration as data (thresholds, for durations, enablement, priority), keyed by\n"
                       "-- tenant + monitor; a new record takes effect from its `updated_at` on, without a redeploy.",
            "name": q(src), "columns": _raw_reading(monitor_config.read_entries(), TIME_COLUMN),
            "time_column": q(TIME_COLUMN), "lateness": _interval(0)},
            Connector(src, _kafka(o, o.config_topic, "raw", source=True))),
        _checked(monitor_config.SOURCE, chk, src,
                 [f"CONCAT({record}.`tenant`, '/', {record}.`monitor`) AS {q(KEY_COLUMN)}"]
                 + _record_fields(list(monitor_config.CHECKED_FIELDS)) + [q(TIME_COLUMN)]),
        Statement("views/latest.sql.j2", {
            "comment": "The monitor configuration in force at each time (versioned by updated_at).",
            "name": q("ver_monitor_config"), "source": q(chk), "columns": [q(c) for c in VIEW_COLUMNS],
            "keys": [q(KEY_COLUMN)], "time": q(TIME_COLUMN), "where": _good_config()}),
    ]


# ----------------------------------------------------------------------------- one monitor


@dataclass(frozen=True)
class _Lanes:
    """The aggregates of a window, as the windows function computes them: each IR aggregate
    gets an input expression (numeric lane `nql_n` or string lane `nql_s`), an entry of the
    function's spec (`kind`, lane, index of its input in the lane, fraction) and a column of
    the eval view (`nql_a<k>`, typed)."""

    numeric: list[str]
    strings: list[str]
    entries: list[tuple[str, str, int, float | None]]
    columns: list[tuple[str, str]]          # (name, SQL over the function's nv / sv arrays)
    names: dict[ir.Agg, str]
    programs: dict[str, str]                # name -> its program (conditions.py), numbers only

    def aggs(self, numeric=None, strings=None) -> str:
        """The spec's `aggs`, each input at its index in the lanes, or at the position its
        expression has in the pools `numeric` / `strings` (expression -> index) when given."""
        out = []
        for kind, lane, index, fraction in self.entries:
            pool, own = (numeric, self.numeric) if lane == "n" else (strings, self.strings)
            at = index if pool is None else pool[own[index]]
            out.append(f"{kind}:{lane}{at}" + (f":{fraction!r}" if fraction is not None else ""))
        return ",".join(out)


_STRING_RESULT = {"min": "smin", "max": "smax", "last": "slast"}
_NUMERIC_KIND = {"count": "count", "sum": "sum", "avg": "avg", "min": "min", "max": "max", "last": "last",
                 "percentile": "pct", "count_distinct": "distinct"}
_NUMBERS = ("int", "byte", "float", "duration")



def _agg_input(a: ir.Agg, row_col) -> exp.Expression:
    """What a row gives the aggregate: NULL when the row does not count (SQL semantics)."""
    if a.func == "count":  # counts rows (and values: non-NULL ones) as 1s, whatever their type
        conds = [exp.Not(this=exp.Is(this=to_exp(a.arg, row_col), expression=exp.Null()))] if a.arg is not None else []
        conds += [to_exp(a.cond, row_col)] if a.cond is not None else []
        one = exp.Literal.number(1)
        return one if not conds else when(exp.and_(*conds), one)
    arg = to_exp(a.arg, row_col)
    return arg if a.cond is None else when(to_exp(a.cond, row_col), arg)


def _lanes(aggs: list[ir.Agg], row_col) -> _Lanes:
    numeric: list[str] = []
    strings: list[str] = []
    entries: list[tuple[str, str, int, float | None]] = []
    columns: list[tuple[str, str]] = []
    names: dict[ir.Agg, str] = {}
    programs: dict[str, str] = {}
    n_out = s_out = 0
    for k, a in enumerate(aggs, start=1):
        value = _agg_input(a, row_col)
        name = names[a] = f"nql_a{k}"
        sql_type = agg_type(a)
        if a.func == "count_distinct" or _string_result(a):
            lane, kind = "s", ("distinct" if a.func == "count_distinct" else _STRING_RESULT[a.func])
            strings.append(to_sql(exp.Cast(this=value, to=exp.DataType.build("STRING"))))
            index = len(strings) - 1
        else:
            lane, kind = "n", _NUMERIC_KIND[a.func]
            numeric.append(to_sql(double(value)))
            index = len(numeric) - 1
        entries.append((kind, lane, index, a.fraction))
        if lane == "s" and kind != "distinct":
            s_out += 1
            result = f"`sv`[{s_out}]"
            columns.append((name, result if sql_type == "STRING" else f"CAST({result} AS {sql_type})"))
            continue
        n_out += 1
        result = f"`nv`[{n_out}]"
        # the same value as a program (conditions.py): n<k> is nv[k + 1], `l` a CAST to BIGINT
        program = {"BIGINT": f"l n{n_out - 1}", "DOUBLE": f"n{n_out - 1}"}.get(sql_type)
        if kind in ("avg", "pct"):
            columns.append((name, result))
        elif kind == "sum" and a.cond is not None:
            # SQL's SUM of a conditional CASE is NULL when nothing matched; NQL's sumif is 0
            columns.append((name, f"COALESCE(CAST({result} AS {sql_type}), 0)"))
            program = program and ("nzl " if sql_type == "BIGINT" else "nzd ") + program
        else:
            columns.append((name, f"CAST({result} AS {sql_type})"))
        if program:
            programs[name] = program
    return _Lanes(numeric, strings, entries, columns, names, programs)


def _string_result(a: ir.Agg) -> bool:
    """min, max or last of a value that is not a number: the windows function's string lane."""
    return a.func in _STRING_RESULT and (a.arg.ty if a.arg is not None else "int") not in _NUMBERS


def agg_type(a: ir.Agg) -> str:
    """The SQL type of an aggregate's column in the eval view (what _lanes casts it to)."""
    if a.func in ("count", "count_distinct"):
        return "BIGINT"
    if _string_result(a):
        return SQL_TYPES.get(a.arg.ty, "STRING")
    if a.func in ("avg", "percentile"):
        return "DOUBLE"
    return SQL_TYPES.get(a.ty, "DOUBLE")



@dataclass(frozen=True)
class _Shape:
    """What a pipeline asks of its table's windows function: a window, a group, filters and
    aggregates over the table's rows view. Pipelines of equal shapes (monitors of other ids
    that differ only in thresholds, tenants and the like) share one shape: one set of partial
    aggregates per tenant, window and group. (docs/sharing.md)"""

    spec: str                 # size, slide, pop; the aggs' inputs index `numeric` / `strings`
    lanes: _Lanes
    group: "_Group"           # the group's JSON over the rows view
    keep: str                 # the pipeline's filters, SQL over the rows view
    inner: bool               # needs the device's inventory version (an unknown device is skipped)

    @property
    def id(self) -> str:
        """Named from what it computes, never from a monitor: the first monitor of a shape may
        be removed while the others stay; a shape computing anything else is another shape."""
        text = "\n".join([self.spec, self.lanes.aggs(), *self.lanes.numeric, "|", *self.lanes.strings, self.group.text,
                          self.keep, str(self.inner)])
        return "s_" + hashlib.sha256(text.encode()).hexdigest()[:10]


def window_spec(w: ir.WindowAggregate, population: bool, inventory: bool) -> str:
    """A shape's part of the literal the windows function reads (udfs/jvm/.../WindowSpec.java)."""
    return f"size={w.size_ms};slide={w.slide_ms};pop={int(population)}" + (";inv=1" if inventory else "")


# How TenantWindows encodes its state (udfs/jvm/.../TenantWindows.java), part of the windows'
# uid: 4 = one function per table; each record written once, folded per shape and slice when a
# window is due, under its shape id (a shape added starts empty, a shape gone is dropped, the
# others continue); state of another encoding is not restored (the windows start empty).
# 5 = the population kept once per distinct window (size, slide), not in every shape's slices.
WINDOWS_STATE = "state=5"
# InventoryWindows' state beyond TenantWindows': each device's inventory versions per tenant, and
# records waiting for theirs (the pending flag of an open record). 2 = the versions without
# Flink's time-to-live (the function forgets devices itself, the spec's forget=): state written
# with a TTL does not restore into state declared without.
INVENTORY_WINDOWS_STATE = "versions=2"


def state_uid(pipeline: str, role: str, layout: str) -> str:
    """uid of a pipeline's stateful function: Flink restores its state by this name
    (savepoint upgrades, deploy/plan.py). ``<pipeline>--<role>--<hash of the state layout>``:
    a change of layout starts the function without state instead of misreading it."""
    return f"{pipeline}--{role}--{hashlib.sha256(layout.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class _Sides:
    """A shape's group and filters split by what they read, for a windows function that looks
    the inventory up itself (InventoryWindows): the filters on event fields (SQL per record),
    those on inventory attributes (SQL per inventory version), and whether the group's keys are
    all inventory attributes (its JSON computed per version), or, for a group of both, the JSON
    of its event keys (per record) and of its inventory keys (per version), which the function
    merges in key order (udfs/jvm GroupJson). None of it when a filter conjunct or an
    aggregate's input mixes both: such a shape needs the temporal join."""

    event_keep: str
    inventory_keep: str
    inventory_group: bool
    split_group: tuple["_Group", "_Group"] | None = None


def _sides(w: ir.WindowAggregate, enrich: ir.Enrich | None, filters: list[ir.Scalar]) -> _Sides | None:
    inventory = {f.column for f in enrich.fields} if enrich else set()

    def side(columns: set[str]) -> str:
        return "mixed" if columns & inventory and columns - inventory else "inventory" if columns & inventory else "event"

    parts = [c for f in filters for c in ir.conjuncts(f)]
    by_side: dict[str, list[ir.Scalar]] = {"event": [], "inventory": [], "mixed": []}
    for c in parts:
        by_side[side(ir.columns_of(c))].append(c)
    keys = side({k.expr.name for k in w.keys})
    aggs: list[ir.Agg] = []
    for m in w.measures:
        ir.aggregates_of(m.expr, aggs)
    inputs = set().union(*(ir.columns_of(a.arg) | ir.columns_of(a.cond) for a in aggs)) if aggs else set()
    if by_side["mixed"] or inputs & inventory:
        return None

    def keep(items: list[ir.Scalar]) -> str:
        return f"COALESCE({to_sql(to_exp(ir.conjunction(items)))}, FALSE)" if items else ""

    split = None
    if keys == "mixed":
        split = (_group(tuple(k for k in w.keys if k.expr.name not in inventory)),
                 _group(tuple(k for k in w.keys if k.expr.name in inventory)))
    return _Sides(keep(by_side["event"]), keep(by_side["inventory"]), keys == "inventory", split)


@dataclass
class _Prepared:
    """A pipeline's part of its table's windows: its shape, and what its views need."""

    pipeline: _Pipeline
    table: str
    shape: _Shape
    enrich: ir.Enrich | None
    impact: list[ir.Agg]
    regroup: bool
    sides: _Sides | None = None
    # the trigger and recover programs its windows function judges with (conditions.py), which
    # then also keeps its groups' alert states; None: the job's judged view and alert state
    # function do (`judged_by`, why)
    programs: tuple[str, str] | None = None
    having: str | None = None               # its `having` as a program (None: none)
    judged_by: str = ""


def _groups(x: _Prepared) -> tuple["_Group", ...]:
    """The groups a table's views may compute for the pipeline's shape: its own and, for keys of
    both sides, its two halves (event keys per record, inventory keys per version), which a
    windows function that looks the inventory up merges."""
    split = x.sides.split_group if x.sides else None
    return (x.shape.group, *(split or ()))


def _prepare(p: _Pipeline, catalog: Catalog) -> _Prepared:
    ev = p.evaluate
    w = ir.windows(ev)
    scan, enrich, filters = ir.scan_parts(w.input)
    table = catalog.tables[scan.table]
    # Every record of the monitor's tenants reaches the windows function, the ones failing the
    # monitor's filters too: they carry their tenant's clock, so a monitor matching few records
    # still has its windows evaluated on time. The filters decide the record's group for this
    # shape (NULL: not counted). (A WHERE on inventory attributes would also be pushed by
    # Flink's planner into the versioned inventory view, whose changelog then carries
    # UPDATE_BEFORE rows stamped with the old version's time; the event-time temporal join
    # reads those as "no version" and drops events, seen on Flink 2.3.)
    keep = f"COALESCE({to_sql(to_exp(ir.conjunction(filters)))}, FALSE)" if filters else ""
    regroup = isinstance(ev.input, ir.Regroup)
    has_users = "user.name" in table.fields and not regroup  # users per device do not add up
    lanes, impact = _window_lanes(w.measures, has_users)
    # A monitor that needs the inventory (an inner enrichment) cannot evaluate an event whose
    # device has no inventory version as of the event's time: it is dead-lettered instead.
    inner = bool(enrich and enrich.inner)
    # Every shape counts its tenant's active devices per window (the population): every alert's
    # impact carries its share of them, and its priority follows (alert_record.sql.j2).
    shape = _Shape(window_spec(w, True, inner), lanes, _group(w.keys), keep, inner)
    x = _Prepared(p, scan.table, shape, enrich, impact, regroup, _sides(w, enrich, filters))
    if _plain(x):
        try:
            x.programs, x.having = _programs(ev, w, lanes)
        except conditions.Unsupported as e:
            x.judged_by = f"the job's judged view: {e}"
    return x


def _programs(ev: ir.Evaluate, w: ir.WindowAggregate, lanes: _Lanes) -> tuple[tuple[str, str], str | None]:
    """A plain pipeline's trigger and recover conditions as programs over its shape's outputs,
    and its `having` (None: none)."""
    def lane(name: str) -> str:
        if name not in lanes.programs:
            raise conditions.Unsupported("a measure that is not a number")
        return lanes.programs[name]

    measures = {m.name: conditions.program(ir.replace_aggregates(m.expr, lanes.names), lane) for m in w.measures}

    def col(name: str) -> str:
        if name not in measures:
            raise conditions.Unsupported("a group key")
        return measures[name]
    having = ev.input.having
    return ((conditions.program(ev.trigger, col), conditions.program(ev.recover, col)),
            None if having is None else conditions.program(having, col))


def _tenants(pipes) -> list[str]:
    return sorted({m.tenant for p in pipes for m in p.monitors})


def _in_tenants(tenants: list[str], table: str = "") -> str:
    column = f"{q(table)}.`tenant`" if table else "`tenant`"
    return f"{column} IN (" + ", ".join(lit(x) for x in tenants) + ")"


def _table_windows(table: Table, fields: dict[str, ir.Field], prepared: list[_Prepared], o: CompileOptions,
                   inserts: list) -> list[Statement]:
    """One windows function per event table for all its monitors: the table's rows, each row's
    group per shape and the aggregates' inputs (a pool: an expression read by several shapes is
    computed once), and the ticks. Flink cannot split a table function by the columns each
    consumer reads, so whatever reads the inventory is planned once per table (docs/sharing.md):
    - when every shape reading the inventory needs its device known (`with`) and reads event
      fields and inventory attributes apart (_Sides), the windows function looks each record's
      device up itself (InventoryWindows): the inventory's versions come in its table, each
      with the groups and filters the shapes compute from its attributes;
    - else one temporal join before the function gives each row the attributes any shape reads."""
    t = ir.column_name(table.name)
    tenants = _tenants(x.pipeline for x in prepared)
    shapes: dict[str, tuple[_Shape, list[_Prepared]]] = {}
    for x in prepared:
        shapes.setdefault(x.shape.id, (x.shape, []))[1].append(x)
    numeric: dict[str, int] = {}
    strings: dict[str, int] = {}
    for shape, _ in shapes.values():
        for e in shape.lanes.numeric:
            numeric.setdefault(e, len(numeric))
        for e in shape.lanes.strings:
            strings.setdefault(e, len(strings))
    inventory: dict[str, str] = {}
    for x in prepared:
        inventory.update({f.column: ir.column_name(f.path) for f in (x.enrich.fields if x.enrich else ())})
    lookup = uses_inventory_windows(prepared)
    joined = uses_inventory_join(prepared)
    columns = ["`e`.`tenant`", "`e`.`ts`"] + [f"`e`.{q(f.column)}" for f in sorted(fields.values(), key=lambda f: f.column)]
    if joined:
        columns += [f"`d`.{q(src)} AS {q(col)}" for col, src in sorted(inventory.items())]
    # Without a temporal join, the records reach the function in each partition's arrival order:
    # it keeps the tenants' clocks itself (the spec's late=) and rejects `late` and `lag_exceeded`
    # records with their line (as bytes: never decoded on the way; only where the source's hint
    # says it may be late); else the clock function did (PartitionClock, ahead of the join).
    # Either way each record brings the table's watermark when it was read (`nql_sw`): the
    # function's own is held back by the inventory and the ticks.
    own_clock = not joined
    if own_clock:
        hint = (f"{LATE_HINT_FUNCTION}(`e`.`tenant`, `e`.{q(SPLIT_COLUMN)}, `e`.`ts`, CAST({o.lateness_ms} AS BIGINT), "
                f"CURRENT_WATERMARK(`e`.`ts`), CAST({o.max_tenant_lag_ms} AS BIGINT))")
        columns += [f"`e`.{q(SPLIT_COLUMN)}", "CURRENT_WATERMARK(`e`.`ts`) AS `nql_sw`",
                    f"CASE WHEN {hint} THEN CAST(`e`.`line` AS BYTES) END AS {q(LINE_COLUMN)}"]
    else:
        columns += [f"`e`.{q(c)}" for c in (SPLIT_COLUMN, "nql_tw", "nql_sw", "nql_clock")]
    if joined:
        columns.append(f"`d`.`device_key` IS NULL AS {q(UNKNOWN_DEVICE)}")
    rows = {"title": f"{table.name} (monitors of {', '.join(tenants)})", "name": q(f"t_{t}__rows"),
            "columns": columns, "events": q(("chk_" if own_clock else "ok_") + t),
            "inventory": q("ver_device_devices") if joined else "", "join_kind": "LEFT JOIN",
            "filters": (["`e`.`reject_reason` IS NULL"] if own_clock else []) + [_in_tenants(tenants, "e")]}
    # Each distinct group (keys as JSON) and each distinct filter is computed once per row (or
    # per inventory version), in the row's (version's) group and keep arrays; a shape names its
    # elements (grp, keep; grp=iN, ikeep: the version's): Flink computes every expression of a
    # projection anew, the same one written twice included.
    groups: dict[_Group, int] = {}
    keeps: dict[str, int] = {}
    inventory_groups: dict[_Group, int] = {}
    inventory_keeps: dict[str, int] = {}
    specs, comments = [], []
    for sid, (shape, users) in shapes.items():
        shape_tenants = _tenants(x.pipeline for x in users)
        sides = users[0].sides
        own = sides.event_keep if lookup else shape.keep
        keep = [own] if own else []
        if shape_tenants != tenants:
            keep.insert(0, _in_tenants(shape_tenants))
        if shape.inner and joined:
            keep.append(f"NOT {q(UNKNOWN_DEVICE)}")
        if lookup and sides.inventory_group:
            slots = f"grp=i{inventory_groups.setdefault(shape.group, len(inventory_groups))}"
        elif lookup and sides.split_group:
            event_part, inventory_part = sides.split_group
            slots = (f"grp={groups.setdefault(event_part, len(groups))};"
                     f"igrp={inventory_groups.setdefault(inventory_part, len(inventory_groups))}")
        else:
            slots = f"grp={groups.setdefault(shape.group, len(groups))}"
        if keep:
            slots += f";keep={keeps.setdefault(' AND '.join(keep), len(keeps))}"
        if lookup and sides.inventory_keep:
            slots += f";ikeep={inventory_keeps.setdefault(sides.inventory_keep, len(inventory_keeps))}"
        served = _served([x.pipeline for x in users])
        specs.append(f"{sid} ({served}): {shape.spec};{slots};aggs={shape.lanes.aggs(numeric, strings)}")
        monitors = sorted({f"{m.tenant}/{m.id}" for x in users for m in x.pipeline.monitors})
        comments.append(f"{sid}: {', '.join(monitors)}")
    inner = [x.pipeline for x in prepared if x.shape.inner]
    unknown = "FALSE"
    if inner and joined:
        unknown = q(UNKNOWN_DEVICE)
        if _tenants(inner) != tenants:
            unknown += " AND " + _in_tenants(_tenants(inner))
    window_input = {"name": q(f"t_{t}__input"), "rows": q(f"t_{t}__rows"),
                    "groups": [f"CAST({g.sql} AS STRING)" for g in groups], "keeps": list(keeps), "unknown": unknown,
                    "numeric": list(numeric), "strings": list(strings), "ticks": q("tick_" + t), "each": q(EACH_FUNCTION),
                    "tenants": [lit(x) for x in tenants], "versions": "", "own_clock": own_clock,
                    # the monitors' config records, which the function keeps (Configs)
                    "configs": q(CONFIG_CHECKED), "config_time": q(TIME_COLUMN),
                    "config_type": monitor_config.carried_type(with_monitor=True),
                    "config_fields": [q("monitor")] + [q(f.name) for f in monitor_config.CARRIED_FIELDS],
                    "config_filter": _good_config() + [_in_tenants(tenants)]}
    # the clock's columns of a record, and what ticks and versions have in their place
    clock_columns = [SPLIT_COLUMN, "nql_sw", LINE_COLUMN] if own_clock else ["nql_clock", SPLIT_COLUMN, "nql_tw", "nql_sw"]
    window_input["clock_columns"] = [q(c) for c in clock_columns]
    window_input["clock_nulls"] = (["CAST(NULL AS INT)", "CAST(NULL AS TIMESTAMP(3))", "CAST(NULL AS BYTES)"] if own_clock
                                   else ["FALSE", "CAST(NULL AS INT)", "CAST(NULL AS TIMESTAMP(3))",
                                         "CAST(NULL AS TIMESTAMP(3))"])
    head = f"lag={o.max_tenant_lag_ms};idle={o.partition_idle_ms}"
    if own_clock:
        head += f";late={o.lateness_ms}"
        # its 'reject' rows: records late on their partition or beyond the lag bound, with their
        # line where the hint carried it, else (after a restart, LateHint) a summary
        summary = ("JSON_OBJECT('tenant' VALUE `tenant`, 'device' VALUE `sv`[1], "
                   f"'event_time' VALUE DATE_FORMAT(`late_ts`, {lit(TIME_FORMAT)}))")
        inserts.append({"target": q("sink_dead_letters"), "query": _rejected(
            table.name, windows_view(table.name), f"COALESCE(CAST({q(LINE_COLUMN)} AS STRING), {summary})",
            "`nql_kind` = 'reject'")})
    out = [Statement("views/table_rows.sql.j2", rows)]
    if lookup:
        versions = q(f"t_{t}__versions")
        version_groups = [f"CAST({g.sql} AS STRING)" for g in inventory_groups]
        # a device whose newest version is older than --evict-after is forgotten (InventoryWindows.forget)
        head += f";forget={o.evict_after_ms}"
        # what a stored version's arrays mean: versions kept under another digest are dropped (the
        # groups' texts, not what computes them: the same texts keep the versions)
        meaning = [f"CAST({g.text} AS STRING)" for g in inventory_groups]
        head += ";inv=" + hashlib.sha256("\n".join([*meaning, "|", *inventory_keeps]).encode()).hexdigest()[:12]
        out.append(Statement("views/table_versions.sql.j2", {
            "name": versions, "versions": q("vrd_" + ir.column_name(INVENTORY)),
            "columns": [f"{q(src)} AS {q(col)}" for col, src in sorted(inventory.items())],
            "groups": version_groups, "keeps": list(inventory_keeps)}))
        window_input["versions"] = versions
    out.append(Statement("views/table_input.sql.j2", window_input))
    # the pipelines it judges itself (conditions.py): one segment each, after the shapes
    # (and keeps their groups' alert states: each pipeline's slide and eviction delay)
    specs += sorted(_judge_segment(x, o) for x in prepared if x.programs)
    judges = sorted({f"{x.pipeline.name}: " + ("judged here" if x.programs else x.judged_by)
                     for x in prepared if x.programs or x.judged_by})
    spec = " | ".join([head, *specs])
    # dead letters: the function's 'late' and 'unknown' rows name their monitor
    inserts.append({"target": q("sink_dead_letters"), "query": _late_query(windows_view(table.name), table.name)})
    if inner:
        inserts.append({"target": q("sink_dead_letters"),
                        "query": _unknown_device_query(windows_view(table.name), table.name)})
    layout = WINDOWS_STATE + (";" + INVENTORY_WINDOWS_STATE if lookup else "")
    out.append(Statement("views/table_windows.sql.j2", {
        "name": windows_view(table.name), "function": q(INVENTORY_WINDOWS_FUNCTION if lookup else WINDOWS_FUNCTION),
        "input": q(f"t_{t}__input"), "versions": lookup, "spec": lit(spec),
        "uid": lit(state_uid(f"t_{t}", "windows", layout)), "shapes": comments, "judges": judges,
        "own_clock": own_clock}))
    return out


def _judge_segment(x: _Prepared, o: CompileOptions) -> str:
    """The windows spec's segment of a pipeline its windows function judges (Shapes.Judge)."""
    trig, rec = x.programs
    every = x.pipeline.every_ms
    having = f";hav={x.having}" if x.having else ""
    return f"judge {x.pipeline.name}: trig={trig};rec={rec}{having};every={every};evict={eviction_delay(o, every)}"


def uses_inventory_windows(prepared: list[_Prepared]) -> bool:
    """Whether a table's windows function looks the inventory up itself (_table_windows)."""
    return any(x.enrich for x in prepared) and all(
        x.sides is not None and (x.enrich is None or x.enrich.inner) for x in prepared)


def uses_inventory_join(prepared: list[_Prepared]) -> bool:
    """Whether a table's records pass the inventory's temporal join before its windows function
    (and so its clock function before that): a monitor reads the inventory, and the function
    cannot look it up itself."""
    return any(x.enrich for x in prepared) and not uses_inventory_windows(prepared)


def table_prefix(monitor: ir.Monitor) -> str:
    """The name prefix of the views of the table a monitor reads (`t_<table>`)."""
    return "t_" + ir.column_name(ir.scan_parts(ir.windows(monitor.evaluate).input)[0].table)


def windows_view(table: str) -> str:
    return q(f"t_{ir.column_name(table)}__windows")


def _pipeline(x: _Prepared, same_shape: list[_Prepared], o: CompileOptions, inserts: list) -> list[Statement]:
    """A pipeline's views after its table's windows: its shape's rows of its tenants (eval),
    then judged (config as of the window; threshold monitors go on to the job's alert state
    function), or its regroup, or its detection."""
    p, shape = x.pipeline, x.shape
    ev = p.evaluate
    w = ir.windows(ev)
    top = ev.input  # the window's results, or their Regroup per summarize keys
    n = lambda suffix: q(f"{p.name}__{suffix}")  # noqa: E731
    if _plain(x):
        return []                                # in its table's evaluated view
    windows = windows_view(x.table)
    lanes, detect = shape.lanes, ev.detection is not None
    mine = [f"`nql_pipeline` = {lit(p.name)}"]
    evaluation = _evaluation(n("objects" if x.regroup else "eval"), p, windows, w, lanes, x.impact, True, mine)
    head = [Statement("views/monitor_eval.sql.j2", evaluation)]
    if x.regroup:
        head += _regroup(p, n, w, top, shape.id)
    if detect:
        return head + _detect_pipeline(p, ev, n, inserts)
    evaluated = {"name": n("evaluated"), "eval": n("eval"), "pipeline": lit(p.name), "every_ms": str(p.every_ms),
                 "evict_after_ms": str(eviction_delay(o, p.every_ms)), "evict_text": _evict_text(o, p.every_ms),
                 "values": _carried_arrays(top.measures, qualified("v")),
                 "extra_filter": to_sql(to_exp(top.having, qualified("v"))) if top.having is not None else ""}
    return head + [Statement("views/monitor_evaluated.sql.j2", evaluated)]


def _plain(x: _Prepared) -> bool:
    """A threshold pipeline without regroup: its evaluations are computed in its table's one
    evaluated view, straight from the windows function's rows."""
    return x.pipeline.evaluate.detection is None and not x.regroup


def _evaluation_columns(pipes: list[_Prepared], o: CompileOptions) -> dict[str, str]:
    """The columns of a table's evaluations in the row type of every threshold monitor, each a
    CASE over the windows function's row's pipeline (which the function names)."""
    def per_pipeline(value) -> str:
        return by_pipeline((x.pipeline.name, value(x)) for x in pipes)

    def carried(column: str, element: str):
        def value(x: _Prepared) -> str:
            defs = _measure_sql(x)
            items = [f"CAST({defs[c.name]} AS {element})" for c in carried_measures(x.pipeline.evaluate.input.measures)
                     if c.column == column]
            # no measure of this kind: a NULL the planner cannot fold (macros/opaque.sql.j2)
            return f"ARRAY[{', '.join(items)}]" if items else f"CASE WHEN {_NEVER} THEN ARRAY[CAST(NULL AS {element})] END"
        return value

    def impact(k: int):
        def value(x: _Prepared) -> str:
            return _inline(q(x.shape.lanes.names[x.impact[k]]), dict(x.shape.lanes.columns)) if len(x.impact) > k \
                else f"CASE WHEN {_NEVER} THEN CAST(0 AS BIGINT) END"
        return value

    return {"every_ms": per_pipeline(lambda x: f"CAST({x.pipeline.every_ms} AS BIGINT)"),
            "evict_after_ms": per_pipeline(lambda x: f"CAST({eviction_delay(o, x.pipeline.every_ms)} AS BIGINT)"),
            "numbers": per_pipeline(carried(NUMBERS_COLUMN, "DOUBLE")),
            "texts": per_pipeline(carried(TEXTS_COLUMN, "STRING")),
            "impact_devices": per_pipeline(impact(0)), "impact_users": per_pipeline(impact(1)),
            "active_devices": "CAST(`population` AS BIGINT)"}


def _table_evaluated(table: str, plain: list[_Prepared], o: CompileOptions) -> Statement:
    """The evaluations of the plain threshold pipelines of a table that its windows function
    does not judge, in the row type of every threshold monitor (monitor_evaluated.sql.j2), from
    the windows function's rows in one view. The job graph then has one node here per table,
    whatever the monitors (planning time, issue 15)."""
    having = [x for x in plain if x.pipeline.evaluate.input.having is not None]
    where = ["`nql_kind` = 'eval'", "`nql_pipeline` IN (" + ", ".join(lit(x.pipeline.name) for x in plain) + ")"]
    if having:
        where.append("COALESCE(" + by_pipeline(((x.pipeline.name, _inline(to_sql(to_exp(x.pipeline.evaluate.input.having)),
                                                                         _measure_sql(x))) for x in having),
                                               otherwise="TRUE") + ", FALSE)")
    where.append("`nql_config` IS NOT NULL")
    return Statement("views/table_evaluated.sql.j2", {
        "name": q(f"t_{ir.column_name(table)}__evaluated"), "windows": windows_view(table), "where": where,
        "config_columns": [f"`nql_config`.{q(f.name)} AS {q(f.name)}" for f in monitor_config.CARRIED_FIELDS],
        **_evaluation_columns(plain, o)})


def table_states_view(table: str) -> str:
    return q(f"t_{ir.column_name(table)}__states")


def table_state_changes_view(table: str) -> str:
    return q(f"t_{ir.column_name(table)}__state_changes")


def _table_states(table: str, judged: list[_Prepared], o: CompileOptions) -> list[Statement]:
    """The alert transitions of the threshold pipelines a table's windows function judges (and
    keeps the alert states of), in the columns of the job's states (JOB_STATE_COLUMNS), and
    their state changes, in the columns of the alert-state record only: no evaluation of theirs
    is a row (docs/sharing.md, step 3), and a state change does not go through the
    transitions' columns (measures, impact, config) on its way to the alert-state topic."""
    return [Statement("views/table_states.sql.j2", {"name": table_states_view(table), "windows": windows_view(table),
                                                     **_evaluation_columns(judged, o)}),
            Statement("views/table_state_changes.sql.j2", {"name": table_state_changes_view(table),
                                                            "windows": windows_view(table)})]


_IDENTIFIER = re.compile(r"`([^`]+)`")
# A condition never true that the planner cannot know is: a NULL of a table's evaluated view
# written `CASE WHEN _NEVER THEN <value> END` stays a column of the union's row type.
_NEVER = "`v`.`window_end` IS NULL"


def _inline(sql: str, defs: dict[str, str]) -> str:
    """`sql` with each quoted identifier named in `defs` replaced by its definition (SQL)."""
    return _IDENTIFIER.sub(lambda m: f"({defs[m.group(1)]})" if m.group(1) in defs else m.group(0), sql)


def _measure_sql(x: _Prepared) -> dict[str, str]:
    """A plain pipeline's measures and group keys as SQL over the windows function's row (the
    eval view's columns, inlined)."""
    w = ir.windows(x.pipeline.evaluate)
    lanes = x.shape.lanes
    aggs = dict(lanes.columns)
    defs = {k.expr.name: _key_value(k) for k in w.keys}
    defs.update({m.name: _inline(to_sql(to_exp(ir.replace_aggregates(m.expr, lanes.names))), aggs) for m in w.measures})
    return defs


def _judged_here(p: _Pipeline) -> bool:
    """Whether the job's one config join judges the pipeline (threshold monitors, regrouped or
    not), rather than a detection of its own."""
    return p.evaluate.detection is None


def _window_lanes(measures: tuple[ir.Measure, ...], has_users: bool) -> tuple[_Lanes, list[ir.Agg]]:
    """The lanes of a window's aggregates: the measures', then the alert's impact (distinct
    devices, and users when the table has them)."""
    impact = [ir.Agg("count_distinct", ir.Col("device_collector_uid", "string"), None, "int")]
    if has_users:
        impact.append(ir.Agg("count_distinct", ir.Col("user_name", "string"), None, "int"))
    aggs: list[ir.Agg] = []
    for m in measures:
        ir.aggregates_of(m.expr, aggs)
    for a in impact:
        ir.aggregates_of(a, aggs)
    return _lanes(aggs, lambda name: exp.column(name)), impact


def _group_json(keys: tuple[ir.Key, ...]) -> str:
    return ("JSON_OBJECT(" + ", ".join(f"{lit(k.name)} VALUE {q(k.expr.name)}" for k in keys) + ")") if keys else lit("{}")


@dataclass(frozen=True)
class _Group:
    """A group's keys as JSON over the rows view: `text`, their JSON_OBJECT, is what names the
    shape (its id, the same whatever computes it); `sql` computes it per row: for keys that are
    all STRINGs nql_group_object (udfs/jvm GroupObject: the same text without a Jackson tree
    per call, a fifth of the source thread with 100 distinct shapes; tests/flink/
    test_group_object.py), the names in key order as Flink writes them; else the JSON_OBJECT."""

    text: str
    sql: str

    @property
    def written(self) -> bool:
        """Whether nql_group_object computes it (the job declares the function)."""
        return self.sql != self.text


def _group(keys: tuple[ir.Key, ...]) -> _Group:
    text = _group_json(keys)
    if not keys or any(k.expr.ty != "string" for k in keys):
        return _Group(text, text)
    members = sorted(keys, key=lambda k: k.name)
    return _Group(text, f"{q(GROUP_OBJECT_FUNCTION)}(" + ", ".join(f"{lit(k.name)}, {q(k.expr.name)}" for k in members) + ")")


def _evaluation(name: str, p: _Pipeline, windows: str, w: ir.WindowAggregate | ir.Regroup, lanes: _Lanes,
                impact: list[ir.Agg], population: bool, where: list[str] = ()) -> dict:
    """The eval view over a windows function's rows: aggregates, measures, keys, impact."""
    measures = [{"name": q(m.name), "expr": to_sql(to_exp(ir.replace_aggregates(m.expr, lanes.names)))} for m in w.measures]
    measure_names = {m.name for m in w.measures}
    keys = [{"name": q(k.expr.name), "expr": _key_value(k)} for k in w.keys if k.expr.name not in measure_names]
    return {"name": name, "monitor": "`nql_monitor`" if where else lit(p.monitors[0].id), "windows": windows,
            "where": list(where),
            "aggregates": [{"name": q(c), "expr": e} for c, e in lanes.columns],
            "measures": measures + keys,
            "impact_devices": q(lanes.names[impact[0]]),
            "impact_users": q(lanes.names[impact[1]]) if len(impact) > 1 else "CAST(NULL AS BIGINT)",
            "population": "`population`" if population else "CAST(NULL AS BIGINT)"}


REGROUP_FUNCTION = "nql_regroup"
REGROUP_FUNCTION_CLASS = "dev.nqlflink.udfs.Regroup"


def _regroup(p: _Pipeline, n, w: ir.WindowAggregate, top: ir.Regroup, shape: str) -> list[Statement]:
    """`summarize` after `compute`: the per-device evaluations (the `objects` view) that pass
    the `where`s between compute and summarize, aggregated again per window and summarize
    keys by the Java function nql_regroup, whose rows have the windows function's shape: the
    same eval view follows. Impact: the window's distinct devices (no users)."""
    lanes, impact = _window_lanes(top.measures, has_users=False)
    spec = f"size={w.size_ms};slide={w.slide_ms};lag=0;idle=0;pop=0;aggs={lanes.aggs()}"
    # state=2: its state declares no time-to-live (Regroup: a TTL'd heap map state's clean-up
    # copies the tenant's whole map at every access; the parts leave at their window's timer)
    layout = ";".join([spec, "by=" + ",".join(k.name for k in top.keys), "of=" + shape, "state=2"])
    regroup_input = {"name": n("regroup_input"), "objects": n("objects"), "group_json": _group_json(top.keys),
                     "where": to_sql(to_exp(w.having)) if w.having is not None else "",
                     "numeric": lanes.numeric, "strings": lanes.strings}
    regrouped = {"name": n("regrouped"), "function": q(REGROUP_FUNCTION), "input": n("regroup_input"),
                 "spec": lit(spec), "uid": lit(state_uid(p.name, "regroup", layout))}
    return [Statement("views/monitor_regroup_input.sql.j2", regroup_input),
            Statement("views/monitor_regroup.sql.j2", regrouped),
            Statement("views/monitor_eval.sql.j2", _evaluation(n("eval"), p, n("regrouped"), top, lanes, impact, False))]


def _key_value(k: ir.Key) -> str:
    """A group key's value in the eval view, read back from the group's JSON."""
    return to_sql(_key_expr(k))


def _key_expr(k: ir.Key, table: str | None = None) -> exp.Expression:
    path = "$['" + k.name + "']"
    value = exp.Anonymous(this="JSON_VALUE", expressions=[exp.column("group_json", table=table), exp.Literal.string(path)])
    sql_type = SQL_TYPES.get(k.expr.ty, "STRING")
    return value if sql_type == "STRING" else exp.Cast(this=value, to=exp.DataType.build(sql_type))


def _monitor_dead_letters(reason: str, view: str, where: str, table: str, monitor: str, **fields: str) -> str:
    """Dead letters of `reason` from the rows of `view` meeting `where`: the line is a JSON
    object of the tenant, the monitor (SQL) and `fields` (name -> SQL)."""
    entries = ", ".join([f"'tenant' VALUE `tenant`", f"'monitor' VALUE {monitor}",
                         *(f"{lit(k)} VALUE {v}" for k, v in fields.items())])
    return f"SELECT {lit(table)}, {lit(reason)}, JSON_OBJECT({entries})\nFROM {view}\nWHERE {where}"


def _late_query(windows: str, table: str) -> str:
    """Records of a monitor that reached its windows after they were evaluated (the tenant's
    clock was moved on without them: a silent partition or a tenant over the lag bound), one
    per monitor (the function's 'late' rows)."""
    return _monitor_dead_letters("late_window", windows, "`nql_kind` = 'late'", table, "`nql_monitor`",
                                 group="JSON(`group_json`)",
                                 event_time=f"DATE_FORMAT(`late_ts`, {lit(TIME_FORMAT)})")


def _unknown_device_query(windows: str, table: str) -> str:
    """Records whose device had no inventory version as of the record's time, once per monitor
    of the record's tenant that reads inventory attributes (the windows function's 'unknown'
    rows: the device in `sv`, the record's time in `late_ts`)."""
    return _monitor_dead_letters("unknown_device", windows, "`nql_kind` = 'unknown'", table, "`nql_monitor`",
                                 device="`sv`[1]", event_time=f"DATE_FORMAT(`late_ts`, {lit(TIME_FORMAT)})")


STATE_SINK = "sink_alert_state"
# The job's one alert state function for every threshold monitor, and its views: its uid names
# no monitor (deploy/plan.py JOB: the owner of state shared by every monitor), so adding,
# removing or changing a monitor restores every group's alert state.
JOB = "job"
JOB_EVALUATED, JOB_REGROUPED, JOB_JUDGED = f"{JOB}__evaluated", f"{JOB}__regrouped", f"{JOB}__judged"
JOB_STATES, JOB_ALERTS = f"{JOB}__states", f"{JOB}__alerts"


def _job_states(pipes: list[_Pipeline], configured: list[str], joined: list[str], regrouped: set[str],
                programmed: set[str], judged_tables: list[str], state_changes: list[str],
                inserts: list) -> list[Statement]:
    """The evaluations of every threshold pipeline (one row type: the measures in arrays by
    position) -> judged (each pipeline's trigger and recover conditions, chosen by pipeline,
    over its config as of the window) -> states (the Java state machine, partitioned by group)
    -> alerts, one alert record query for all of them, and its 'state' rows to the alert-state
    topic. The config: the one the windows function gave a plain pipeline's evaluations
    (`configured` views), or one config join for the regrouped ones (`joined` views, pipelines
    `regrouped`). The windows function emits each tenant's evaluations in window order and the
    config join keeps that order, so the function sees every group's evaluations in event-time
    order (a group is one monitor's). The pipelines a windows function judges (`programmed`,
    conditions.py) skip all that: it keeps their groups' alert states itself; its transitions
    (`judged_tables`, the tables' states views) join the state function's in the job's states
    view (JOB_STATE_COLUMNS), its state changes (`state_changes`, the tables' state changes
    views) the state function's 'state' rows in the alert-state record's query.

    One judged view and one query per job, not per pipeline: the job graph then grows with
    the tables, not the monitors (Flink expands a view once per query that reads it; a query
    per pipeline over the union of all of them made planning grow with the square of the
    monitors, benchmarks/plan_size.py)."""
    from nql_flink.translator.flink.render import render

    out: list[Statement] = []

    def judged(pick, part: list[_Pipeline], config: str) -> str:
        def param(name: str) -> exp.Expression:
            return exp.Bracket(this=exp.column("params", table=config), expressions=[exp.Literal.string(name)])

        return by_pipeline(((p.name, to_sql(to_exp(pick(p.evaluate), _carried_column(p), param))) for p in part),
                           column="`v`.`nql_pipeline`")

    def part(title: str, view: str, evaluated: list[str], mine: list[_Pipeline], config: str | None) -> dict:
        qualifier = "c" if config else "v"
        out.append(Statement("views/alert_evaluated.sql.j2", {"name": q(view), "evaluated": evaluated}))
        return {"title": title, "eval": q(view), "config": config,
                "trigger": judged(lambda ev: ev.trigger, mine, qualifier),
                "recover": judged(lambda ev: ev.recover, mine, qualifier)}

    inserts.append({"target": q("sink_alerts"), "query": alert_query(q(JOB_ALERTS), alert_values(pipes))})
    parts = []
    if configured:
        parts.append(part("The tables' evaluations", JOB_EVALUATED, configured,
                          [p for p in pipes if p.name not in regrouped and p.name not in programmed], None))
    if joined:
        parts.append(part("Regrouped evaluations (summarize after compute)", JOB_REGROUPED, joined,
                          [p for p in pipes if p.name in regrouped], q("ver_monitor_config")))
    # the state changes: the state function's 'state' rows, and the tables' own
    inserts.append({"target": q(STATE_SINK),
                    "query": render("alert_state_record.sql.j2", {
                        "relations": ([q(JOB_STATES)] if parts or not state_changes else []) + state_changes,
                        "function": q(STATE_RECORD_FUNCTION)}).rstrip()})
    states = {"name": q(JOB_STATES), "function": q(STATES_FUNCTION) if parts else "", "judged": q(JOB_JUDGED),
              "uid": lit(state_uid(JOB, "alerts", ALERT_STATES_LAYOUT)), "tables": judged_tables,
              "columns": ", ".join(q(c) for c in JOB_STATE_COLUMNS)}
    if parts:
        out.append(Statement("views/alert_judged.sql.j2", {"name": q(JOB_JUDGED), "parts": parts}))
    return out + [Statement("views/monitor_alert_states.sql.j2", states),
                  Statement("views/monitor_transitions.sql.j2", {"name": q(JOB_ALERTS), "states": q(JOB_STATES)})]


# The columns of the job's alert states (what the alert and alert-state records read), from
# AlertStates' output and the tables' states views alike.
JOB_STATE_COLUMNS = ("nql_state_key", "tenant", "monitor", "group_json", "nql_kind", "status", "alert_id", "at",
                     "since", "due", "nql_pipeline", "window_start", "window_end", "nql_n", "nql_s", "impact_devices",
                     "impact_users", "active_devices", "nql_priority", "nql_name", "nql_tags",
                     "nql_trigger_condition", "nql_recover_condition")


def _carried_column(p: _Pipeline):
    """A pipeline's measure or group key in the job's judged view: its element of `nql_n` /
    `nql_s`, typed back, or its value in the group's JSON."""
    carried = {c.name: c for c in carried_measures(p.evaluate.input.measures)}
    keys = {k.expr.name: k for k in p.evaluate.input.keys}

    def col(name: str) -> exp.Expression:
        return carried[name].expr("v") if name in carried else _key_expr(keys[name], "v")
    return col


def _evict_text(o: CompileOptions, every_ms: int) -> str:
    if not o.evict_after_ms:
        return "never"
    return (f"{format_duration(o.evict_after_ms)} (--evict-after) + {format_duration(o.max_tenant_lag_ms)} "
            f"(--max-tenant-lag) + {format_duration(every_ms)} (every)")


def eviction_delay(o: CompileOptions, every_ms: int) -> int:
    """How long after a group's last evaluation, in the job's event time, the state function
    evicts it (0: never): --evict-after, plus the tenant lag bound and one slide. The
    evaluations of a tenant come in its own event time, which may trail the job's watermark
    (the state function's clock) by up to the lag bound (a dragged tenant), and the windows
    function learns the table's progress one tick (the smallest slide) late: an evaluation
    continuing the group's run must reach the function before its eviction timer fires."""
    return o.evict_after_ms + o.max_tenant_lag_ms + every_ms if o.evict_after_ms else 0


def _state_tail(p: _Pipeline, n, function: str, extra: tuple[str, ...] = (),
                spec: str | None = None) -> list[Statement]:
    """judged -> state (a detection monitor's state UDAF) -> alerts; `extra` judged columns
    travel to the UDAF, then `spec` literal. The UDAF sees every group's evaluations in
    event-time order (as _job_states)."""
    args = list(extra) + ([lit(spec)] if spec is not None else [])
    return [Statement("views/monitor_state.sql.j2", {"name": n("state"), "function": q(function),
                                                     "judged": n("judged"), "every_ms": str(p.every_ms),
                                                     "extra": args}),
            Statement("views/monitor_alerts.sql.j2", {"name": q(detection_alerts(p)), "state": n("state")})]


UNKNOWN_DEVICE = "nql_unknown_device"


def _one_insert_per_sink(inserts: list[dict]) -> list[dict]:
    """One INSERT per sink table, its queries joined by UNION ALL: every INSERT becomes its
    own Kafka sink, and exactly-once sinks of one job must not share a transactional id."""
    by_target: dict[str, list[str]] = {}
    for insert in inserts:
        by_target.setdefault(insert["target"], []).append(insert["query"])
    return [{"target": t, "query": "\nUNION ALL\n".join(qs)} for t, qs in by_target.items()]


# The measures of every threshold monitor in one row type (the job's one alert state function
# reads the judged views of all of them, UNION ALL): numbers as DOUBLEs in `nql_n`, everything
# else as its text in `nql_s`, by position; the alert record casts each back to the type it has
# in the monitor's eval view, so the record is the one the typed column gave (integers exact
# below 2^53).
NUMBERS_COLUMN = "nql_n"
TEXTS_COLUMN = "nql_s"
_IN_NUMBERS = ("BIGINT", "INT", "DOUBLE")
_MAX_DECIMAL = 38


@dataclass(frozen=True)
class CarriedMeasure:
    """Where a threshold monitor's measure travels to its alert record: `column`[`index`] (SQL,
    1-based), and the SQL type it has in the eval view."""

    name: str
    column: str
    index: int
    sql_type: str

    def value(self) -> str:
        """The measure, typed as in the eval view, from the judged view or a transition."""
        return to_sql(self.expr())

    def expr(self, table: str | None = None) -> exp.Expression:
        """The measure, typed as in the eval view, from `table` (a column of no table: None)."""
        item = exp.Bracket(this=exp.column(self.column, table=table), expressions=[exp.Literal.number(self.index)])
        return item if self.sql_type in ("DOUBLE", "STRING") else exp.Cast(this=item, to=exp.DataType.build(self.sql_type))


def carried_measures(measures) -> list[CarriedMeasure]:
    out, counts = [], {NUMBERS_COLUMN: 0, TEXTS_COLUMN: 0}
    for m in measures:
        sql_type = measure_type(m.expr)
        column = NUMBERS_COLUMN if sql_type in _IN_NUMBERS else TEXTS_COLUMN
        counts[column] += 1
        out.append(CarriedMeasure(m.name, column, counts[column], sql_type))
    return out


def _carried_arrays(measures, v) -> list[str]:
    """The evaluated view's `nql_n` and `nql_s` columns of a monitor's measures (`v`: a column),
    nullable and never a constant, as every column of that view (sql/views/monitor_evaluated.sql.j2):
    a monitor without measures of a kind has a NULL the planner cannot fold."""
    carried = carried_measures(measures)
    out = []
    window_end = to_sql(v("window_end"))
    for column, element in ((NUMBERS_COLUMN, "DOUBLE"), (TEXTS_COLUMN, "STRING")):
        items = [f"CAST({to_sql(v(c.name))} AS {element})" for c in carried if c.column == column]
        if items:
            value = f"CASE WHEN {window_end} IS NOT NULL THEN ARRAY[{', '.join(items)}] END"
        else:
            value = f"CASE WHEN {window_end} IS NULL THEN ARRAY[CAST(NULL AS {element})] END"
        out.append(f"{value} AS {q(column)}")
    return out


def values_pairs(measures) -> list[str]:
    """The alert record's `values` (JSON_OBJECT arguments) of a threshold monitor's measures,
    from the `nql_n` / `nql_s` columns of its judged view or of its transitions. (The record
    takes the object's text as it is, udfs/jvm AlertRecord: the text Flink writes for a nested
    JSON_OBJECT, tests/flink/test_alert_record.py.)"""
    return [f"{lit(c.name)} VALUE {c.value()}" for c in carried_measures(measures)]


def measure_type(e: ir.Scalar) -> str:
    """The SQL type Flink gives a measure's expression in the eval view (aggregates as _lanes
    casts them; literals and arithmetic by Flink's rules: an exact literal such as 1.5 is a
    DECIMAL, and integers with DECIMALs stay DECIMAL, with Flink's precision and scale)."""
    if isinstance(e, ir.Agg):
        return agg_type(e)
    if isinstance(e, ir.Lit):
        v = e.value
        if isinstance(v, bool):
            return "BOOLEAN"
        if isinstance(v, int):
            return "INT" if -2**31 <= v < 2**31 else "BIGINT"
        if isinstance(v, float):
            text = repr(abs(v))
            if "." not in text or "e" in text or not v == v or v in (float("inf"), float("-inf")):
                return "DOUBLE"          # an approximate literal (1e-05)
            return _decimal(len(text) - 1, len(text) - text.index(".") - 1)
        return "STRING"
    if isinstance(e, ir.Arith):
        if e.op == "/":
            return "DOUBLE"              # expressions.to_exp divides DOUBLEs
        left, right = measure_type(e.left), measure_type(e.right)
        if "DOUBLE" in (left, right):
            return "DOUBLE"
        if left.startswith("DECIMAL") or right.startswith("DECIMAL"):
            (p1, s1), (p2, s2) = _precision(left), _precision(right)
            if e.op == "*":
                return _decimal(p1 + p2 + 1, s1 + s2)
            scale = max(s1, s2)
            return _decimal(max(p1 - s1, p2 - s2) + scale + 1, scale)
        if left in ("INT", "BIGINT") and right in ("INT", "BIGINT"):
            return "BIGINT" if "BIGINT" in (left, right) else "INT"
    return SQL_TYPES.get(e.ty, "STRING")


def _precision(sql_type: str) -> tuple[int, int]:
    if sql_type == "INT":
        return 10, 0
    if sql_type == "BIGINT":
        return 19, 0
    p, s = sql_type.removeprefix("DECIMAL(").rstrip(")").split(",")
    return int(p), int(s)


def _decimal(precision: int, scale: int) -> str:
    """DECIMAL(p, s), adjusted as Flink does beyond 38 digits (LogicalTypeMerging): the
    integer digits are kept and the scale shrinks, but not below min(scale, 6)."""
    if precision > _MAX_DECIMAL:
        scale = max(_MAX_DECIMAL - (precision - scale), min(scale, 6))
        precision = _MAX_DECIMAL
    return f"DECIMAL({precision}, {scale})"


def alert_query(alerts_view: str, values: str | None, extra: list[str] | None = None) -> str:
    """The alert records of transitions (one template for every kind): from the columns the
    state function carries (threshold: `values`, the SQL of the record's values object), or
    from the payload a detection monitor's state UDAF returns (values None). With `extra`,
    those columns first and the record named `record` (the alert processing's input)."""
    from nql_flink.translator.flink.render import render

    context = {"alerts": alerts_view, "payload": values is None, "values": values or "",
               "function": q(ALERT_RECORD_FUNCTION)}
    return render("alert_record.sql.j2", context | ({"extra": extra} if extra is not None else {})).rstrip()


# ----------------------------------------------------------------------------- detection
# Seasonal and change monitors (docs/seasonal.md, "On Flink"). The rows, input, windows and
# eval views are the threshold ones, with the tenant's active devices per window (the
# windows function's population, for the impact share); then, per pipeline:
#   judged    config as of window_time, the metric as DOUBLE, the payload (the UDAF returns it
#             with a transition: the evaluation's typed columns cannot pass a Python aggregate)
#   state     seasonal: alert_transitions_seasonal keeps the group's per-slot history, scores
#             each evaluation against its slot's baseline, decides the breach and runs the
#             threshold monitors' state machine; change: alert_transitions_change keeps the
#             group's evaluations of the last `history` and judges against their mean.
#   alerts    transitions; the alert record derives the priority (PRIORITY_RULE).

SEASONAL_FUNCTION = "alert_transitions_seasonal"
SEASONAL_FUNCTION_PATH = "nql_flink.udfs.flink.alert_state.alert_transitions_seasonal"
CHANGE_FUNCTION = "alert_transitions_change"
CHANGE_FUNCTION_PATH = "nql_flink.udfs.flink.alert_state.alert_transitions_change"
SEASONAL_TZ = "UTC"          # no tenant time zone in the monitor format yet; the UDAF takes one
SEASONAL_WEEKLY = "auto"
SEASONAL_MIN_SAMPLES = 4
SEASONAL_MIN_DAYS = 2
PRIORITY_RULE = ("priority = the monitor's, +1 if the metric is at least 2x as far out as the band edge "
                 "(|deviation| >= 2 x deviations; change: |relative| >= 2 x change), +1 if the affected "
                 "devices are >= 25% of the tenant's active devices in the window, -1 if < 5%; "
                 "clamped to low..critical")


def seasonal_detect_spec(det):
    """What shapes a seasonal group's state and breach (udfs.baseline_params.DetectSpec)."""
    from nql_flink.udfs.baseline_params import DetectSpec, SeasonalParams  # plain Python: compiling imports no numpy/pandas

    params = SeasonalParams(direction=det.direction, slot_s=det.slot_ms / 1000, history_s=det.history_ms / 1000,
                            tz=SEASONAL_TZ, weekly=SEASONAL_WEEKLY, min_samples=SEASONAL_MIN_SAMPLES,
                            min_days=SEASONAL_MIN_DAYS)
    return DetectSpec(params, det.default_recover)


def seasonal_spec(det) -> str:
    """The DetectSpec as the literal the state UDAF receives."""
    return seasonal_detect_spec(det).text()


def change_spec(det) -> str:
    """What the change state UDAF needs besides the evaluation (udfs.flink.change.change_spec)."""
    return f"{det.direction}|{det.history_ms}|{int(det.default_recover)}"


def _detection_functions(pipes: list[_Pipeline]) -> list[Statement]:
    kinds = {p.evaluate.detection.type for p in pipes if p.evaluate.detection is not None}
    out = []
    for kind, name, path in (("seasonal", SEASONAL_FUNCTION, SEASONAL_FUNCTION_PATH),
                             ("change", CHANGE_FUNCTION, CHANGE_FUNCTION_PATH)):
        if kind in kinds:
            out.append(Statement("ddl/function.sql.j2", {"name": q(name), "path": lit(path), "language": "PYTHON"}))
    return out


def _detect_pipeline(p: _Pipeline, ev: ir.Evaluate, n, inserts: list) -> list[Statement]:
    det, w = ev.detection, ev.input
    eval_columns = ["tenant", "monitor", "group_json", "window_start", "window_end", "window_time"]
    eval_columns += [m.name for m in w.measures] + [k.expr.name for k in w.keys if k.expr.name not in
                                                    {m.name for m in w.measures}]
    eval_columns += ["impact_devices", "impact_users", "active_devices"]
    eval_columns = list(dict.fromkeys(eval_columns))
    param = lambda name: exp.Bracket(this=exp.column("nql_params"), expressions=[exp.Literal.string(name)])  # noqa: E731
    when = ev.trigger
    extra = None if isinstance(when, ir.Lit) and when.value is True else to_sql(to_exp(when, param=param))
    seasonal = det.type == "seasonal"
    judged = {"name": n("judged"), "eval": n("eval"), "config": q("ver_monitor_config"), "time_format": lit(TIME_FORMAT),
              "metric": q(det.metric), "metric_name": det.metric, "direction": det.direction, "param": lit(det.param),
              "columns": [f"`v`.{q(c)}" for c in eval_columns],
              "values": [f"{lit(m.name)} VALUE {q(m.name)}" for m in w.measures],
              "extra_filter": to_sql(to_exp(w.having)) if w.having is not None else "",
              "sensitivity_name": "deviations" if seasonal else "change",
              "history_text": format_duration(det.history_ms),
              "slot_text": format_duration(det.slot_ms) if seasonal else "",
              "trigger": extra or "TRUE",
              "recover": "CAST(NULL AS BOOLEAN)" if det.default_recover else to_sql(to_exp(ev.recover, param=param))}
    extra_args = ("`nql_enabled`", "`nql_value`", "`nql_sensitivity`")
    if seasonal:
        tail = _state_tail(p, n, SEASONAL_FUNCTION, extra_args, seasonal_spec(det))
    else:
        tail = _state_tail(p, n, CHANGE_FUNCTION, extra_args, change_spec(det))
    inserts.append({"target": q("sink_alerts"), "query": alert_query(q(detection_alerts(p)), None)})
    return [Statement("views/monitor_judged_detect.sql.j2", judged), *tail]


def detection_alerts(p: _Pipeline) -> str:
    """The view of a seasonal or change pipeline's transitions (its `alerts` view)."""
    return f"{p.name}__alerts"
