"""YAML node tree -> MonitorSpecs, field by field (spec/monitors.md). No NQL parsing here.

Every key is checked and every problem reported; a monitor with an error in one field
still has its other fields checked.
"""

from __future__ import annotations

import difflib
import math
import re

import yaml

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.ir.relational import Processing
from nql_flink.translator.monitors import yaml_nodes as Y
from nql_flink.translator.monitors.model import DETECTION_TYPES, DIRECTIONS, PRIORITIES, Detection, MonitorSpec, Snippet
from nql_flink.translator.source import Source, Span
from nql_flink.translator.syntax.durations import DURATION, parse_duration

ID_RE = re.compile(r"[a-z0-9_]{1,64}\Z")
TENANT_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}\Z")
PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)%\Z")
MAX_TAGS = 10
# A baseline's look-back, (least, most, as said): a seasonal one compares with previous days;
# the state keeps at most 98 days of slots
HISTORY_BOUNDS_MS = {"seasonal": (86_400_000, 98 * 86_400_000, "from 1d to 98d"),
                     "change": (0, 98 * 86_400_000, "of at most 98d")}
MAX_FIELD_DURATION_MS = 366 * 86_400_000  # `for`, `every`, `history`, `slot`: a year, well within a BIGINT of ms

MONITOR_KEYS = ("id", "tenant", "name", "priority", "tags", "enabled", "query", "every", "trigger", "recover",
                "notify", "detection", "flapping", "grouping", "evaluation")
EVALUATIONS = ("streaming", "polling")
CONDITION_KEYS = ("when", "for")
DETECTION_KEYS = ("type", "metric", "deviations", "direction", "history", "slot", "change")
DEFAULT_DETECTION = Detection()
FLAPPING_KEYS = ("changes", "within")
GROUPING_KEYS = ("interval", "repeat")
MAX_FLAP_CHANGES = 1000  # the changes a group's flapping state remembers


class Fields:
    """Reads one mapping node: typed getters that report, and unknown/duplicate key checks."""

    def __init__(self, file: Source, node: yaml.MappingNode, allowed: tuple[str, ...], where: str, out: list[Diagnostic]):
        self.file, self.node, self.where, self.out = file, node, where, out
        self.values: dict[str, yaml.Node] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else "?"
            if key in self.values:
                self.report("NQL0007", Y.span_of(file, k), key=key)
                continue
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                self.report("NQL0004", Y.span_of(file, k), f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed),
                            key=key, where=where)
                continue
            self.values[key] = v

    @property
    def key_spans(self) -> dict[str, Span]:
        """Spans of the values, computed only when a diagnostic or a later check needs them."""
        return {k: Y.span_of(self.file, v) for k, v in self.values.items()}

    def value_span(self, key: str) -> Span | None:
        node = self.values.get(key)
        return Y.span_of(self.file, node) if node is not None else None

    def report(self, code: str, span: Span, hint: str | None = None, **params) -> None:
        self.out.append(diag(code, self.file, span, hint, **params))

    def span(self, key: str) -> Span:
        return self.value_span(key) or Y.span_of(self.file, self.node)

    def wrong(self, key: str, expected: str) -> None:
        node = self.values[key]
        self.report("NQL0006", self.span(key), _quote_hint(node) if expected == "text" else None, key=key, expected=expected,
                    found=Y.describe(node))

    def scalar(self, key: str, required: bool = False, tags=(Y.STR,), expected: str = "text") -> str | None:
        node = self.values.get(key)
        if node is None:
            if required:
                self.report("NQL0005", Y.span_of(self.file, self.node), key=key, where=self.where)
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag not in tags:
            self.wrong(key, expected)
            return None
        return node.value

    def text_snippet(self, key: str, required: bool = False) -> Snippet | None:
        value = self.scalar(key, required)
        if value is None:
            return None
        return Snippet(value, Y.snippet(self.file, self.values[key]))

    def duration(self, key: str, default: int | None) -> int | None:
        node = self.values.get(key)
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and node.tag == Y.INT and node.value.strip() == "0":
            return 0
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (Y.STR, Y.INT, Y.FLOAT):
            self.wrong(key, "a duration")
            return default
        ms = parse_duration(node.value.strip())
        if ms is None:
            hint = ("add a unit: ms, s, min, h or d" if node.tag in (Y.INT, Y.FLOAT) else
                    "durations resolve to whole milliseconds" if DURATION.fullmatch(node.value.strip()) else None)
            self.report("NQL0403", self.span(key), hint, text=node.value)
            return default
        if ms > MAX_FIELD_DURATION_MS:
            self.report("NQL0408", self.span(key), key=key, expected="a duration of at most 366d", value=node.value)
            return default
        return ms

    def tags(self, key: str) -> tuple[str, ...]:
        """A list of distinct non-empty texts; each bad item is reported where it stands."""
        node = self.values.get(key)
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.wrong(key, "a list of names")
            return ()
        tags: list[str] = []
        for item in node.value:
            span = Y.span_of(self.file, item)
            if not isinstance(item, yaml.ScalarNode) or item.tag != Y.STR:
                self.report("NQL0416", span, _quote_hint(item), found=Y.describe(item))
            elif not item.value.strip():
                self.report("NQL0416", span, found="empty text")
            elif item.value in tags:
                self.report("NQL0415", span, value=item.value)
            else:
                tags.append(item.value)
        return tuple(tags)

    def strings(self, key: str) -> tuple[str, ...]:
        node = self.values.get(key)
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode) or not all(isinstance(i, yaml.ScalarNode) and i.tag == Y.STR for i in node.value):
            self.wrong(key, "a list of names")
            return ()
        return tuple(i.value for i in node.value)

    def mapping(self, key: str) -> yaml.MappingNode | None:
        node = self.values.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            self.wrong(key, "a mapping")
            return None
        return node

    def number(self, key: str, default: float, positive: bool = True) -> float:
        node = self.values.get(key)
        if node is None:
            return default
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (Y.INT, Y.FLOAT):
            self.report("NQL0408", self.span(key), key=key, expected="a number", value=getattr(node, "value", "?"))
            return default
        value = float(node.value)
        if not math.isfinite(value):  # .inf, .nan, 1.0e+400: no DOUBLE threshold
            self.report("NQL0408", self.span(key), key=key, expected="a finite number", value=node.value)
            return default
        if positive and not value > 0:
            self.report("NQL0408", self.span(key), key=key, expected="a number above zero", value=node.value)
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str, code: str = "NQL0406") -> str:
        value = self.scalar(key)
        if value is None:
            return default
        if value not in choices:
            close = difflib.get_close_matches(value.lower(), choices, n=1)
            hint = f"did you mean '{close[0]}'?" if close else None
            if code == "NQL0402":
                self.report(code, self.span(key), hint, value=value)
            else:
                self.report(code, self.span(key), hint, key=key, choices=", ".join(choices), value=value)
            return default
        return value


def _quote_hint(node: yaml.Node) -> str | None:
    """`tenant: NO` is YAML 1.1's false, `123` a number: text needs quotes."""
    if isinstance(node, yaml.ScalarNode) and node.tag in (Y.BOOL, Y.INT, Y.FLOAT, Y.NULL) and node.value:
        return f"YAML reads {node.value} as {Y.describe(node)}; write it in quotes: '{node.value}'"
    return None


def read_specs(file: Source, root: yaml.Node, default_tenant: str | None = None) -> tuple[list[MonitorSpec], list[Diagnostic]]:
    """YAML root node -> one MonitorSpec per valid-enough monitor mapping, plus diagnostics."""
    out: list[Diagnostic] = []
    if isinstance(root, yaml.MappingNode) and any(isinstance(k, yaml.ScalarNode) and k.value == "monitors" for k, _ in root.value):
        top = Fields(file, root, ("monitors",), "the file", out)
        node = top.values.get("monitors")
        if node is None:
            return [], out
        if not isinstance(node, yaml.SequenceNode):
            top.wrong("monitors", "a list of monitors")
            return [], out
        items = node.value
        if not items:
            out.append(diag("NQL0010", file, Y.span_of(file, node)))
    elif isinstance(root, yaml.MappingNode):
        items = [root]
    else:
        out.append(diag("NQL0003", file, Y.span_of(file, root), found=Y.describe(root)))
        return [], out
    specs = []
    for item in items:
        if not isinstance(item, yaml.MappingNode):
            out.append(diag("NQL0003", file, Y.span_of(file, item), found=Y.describe(item)))
            continue
        spec = _read_monitor(file, item, default_tenant, out)
        if spec is not None:
            specs.append(spec)
    return specs, out


def _read_monitor(file: Source, node: yaml.MappingNode, default_tenant: str | None, out: list[Diagnostic]) -> MonitorSpec | None:
    before = len(out)
    f = Fields(file, node, MONITOR_KEYS, "a monitor", out)
    mid = f.scalar("id", required=True, tags=(Y.STR, Y.INT))
    if mid is not None and not ID_RE.match(mid):
        f.report("NQL0401", f.span("id"), "lower-case letters, digits and _ only", id=mid)
    tenant = f.scalar("tenant") or default_tenant
    if tenant is not None and not TENANT_RE.match(tenant):
        f.report("NQL0413", f.span("tenant"), value=tenant)
    if tenant is None and mid is not None and "tenant" not in f.values:  # a tenant of the wrong type was reported
        f.report("NQL0412", Y.span_of(file, node), id=mid)
    name = f.scalar("name") or mid or ""
    priority = f.choice("priority", PRIORITIES, "medium", code="NQL0402")
    tags = f.tags("tags")
    if len(tags) > MAX_TAGS:
        f.report("NQL0405", f.span("tags"), count=len(tags))
    enabled = f.scalar("enabled", tags=(Y.BOOL,), expected="true or false")
    notify = f.strings("notify")
    query = f.text_snippet("query", required=True)
    every = f.duration("every", None)
    if every is not None and (every < 1000 or every % 1000):
        f.report("NQL0414", f.span("every"), text=f.values["every"].value)
        every = None
    trigger_when, trigger_for, trigger_for_span = None, 0, None
    t = f.mapping("trigger")
    if t is not None:
        tf = Fields(file, t, CONDITION_KEYS, "trigger", out)
        trigger_when = tf.text_snippet("when")
        trigger_for = tf.duration("for", 0)
        trigger_for_span = tf.value_span("for")
    recover_when, recover_for = None, 0
    r = f.mapping("recover")
    if r is not None:
        rf = Fields(file, r, CONDITION_KEYS, "recover", out)
        recover_when = rf.text_snippet("when")
        recover_for = rf.duration("for", 0)
    detection = _read_detection(file, f, out)
    if detection.type == "threshold" and trigger_when is None and mid is not None:
        f.report("NQL0409", f.span("trigger"), "e.g. trigger: {when: avg_latency > 300ms, for: 5min}",
                 what="`trigger.when`", kind="threshold")
    processing = _read_processing(file, f, out)
    evaluation = f.choice("evaluation", EVALUATIONS, None) if "evaluation" in f.values else None
    if mid is None or query is None:  # nothing to check the rest against; the fields were reported
        return None
    return MonitorSpec(
        path=file.path, span=Y.span_of(file, node), file=file, id=mid, tenant=tenant, name=name, priority=priority,
        tags=tags, enabled=enabled != "false" if enabled is not None else True, notify=notify, query=query,
        every_ms=every, every_span=f.value_span("every"), trigger_when=trigger_when, trigger_for_ms=trigger_for,
        trigger_for_span=trigger_for_span, recover_when=recover_when, recover_for_ms=recover_for, detection=detection,
        key_spans={"id": f.value_span("id"), "notify": f.value_span("notify"), "evaluation": f.value_span("evaluation")},
        processing=processing, evaluation=evaluation,
    )


def _read_processing(file: Source, f: Fields, out: list[Diagnostic]) -> Processing | None:
    """`flapping:` and `grouping:` (docs/processing.md), or None when the monitor has neither."""
    flap_changes, flap_within, group, repeat = None, 0, 0, 0
    node = f.mapping("flapping")
    if node is not None:
        fl = Fields(file, node, FLAPPING_KEYS, "flapping", out)
        raw = fl.scalar("changes", required=True, tags=(Y.INT,), expected="a whole number")
        if raw is not None:
            if 1 <= int(raw) <= MAX_FLAP_CHANGES:
                flap_changes = int(raw)
            else:
                fl.report("NQL0417", fl.span("changes"), value=raw, most=MAX_FLAP_CHANGES)
        flap_within = _positive_duration(fl, "within", required=True)
    node = f.mapping("grouping")
    if node is not None:
        g = Fields(file, node, GROUPING_KEYS, "grouping", out)
        group = _positive_duration(g, "interval")
        repeat = _positive_duration(g, "repeat")
    if "flapping" not in f.values and "grouping" not in f.values:
        return None
    return Processing(flap_changes, flap_within, group, repeat)


def _positive_duration(f: Fields, key: str, required: bool = False) -> int:
    """A duration above zero (0: absent or bad, reported)."""
    if key not in f.values:
        if required:
            f.report("NQL0005", Y.span_of(f.file, f.node), key=key, where=f.where)
        return 0
    ms = f.duration(key, None)
    if ms is not None and ms <= 0:
        f.report("NQL0418", f.span(key), key=f"{f.where}.{key}", value=f.values[key].value)
        return 0
    return ms or 0


def _read_detection(file: Source, f: Fields, out: list[Diagnostic]) -> Detection:
    node = f.mapping("detection")
    if node is None:
        return DEFAULT_DETECTION
    d = Fields(file, node, DETECTION_KEYS, "detection", out)
    kind = d.choice("type", DETECTION_TYPES, "threshold")
    metric = d.scalar("metric")
    if kind != "threshold" and metric is None:
        d.report("NQL0409", Y.span_of(file, node), what="`detection.metric`", kind=kind)
    slot = d.duration("slot", DEFAULT_DETECTION.slot_ms)
    if slot is not None and (slot <= 0 or 86_400_000 % slot or slot % 1000):
        # the job's baseline counts slots in whole seconds (udfs/baseline_params.DetectSpec)
        d.report("NQL0411", d.span("slot"), "a slot is a whole number of seconds" if slot > 0 and slot % 1000 else None,
                 text=d.values["slot"].value)
    change = DEFAULT_DETECTION.change
    raw = d.scalar("change", tags=(Y.STR, Y.INT, Y.FLOAT), expected="a percentage")
    if raw is not None:
        m = PERCENT_RE.match(raw.strip())
        if m is None or float(m.group(1)) <= 0:
            d.report("NQL0408", d.span("change"), "e.g. change: 100%", key="change", expected="a percentage above 0%", value=raw)
        else:
            change = float(m.group(1)) / 100
    history = d.duration("history", DEFAULT_DETECTION.history_ms) or DEFAULT_DETECTION.history_ms
    low, high, bounds = HISTORY_BOUNDS_MS.get(kind, (0, MAX_FIELD_DURATION_MS, ""))
    if not low <= history <= high:
        d.report("NQL0408", d.span("history"), key="history", expected=f"a duration {bounds} for a {kind} detection",
                 value=d.values["history"].value)
    return Detection(
        type=kind, metric=metric, metric_span=d.value_span("metric"),
        deviations=d.number("deviations", DEFAULT_DETECTION.deviations),
        direction=d.choice("direction", DIRECTIONS, "above"),
        history_ms=history,
        slot_ms=slot or DEFAULT_DETECTION.slot_ms, change=change,
    )
