"""What a monitor file means, once checked: the values later stages compile."""

from __future__ import annotations

from dataclasses import dataclass

from nql_flink.translator.semantic.resolver import TypedQuery
from nql_flink.translator.source import Source, Span
from nql_flink.translator.syntax import ast
from nql_flink.translator.ir.relational import Processing

PRIORITIES = ("critical", "high", "medium", "low")
DETECTION_TYPES = ("threshold", "change", "seasonal")
DIRECTIONS = ("above", "below", "both")


@dataclass(frozen=True)
class Snippet:
    """A piece of NQL text inside the YAML file (the query, or a condition)."""

    text: str
    source: Source


@dataclass(frozen=True)
class Detection:
    type: str = "threshold"
    metric: str | None = None
    metric_span: Span | None = None
    deviations: float = 3.0
    direction: str = "above"
    history_ms: int = 7 * 86_400_000
    slot_ms: int = 15 * 60_000
    change: float = 1.0  # relative, 1.0 = 100%


@dataclass(frozen=True)
class MonitorSpec:
    """A monitor's fields, checked one by one, before its NQL is parsed."""

    path: str
    span: Span  # of the monitor's mapping in the file
    file: Source
    id: str
    tenant: str | None
    name: str
    priority: str
    tags: tuple[str, ...]
    enabled: bool
    notify: tuple[str, ...]
    query: Snippet
    every_ms: int | None
    every_span: Span | None
    trigger_when: Snippet | None
    trigger_for_ms: int
    trigger_for_span: Span | None
    recover_when: Snippet | None
    recover_for_ms: int
    detection: Detection
    key_spans: dict  # key -> Span of its value, for diagnostics that point at a field
    processing: "Processing | None" = None  # `flapping:` / `grouping:` (ir.Processing), None without them
    evaluation: str | None = None  # `evaluation:` streaming | polling; None: the table's (catalog) default


@dataclass(frozen=True)
class Condition:
    text: str
    expr: ast.Expr
    source: Source
    types: dict
    enums: dict  # enum values named in the condition (`protocol == ica`): node -> value


@dataclass(frozen=True)
class Monitor:
    """A valid monitor: spec + typed query + typed conditions."""

    spec: MonitorSpec
    query: TypedQuery
    every_ms: int
    trigger: Condition | None
    recover: Condition | None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def tenant(self) -> str:
        return self.spec.tenant or ""

    @property
    def window_ms(self) -> int:
        return self.query.window_ms
