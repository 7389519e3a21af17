"""The NQL syntax tree: immutable, every node carries its span. Nodes compare and hash by
identity (eq=False): later stages key their tables (types, resolved fields) by node.

Nothing here knows about tables or types; the resolver adds those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from nql_flink.translator.source import Span

# ---------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True, eq=False)
class Field:
    """A dotted path as written: `device.virtualization.desktop_pool`, or a bare name."""

    path: tuple[str, ...]
    span: Span

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True, eq=False)
class Literal:
    """kind: string, int, float, bool, null, duration (value in ms), byte (value in bytes),
    ip, version (tuple of ints), datetime (ISO text)."""

    kind: str
    value: object
    text: str
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class ListLit:
    items: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class NamedArg:
    name: str
    value: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Call:
    """`receiver.name(args)`; receiver is None for `count()`, `countif(...)`."""

    receiver: Union["Expr", None]
    name: str
    args: tuple["Expr", ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Unary:
    op: str  # "-"
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Binary:
    """Arithmetic: + - * /"""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span
    op_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Compare:
    """== != < > <= >= in !in contains !contains (`=` is normalised to `==`)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span
    op_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Logical:
    op: str  # "and" | "or"
    left: "Expr"
    right: "Expr"
    span: Span


Expr = Union[Field, Literal, ListLit, NamedArg, Call, Unary, Binary, Compare, Logical]

# ---------------------------------------------------------------------------- query parts


@dataclass(frozen=True, slots=True, eq=False)
class TableRef:
    name: str
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class DuringPast:
    duration: Literal
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class FromTo:
    start: tuple[Literal, ...]  # a datetime literal, or a duration with `ago`
    end: tuple[Literal, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class On:
    date: Literal
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class TimeSelection:
    window: Union[DuringPast, FromTo, On]
    resolution: Literal | None  # `by 30s`
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Assign:
    name: str
    name_span: Span
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Where:
    condition: Expr
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Join:
    """`with` (inner) or `include` (left) of an event table into an object table."""

    kind: str  # "with" | "include"
    table: TableRef
    time: TimeSelection | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Compute:
    assigns: tuple[Assign, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Period:
    duration: Literal
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Summarize:
    assigns: tuple[Assign, ...]
    by: tuple[Union[Field, Period], ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class ListClause:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Sort:
    keys: tuple[Expr, ...]
    descending: bool
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Limit:
    count: Literal
    span: Span


Clause = Union[Where, Join, Compute, Summarize, ListClause, Sort, Limit]


@dataclass(frozen=True, slots=True, eq=False)
class Query:
    table: TableRef
    time: TimeSelection | None
    clauses: tuple[Clause, ...]
    span: Span


def clause_keyword(clause: Clause) -> str:
    if isinstance(clause, Join):
        return clause.kind
    return {Where: "where", Compute: "compute", Summarize: "summarize", ListClause: "list", Sort: "sort", Limit: "limit"}[
        type(clause)
    ]
