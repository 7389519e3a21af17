"""The relational IR: a small closed set of nodes between the typed monitor and SQL.

Scalars are typed (`ty` is an NQL type name) so code generation can decide SQL shape
(case-insensitive string comparison, DOUBLE arithmetic) without looking back at NQL.
Relations say *what* is computed; how it becomes views, joins and statements is the Flink
back end's business.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Union

# ----------------------------------------------------------------------------- scalars


@dataclass(frozen=True)
class Col:
    name: str  # flattened column name (see column_name)
    ty: str


@dataclass(frozen=True)
class Lit:
    value: object  # str | int | float | bool | None
    ty: str


@dataclass(frozen=True)
class Param:
    """A threshold that lives in the monitor-config record, not in the SQL."""

    name: str
    ty: str = "float"


@dataclass(frozen=True)
class Cmp:
    op: str  # = <> < > <= >=
    left: "Scalar"
    right: "Scalar"


@dataclass(frozen=True)
class Like:
    """Case-insensitive wildcard match; pattern already in LIKE syntax, escape char '\\'."""

    operand: "Scalar"
    pattern: str
    negated: bool


@dataclass(frozen=True)
class InList:
    operand: "Scalar"
    values: tuple["Scalar", ...]
    negated: bool


@dataclass(frozen=True)
class InSubnet:
    """The address (text) lies in network/prefix (IPv4 or IPv6); NULL for a non-address."""

    operand: "Scalar"
    network: str  # the network's address text: `10.20.0.0`, `f164:b28c::`
    prefix: int
    negated: bool


@dataclass(frozen=True)
class VersionCmp:
    """Versions ordered by their numeric components (`16.0.9` < `16.0.17000` < `16.1`)."""

    op: str  # < > <= >=
    left: "Scalar"
    right: "Scalar"


@dataclass(frozen=True)
class IsNull:
    operand: "Scalar"
    negated: bool


@dataclass(frozen=True)
class Bool:
    op: str  # AND | OR | NOT
    args: tuple["Scalar", ...]


@dataclass(frozen=True)
class Arith:
    op: str  # + - * /
    left: "Scalar"
    right: "Scalar"
    ty: str


@dataclass(frozen=True)
class Agg:
    """func: count | count_distinct | sum | avg | min | max | last | percentile."""

    func: str
    arg: Union["Scalar", None]
    cond: Union["Scalar", None]
    ty: str
    fraction: float | None = None  # percentile


Scalar = Union[Col, Lit, Param, Cmp, Like, InList, InSubnet, VersionCmp, IsNull, Bool, Arith, Agg]

# ----------------------------------------------------------------------------- relations


@dataclass(frozen=True)
class Field:
    """A field read from a record: where it is on the wire and how it is typed."""

    path: str  # NQL path in its record: `device.collector.uid`, `virtualization.desktop_pool`
    column: str  # flattened column name
    ty: str


@dataclass(frozen=True)
class Scan:
    """Validated records of one event table, with the fields the monitor reads."""

    table: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Enrich:
    """Inventory (`devices`) attributes joined as of each event's time, by tenant + device."""

    input: "Relation"
    fields: tuple[Field, ...]  # paths are inventory paths, columns carry the `device_` prefix
    inner: bool  # with = inner; include = left (no match keeps the event)


@dataclass(frozen=True)
class Filter:
    input: "Relation"
    condition: Scalar


@dataclass(frozen=True)
class Measure:
    name: str
    expr: Scalar  # built from Agg, Arith and literals
    ty: str


@dataclass(frozen=True)
class Key:
    name: str  # the alert's `group` key, e.g. device.virtualization.desktop_pool
    expr: Col


@dataclass(frozen=True)
class WindowAggregate:
    """Sliding window (HOP): size = `during past`, slide = `every`; per tenant and keys."""

    input: "Relation"
    size_ms: int
    slide_ms: int
    keys: tuple[Key, ...]
    measures: tuple[Measure, ...]
    having: Scalar | None


@dataclass(frozen=True)
class Regroup:
    """`summarize` after `compute`: each window's per-device results (the input's rows, one
    per device and window) aggregated again per keys; measures and keys read the input's
    measure and key columns."""

    input: WindowAggregate
    keys: tuple[Key, ...]
    measures: tuple[Measure, ...]
    having: Scalar | None


@dataclass(frozen=True)
class Detection:
    """`detection: seasonal | change`: a baseline judges the metric (docs/seasonal.md).

    The `deviations` / `change` value is a config parameter (`param`), so a changed
    sensitivity is data like a threshold; history and slot shape the job's state and are
    compiled in."""

    type: str  # seasonal | change
    metric: str  # the output column (Measure.name) the detection watches
    direction: str  # above | below | both
    history_ms: int
    slot_ms: int  # seasonal only (change: unused)
    default_recover: bool  # no recover.when: recover = NOT (breach AND trigger)

    @property
    def param(self) -> str:
        return "detection_deviations" if self.type == "seasonal" else "detection_change"


@dataclass(frozen=True)
class Evaluate:
    """Trigger/recover state machine over the window results (spec/monitors.md). With a
    detection, the trigger is the detection's breach AND `trigger` (TRUE when the monitor
    has no trigger.when), and `recover` is used unless `detection.default_recover`."""

    input: WindowAggregate | Regroup
    trigger: Scalar
    recover: Scalar  # the trigger's negation when the monitor gives no recover condition
    params: tuple[tuple[str, float], ...]  # initial values of the config parameters
    detection: Detection | None = None


Relation = Union[Scan, Enrich, Filter, WindowAggregate, Regroup, Evaluate]

# ----------------------------------------------------------------------------- the root


@dataclass(frozen=True)
class Config:
    """What a monitor's config record carries besides the parameters: data the job reads as
    of each window, so changing it needs no redeploy (spec/monitors.md)."""

    enabled: bool
    priority: str
    name: str
    tags: tuple[str, ...]
    for_ms: int
    recover_for_ms: int
    trigger_text: str  # the conditions as the alert shows them
    recover_text: str


@dataclass(frozen=True)
class Processing:
    """What a monitor asks of the alert processing after its transitions (docs/processing.md):
    flapping suppression, notification grouping and repeats. 0 / None: not asked for."""

    flap_changes: int | None = None  # more state changes than this within flap_within_ms: flapping
    flap_within_ms: int = 0
    group_ms: int = 0                # one notification per interval for the monitor's groups
    repeat_ms: int = 0               # an alert that stays triggered is notified again this often

    def spec(self) -> str:
        """The monitor's part of the processing function's spec (udfs/jvm AlertProcessing)."""
        flap = f"flap={self.flap_changes}/{self.flap_within_ms}" if self.flap_changes is not None else "flap=0/0"
        return f"{flap};group={self.group_ms};repeat={self.repeat_ms}"


@dataclass(frozen=True)
class Monitor:
    """One monitor of one tenant: everything code generation needs, and nothing more."""

    tenant: str
    id: str
    evaluate: Evaluate
    config: Config
    processing: Processing | None = None  # none asked for: its transitions are not processed

    @property
    def every_ms(self) -> int:
        return windows(self.evaluate).slide_ms


def windows(ev: "Evaluate") -> WindowAggregate:
    """The sliding-window aggregate of an evaluation (under its Regroup, if any)."""
    return ev.input.input if isinstance(ev.input, Regroup) else ev.input


def column_name(path: str) -> str:
    """`device.virtualization.desktop_pool` -> `device_virtualization_desktop_pool`."""
    return path.replace(".", "_").replace("#", "")


def conjuncts(e: Scalar) -> list[Scalar]:
    """The operands of an AND, flattened (the condition itself when it is not an AND)."""
    if isinstance(e, Bool) and e.op == "AND":
        return [c for a in e.args for c in conjuncts(a)]
    return [e]


def columns_of(e: Scalar | None) -> set[str]:
    """The columns a scalar reads."""
    if isinstance(e, Col):
        return {e.name}
    out: set[str] = set()
    if dataclasses.is_dataclass(e):
        for f in dataclasses.fields(e):
            value = getattr(e, f.name)
            for item in value if isinstance(value, tuple) else (value,):
                if dataclasses.is_dataclass(item):
                    out |= columns_of(item)
    return out


def conjunction(items) -> "Scalar | None":
    """The conditions ANDed (None for none, the condition itself for one)."""
    if not items:
        return None
    return items[0] if len(items) == 1 else Bool("AND", tuple(items))


# ------------------------------------------------------------------------ walks (both back ends)
def scan_parts(rel: Relation) -> tuple[Scan, Enrich | None, list[Scalar]]:
    """The scan under a window's input, its enrichment, and its filters in query order."""
    filters: list[Scalar] = []
    enrich = None
    while not isinstance(rel, Scan):
        if isinstance(rel, Filter):
            filters.append(rel.condition)
        elif isinstance(rel, Enrich):
            enrich = rel
        rel = rel.input
    return rel, enrich, list(reversed(filters))


def aggregates_of(e: Scalar, out: list[Agg]) -> None:
    """The aggregates of a measure (aggregates and arithmetic over them), once each, appended to
    ``out``; what replace_aggregates replaces."""
    if isinstance(e, Agg):
        if e not in out:
            out.append(e)
    elif isinstance(e, Arith):
        aggregates_of(e.left, out)
        aggregates_of(e.right, out)


def replace_aggregates(e: Scalar, names: dict[Agg, str]) -> Scalar:
    """The measure with each aggregate replaced by the column named for it."""
    if isinstance(e, Agg):
        return Col(names[e], e.ty)
    if isinstance(e, Arith):
        return dataclasses.replace(e, left=replace_aggregates(e.left, names), right=replace_aggregates(e.right, names))
    return e
