"""Syntax tree -> typed query: names resolved against the catalog, every expression typed,
the NQL rules checked. Reports diagnostics; never raises on bad input.

Clauses are checked in order against a *frame*: the names visible at that point of the
pipe (event fields, object fields, computed values, summarized outputs).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.semantic import functions as fn
from nql_flink.translator.semantic import types as T
from nql_flink.translator.semantic.schema import Catalog, Table
from nql_flink.translator.source import Source, Span
from nql_flink.translator.syntax import ast

FIFTEEN_MIN = 15 * 60_000
# The longest window (and period) a monitor keeps state for: NQL's own high-resolution data
# reaches back 2 days, and a week of events per group is the most a streaming job should hold.
MAX_WINDOW_MS = 7 * 86_400_000
ORDERING = frozenset({"<", ">", "<=", ">="})
IMPLICIT_DEVICE_EVENTS = "device_performance.events"


@dataclass(frozen=True, slots=True)
class ResolvedField:
    path: str  # canonical path in the record it comes from
    type: T.Type
    origin: str  # event | inventory | object | computed | output


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    type: T.Type
    expr: ast.Expr
    span: Span


@dataclass(frozen=True, slots=True)
class GroupKey:
    name: str  # as the alert's `group` object names it
    field: ResolvedField
    span: Span


@dataclass(frozen=True)
class TypedQuery:
    query: ast.Query
    source: Source
    root: Table
    events: Table  # the event table that feeds the aggregation
    join: str | None  # with | include, for object-rooted queries
    window_ms: int
    resolution_ms: int | None
    object_filters: tuple[ast.Expr, ...]  # `where` on devices before the `with`
    event_filters: tuple[ast.Expr, ...]
    computed: tuple[Output, ...]  # per-object values (compute)
    outputs: tuple[Output, ...]  # the query's result columns (besides group keys)
    group_keys: tuple[GroupKey, ...]
    period_ms: int | None
    result_filters: tuple[ast.Expr, ...]
    fields: dict[ast.Field, ResolvedField]
    enums: dict[ast.Field, str]
    types: dict[object, T.Type]

    @property
    def has_summarize(self) -> bool:
        return any(isinstance(c, ast.Summarize) for c in self.query.clauses)

    @property
    def uses_inventory(self) -> bool:
        return self.join is not None or any(f.origin == "inventory" for f in self.fields.values())

    def column(self, name: str) -> Output | GroupKey | None:
        for o in self.outputs:
            if o.name.lower() == name.lower():
                return o
        for k in self.group_keys:
            if k.name.lower() == name.lower():
                return k
        return None

    def column_names(self) -> list[str]:
        return [o.name for o in self.outputs] + [k.name for k in self.group_keys]


@dataclass
class _Frame:
    kind: str  # events | objects | joined | computed | summarized
    events: Table | None
    objects: Table | None
    computed: dict[str, Output] = field(default_factory=dict)
    outputs: dict[str, T.Type] = field(default_factory=dict)


@dataclass
class _Ctx:
    """Where an expression stands: may it aggregate, must its fields be aggregated?"""

    aggregates: bool = False
    inside_aggregate: bool = False
    clause: str = "where"
    keys: frozenset[str] = frozenset()


class Resolver:
    def __init__(self, catalog: Catalog, source: Source, strict: bool = False):
        self.catalog = catalog
        self.source = source
        self.strict = strict
        self.diagnostics: list[Diagnostic] = []
        self.fields: dict[ast.Field, ResolvedField] = {}
        self.enums: dict[ast.Field, str] = {}
        self.types: dict[object, T.Type] = {}

    def report(self, code: str, span: Span, hint: str | None = None, **params) -> None:
        self.diagnostics.append(diag(code, self.source, span, hint, **params))

    def extension(self, what: str, span: Span) -> None:
        if self.strict:
            self.report("NQL0503", span, "remove it, or check without --strict", what=what)
            self.diagnostics[-1] = _as_error(self.diagnostics[-1])
        else:
            self.report("NQL0503", span, what=what)

    # -- the query ---------------------------------------------------------------------------
    def resolve(self, q: ast.Query) -> TypedQuery | None:
        root = self.catalog.lookup(q.table.name)
        if root is None:
            self.report("NQL0201", q.table.span, _did_you_mean(q.table.name, self.catalog.names()), name=q.table.name)
            return None
        window_ms, resolution_ms = self.time_selection(q.time, q.table.span, required=root.is_event)
        frame = _Frame("events", root, None) if root.is_event else _Frame("objects", None, root)
        events_table: Table | None = root if root.is_event else None
        join: str | None = None
        if not root.is_event and q.time is not None and not any(isinstance(c, ast.Join) for c in q.clauses):
            # NQL: `devices during past 7d` is `devices | with device_performance.events during past 7d`
            events_table, join = self.catalog.tables[IMPLICIT_DEVICE_EVENTS], "with"
            frame = _Frame("joined", events_table, root)
        object_filters: list[ast.Expr] = []
        event_filters: list[ast.Expr] = []
        result_filters: list[ast.Expr] = []
        computed: list[Output] = []
        outputs: list[Output] = []
        keys: list[GroupKey] = []
        period_ms: int | None = None
        previous = None
        for clause in q.clauses:
            kw = ast.clause_keyword(clause)
            if isinstance(clause, ast.Where):
                self.condition(clause.condition, frame, "a `where` clause")
                {"events": event_filters, "joined": event_filters, "objects": object_filters}.get(
                    frame.kind, result_filters).append(clause.condition)
            elif isinstance(clause, ast.Join):
                if frame.kind != "objects" or root.is_event:
                    what = root.name if root.is_event else f"`{previous}`"
                    self.report("NQL0306", clause.span, "start from devices: `devices | with session.vdi_events …`", clause=kw, name=what)
                    return None
                t = self.catalog.lookup(clause.table.name)
                if t is None:
                    self.report("NQL0201", clause.table.span, _did_you_mean(clause.table.name, self.catalog.names()), name=clause.table.name)
                    return None
                if not t.is_event:
                    self.report("NQL0202", clause.table.span, name=t.name, clause=kw)
                    return None
                if join is not None:
                    self.report("NQL0309", clause.span, "one event table per monitor", clause=kw, previous=join)
                    return None
                w, r = self.time_selection(clause.time, clause.table.span, required=q.time is None)
                if q.time is not None and clause.time is not None:
                    self.report("NQL0309", clause.time.span, "give the window once, on the `with`", clause="a second time selection", previous=q.table.name)
                if q.time is None:
                    window_ms, resolution_ms = w, r
                events_table, join = t, clause.kind
                frame = _Frame("joined", t, root)
            elif isinstance(clause, ast.Compute):
                if frame.kind != "joined":
                    self.report("NQL0302", clause.span, "e.g. `devices | with session.vdi_events during past 5min | compute …`")
                    return None
                computed = self.assigns(clause.assigns, frame, "compute", frozenset())
                frame = _Frame("computed", None, root, {o.name.lower(): o for o in computed})
            elif isinstance(clause, ast.Summarize):
                if frame.kind == "summarized":
                    self.report("NQL0310", clause.span)
                    return None
                if frame.kind == "joined":
                    self.report("NQL0309", clause.span, "aggregate per device with `compute`, then `summarize`", clause="summarize", previous=join)
                    return None
                keys, period_ms = self.group_keys(clause.by, frame)
                outputs = self.assigns(clause.assigns, frame, "summarize", frozenset(k.name.lower() for k in keys))
                frame = _Frame("summarized", None, None, outputs={**{o.name.lower(): o.type for o in outputs},
                                                                 **{k.name.lower(): k.field.type for k in keys}})
            else:  # list, sort, limit: parsed, checked for names, ignored by the streaming plan
                self.report("NQL0501", clause.span, "alerts are emitted per group; ordering and limits do not apply", clause=kw)
            previous = kw
        if frame.kind not in ("computed", "summarized"):
            self.report("NQL0301", q.span if not q.clauses else q.clauses[-1].span,
                        "e.g. `| summarize avg_latency = network_latency.avg() by device.virtualization.desktop_pool`")
            return None
        if not outputs:  # per-device monitor: one alert per device
            outputs = computed
            ident = root.identity or "collector.uid"
            keys = [GroupKey(f"device.{ident}", ResolvedField(ident, root.fields[ident], "object"), q.table.span)]
        if self.diagnostics and any(d.is_error for d in self.diagnostics):
            return None
        return TypedQuery(q, self.source, root, events_table, join, window_ms, resolution_ms, tuple(object_filters), tuple(event_filters),
                          tuple(computed), tuple(outputs), tuple(keys), period_ms, tuple(result_filters),
                          self.fields, self.enums, self.types)

    def time_selection(self, ts: ast.TimeSelection | None, anchor: Span, required: bool) -> tuple[int, int | None]:
        if ts is None:
            if required:
                self.report("NQL0308", anchor, "e.g. `session.vdi_events during past 5min`")
            return 0, None
        resolution = ts.resolution.value if ts.resolution is not None else None
        if ts.resolution is not None:  # NQL's data-resolution suffix: a stream has one resolution, every record
            self.report("NQL0312", ts.resolution.span, "remove it; `every:` sets how often the monitor is evaluated",
                        text=ts.resolution.text)
        w = ts.window
        if isinstance(w, ast.FromTo):
            self.report("NQL0307", w.span, "use `during past <duration>`", form="from … to")
            return 0, resolution
        if isinstance(w, ast.On):
            self.report("NQL0307", w.span, "use `during past <duration>`", form="on")
            return 0, resolution
        ms = w.duration.value
        if ms <= 0:
            self.report("NQL0311", w.duration.span, text=w.duration.text, reason="it must be longer than zero")
        elif ms % 1000:
            self.report("NQL0311", w.duration.span, text=w.duration.text, reason="it must be a whole number of seconds")
        elif ms > MAX_WINDOW_MS:
            self.report("NQL0311", w.duration.span, text=w.duration.text, reason="it must be at most 7d")
        return ms, resolution

    # -- compute / summarize ------------------------------------------------------------------------
    def assigns(self, assigns: tuple[ast.Assign, ...], frame: _Frame, clause: str, keys: frozenset[str]) -> list[Output]:
        out: list[Output] = []
        seen: set[str] = set(keys)
        for a in assigns:
            if a.name.lower() in seen:
                self.report("NQL0212", a.name_span, name=a.name)
            seen.add(a.name.lower())
            t = self.expr(a.expr, frame, _Ctx(aggregates=True, clause=clause, keys=keys))
            out.append(Output(a.name, t, a.expr, a.span))
        return out

    def group_keys(self, by: tuple[ast.Field | ast.Period, ...], frame: _Frame) -> tuple[list[GroupKey], int | None]:
        keys: list[GroupKey] = []
        period: int | None = None
        for k in by:
            if isinstance(k, ast.Period):
                if period is not None:
                    self.report("NQL0304", k.span)
                    continue
                period = k.duration.value
                self.check_period(k)
                continue
            rf = self.lookup(k, frame)
            if rf is None:
                continue
            if rf.type.name not in T.GROUPABLE:
                self.report("NQL0303", k.span, "group by a name, a type or a category; compare numbers in `where`",
                            name=k.name, type=rf.type.name)
                continue
            if rf.path == "device.name" or (rf.origin == "object" and rf.path == "name"):
                self.report("NQL0502", k.span, "use `by device.collector.uid` (device.name can repeat)")
            name = rf.path if rf.origin in ("event", "inventory") else k.name
            keys.append(GroupKey(name, rf, k.span))
        return keys, period

    def check_period(self, k: ast.Period) -> None:
        ms = k.duration.value
        if ms <= 0 or ms % 1000:
            self.report("NQL0305", k.span, text=k.duration.text, reason="it must be a whole number of seconds above zero")
        elif ms > MAX_WINDOW_MS:
            self.report("NQL0305", k.span, text=k.duration.text, reason="it must be at most 7d")
        elif ms < FIFTEEN_MIN:
            self.extension(f"a period under 15 min (`by {k.duration.text}`)", k.span)
        elif ms % FIFTEEN_MIN:
            self.report("NQL0305", k.span, "use 15min, 30min, 45min, 1h, …", text=k.duration.text,
                        reason="minutes must be a multiple of 15")

    # -- names --------------------------------------------------------------------------------------------
    def lookup(self, f: ast.Field, frame: _Frame, report: bool = True) -> ResolvedField | None:
        rf = _lookup(f.name.lower(), frame, self.catalog)
        if rf is not None:
            self.fields[f] = rf
            self.types[f] = rf.type
            return rf
        if report:
            if frame.kind == "summarized":
                self.report("NQL0213", f.span, _did_you_mean(f.name, list(frame.outputs)), name=f.name)
            else:
                where = frame.events.name if frame.kind in ("events", "joined") and frame.events else frame.objects.name
                hint = _call_meant(f) or _did_you_mean(f.name, _candidates(frame, self.catalog))
                self.report("NQL0203", f.span, hint, name=f.name, table=where)
        return None

    # -- expressions ----------------------------------------------------------------------------------------
    def condition(self, e: ast.Expr, frame: _Frame, what: str, ctx: _Ctx | None = None) -> T.Type:
        t = self.expr(e, frame, ctx or _Ctx())
        if t not in (T.BOOL, T.UNKNOWN):
            self.report("NQL0214", e.span, what=what, type=t.name)
        return t

    def expr(self, e: ast.Expr, frame: _Frame, ctx: _Ctx) -> T.Type:
        t = self._expr(e, frame, ctx)
        self.types[e] = t
        return t

    def _expr(self, e: ast.Expr, frame: _Frame, ctx: _Ctx) -> T.Type:
        if isinstance(e, ast.Literal):
            return _literal_type(e)
        if isinstance(e, ast.Field):
            rf = self.lookup(e, frame)
            if rf is None:
                return T.UNKNOWN
            if ctx.aggregates and not ctx.inside_aggregate and e.name.lower() not in ctx.keys and rf.origin not in ("computed", "output"):
                self.report("NQL0215", e.span, f"e.g. {e.name}.avg() or {e.name}.max()", name=e.name, clause=ctx.clause)
            return rf.type
        if isinstance(e, ast.Logical):
            for side in (e.left, e.right):
                self.condition(side, frame, f"each side of `{e.op}`", ctx)
            return T.BOOL
        if isinstance(e, ast.Compare):
            return self.compare(e, frame, ctx)
        if isinstance(e, ast.Binary):
            lt, rt = self.expr(e.left, frame, ctx), self.expr(e.right, frame, ctx)
            if T.UNKNOWN in (lt, rt):
                return T.UNKNOWN
            res = T.arithmetic(e.op, lt, rt)
            if res is None:
                self.report("NQL0210", e.op_span, op=e.op, left=lt.name, right=rt.name)
                return T.UNKNOWN
            return res
        if isinstance(e, ast.Unary):
            t = self.expr(e.operand, frame, ctx)
            if t.name not in T.NUMERIC | T.UNIT_FAMILIES and t != T.UNKNOWN:
                self.report("NQL0210", e.span, op="-", left="nothing", right=t.name)
                return T.UNKNOWN
            return t
        if isinstance(e, ast.Call):
            return self.call(e, frame, ctx)
        if isinstance(e, ast.ListLit):
            self.report("NQL0104", e.span, "lists follow `in` or `!in`", expected="a value", found="a list")
            return T.UNKNOWN
        if isinstance(e, ast.NamedArg):
            self.report("NQL0104", e.span, expected="a value", found="a named argument")
            return T.UNKNOWN
        raise AssertionError(f"unhandled node {type(e).__name__}")

    def call(self, e: ast.Call, frame: _Frame, ctx: _Ctx) -> T.Type:
        if e.name in fn.UNSUPPORTED:
            self.report("NQL0216", e.name_span, func=e.name, reason=fn.UNSUPPORTED[e.name])
            return T.UNKNOWN
        agg = fn.AGGREGATES.get(e.name)
        if agg is None:
            names = list(fn.AGGREGATES) + list(fn.UNSUPPORTED)
            self.report("NQL0207", e.name_span, _did_you_mean(e.name, names) or "aggregates: " + ", ".join(fn.AGGREGATES), name=e.name)
            return T.UNKNOWN
        if not ctx.aggregates:
            self.report("NQL0211", e.name_span, func=e.name)
            return T.UNKNOWN
        if ctx.inside_aggregate:
            self.report("NQL0211", e.name_span, "aggregates do not nest", func=e.name)
            return T.UNKNOWN
        inner = _Ctx(aggregates=False, inside_aggregate=True, clause=ctx.clause, keys=ctx.keys)
        operand = self.receiver(e, agg, frame, inner)
        want = 1 if agg.condition_arg else 0
        if len(e.args) != want:
            self.report("NQL0209", e.span, func=e.name, expected="one condition" if want else "no arguments")
        elif want:
            self.condition(e.args[0], frame, f"the argument of {e.name}()", inner)
        if operand is T.UNKNOWN:
            return T.UNKNOWN
        if operand is not None and not fn.accepts(agg, operand):
            self.report("NQL0208", e.name_span, func=e.name, type=operand.name)
            return T.UNKNOWN
        return fn.result_type(agg, operand)

    def receiver(self, e: ast.Call, agg: fn.Aggregate, frame: _Frame, ctx: _Ctx) -> T.Type | None:
        """Type of the aggregated value; None for counts of rows or objects."""
        r = e.receiver
        if r is None:
            if agg.receiver == "value":
                self.report("NQL0209", e.name_span, f"write it as <field>.{e.name}()", func=e.name, expected="a field before the dot")
                return T.UNKNOWN
            return None
        if agg.receiver == "object" and isinstance(r, ast.Field) and r.name.lower() in fn.COUNTABLE_OBJECTS:
            if frame.kind not in ("events", "joined"):  # counting devices among computed objects
                return None
            ident = ast.Field(tuple(fn.COUNTABLE_OBJECTS[r.name.lower()].split(".")), r.span)
            rf = _lookup(ident.name, frame, self.catalog)
            if rf is None:
                self.report("NQL0203", r.span, name=r.name, table=frame.events.name if frame.events else "the query")
                return T.UNKNOWN
            self.fields[r] = rf
            return None
        if not isinstance(r, ast.Field):
            self.report("NQL0209", r.span, "aggregate a field, e.g. network_latency.avg()", func=e.name, expected="a field before the dot")
            return T.UNKNOWN
        rf = self.lookup(r, frame)
        if rf is None:
            return T.UNKNOWN
        self.types[r] = rf.type
        return rf.type

    def compare(self, e: ast.Compare, frame: _Frame, ctx: _Ctx) -> T.Type:
        null = next((s for s in (e.left, e.right) if isinstance(s, ast.Literal) and s.kind == "null"), None)
        if null is not None and e.op in ORDERING:
            self.report("NQL0218", e.op_span, "test for a missing value with == null or != null", op=e.op)
            return T.UNKNOWN
        lt = self.expr(e.left, frame, ctx)
        if lt == T.UNKNOWN:
            return T.UNKNOWN
        fam = T.family(lt)
        if e.op in ("contains", "!contains"):
            self.report("NQL0205", e.op_span, 'match text with wildcards: == "*part*"', op=e.op, type=lt.name)
            return T.UNKNOWN
        if fam not in T.OPERATORS or e.op not in T.OPERATORS[fam]:
            self.report("NQL0205", e.op_span, op=e.op, type=lt.name)
            return T.UNKNOWN
        if e.op in ("in", "!in"):
            if not isinstance(e.right, ast.ListLit):
                self.report("NQL0104", e.right.span, "e.g. protocol in [ica, rdp]", expected="a list [a, b, …]", found="a single value")
                return T.UNKNOWN
            for item in e.right.items:
                self.operand(item, lt, frame, ctx, e.left)
            self.types[e.right] = T.LIST
            return T.BOOL
        if isinstance(e.right, ast.ListLit):
            self.report("NQL0104", e.right.span, "use `in` to compare with a list", expected="a single value", found="a list")
            return T.UNKNOWN
        self.operand(e.right, lt, frame, ctx, e.left)
        return T.BOOL

    def operand(self, r: ast.Expr, lt: T.Type, frame: _Frame, ctx: _Ctx, left: ast.Expr) -> None:
        """Check the right side of a comparison against the left side's type."""
        if lt.name == "enum" and isinstance(r, (ast.Field, ast.Literal)) and self.enum_value(r, lt, frame, left):
            return
        rt = self.expr(r, frame, ctx)
        if rt in (T.UNKNOWN, T.NULL) or lt == T.UNKNOWN:
            return
        if isinstance(r, ast.Literal) and r.kind == "string" and ("*" in r.value or "?" in r.value) and lt.name != "string":
            self.report("NQL0217", r.span, type=lt.name)
            return
        if T.family(lt) != T.family(rt):
            hint = T.UNIT_HINTS.get(lt.name) if T.family(rt) == "number" and isinstance(r, ast.Literal) else None
            self.report("NQL0204", r.span, hint, left=lt.name, right=rt.name)

    def enum_value(self, r: ast.Field | ast.Literal, lt: T.Type, frame: _Frame, left: ast.Expr) -> bool:
        """A bare word (or string) compared with an enum: is it one of the values?"""
        if isinstance(r, ast.Literal):
            if r.kind != "string" or "*" in r.value or "?" in r.value:
                return False
            value = r.value
        else:
            if len(r.path) != 1 or _lookup(r.name.lower(), frame, self.catalog) is not None:
                return False
            value = r.name
        match = next((v for v in lt.values if v.lower() == value.lower()), None)
        if match is None:
            self.report("NQL0206", r.span, _did_you_mean(value, list(lt.values)), value=value,
                        field=left.name if isinstance(left, ast.Field) else "the value",
                        values=", ".join(lt.values))
        elif isinstance(r, ast.Field):
            self.enums[r] = match
        self.types[r] = lt
        return True


# ---------------------------------------------------------------------------- helpers


def _literal_type(e: ast.Literal) -> T.Type:
    return {"string": T.STRING, "int": T.INT, "float": T.FLOAT, "bool": T.BOOL, "null": T.NULL, "duration": T.DURATION,
            "byte": T.BYTE, "ip": T.IP, "version": T.VERSION, "datetime": T.DATETIME}[e.kind]


def _lookup(path: str, frame: _Frame, catalog: Catalog) -> ResolvedField | None:
    if frame.kind == "summarized":
        t = frame.outputs.get(path)
        return ResolvedField(path, t, "output") if t is not None else None
    if frame.kind == "computed":
        o = frame.computed.get(path)
        if o is not None:
            return ResolvedField(o.name, o.type, "computed")
    if frame.events is not None:
        t = frame.events.fields.get(path)
        if t is not None:
            return ResolvedField(path, t, "event")
        prefix, _, rest = path.partition(".")
        linked = frame.events.links.get(prefix)
        if linked is not None and frame.objects is None:
            inv = catalog.tables[linked]
            if rest in inv.fields:
                return ResolvedField(path, inv.fields[rest], "inventory")
    if frame.objects is not None:
        obj = frame.objects
        t = obj.fields.get(path)
        if t is not None:
            return ResolvedField(path, t, "object")
        prefix, _, rest = path.partition(".")
        if prefix == obj.name.split(".")[0] and rest in obj.fields:  # device.name on devices
            return ResolvedField(rest, obj.fields[rest], "object")
    return None


def _candidates(frame: _Frame, catalog: Catalog) -> list[str]:
    names: list[str] = list(frame.computed)
    if frame.events is not None:
        names += list(frame.events.fields)
        if frame.objects is None:
            for prefix, linked in frame.events.links.items():
                names += [f"{prefix}.{f}" for f in catalog.tables[linked].fields]
    if frame.objects is not None:
        names += list(frame.objects.fields)
    return names


def _call_meant(f: ast.Field) -> str | None:
    """`count` or `network_latency.avg` written without parentheses: the call was meant."""
    if f.path[-1].lower() in fn.AGGREGATES:
        return f"did you mean '{f.name}()'?"
    return None


def _did_you_mean(name: str, candidates: list[str]) -> str | None:
    low = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(low), n=1, cutoff=0.6)
    if not close:  # try the last segment: `lag` for `network_latency`
        tail = {c.rsplit(".", 1)[-1]: c for c in low}
        close = [tail[m] for m in difflib.get_close_matches(name.lower().rsplit(".", 1)[-1], list(tail), n=1, cutoff=0.75)]
    return f"did you mean '{low[close[0]]}'?" if close else None


def _as_error(d: Diagnostic) -> Diagnostic:
    from dataclasses import replace

    from nql_flink.translator.diagnostics.catalog import Severity

    return replace(d, severity=Severity.ERROR)


def resolve_query(q: ast.Query, catalog: Catalog, source: Source, strict: bool = False) -> tuple[TypedQuery | None, list[Diagnostic]]:
    r = Resolver(catalog, source, strict)
    typed = r.resolve(q)
    return typed, r.diagnostics


def resolve_condition(e: ast.Expr, typed: TypedQuery, source: Source, what: str) -> tuple[dict, list[Diagnostic]]:
    """Type a monitor condition against the query's output columns.

    Returns the types of its sub-expressions (for later stages) and the diagnostics."""
    r = Resolver(None, source)  # type: ignore[arg-type]
    frame = _Frame("summarized", None, None, outputs={n.lower(): (typed.column(n).type if isinstance(typed.column(n), Output)
                                                                  else typed.column(n).field.type) for n in typed.column_names()})
    _reject_aggregates(e, r)
    if not r.diagnostics:
        r.condition(e, frame, what)
    return {"types": r.types, "fields": r.fields, "enums": r.enums}, r.diagnostics


def _reject_aggregates(e: ast.Expr, r: Resolver) -> None:
    if isinstance(e, ast.Call):
        r.report("NQL0410", e.name_span, "name it in the query's `summarize`, then compare the name", func=e.name)
        return
    for child in _children(e):
        _reject_aggregates(child, r)


def _children(e: ast.Expr):
    if isinstance(e, (ast.Logical, ast.Compare, ast.Binary)):
        return (e.left, e.right)
    if isinstance(e, ast.Unary):
        return (e.operand,)
    if isinstance(e, ast.ListLit):
        return e.items
    if isinstance(e, ast.NamedArg):
        return (e.value,)
    return ()
