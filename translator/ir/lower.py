"""Monitor (typed) -> relational IR. Pure; back-end limits become NQL06xx diagnostics.

Decisions made here, not in SQL generation:
- which fields are read from the event and which come from the inventory;
- string comparisons with `*`/`?` become LIKE patterns (`%` and `_` escaped);
- numeric thresholds in trigger/recover conditions become monitor-config parameters, so a
  changed threshold is data (spec/monitors.md), named trigger_1, trigger_2, recover_1, ...
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.ir import relational as ir
from nql_flink.translator.monitors.model import Condition, Monitor
from nql_flink.translator.semantic.functions import COUNTABLE_OBJECTS
from nql_flink.translator.semantic.resolver import ResolvedField, TypedQuery
from nql_flink.translator.source import Source, Span
from nql_flink.translator.syntax import ast
from nql_flink.translator.syntax.durations import format_duration

CMP = {"==": "=", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
# `<field>.count()` of a field of these (SQL-side) types counts its distinct values, as
# `device.count()` counts devices: string, enum, IP and version fields identify things
# (session.uid, binary.version); of other types, its non-NULL values (docs/nql-dialect.md).
IDENTITY_TYPES = {"string"}
ORDERING = ("<", ">", "<=", ">=")
PERCENTILES = {"p95": 0.95, "p05": 0.05}
NUMERIC_KINDS = {"int", "float", "duration", "byte"}
DEVICE_UID = "device.collector.uid"


class Unsupported(Exception):
    def __init__(self, what: str, span: Span, source: Source):
        super().__init__(what)
        self.what, self.span, self.source = what, span, source


@dataclass
class _Scope:
    typed: TypedQuery
    source: Source
    types: dict
    fields: dict
    enums: dict
    event_fields: dict[str, ir.Field] = field(default_factory=dict)
    inventory_fields: dict[str, ir.Field] = field(default_factory=dict)
    params: list[tuple[str, float]] = field(default_factory=list)
    param_prefix: str | None = None  # set while lowering a monitor condition
    carried: dict | None = None  # set while lowering a summarize after compute: device attributes it reads


def lower(monitor: Monitor) -> tuple[ir.Monitor | None, list[Diagnostic]]:
    q = monitor.query
    scope = _Scope(q, q.source, q.types, q.fields, q.enums)
    try:
        evaluate = _lower(monitor, scope)
    except Unsupported as exc:
        return None, [diag("NQL0601", exc.source, exc.span, what=exc.what)]
    return ir.Monitor(monitor.tenant, monitor.id, evaluate, _config(monitor), monitor.spec.processing), []


def _config(m: Monitor) -> ir.Config:
    spec = m.spec
    if spec.detection.type != "threshold":
        trigger = detection_condition_text(m)
    else:
        trigger = spec.trigger_when.text if spec.trigger_when else ""
    recover = spec.recover_when.text if spec.recover_when else f"not ({trigger})" if trigger else ""
    return ir.Config(spec.enabled, spec.priority, spec.name, tuple(spec.tags), spec.trigger_for_ms,
                     spec.recover_for_ms, trigger, recover)


def detection_condition_text(m: Monitor) -> str:
    """A detection monitor's trigger as the alert shows it."""
    det = m.spec.detection
    side, sign = {"above": ("above", "+"), "below": ("below", "-"), "both": ("outside", "±")}[det.direction]
    if det.type == "seasonal":
        text = (f"{det.metric} {side} seasonal baseline {sign} {det.deviations:g} spreads "
                f"(slot {format_duration(det.slot_ms)}, history {format_duration(det.history_ms)})")
    else:
        text = f"{det.metric} {side} its {format_duration(det.history_ms)} average {sign} {det.change * 100:g}%"
    return f"{text} and {m.spec.trigger_when.text}" if m.spec.trigger_when else text


def _lower(monitor: Monitor, s: _Scope) -> ir.Evaluate:
    q = s.typed
    summarize = next((c for c in q.query.clauses if isinstance(c, ast.Summarize)), None)
    if q.period_ms:
        period = next(k for k in summarize.by if isinstance(k, ast.Period))
        raise Unsupported("a period key in `by`", period.span, s.source)
    det = monitor.spec.detection
    regroup = q.has_summarize and q.join is not None
    if regroup and det.type != "threshold":
        raise Unsupported(f"a {det.type} detection over `summarize` after `compute`", summarize.span, s.source)
    # identity of devices and users: always read, for device.count() and the alert's impact
    _event_field(s, DEVICE_UID, "string")
    if "user.name" in q.events.fields:
        _event_field(s, "user.name", "string")
    filters = [_scalar(f, s) for f in (*q.object_filters, *q.event_filters)]
    if regroup:
        keys, measures, having, top = _regrouped(q, s, summarize)
        outputs = {m.name.lower(): m for m in top.measures} | {k.name.lower(): k for k in top.keys}
    else:
        keys = tuple(ir.Key(k.name, _column(k.field, s)) for k in q.group_keys)
        measures = tuple(ir.Measure(o.name, _scalar(o.expr, s), o.type.name) for o in q.outputs)
        outputs = {m.name.lower(): m for m in measures} | {k.name.lower(): k for k in keys}
        having = ir.conjunction([_scalar(f, s, outputs) for f in q.result_filters])
    rel: ir.Relation = ir.Scan(q.events.name, tuple(s.event_fields.values()))
    if s.inventory_fields:
        rel = ir.Enrich(rel, tuple(s.inventory_fields.values()), inner=q.join != "include")
    for f in filters:
        rel = ir.Filter(rel, f)
    window = ir.WindowAggregate(rel, q.window_ms, monitor.every_ms, keys, measures, having)
    trigger = _condition(monitor.trigger, "trigger", s, outputs)
    if trigger is None:  # seasonal/change without an extra condition: the detection decides
        trigger = ir.Lit(True, "bool")
    recover = _condition(monitor.recover, "recover", s, outputs) or ir.Bool("NOT", (trigger,))
    if det.type != "threshold":
        return _detect(monitor, window, trigger, recover, s, measures)
    if regroup:
        return ir.Evaluate(ir.Regroup(window, top.keys, top.measures, top.having), trigger, recover, tuple(s.params))
    return ir.Evaluate(window, trigger, recover, tuple(s.params))


@dataclass(frozen=True)
class _Top:
    keys: tuple[ir.Key, ...]
    measures: tuple[ir.Measure, ...]
    having: ir.Scalar | None


def _regrouped(q: TypedQuery, s: _Scope, summarize: ast.Summarize):
    """`devices | with … | compute … | summarize … by …`: per device and window the computed
    values (keyed by the device and the device attributes the summarize reads, carried to
    it), filtered by the `where`s before the summarize; then per summarize keys. Returns the
    per-device keys, measures and filter, and the summarize's (_Top)."""
    later = q.query.clauses[q.query.clauses.index(summarize) + 1:]
    after = {id(c.condition) for c in later if isinstance(c, ast.Where)}
    device = ir.Key(DEVICE_UID, _event_field(s, DEVICE_UID, "string"))
    per_device = tuple(ir.Measure(o.name, _scalar(o.expr, s), o.type.name) for o in q.computed)
    first = {m.name.lower(): m for m in per_device}
    having = ir.conjunction([_scalar(f, s, first) for f in q.result_filters if id(f) not in after])
    s.carried = {}
    keys = tuple(ir.Key(k.name, _column(k.field, s)) for k in q.group_keys)
    measures = tuple(ir.Measure(o.name, _scalar(o.expr, s), o.type.name) for o in q.outputs)
    carried, s.carried = s.carried, None
    outputs = {m.name.lower(): m for m in measures} | {k.name.lower(): k for k in keys}
    top_having = ir.conjunction([_scalar(f, s, outputs) for f in q.result_filters if id(f) in after])
    # the device's own uid, read by the summarize (`collector.uid`), is the device key itself
    per_device_keys = (device, *(ir.Key(c.name, c) for c in carried.values() if c != device.expr))
    return per_device_keys, per_device, having, _Top(keys, measures, top_having)


# ----------------------------------------------------------------------------- detection


def _detect(monitor: Monitor, window: ir.WindowAggregate, trigger: ir.Scalar, recover: ir.Scalar, s: _Scope,
            measures: tuple[ir.Measure, ...]) -> ir.Evaluate:
    det = monitor.spec.detection
    by_name = {m.name.lower(): m for m in measures}
    metric = by_name.get((det.metric or "").lower())
    if metric is None:  # bind checks the column; a key or missing metric cannot be watched
        raise Unsupported(f"`detection.metric: {det.metric}`", det.metric_span or monitor.spec.span, monitor.spec.file)
    d = ir.Detection(det.type, metric.name, det.direction, det.history_ms, det.slot_ms, monitor.recover is None)
    value = det.deviations if det.type == "seasonal" else det.change
    params = tuple(s.params) + ((d.param, float(value)),)
    return ir.Evaluate(window, trigger, recover, params, d)


def _condition(c: Condition | None, prefix: str, s: _Scope, outputs: dict) -> ir.Scalar | None:
    if c is None:
        return None
    cs = _Scope(s.typed, c.source, c.types, {}, c.enums, s.event_fields, s.inventory_fields, s.params, prefix)
    return _scalar(c.expr, cs, outputs)


# ----------------------------------------------------------------------------- fields


def _event_field(s: _Scope, path: str, ty: str) -> ir.Col:
    col = ir.column_name(path)
    s.event_fields.setdefault(path, ir.Field(path, col, ty))
    return ir.Col(col, ty)


def _inventory_field(s: _Scope, path: str, ty: str) -> ir.Col:
    """path is the inventory's own (`virtualization.desktop_pool`)."""
    col = "device_" + ir.column_name(path)
    s.inventory_fields.setdefault(path, ir.Field(path, col, ty))
    return ir.Col(col, ty)


def _column(rf: ResolvedField, s: _Scope) -> ir.Col:
    ty = _ty(rf.type.name)
    if rf.origin == "computed":  # a per-device value, read by a summarize after compute
        return ir.Col(rf.path, ty)
    if s.carried is not None and rf.origin in ("object", "inventory"):
        col = _column(rf, dataclasses.replace(s, carried=None))
        s.carried.setdefault(col.name, col)
        return col
    if rf.origin == "event":
        return _event_field(s, rf.path, ty)
    if rf.origin == "inventory":
        return _inventory_field(s, rf.path.split(".", 1)[1], ty)
    if rf.origin == "object":
        if rf.path == "collector.uid":
            return _event_field(s, DEVICE_UID, ty)
        return _inventory_field(s, rf.path, ty)
    raise AssertionError(rf.origin)


def _ty(nql: str) -> str:
    return {"enum": "string", "ratio": "float", "bitrate": "float", "ip": "string", "version": "string"}.get(nql, nql)


# ----------------------------------------------------------------------------- scalars


def _scalar(e: ast.Expr, s: _Scope, outputs: dict | None = None) -> ir.Scalar:
    if isinstance(e, ast.Literal):
        return _literal(e, s)
    if isinstance(e, ast.Field):
        if e in s.enums:
            return ir.Lit(s.enums[e], "string")
        if outputs is not None and e.name.lower() in outputs:
            out = outputs[e.name.lower()]
            return ir.Col(out.name, out.ty) if isinstance(out, ir.Measure) else out.expr
        return _column(s.fields[e], s)
    if isinstance(e, ast.Logical):
        return ir.Bool(e.op.upper(), (_scalar(e.left, s, outputs), _scalar(e.right, s, outputs)))
    if isinstance(e, ast.Binary):
        return ir.Arith(e.op, _scalar(e.left, s, outputs), _scalar(e.right, s, outputs), _ty(s.types[e].name))
    if isinstance(e, ast.Unary):
        return ir.Arith("-", ir.Lit(0, "int"), _scalar(e.operand, s, outputs), _ty(s.types[e].name))
    if isinstance(e, ast.Compare):
        return _compare(e, s, outputs)
    if isinstance(e, ast.Call):
        return _aggregate(e, s)
    raise Unsupported(f"`{type(e).__name__}`", e.span, s.source)


def _literal(e: ast.Literal, s: _Scope) -> ir.Scalar:
    if e.kind == "ip" and "/" in e.value:
        raise Unsupported("an IP subnet comparison", e.span, s.source)
    if e.kind == "version":
        return ir.Lit(".".join(str(p) for p in e.value), "string")
    if e.kind == "datetime":
        raise Unsupported("a datetime literal", e.span, s.source)
    ty = {"int": "int", "float": "float", "duration": "duration", "byte": "byte", "string": "string",
          "bool": "bool", "null": "null", "ip": "string"}[e.kind]
    if s.param_prefix and ty in NUMERIC_KINDS:
        name = f"{s.param_prefix}_{sum(1 for p, _ in s.params if p.startswith(s.param_prefix)) + 1}"
        s.params.append((name, float(e.value)))
        return ir.Param(name)
    return ir.Lit(e.value, ty)


def _compare(e: ast.Compare, s: _Scope, outputs: dict | None) -> ir.Scalar:
    left = _scalar(e.left, s, outputs)
    left_type = s.types.get(e.left)
    if left_type is not None and left_type.name == "version" and e.op in ORDERING:
        return ir.VersionCmp(CMP[e.op], left, _scalar(e.right, s, outputs))
    if e.op in ("in", "!in"):
        items = e.right.items
        nulls = [i for i in items if isinstance(i, ast.Literal) and i.kind == "null"]
        patterns = [i for i in items if _is_wildcard(i)]
        subnets = [i for i in items if _is_subnet(i)]
        plain = [_scalar(i, s, outputs) for i in items if i not in nulls and i not in patterns and i not in subnets]
        negated = e.op == "!in"
        parts: list[ir.Scalar] = []
        if plain:
            parts.append(ir.InList(left, tuple(plain), False))
        parts += [ir.Like(left, wildcard_to_like(p.value), False) for p in patterns]
        parts += [_subnet(left, i, False) for i in subnets]
        if nulls:
            parts.append(ir.IsNull(left, False))
        any_of = parts[0] if len(parts) == 1 else ir.Bool("OR", tuple(parts))
        return ir.Bool("NOT", (any_of,)) if negated else any_of
    if isinstance(e.right, ast.Literal) and e.right.kind == "null":
        return ir.IsNull(left, e.op == "!=")
    if _is_wildcard(e.right) and e.op in ("==", "!="):
        return ir.Like(left, wildcard_to_like(e.right.value), e.op == "!=")
    if _is_subnet(e.right) and e.op in ("==", "!="):
        return _subnet(left, e.right, e.op == "!=")
    return ir.Cmp(CMP[e.op], left, _scalar(e.right, s, outputs))


def _is_wildcard(e: ast.Expr) -> bool:
    return isinstance(e, ast.Literal) and e.kind == "string" and ("*" in e.value or "?" in e.value)


def _is_subnet(e: ast.Expr) -> bool:
    """An IP literal: a subnet, or one address (a network of one, so that `f164::1` equals
    `F164:0::1`, as addresses and not as text)."""
    return isinstance(e, ast.Literal) and e.kind == "ip"


def _subnet(operand: ir.Scalar, e: ast.Literal, negated: bool) -> ir.InSubnet:
    """`ip == 10.20.0.0/16`: the address is in the network (NQL's subnet comparison)."""
    network, _, prefix = e.value.partition("/")
    return ir.InSubnet(operand, network, int(prefix) if prefix else 128 if ":" in network else 32, negated)


def wildcard_to_like(text: str) -> str:
    """NQL wildcard text -> LIKE pattern with escape character '\\'."""
    out = []
    for ch in text:
        if ch in "\\%_":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


def _aggregate(e: ast.Call, s: _Scope) -> ir.Agg:
    ty = _ty(s.types[e].name)
    cond = _scalar(e.args[0], s) if e.args else None
    r = e.receiver
    if e.name in ("count", "countif"):
        if r is None:
            return ir.Agg("count", None, cond, ty)
        if isinstance(r, ast.Field) and r.name.lower() in COUNTABLE_OBJECTS:
            path = COUNTABLE_OBJECTS[r.name.lower()]
            return ir.Agg("count_distinct", _event_field(s, path, "string"), cond, ty)
        if _ty(s.types[r].name) in IDENTITY_TYPES:  # session.uid.count(): sessions, not samples
            return ir.Agg("count_distinct", _scalar(r, s), cond, ty)
        return ir.Agg("count", _scalar(r, s), cond, ty)
    arg = _scalar(r, s)
    if e.name in PERCENTILES:
        return ir.Agg("percentile", arg, cond, ty, PERCENTILES[e.name])
    func = {"sumif": "sum"}.get(e.name, e.name)
    return ir.Agg(func, arg, cond, ty)
