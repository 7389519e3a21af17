"""sqlglot dialect for Flink SQL, kept in this repository (sqlglot has none built in).

Data plus a few overrides, like sqlglot's RisingWave dialect. The class name is distinct
(`NqlFlink`) because sqlglot registers dialects globally by lower-cased class name and
other libraries (ibis) already register "flink"; always pass the class, never a string.
"""

from __future__ import annotations

from sqlglot import exp, generator, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel

INTERVAL_UNITS = {"SECOND": "SECOND", "MINUTE": "MINUTE", "HOUR": "HOUR", "DAY": "DAY"}


def interval_sql(self: generator.Generator, e: exp.Interval) -> str:
    """Flink needs explicit leading precision for multi-digit values: INTERVAL '300' SECOND(3)."""
    value = e.this.name if isinstance(e.this, exp.Literal) else self.sql(e.this)
    unit = e.unit.name.upper() if e.unit else "SECOND"
    precision = f"({len(value)})" if len(value) > 2 else ""
    return f"INTERVAL '{value}' {INTERVAL_UNITS.get(unit, unit)}{precision}"


class NqlFlink(Dialect):
    NORMALIZE_FUNCTIONS = False  # keep function names as written (Flink is case-insensitive anyway)

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS = ["`"]
        QUOTES = ["'"]
        STRING_ESCAPES = ["'"]  # '' inside a literal; a backslash is an ordinary character

    class Generator(generator.Generator):
        IDENTIFIER_START = "`"
        IDENTIFIER_END = "`"
        STRING_ESCAPES = ["'"]
        TYPE_MAPPING = {
            **generator.Generator.TYPE_MAPPING,
            exp.DataType.Type.DOUBLE: "DOUBLE",
            exp.DataType.Type.BIGINT: "BIGINT",
            exp.DataType.Type.VARCHAR: "STRING",
            exp.DataType.Type.TEXT: "STRING",
            exp.DataType.Type.BOOLEAN: "BOOLEAN",
        }
        TRANSFORMS = {
            **generator.Generator.TRANSFORMS,
            exp.Interval: interval_sql,
        }


def to_sql(node: exp.Expression) -> str:
    """Render one expression; anything the dialect cannot express raises (never a warning)."""
    return node.sql(dialect=NqlFlink, unsupported_level=ErrorLevel.RAISE, identify=True)
