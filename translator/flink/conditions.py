"""Conditions as data: a threshold monitor's trigger and recover conditions as programs its
table's windows function evaluates itself (udfs/jvm `Condition`), instead of a SQL CASE per
evaluation row (issue 15, docs/sharing.md "Judging in the windows function", step 2).

A program is the condition with each measure replaced by its definition over the window's
numeric outputs (`n<k>`: the shape's `nv`[k + 1]), in prefix notation; `Condition.java` holds
the grammar. The value of every node is the one Flink gives the SQL that
translator/flink/expressions.py writes for it (the same casts, three-valued logic, long
arithmetic for BIGINTs, `/` on DOUBLEs, Calcite's rewrites where a NaN shows them), which
tests/udfs/test_condition.py checks rule by rule and tests/flink/test_judge_programs.py for
every example pipeline, on the engine, row for row against that SQL.

What has no program keeps the SQL path (the unsupported set, each with its reason, loudly in
`explain`-able form: `Unsupported`): strings (case-insensitive comparisons, the string lane),
group keys (the group's JSON), LIKE, subnets, versions, and arithmetic Flink does in INT or
DECIMAL (its overflow and exactness differ from a double's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from nql_flink.translator.ir import relational as ir

CMP = {"=": "eq", "<>": "ne", "<": "lt", ">": "gt", "<=": "le", ">=": "ge"}
ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
# nodes with no program, and why (the SQL CASE evaluates them)
UNSUPPORTED = {ir.Like: "a LIKE pattern", ir.InSubnet: "a subnet test", ir.VersionCmp: "a version comparison"}
_PARAM = re.compile(r"[A-Za-z0-9_]+")


class Unsupported(Exception):
    """A condition the windows function cannot evaluate; the message says what."""


def program(e: ir.Scalar, col: Callable[[str], str]) -> str:
    """The program of a condition or measure; `col` gives a column's program (a measure's) or
    raises Unsupported (a group key, a string)."""
    if type(e) in UNSUPPORTED:
        raise Unsupported(UNSUPPORTED[type(e)])
    if isinstance(e, ir.Col):
        return col(e.name)
    if isinstance(e, ir.Lit):
        return _literal(e.value)
    if isinstance(e, ir.Param):
        if not _PARAM.fullmatch(e.name):
            raise Unsupported(f"the parameter name {e.name!r}")
        return f"${e.name}"
    if isinstance(e, ir.Cmp):
        _numeric(e.left, e.right)
        return f"{CMP[e.op]} {program(e.left, col)} {program(e.right, col)}"
    if isinstance(e, ir.InList):
        _numeric(e.operand, *e.values)
        head = ("notin" if e.negated else "in") + str(len(e.values))
        return " ".join([head, program(e.operand, col), *(program(v, col) for v in e.values)])
    if isinstance(e, ir.IsNull):
        return f"{'notnull' if e.negated else 'isnull'} {program(e.operand, col)}"
    if isinstance(e, ir.Bool):
        if e.op == "NOT":
            return f"not {program(e.args[0], col)}"
        out = program(e.args[0], col)
        for a in e.args[1:]:
            out = f"{e.op.lower()} {out} {program(a, col)}"
        return out
    if isinstance(e, ir.Arith):
        from nql_flink.translator.flink.codegen import measure_type  # (codegen imports this module)

        sql_type = measure_type(e)
        if sql_type not in ("BIGINT", "DOUBLE"):
            raise Unsupported(f"arithmetic in {sql_type}")
        return f"{ARITH[e.op]} {program(e.left, col)} {program(e.right, col)}"
    raise Unsupported(f"a {type(e).__name__}")


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -2**63 <= value < 2**63:
            raise Unsupported("an integer beyond BIGINT")
        return f"#{value}"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Unsupported("a literal that is not a finite number")
        return f"%{value!r}"
    raise Unsupported("a string literal")


def _numeric(*operands: ir.Scalar) -> None:
    """Comparisons of strings are case-insensitive in SQL (expressions.py): not in programs."""
    for o in operands:
        if getattr(o, "ty", None) == "string":
            raise Unsupported("a string comparison")
