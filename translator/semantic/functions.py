"""The NQL function table: what each function accepts and returns.

Everything a monitor can call is listed in AGGREGATES; everything NQL has that a streaming
monitor cannot use is listed in UNSUPPORTED with the reason. A name in neither is unknown.
The SQL each aggregate becomes is decided by the Flink back end, keyed by these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from nql_flink.translator.semantic.types import BOOL, FLOAT, INT, NUMERIC, Type


@dataclass(frozen=True, slots=True)
class Aggregate:
    name: str
    receiver: str  # "value": metric.f(); "none": f(); "object": device.f() / f() (counts)
    condition_arg: bool  # takes one boolean argument (countif, sumif)
    accepts: frozenset[str]  # receiver type names accepted ("*" = any)
    result: str  # "int", "same", "mean" (int->float, others same)


_SUMMABLE = frozenset(NUMERIC | {"duration", "byte"})
_ORDERABLE = frozenset(_SUMMABLE | {"datetime", "version"})

AGGREGATES: dict[str, Aggregate] = {
    a.name: a
    for a in [
        Aggregate("count", "object", False, frozenset({"*"}), "int"),
        Aggregate("countif", "object", True, frozenset({"*"}), "int"),
        Aggregate("sum", "value", False, _SUMMABLE, "same"),
        Aggregate("sumif", "value", True, _SUMMABLE, "same"),
        Aggregate("avg", "value", False, _SUMMABLE, "mean"),
        Aggregate("min", "value", False, _ORDERABLE, "same"),
        Aggregate("max", "value", False, _ORDERABLE, "same"),
        Aggregate("last", "value", False, frozenset({"*"}), "same"),
        Aggregate("p95", "value", False, _SUMMABLE, "mean"),
        Aggregate("p05", "value", False, _SUMMABLE, "mean"),
    ]
}

UNSUPPORTED: dict[str, str] = {
    "as": "formatting belongs to lists and dashboards, not to alert conditions",
    "time_elapsed": "it depends on the wall clock; monitors are evaluated in event time",
    "hour": "time-of-day logic is what `detection: seasonal` is for",
    "day": "time-of-day logic is what `detection: seasonal` is for",
    "day_of_week": "time-of-day logic is what `detection: seasonal` is for",
}

# `<object>.count()` counts distinct objects, identified by this field of the event.
COUNTABLE_OBJECTS: dict[str, str] = {"device": "device.collector.uid", "user": "user.name"}


def result_type(agg: Aggregate, operand: Type | None) -> Type:
    if agg.result == "int" or operand is None:
        return INT
    if agg.result == "mean" and operand.name == "int":
        return FLOAT
    return operand


def accepts(agg: Aggregate, operand: Type) -> bool:
    return "*" in agg.accepts or operand.name in agg.accepts


__all__ = ["AGGREGATES", "UNSUPPORTED", "COUNTABLE_OBJECTS", "Aggregate", "result_type", "accepts", "BOOL"]
