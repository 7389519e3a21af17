"""NQL value types and the rules that relate them (comparison, arithmetic, grouping).

One table per rule, so the rules can be read (and reviewed) as data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    name: str
    values: tuple[str, ...] = ()  # enum values

    def __str__(self) -> str:
        return self.name


STRING, INT, FLOAT, BOOL = Type("string"), Type("int"), Type("float"), Type("bool")
DATETIME, DURATION, BYTE = Type("datetime"), Type("duration"), Type("byte")
BITRATE, RATIO, IP, VERSION = Type("bitrate"), Type("ratio"), Type("ip"), Type("version")
NULL, LIST, UNKNOWN = Type("null"), Type("list"), Type("unknown")

SIMPLE = {t.name: t for t in (STRING, INT, FLOAT, BOOL, DATETIME, DURATION, BYTE, BITRATE, RATIO, IP, VERSION)}

NUMERIC = frozenset({"int", "float", "ratio", "bitrate"})
# Quantities with a unit: compared and added only with their own kind.
UNIT_FAMILIES = frozenset({"duration", "byte"})


def enum(values) -> Type:
    return Type("enum", tuple(values))


def from_catalog(spec) -> Type:
    if isinstance(spec, str):
        return SIMPLE[spec]
    if spec["type"] == "enum":
        return enum(spec["values"])
    return SIMPLE[spec["type"]]


def family(t: Type) -> str:
    """Types that compare with each other share a family."""
    return "number" if t.name in NUMERIC else t.name


# Comparison operators each type accepts (NQL data-types and comparison-operator pages).
ORDERED = {"==", "!=", "<", ">", "<=", ">=", "in", "!in"}
OPERATORS: dict[str, set[str]] = {
    "string": {"==", "!=", "in", "!in"},
    "enum": {"==", "!=", "in", "!in"},
    "bool": {"==", "!="},
    "ip": {"==", "!=", "in", "!in"},
    "number": ORDERED,
    "duration": ORDERED,
    "byte": ORDERED,
    "datetime": ORDERED,
    "version": ORDERED,
}

# Types that may be `by` keys (NQL: no numeric, datetime or byte keys).
GROUPABLE = frozenset({"string", "enum", "bool", "ip", "version"})

# What a literal of the wrong unit family should have looked like.
UNIT_HINTS = {"duration": "write the threshold with a unit, e.g. 300ms or 5s", "byte": "write the size with a unit, e.g. 3GB"}


def arithmetic(op: str, left: Type, right: Type) -> Type | None:
    """Result type of `left op right`, or None when NQL does not define it."""
    lf, rf = family(left), family(right)
    if lf == "number" and rf == "number":
        if op == "/":
            return FLOAT
        return INT if left.name == right.name == "int" else FLOAT
    if op in "+-" and lf == rf and lf in UNIT_FAMILIES:
        return left
    if op == "*" and {lf, rf} in ({"duration", "number"}, {"byte", "number"}):
        return left if lf != "number" else right
    if op == "/" and lf in UNIT_FAMILIES and rf == "number":
        return left
    if op == "/" and lf == rf and lf in UNIT_FAMILIES:
        return FLOAT
    return None
