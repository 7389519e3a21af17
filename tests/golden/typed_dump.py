"""A readable dump of a checked monitor: the typed tree, as reviewed in golden files
(tests/golden/typed; only test_golden.py uses it, so it lives here, not in translator/).

S-expressions with `:type` after each typed node and `[origin]` after each field.
"""

from __future__ import annotations

from nql_flink.translator.syntax.durations import format_duration
from nql_flink.translator.monitors.model import Condition, Monitor
from nql_flink.translator.semantic.resolver import TypedQuery
from nql_flink.translator.syntax import ast


def expr(e: ast.Expr, types: dict, fields: dict, enums: dict) -> str:
    def t(node) -> str:
        ty = types.get(node)
        return f":{ty.name}" if ty is not None else ""

    def go(n) -> str:
        if isinstance(n, ast.Literal):
            return f"{n.text}{t(n) or ':' + n.kind}"
        if isinstance(n, ast.Field):
            if n in enums:
                return f"enum({enums[n]}){t(n)}"
            rf = fields.get(n)
            origin = f"[{rf.origin}]" if rf is not None and rf.origin not in ("output",) else ""
            return f"{n.name}{t(n)}{origin}"
        if isinstance(n, (ast.Compare, ast.Logical, ast.Binary)):
            return f"({n.op} {go(n.left)} {go(n.right)}){t(n)}"
        if isinstance(n, ast.Unary):
            return f"(- {go(n.operand)}){t(n)}"
        if isinstance(n, ast.ListLit):
            return "[" + " ".join(go(i) for i in n.items) + "]"
        if isinstance(n, ast.Call):
            recv = ""
            if n.receiver is not None:
                rf = fields.get(n.receiver) if isinstance(n.receiver, ast.Field) else None
                recv = (f"{n.receiver.name}->{rf.path}" if rf is not None and rf.path != n.receiver.name else go(n.receiver)) + " "
            args = " ".join(go(a) for a in n.args)
            return f"({n.name} {recv}{args}".rstrip() + f"){t(n)}"
        if isinstance(n, ast.NamedArg):
            return f"{n.name}={go(n.value)}"
        raise AssertionError(type(n))

    return go(e)


def dump_query(q: TypedQuery) -> list[str]:
    x = lambda e: expr(e, q.types, q.fields, q.enums)  # noqa: E731
    lines = [f"table {q.root.name} ({q.root.kind}, time {q.root.time_field})"]
    if q.join:
        lines.append(f"{q.join} {q.events.name} (event, time {q.events.time_field})")
    lines.append(f"window {format_duration(q.window_ms)}" + (f" resolution {format_duration(q.resolution_ms)}" if q.resolution_ms else ""))
    for f in q.object_filters:
        lines.append(f"where-object {x(f)}")
    for f in q.event_filters:
        lines.append(f"where {x(f)}")
    for o in q.computed:
        lines.append(f"compute {o.name}:{o.type.name} = {x(o.expr)}")
    if q.has_summarize:
        for o in q.outputs:
            lines.append(f"summarize {o.name}:{o.type.name} = {x(o.expr)}")
    for k in q.group_keys:
        lines.append(f"by {k.name}:{k.field.type.name}[{k.field.origin}]")
    if q.period_ms:
        lines.append(f"by period {format_duration(q.period_ms)}")
    for f in q.result_filters:
        lines.append(f"having {x(f)}")
    lines.append("uses inventory" if q.uses_inventory else "no inventory join")
    return lines


def _cond(c: Condition | None) -> str:
    return expr(c.expr, c.types, {}, {}) if c is not None else "-"


def dump_monitor(m: Monitor) -> str:
    s = m.spec
    d = s.detection
    lines = [
        f"monitor {s.id} tenant={s.tenant} priority={s.priority} enabled={str(s.enabled).lower()}",
        f"name {s.name!r} tags={list(s.tags)} notify={list(s.notify)}",
        f"every {format_duration(m.every_ms)}",
        *dump_query(m.query),
        f"trigger for {format_duration(s.trigger_for_ms)}: {_cond(m.trigger)}",
        f"recover for {format_duration(s.recover_for_ms)}: {_cond(m.recover) if m.recover else 'not trigger'}",
    ]
    if d.type != "threshold":
        lines.append(f"detection {d.type} metric={d.metric} deviations={d.deviations:g} direction={d.direction} "
                     f"history={format_duration(d.history_ms)} slot={format_duration(d.slot_ms)} change={d.change:.0%}")
    return "\n".join(lines) + "\n"
