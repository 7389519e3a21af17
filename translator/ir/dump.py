"""A readable dump of the relational IR, as reviewed in golden files (tests/golden/ir).

Relations one per line, their input indented below them; scalars as S-expressions with
`:type` after columns, literals and parameters; durations as NQL writes them.
"""

from __future__ import annotations

from nql_flink.translator.ir import relational as ir
from nql_flink.translator.syntax.durations import format_duration


# Tests of one operand that may be negated: name, what follows the operand
_TESTS = {
    ir.Like: ("like", lambda e: f" {e.pattern!r}"),
    ir.InList: ("in", lambda e: " [" + " ".join(scalar(v) for v in e.values) + "]"),
    ir.InSubnet: ("in-subnet", lambda e: f" {e.network}/{e.prefix}"),
    ir.IsNull: ("null", lambda e: ""),
}


def scalar(e: ir.Scalar | None) -> str:
    if e is None:
        return "-"
    if isinstance(e, ir.Col):
        return f"{e.name}:{e.ty}"
    if isinstance(e, ir.Lit):
        return f"{e.value!r}:{e.ty}"
    if isinstance(e, ir.Param):
        return f"${e.name}:{e.ty}"
    if isinstance(e, (ir.Cmp, ir.VersionCmp)):
        name = "version" + e.op if isinstance(e, ir.VersionCmp) else e.op
        return f"({name} {scalar(e.left)} {scalar(e.right)})"
    if isinstance(e, ir.Arith):
        return f"({e.op} {scalar(e.left)} {scalar(e.right)}):{e.ty}"
    if type(e) in _TESTS:
        name, rest = _TESTS[type(e)]
        return f"({'not-' if e.negated else ''}{name} {scalar(e.operand)}{rest(e)})"
    if isinstance(e, ir.Bool):
        return f"({e.op.lower()} {' '.join(scalar(a) for a in e.args)})"
    if isinstance(e, ir.Agg):
        parts = [e.func + (f"({e.fraction:g})" if e.fraction is not None else "")]
        parts += [scalar(e.arg)] if e.arg is not None else []
        parts += [f"if {scalar(e.cond)}"] if e.cond is not None else []
        return f"({' '.join(parts)}):{e.ty}"
    raise AssertionError(f"no dump for {type(e).__name__}")


def _fields(fields: tuple[ir.Field, ...]) -> str:
    return " ".join(f"{f.path}->{f.column}:{f.ty}" for f in fields)


def _keys_and_measures(keys, measures, having, pad: str) -> list[str]:
    out = [f"{pad}  key {k.name} = {scalar(k.expr)}" for k in keys]
    out += [f"{pad}  measure {m.name}:{m.ty} = {scalar(m.expr)}" for m in measures]
    return out + ([f"{pad}  having {scalar(having)}"] if having is not None else [])


def relation(r: ir.Relation, depth: int = 0) -> list[str]:
    pad = "  " * depth
    if isinstance(r, ir.Scan):
        return [f"{pad}scan {r.table}", f"{pad}  fields {_fields(r.fields)}"]
    if isinstance(r, ir.Enrich):
        head = [f"{pad}enrich {'inner' if r.inner else 'left'} device.devices as of event time",
                f"{pad}  fields {_fields(r.fields)}"]
        return head + relation(r.input, depth + 1)
    if isinstance(r, ir.Filter):
        return [f"{pad}filter {scalar(r.condition)}"] + relation(r.input, depth + 1)
    if isinstance(r, ir.WindowAggregate):
        head = [f"{pad}window hop size {format_duration(r.size_ms)} slide {format_duration(r.slide_ms)}"]
        return head + _keys_and_measures(r.keys, r.measures, r.having, pad) + relation(r.input, depth + 1)
    if isinstance(r, ir.Regroup):
        head = [f"{pad}regroup each window's rows"]
        return head + _keys_and_measures(r.keys, r.measures, r.having, pad) + relation(r.input, depth + 1)
    if isinstance(r, ir.Evaluate):
        out = [f"{pad}evaluate", f"{pad}  trigger {scalar(r.trigger)}", f"{pad}  recover {scalar(r.recover)}"]
        out += [f"{pad}  param {k} = {v!r}" for k, v in r.params]
        d = r.detection
        if d is not None:
            out.append(f"{pad}  detection {d.type} of {d.metric} {d.direction} history {format_duration(d.history_ms)}"
                       + (f" slot {format_duration(d.slot_ms)}" if d.type == "seasonal" else "")
                       + (" default-recover" if d.default_recover else ""))
        return out + relation(r.input, depth + 1)
    raise AssertionError(f"no dump for {type(r).__name__}")


def monitor(m: ir.Monitor) -> str:
    c = m.config
    head = [f"monitor {m.tenant}/{m.id} every {format_duration(m.every_ms)}",
            f"config enabled={str(c.enabled).lower()} priority={c.priority} name={c.name!r} tags={list(c.tags)}",
            f"config for {format_duration(c.for_ms)}: {c.trigger_text!r}",
            f"config recover for {format_duration(c.recover_for_ms)}: {c.recover_text!r}"]
    if m.processing is not None:
        head.append(f"processing {m.processing.spec()}")
    return "\n".join(head + relation(m.evaluate)) + "\n"
