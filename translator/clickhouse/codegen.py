"""Relational IR -> the polling back end: one evaluation query per monitor (ClickHouse SQL,
sql/clickhouse/evaluation.sql.j2) that gives, per evaluation time (window end), tenant and
group, the measures, the impact and the trigger / recover conditions; the alert state machine
then runs over its rows (translator/clickhouse/poll.py). docs/polling.md says what maps how.

The streaming job's semantics are the contract (docs/flink-job-shape.md, spec/monitors.md):
- HOP windows aligned to the epoch, [end - size, end), one evaluation per window end where the
  group has a record passing the monitor's filters;
- the inventory joined as of each event's time (ASOF JOIN on tenant + collector uid, the
  newest version with last_seen <= the event time); `with` (inner) drops events of devices
  without a version, `include` (left) keeps them with NULL attributes;
- aggregates with SQL's NULL rules and the types the Flink job gives them (codegen.agg_type,
  measure_type): SUM, AVG, MIN, MAX, LAST and percentiles of no value are NULL, sumif of
  nothing 0, counts 0; percentiles interpolate at p * (n - 1) (quantileExactInclusive);
- impact: distinct devices, and users where the table has them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from nql_flink.translator.clickhouse import tables
from nql_flink.translator.clickhouse.expressions import Unsupported, call, ident, lit, to_ch, to_sql
from nql_flink.translator.flink.codegen import agg_type, measure_type
# IR walks the Flink back end has (the scan, enrichment and filters under a window; a measure's
# aggregates and the measure over their columns): the same for both back ends, so used from there
from nql_flink.translator.flink.codegen import _aggregates, _fields, _replace_aggs
from nql_flink.translator.flink.expressions import literal
from nql_flink.translator.ir import relational as ir
from nql_flink.translator.semantic.schema import Catalog

TEMPLATE = "clickhouse/evaluation.sql.j2"
INVENTORY = "device.devices"
_NUMBERS = ("int", "byte", "float", "duration")
_CASTS = {"BIGINT": "BIGINT", "INT": "INT", "DOUBLE": "DOUBLE"}


@dataclass(frozen=True)
class Evaluation:
    """A monitor's evaluation query as data: the template's context (SQL fragments) but for the
    evaluation range, and what reading its rows needs."""

    monitor: ir.Monitor
    context: dict
    keys: tuple[tuple[str, str], ...]          # (group key name, SQL type) in column order
    measures: tuple[tuple[str, str], ...]      # (measure name, SQL type as in the Flink job)

    def sql(self, from_ms: int, to_ms: int) -> str:
        from nql_flink.translator.flink.render import render

        return render(TEMPLATE, {**self.context, "from_ms": lit(int(from_ms)), "to_ms": lit(int(to_ms))})


def unsupported(monitor: ir.Monitor) -> str | None:
    """What of the monitor this back end cannot evaluate yet (NQL0801), or None."""
    ev = monitor.evaluate
    if ev.detection is not None:
        return f"{ev.detection.type} detection"
    return None


@dataclass(frozen=True)
class _Layer:
    """One aggregation: its aggregates (columns nql_a<k>) and its measures over them."""

    aggregates: list[dict]
    measures: list[dict]
    keys: list[ir.Key]  # the keys it outputs (a key named as a measure is the measure)


def _layer(measures: tuple[ir.Measure, ...], keys: tuple[ir.Key, ...], time_column: str) -> _Layer:
    aggs: list[ir.Agg] = []
    for m in measures:
        _aggregates(m.expr, aggs)
    for a in aggs:
        if a.func in ("min", "max", "last") and a.arg is not None and a.arg.ty not in _NUMBERS + ("string",):
            raise Unsupported(f"`{a.func}` of a {a.arg.ty}")
    names = {a: f"nql_a{k}" for k, a in enumerate(aggs, start=1)}
    measure_names = {m.name for m in measures}
    return _Layer([{"name": ident(names[a]), "expr": to_sql(aggregate(a, time_column))} for a in aggs],
                  [{"name": ident(m.name), "expr": to_sql(_typed_measure(m, names))} for m in measures],
                  [k for k in keys if k.expr.name not in measure_names])


def _key_columns(keys) -> list[dict]:
    return [{"name": ident(k.expr.name)} for k in keys]


def generate(monitor: ir.Monitor, catalog: Catalog) -> Evaluation:
    """The monitor's evaluation query; raises Unsupported for what `unsupported` names and
    for aggregates this back end cannot evaluate yet."""
    what = unsupported(monitor)
    if what is not None:
        raise Unsupported(what)
    ev = monitor.evaluate
    top, w = ev.input, ir.windows(ev)
    regroup = isinstance(top, ir.Regroup)
    scan, enrich, filters = _fields(w.input)
    table = catalog.tables[scan.table]

    event_columns = {f.column: ir.column_name(f.path) for f in scan.fields}
    for path in ("device.collector.uid", "user.name"):
        if path in table.fields:
            event_columns.setdefault(ir.column_name(path), ir.column_name(path))
    inventory_columns = {f.column: ir.column_name(f.path) for f in enrich.fields} if enrich else {}

    params = dict(ev.params)
    param = lambda name: literal(float(params[name]))  # noqa: E731  (a threshold's value, escaped)
    devices = call("uniqExact", exp.column("device_collector_uid"))
    no_users = exp.Cast(this=exp.Null(), to=exp.DataType.build("BIGINT"))
    users = call("uniqExact", exp.column("user_name")) if "user.name" in table.fields and not regroup else no_users
    window = _layer(w.measures, w.keys, "nql_ts")
    # regroup: the window's rows per device ("objects", all their keys), aggregated again
    outer = _layer(top.measures, top.keys, "window_end") if regroup else window
    context = {
        "title": f"{monitor.tenant}/{monitor.id}: {scan.table}, window {w.size_ms} ms every {w.slide_ms} ms"
                 + (", summarized again per device window" if regroup else ""),
        "tenant": lit(monitor.tenant),
        "events": tables.qualified(table),
        "inventory": tables.qualified(catalog.tables[INVENTORY]) if enrich else "",
        "join_kind": "INNER" if enrich and enrich.inner else "LEFT",
        "event_columns": [{"name": ident(c), "source": ident(s)} for c, s in sorted(event_columns.items())],
        "inventory_columns": [{"name": ident(c), "source": ident(s)} for c, s in sorted(inventory_columns.items())
                              if c not in event_columns],
        "keep": to_sql(exp.Coalesce(this=to_ch(ir.conjunction(filters)), expressions=[exp.false()]))
        if filters else "TRUE",
        "size_ms": lit(w.size_ms), "slide_ms": lit(w.slide_ms), "windows_per_record": lit(w.size_ms // w.slide_ms),
        "window": {"by": _key_columns(w.keys if regroup else window.keys), "aggregates": window.aggregates,
                   "impact_devices": to_sql(devices), "impact_users": to_sql(users)},
        "objects": {"measures": window.measures, "having": to_sql(to_ch(w.having)) if w.having is not None else ""}
        if regroup else None,
        "keys": _key_columns(outer.keys),
        "aggregates": outer.aggregates,
        "impact_devices": to_sql(devices), "impact_users": to_sql(users),
        "measures": outer.measures,
        "having": to_sql(to_ch(top.having)) if top.having is not None else "",
        "trigger": to_sql(to_ch(ev.trigger, param=param)),
        "recover": to_sql(to_ch(ev.recover, param=param)),
    }
    return Evaluation(monitor, context,
                      tuple((k.name, _key_type(k)) for k in outer.keys),
                      tuple((m.name, measure_type(m.expr)) for m in top.measures))


def _typed_measure(m: ir.Measure, names: dict[ir.Agg, str]) -> exp.Expression:
    value = to_ch(_replace_aggs(m.expr, names))
    sql_type = measure_type(m.expr)
    return exp.Cast(this=value, to=exp.DataType.build(_CASTS[sql_type])) if sql_type in _CASTS else value


def _key_type(k: ir.Key) -> str:
    from nql_flink.translator.flink.expressions import SQL_TYPES

    return SQL_TYPES.get(k.expr.ty, "STRING")


def aggregate(a: ir.Agg, time_column: str = "nql_ts") -> exp.Expression:
    """The aggregate over a window's rows, typed as the Flink job's (codegen.agg_type); LAST
    is the value at the greatest `time_column`."""
    cond = to_ch(a.cond) if a.cond is not None else None
    present = [exp.Not(this=exp.Is(this=to_ch(a.arg), expression=exp.Null()))] if a.arg is not None else []
    present += [cond] if cond is not None else []
    counts = exp.Coalesce(this=exp.and_(*present), expressions=[exp.false()]) if present else exp.true()
    if a.func == "count":
        return call("countIf", counts) if present else call("count")
    arg = to_ch(a.arg)
    numeric = a.arg.ty in _NUMBERS
    if a.func == "count_distinct":
        return call("uniqExactIf", call("toString", arg), counts)
    value = call("toFloat64", arg) if numeric else arg
    if a.func in ("sum", "avg", "min", "max"):
        result = call(f"{a.func}If", value, counts)
    elif a.func == "last":
        result = call("argMaxIf", value, exp.column(time_column), counts)
    elif a.func == "percentile":
        result = exp.ParameterizedAgg(this="quantileExactInclusiveIf", expressions=[exp.Literal.number(repr(a.fraction))],
                                      params=[value, counts])
    else:
        raise Unsupported(f"the aggregate {a.func}")
    # no value -> NULL (ClickHouse's -If combinators give 0 / nan for no row)
    result = call("if", exp.EQ(this=call("countIf", counts), expression=exp.Literal.number(0)), exp.Null(), result)
    sql_type = agg_type(a)
    if sql_type in _CASTS:
        result = exp.Cast(this=result, to=exp.DataType.build(_CASTS[sql_type]))
    if a.func == "sum" and a.cond is not None:
        result = exp.Coalesce(this=result, expressions=[exp.Literal.number(0)])  # NQL's sumif of nothing is 0
    return result
