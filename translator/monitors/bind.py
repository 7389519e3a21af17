"""MonitorSpec + typed query -> Monitor: the checks that need both (window vs `every`,
conditions typed against the query's output columns, the detection metric)."""

from __future__ import annotations

from nql_flink.translator.syntax.durations import format_duration
from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.monitors.model import Condition, Monitor, MonitorSpec, Snippet
from nql_flink.translator.semantic import types as T
from nql_flink.translator.semantic.resolver import Output, TypedQuery, resolve_condition
from nql_flink.translator.syntax import ast
from nql_flink.translator.syntax.parser import parse_condition

METRIC_FAMILIES = {"number", "duration", "byte"}


def bind(spec: MonitorSpec, typed: TypedQuery) -> tuple[Monitor | None, list[Diagnostic]]:
    out: list[Diagnostic] = []
    every = spec.every_ms or typed.events.cadence_ms or 60_000
    window = typed.window_ms
    if window and window % every:
        anchor_source, anchor = (spec.file, spec.every_span) if spec.every_span else (typed.source, _window_span(typed))
        out.append(diag("NQL0404", anchor_source, anchor, f"e.g. every: {format_duration(_largest_divisor(window, every))}",
                        window=format_duration(window), every=format_duration(every)))
    if spec.trigger_for_ms % every and spec.trigger_for_span is not None:
        rounded = -(-spec.trigger_for_ms // every) * every
        out.append(diag("NQL0504", spec.file, spec.trigger_for_span, value=format_duration(spec.trigger_for_ms), every=format_duration(every),
                        rounded=format_duration(rounded)))
    trigger = _condition(spec.trigger_when, typed, "`trigger.when`", out)
    recover = _condition(spec.recover_when, typed, "`recover.when`", out)
    det = spec.detection
    if det.type != "threshold" and det.metric is not None:
        col = typed.column(det.metric)
        if not isinstance(col, Output) or T.family(col.type) not in METRIC_FAMILIES:
            names = [o.name for o in typed.outputs if T.family(o.type) in METRIC_FAMILIES]
            out.append(diag("NQL0407", spec.file, det.metric_span, "numeric columns: " + ", ".join(names) if names else None,
                            name=det.metric))
    if any(d.is_error for d in out):
        return None, out
    return Monitor(spec, typed, every, trigger, recover), out


def _condition(snippet: Snippet | None, typed: TypedQuery, what: str, out: list[Diagnostic]) -> Condition | None:
    if snippet is None:
        return None
    expr, diags = parse_condition(snippet.source)
    out.extend(diags)
    if expr is None or diags:
        return None
    info, diags = resolve_condition(expr, typed, snippet.source, what)
    out.extend(diags)
    return Condition(snippet.text, expr, snippet.source, info["types"], info["enums"]) if not diags else None


def _window_span(typed: TypedQuery):
    ts = typed.query.time
    if ts is None:
        joins = [c for c in typed.query.clauses if isinstance(c, ast.Join) and c.time is not None]
        ts = joins[0].time if joins else None
    return ts.span if ts is not None else typed.query.table.span


def _largest_divisor(window: int, every: int) -> int:
    for candidate in range(every, 999, -1000):
        if window % candidate == 0:
            return candidate
    return 1000
