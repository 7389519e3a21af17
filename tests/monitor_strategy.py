"""A hypothesis strategy for whole monitor files, built from the NQL grammar
(docs/nql-dialect.md, translator/syntax/parser.py CLAUSE_PARSERS) and the catalog
(translator/catalog/tables.yaml): mostly valid monitors, so that what they exercise is
compile and Flink's planner, not only the front end's rejections.

`monitor_files()` draws the text of one file holding one to three monitors (a `monitors:`
list), each an event-rooted query (`<events> during past W | where … | summarize … by …`) or
a per-device one (`devices | where … | with|include <events> during past W | compute …`,
optionally followed by a `summarize` over the devices), with result filters, trigger and
recover conditions over the output columns, `for`, `every`, and now and then a seasonal or
change `detection`. Literals match their field's type (strings with wildcards and escapes,
enum words, numbers, durations, bytes, IPs and subnets, versions, null tests; the catalog has
no boolean field, so booleans appear as `(comparison) == true`), with a bound now and then
(`rarely`). Constructs that check accepts and compile refuses outside issue 13's list are
left out where they would be drawn, each with a comment naming the failure.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

from nql_flink.translator.semantic.schema import Table, load_catalog
from nql_flink.translator.semantic.types import FLOAT, INT, Type, family

CATALOG = load_catalog()
EVENT_TABLES = sorted(n for n, t in CATALOG.tables.items() if t.is_event)
DEVICES = CATALOG.tables["device.devices"]

# Windows and slides in seconds: every `every` below divides every window it is drawn with.
WINDOWS = {"1min": 60, "5min": 300, "10min": 600, "15min": 900, "30min": 1800, "1h": 3600, "2h": 7200, "1d": 86400,
           "7d": 604800}  # 7d is the longest window
TOO_LONG_WINDOW = "8d"  # must be rejected by check
EVERY = {"30s": 30, "1min": 60, "5min": 300, "15min": 900}
PERIODS = ["15min", "30min", "1h", "15 min"]
# 12h and 100d are outside what the detections support: `check` refuses them (NQL0601, from
# the lowering stage it runs), so they exercise the refusal side of the property.
HISTORIES = ["12h", "1d", "7d", "28d", "98d", "100d"]
SUMMABLE = {"int", "float", "ratio", "bitrate", "duration", "byte"}
ORDERABLE = SUMMABLE | {"version"}
GROUPABLE = {"string", "enum", "bool", "ip", "version"}


# ----------------------------------------------------------------------------- literals


def rarely(common: st.SearchStrategy[str], edge: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly `common`; one draw in twenty from `edge` (bounds, some of which check rejects)."""
    return st.integers(0, 19).flatmap(lambda i: edge if i == 19 else common)


def _number(t: str) -> st.SearchStrategy[str]:
    if t == "int":  # the edges: BIGINT's largest and smallest, and one past (check must reject that one)
        return rarely(st.integers(-5, 100_000).map(str),
                      st.sampled_from(["9223372036854775807", "-9223372036854775808", "9223372036854775808"]))
    if t == "ratio":
        return st.sampled_from(["0", "0.2", "0.5", "0.95", "1"])
    return rarely(st.one_of(st.integers(0, 10_000).map(str), st.sampled_from(["0.5", "12.25", "1e3", "2.5E-3"])),
                  st.sampled_from(["1.7976931348623157e308", "1e400"]))


LITERALS = {
    "string": st.sampled_from(['"Finance-Win11"', '"*teams*"', "'x?y'", '"it\'s"', "'a\\'b'", '"C:\\\\path"', '"*"',
                               '"50%_off"', '""', '"é€"']),
    "duration": rarely(st.sampled_from(["300ms", "5s", "2min", "1h", "1d", "0ms", "-5s"]),
                       st.sampled_from(["106751991d", "99999999999d"])),
    "byte": st.sampled_from(["100B", "200KB", "3MB", "1GB", "2TB"]),
    "ip": rarely(st.sampled_from(["10.1.2.3", "10.20.0.0/16", "192.168.0.0/24", "10.0.0.0/8", "f164:b28c::/32", "::1"]),
                 st.sampled_from(["10.20.0.0/33", "300.1.2.3", "f164::/129"])),  # check must reject these
    "version": st.sampled_from(["v16.0.17000", "v1.2", "v1.2.5.9", "v12.212"]),
    "bool": st.sampled_from(["true", "false"]),
}


def literal(t: Type) -> st.SearchStrategy[str]:
    """A literal of the same kind as a value of type t (enum values are bare words or quoted)."""
    if t.name == "enum":
        return st.sampled_from(list(t.values)).flatmap(lambda v: st.sampled_from([v, v.upper(), f'"{v}"']))
    if t.name in ("int", "float", "ratio", "bitrate"):
        return _number(t.name)
    return LITERALS[t.name]


# ----------------------------------------------------------------------------- conditions


@st.composite
def comparison(draw, fields: dict[str, Type]) -> str:
    """`<field> <op> <literal>`, with an operator the field's type accepts."""
    # Not drawn: a datetime field against a datetime literal (`start_time > 2026-11-26`):
    # `check` refuses it (NQL0601 "a datetime literal", datetimes select time ranges only),
    # so it would only exercise the refusal. Datetime values are still tested for null.
    comparable = sorted(n for n, t in fields.items() if t.name != "datetime")
    name = draw(st.sampled_from(comparable or sorted(fields)))
    t = fields[name]
    kind = t.name
    if kind == "datetime" or draw(st.integers(0, 9)) == 0:
        return f"{name} {draw(st.sampled_from(['==', '!=']))} {draw(st.sampled_from(['null', 'NULL']))}"
    ops = ["==", "!=", "in", "!in"]
    if kind in ORDERABLE:
        ops += ["<", ">", "<=", ">="]
    if kind == "bool":
        ops = ["==", "!="]
    op = draw(st.sampled_from(ops))
    if kind in SUMMABLE and op not in ("in", "!in") and draw(st.integers(0, 5)) == 0:
        name = draw(arithmetic(name, fields))
    if op in ("in", "!in"):
        items = draw(st.lists(literal(t), min_size=1, max_size=3))
        if draw(st.booleans()) and kind != "enum":
            items.append("null")
        return f"{name} {op} [{', '.join(items)}]"
    return f"{name} {op} {draw(literal(t))}"


@st.composite
def arithmetic(draw, name: str, fields: dict[str, Type]) -> str:
    """`name` in an expression of the same kind: plus a field of its kind, or scaled."""
    same = sorted(n for n, t in fields.items() if family(t) == family(fields[name]))
    if draw(st.booleans()):
        return f"{name} {draw(st.sampled_from(['+', '-']))} {draw(st.sampled_from(same))}"
    return f"{name} {draw(st.sampled_from(['*', '/']))} {draw(st.sampled_from(['2', '0.5']))}"


@st.composite
def condition(draw, fields: dict[str, Type], depth: int = 0) -> str:
    if depth >= 2 or draw(st.integers(0, 2)) > 0:
        if draw(st.integers(0, 11)) == 11:  # a comparison is a boolean value: `(x > 1) == true`
            return f"({draw(comparison(fields))}) {draw(st.sampled_from(['==', '!=']))} {draw(LITERALS['bool'])}"
        return draw(comparison(fields))
    left = draw(condition(fields, depth + 1))
    right = draw(condition(fields, depth + 1))
    op = draw(st.sampled_from(["and", "or"]))
    text = f"{left} {op} {right}"
    return f"({text})" if draw(st.booleans()) else text


# ----------------------------------------------------------------------------- aggregates


def _of(fields: dict[str, Type], kinds: set[str]) -> list[str]:
    return sorted(n for n, t in fields.items() if t.name in kinds)


@st.composite
def aggregate(draw, fields: dict[str, Type], objects: bool) -> tuple[str, Type]:
    """One aggregate call over `fields` and the type of its result. `objects`: device.count()
    and user.count() are available (event frames)."""
    summable, orderable = _of(fields, SUMMABLE), _of(fields, ORDERABLE | {"datetime"})
    choices = ["count", "countif", "last"]
    if summable:
        choices += ["sum", "sumif", "avg", "p95", "p05"]
    if orderable:
        choices += ["min", "max"]
    if objects:
        choices += ["device.count", "device.countif", "user.count", "field.count"]
    kind = draw(st.sampled_from(choices))
    if kind == "count":
        return "count()", INT
    if kind == "countif":
        return f"countif({draw(condition(fields))})", INT
    if kind in ("device.count", "user.count"):
        if kind == "user.count" and "user.name" not in fields:
            return "device.count()", INT
        return f"{kind}()", INT
    if kind == "device.countif":
        return f"device.countif({draw(condition(fields))})", INT
    if kind == "field.count":
        return f"{draw(st.sampled_from(sorted(fields)))}.count()", INT
    if kind == "last":
        name = draw(st.sampled_from(sorted(fields)))
        return f"{name}.last()", fields[name]
    pool = orderable if kind in ("min", "max") else summable
    name = draw(st.sampled_from(pool))
    t = fields[name]
    if kind == "sumif":
        return f"{name}.sumif({draw(condition(fields))})", t
    if kind in ("avg", "p95", "p05") and t.name == "int":
        return f"{name}.{kind}()", FLOAT
    return f"{name}.{kind}()", t


@st.composite
def assigns(draw, fields: dict[str, Type], objects: bool, taken: set[str]) -> list[tuple[str, str, Type]]:
    """`name = aggregate` (sometimes a ratio of two counts), one to three of them."""
    out = []
    for i in range(draw(st.integers(1, 3))):
        name = f"out_{len(taken) + i}"
        expr, t = draw(aggregate(fields, objects))
        if t.name in ("int", "float") and draw(st.integers(0, 4)) == 0:
            expr, t = f"{expr} / count()", FLOAT
        out.append((name, expr, t))
    taken.update(n for n, _, _ in out)
    return out


# ----------------------------------------------------------------------------- the query


def event_fields(t: Table) -> dict[str, Type]:
    """What an event frame sees: the table's fields and `device.<inventory field>`."""
    fields = {n: ty for n, ty in t.fields.items() if n != t.time_field}
    for prefix, linked in t.links.items():
        fields |= {f"{prefix}.{n}": ty for n, ty in CATALOG.tables[linked].fields.items()
                   if f"{prefix}.{n}" not in fields and n != CATALOG.tables[linked].time_field}
    return fields


def object_fields() -> dict[str, Type]:
    return {n: t for n, t in DEVICES.fields.items() if n != DEVICES.time_field}


def _keys(draw, fields: dict[str, Type]) -> list[tuple[str, Type]]:
    groupable = _of(fields, GROUPABLE)
    keys = draw(st.lists(st.sampled_from(groupable), max_size=2, unique=True)) if groupable else []
    return [(k, fields[k]) for k in keys]


@st.composite
def query(draw) -> tuple[str, dict[str, Type], int]:
    """NQL text, the result columns with their types, and the window in seconds."""
    window = draw(rarely(st.sampled_from(sorted(WINDOWS, key=WINDOWS.get)), st.just(TOO_LONG_WINDOW)))
    lines: list[str] = []
    taken: set[str] = set()
    if draw(st.integers(0, 2)) > 0:  # event-rooted
        table = CATALOG.tables[draw(st.sampled_from(EVENT_TABLES))]
        fields = event_fields(table)
        lines.append(f"{table.name} during past {window}")
        for _ in range(draw(st.integers(0, 2))):
            lines.append(f"| where {draw(condition(fields))}")
        outs = draw(assigns(fields, True, taken))
        keys = _keys(draw, fields)
        by = [k for k, _ in keys]
        if draw(st.integers(0, 5)) == 0:
            by.insert(draw(st.integers(0, len(by))), draw(st.sampled_from(PERIODS)))
    else:  # per device, optionally aggregated over devices
        objs = object_fields()
        lines.append("devices")
        if draw(st.booleans()):
            lines.append(f"| where {draw(condition(objs))}")
        if draw(st.integers(0, 4)) == 4:  # `devices during past W` means `devices | with device_performance.events …`
            table = CATALOG.tables["device_performance.events"]
            lines[0] += f" during past {window}"
        else:
            table = CATALOG.tables[draw(st.sampled_from(EVENT_TABLES))]
            join = draw(st.sampled_from(["with", "include"]))
            lines.append(f"| {join} {table.name} during past {window}")
        joined = {n: t for n, t in table.fields.items() if n != table.time_field and not n.startswith("device.")} | objs
        if draw(st.booleans()):
            lines.append(f"| where {draw(condition(joined))}")
        outs = draw(assigns(joined, False, taken))
        lines.append("| compute " + ", ".join(f"{n} = {e}" for n, e, _ in outs))
        keys, by = [], []
        if draw(st.integers(0, 3)) == 0:  # summarize after compute: aggregate devices
            computed = {n: t for n, _, t in outs}
            if draw(st.booleans()):
                lines.append(f"| where {draw(condition(computed))}")
            over = computed | objs
            outs = draw(assigns(over, False, taken))
            keys = _keys(draw, objs)
            by = [k for k, _ in keys]
        else:
            outs = [(n, "", t) for n, _, t in outs]
            keys = [("device.collector.uid", DEVICES.fields["collector.uid"])]
    columns = {n: t for n, _, t in outs} | {k: t for k, t in keys}  # a key's column is named as written
    if any(e for _, e, _ in outs):
        summarize = "| summarize " + ",\n    ".join(f"{n} = {e}" for n, e, _ in outs)
        if by:
            summarize += "\n  by " + ", ".join(by)
        lines.append(summarize)
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"| where {draw(condition({n: t for n, _, t in outs}))}")
    return "\n".join(lines), columns, WINDOWS.get(window, 86400)


# ----------------------------------------------------------------------------- the monitor


@st.composite
def monitor(draw, ident: str) -> str:
    """One monitor as YAML lines (a `monitors:` list item, indented by two)."""
    text, columns, window_s = draw(query())
    every = draw(st.sampled_from([e for e, s in EVERY.items() if window_s % s == 0]))
    every_s = EVERY[every]
    lines = [f"id: {ident}", "tenant: acme", f"priority: {draw(st.sampled_from(['critical', 'high', 'medium', 'low']))}",
             "query: |", *("  " + line for line in text.splitlines()), f"every: {every}"]
    outputs = {n: t for n, t in columns.items()}
    metrics = sorted(n for n, t in outputs.items() if t.name in SUMMABLE)
    if metrics and draw(st.integers(0, 5)) == 0:
        lines += draw(detection(metrics))
        if draw(st.booleans()):
            return "\n".join(lines)
    lines += ["trigger:", f"  when: {json.dumps(draw(condition(outputs)))}"]
    if draw(st.booleans()):
        lines.append(f"  for: {every_s * draw(st.integers(0, 4))}s")
    if draw(st.booleans()):
        lines += ["recover:", f"  when: {json.dumps(draw(condition(outputs)))}"]
        if draw(st.booleans()):
            lines.append(f"  for: {every_s * draw(st.integers(1, 3))}s")
    return "\n".join(lines)


@st.composite
def detection(draw, metrics: list[str]) -> list[str]:
    """`detection: seasonal | change` on a numeric output column."""
    kind = draw(st.sampled_from(["seasonal", "change"]))
    lines = ["detection:", f"  type: {kind}", f"  metric: {draw(st.sampled_from(metrics))}",
             f"  direction: {draw(st.sampled_from(['above', 'below', 'both']))}",
             f"  history: {draw(st.sampled_from(HISTORIES))}"]
    if kind == "seasonal":
        lines += [f"  deviations: {draw(st.sampled_from(['2', '3', '2.5']))}",
                  f"  slot: {draw(st.sampled_from(['15min', '1h']))}"]
    else:
        lines.append(f"  change: {draw(st.sampled_from(['50%', '100%', '12.5%']))}")
    return lines


@st.composite
def monitor_files(draw) -> str:
    """The text of one monitor file: a tenant and one to three monitors."""
    n = draw(st.integers(1, 3))
    items = [draw(monitor(f"m{i}")) for i in range(n)]
    body = ["monitors:"]
    for item in items:
        first, *rest = item.splitlines()
        body += [f"  - {first}", *("    " + line for line in rest)]
    return "\n".join(body) + "\n"
