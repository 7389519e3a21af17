"""A monitor test file (docs/monitor-tests.md) -> `TestFile`: the monitor files it tests,
and its cases (input records per catalog table, expected alert transitions), read with the
monitor files' field reader so that every problem is a coded diagnostic at its line and
column. Plain Python: no engine here.

    monitors: [../monitors/vdi_latency_by_pool.yaml]    # relative to the test file
    tests:
      - name: latency above 300 ms for 5 min triggers, then recovers
        input:
          session.vdi_events:
            - {end_time: 2026-11-26T10:00:30Z, tenant: acme, network_latency: 500, ...}
            - series: {from: 2026-11-26T10:00:30Z, to: 2026-11-26T10:09:30Z, every: 30s}
              record: {tenant: acme, network_latency: 500, ...}
        expect:
          - {status: triggered, at: 2026-11-26T10:05:30Z, group: {...}, values: {avg_latency: 500}}
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.monitors import yaml_nodes as Y
from nql_flink.translator.monitors.spec import Fields
from nql_flink.translator.semantic.schema import Catalog
from nql_flink.translator.source import Source, Span

FILE_KEYS = ("monitors", "tests")
CASE_KEYS = ("name", "input", "expect", "order")
ORDERS = ("time", "written")
SERIES_KEYS = ("series", "record")
SERIES_RANGE_KEYS = ("from", "to", "every")
EXPECT_KEYS = ("status", "at", "tenant", "monitor", "group", "values", "priority", "impact")
STATUSES = ("triggered", "recovered")
MAX_SERIES_RECORDS = 100_000


@dataclass(frozen=True)
class Expected:
    """One expected transition: status and time always; the other fields only when given."""

    fields: dict
    line: int                                 # 1-based line of the item in the test file


@dataclass(frozen=True)
class Case:
    name: str
    line: int
    inputs: dict[str, list[dict]]             # catalog table -> records (JSON values)
    expect: list[Expected]


@dataclass
class TestFile:
    path: str
    monitors: list[str] = field(default_factory=list)   # monitor files, resolved against the test file
    cases: list[Case] = field(default_factory=list)


def time_text(value) -> str | None:
    """A time as the alert records write it (UTC, milliseconds, Z), from a YAML timestamp or an
    ISO-8601 text with a zone; None when it is neither."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)   # YAML timestamps with Z load naive UTC
        value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return None


def _plain(value):
    """A YAML-loaded value as JSON: timestamps as the records' time text, dates as ISO dates."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return time_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _value(node: yaml.Node):
    loader = yaml.SafeLoader("")
    try:
        return _plain(loader.construct_object(node, deep=True))
    finally:
        loader.dispose()


def read_test_file(path: str, catalog: Catalog) -> tuple[TestFile | None, list[Diagnostic]]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, [diag("NQL0009", Source.whole_file(path, ""), Span(0, 0), reason=exc.strerror or str(exc))]
    source, diags = Y.decode(path, data)
    if source is None:
        return None, diags
    root, diags = Y.compose(source)
    if root is None:
        return None, [d if d.code != "NQL0010" else diag("NQL0005", source, Span(0, 0), key="tests",
                                                        where="the monitor test file") for d in diags]
    if not isinstance(root, yaml.MappingNode):
        return None, [diag("NQL0006", source, Y.span_of(source, root), key="the monitor test file",
                           expected="a mapping", found=Y.describe(root))]
    out: list[Diagnostic] = []
    top = Fields(source, root, FILE_KEYS, "the monitor test file", out)
    result = TestFile(path)
    base = os.path.dirname(os.path.abspath(path))
    if "monitors" not in top.values:
        top.report("NQL0005", Y.span_of(source, root), key="monitors", where="the monitor test file")
    for name in top.strings("monitors"):
        resolved = os.path.normpath(os.path.join(base, name))
        if not os.path.exists(resolved):
            top.report("NQL0901", top.span("monitors"), path=name)
        else:
            result.monitors.append(resolved)
    tests = top.values.get("tests")
    if tests is None:
        top.report("NQL0005", Y.span_of(source, root), key="tests", where="the monitor test file")
    elif not isinstance(tests, yaml.SequenceNode):
        top.wrong("tests", "a list of test cases")
    else:
        for item in tests.value:
            case = _case(source, item, catalog, out)
            if case is not None:
                result.cases.append(case)
    out.sort(key=lambda d: d.location[1:])
    return (None if any(d.is_error for d in out) else result), out


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _case(source: Source, node: yaml.Node, catalog: Catalog, out: list[Diagnostic]) -> Case | None:
    if not isinstance(node, yaml.MappingNode):
        out.append(diag("NQL0006", source, Y.span_of(source, node), key="a test case", expected="a mapping",
                        found=Y.describe(node)))
        return None
    f = Fields(source, node, CASE_KEYS, "a test case", out)
    name = f.scalar("name", required=True) or "?"
    where = f"test '{name}'"
    # Records reach the job in event-time order (stable), as a topic written by devices in
    # time would carry them; `order: written` keeps the file's order, to test lateness.
    in_time = f.choice("order", ORDERS, "time") == "time"
    inputs: dict[str, list[dict]] = {}
    input_node = f.mapping("input")
    for key, value in input_node.value if input_node is not None else ():
        table = catalog.lookup(key.value) if isinstance(key, yaml.ScalarNode) else None
        if table is None:
            out.append(diag("NQL0902", source, Y.span_of(source, key), table=getattr(key, "value", "?"),
                            tables=", ".join(sorted(catalog.tables))))
            continue
        if not isinstance(value, yaml.SequenceNode):
            out.append(diag("NQL0006", source, Y.span_of(source, value), key=table.name, expected="a list of records",
                            found=Y.describe(value)))
            continue
        records = inputs.setdefault(table.name, [])
        for item in value.value:
            records.extend(_records(source, item, table.time_field, out))
        if in_time:
            records.sort(key=lambda r, t=table.time_field: _sort_time(r.get(t)))
    expect_node = f.values.get("expect")
    expect: list[Expected] = []
    if expect_node is None:
        f.report("NQL0005", Y.span_of(source, node), key="expect", where=where)
    elif not isinstance(expect_node, yaml.SequenceNode):
        f.wrong("expect", "a list of alert transitions (empty: no alert)")
    else:
        for item in expect_node.value:
            e = _expected(source, item, out)
            if e is not None:
                expect.append(e)
    return Case(name, _line(node), inputs, expect)


def _sort_time(value) -> str:
    """A record's time as a sort key: the same instant whatever its zone; a record without a
    readable time first (the job dead-letters it)."""
    return time_text(value) or "" if isinstance(value, str) else ""


def _records(source: Source, node: yaml.Node, time_field: str, out: list[Diagnostic]) -> list[dict]:
    if not isinstance(node, yaml.MappingNode):
        out.append(diag("NQL0006", source, Y.span_of(source, node), key="a record", expected="a mapping",
                        found=Y.describe(node)))
        return []
    keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    if "series" not in keys:
        return [_value(node)]
    f = Fields(source, node, SERIES_KEYS, "a series of records", out)
    record = f.mapping("record")
    rng = f.mapping("series")
    if record is None or rng is None:
        if record is None:
            f.report("NQL0005", Y.span_of(source, node), key="record", where="a series of records")
        return []
    r = Fields(source, rng, SERIES_RANGE_KEYS, "a series", out)
    every = r.duration("every", None)
    if "every" not in r.values:
        r.report("NQL0005", Y.span_of(source, rng), key="every", where="a series")
    elif every == 0:
        r.report("NQL0903", r.span("every"), problem="'every' must be above zero")
    if not every:
        return []
    times = []
    for key in ("from", "to"):
        node_ = r.values.get(key)
        text = time_text(_value(node_)) if node_ is not None else None
        if text is None:
            if node_ is None:
                r.report("NQL0005", Y.span_of(source, rng), key=key, where="a series")
            else:
                r.report("NQL0903", r.span(key), problem=f"'{Y.describe(node_)}' is not a time with a zone")
            return []
        times.append(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    start, end = times
    count = int((end - start).total_seconds() * 1000) // every + 1 if end >= start else 0
    if count > MAX_SERIES_RECORDS or count == 0:
        r.report("NQL0903", Y.span_of(source, rng),
                 problem=f"{count} records (from must not be after to; at most {MAX_SERIES_RECORDS})")
        return []
    base = _value(record)
    return [{**base, time_field: time_text(start + dt.timedelta(milliseconds=i * every))} for i in range(count)]


def _expected(source: Source, node: yaml.Node, out: list[Diagnostic]) -> Expected | None:
    if not isinstance(node, yaml.MappingNode):
        out.append(diag("NQL0006", source, Y.span_of(source, node), key="an expected transition", expected="a mapping",
                        found=Y.describe(node)))
        return None
    before = len(out)
    f = Fields(source, node, EXPECT_KEYS, "an expected transition", out)
    status = f.choice("status", STATUSES, "") if "status" in f.values else f.report(
        "NQL0005", Y.span_of(source, node), key="status", where="an expected transition")
    at_node = f.values.get("at")
    at = time_text(_value(at_node)) if at_node is not None else None
    if at_node is None:
        f.report("NQL0005", Y.span_of(source, node), key="at", where="an expected transition")
    elif at is None:
        f.report("NQL0903", f.span("at"), problem=f"'{Y.describe(at_node)}' is not a time with a zone")
    fields = {"status": status, "at": at}
    for key in ("tenant", "monitor", "priority"):
        if key in f.values:
            fields[key] = f.scalar(key)
    for key in ("group", "values", "impact"):
        if f.mapping(key) is not None:
            fields[key] = _value(f.values[key])
    return Expected(fields, _line(node)) if len(out) == before else None
