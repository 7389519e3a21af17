"""IR scalars -> sqlglot expressions in the NqlFlink dialect.

The SQL shape rules of scalars live here (aggregates are computed by the per-tenant windows
function: their table is translator/flink/codegen.py `_lanes`; an ir.Agg has no SQL here):
- string comparisons case-insensitive: LOWER() on the column, the literal lowered here;
- `/` divides DOUBLEs;
- an IP subnet and the ordering of versions call the project's Java scalar functions
  (SCALAR_FUNCTIONS), the versions compared by numeric components;
- every literal goes through sqlglot, which escapes quotes: text from a monitor file never
  reaches SQL unescaped.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from nql_flink.translator.ir import relational as ir

ColRef = Callable[[str], exp.Expression]
ParamRef = Callable[[str], exp.Expression]

SQL_TYPES = {"int": "BIGINT", "byte": "BIGINT", "float": "DOUBLE", "duration": "DOUBLE", "bool": "BOOLEAN",
             "string": "STRING", "datetime": "TIMESTAMP(3)"}
CMP = {"=": exp.EQ, "<>": exp.NEQ, "<": exp.LT, ">": exp.GT, "<=": exp.LTE, ">=": exp.GTE}
ARITH = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div}
# The project's Java scalar functions an expression may call (udfs/jvm): name -> class. The
# code generator declares the ones a job uses (codegen.scalar_functions).
IP_IN_SUBNET = "nql_ip_in_subnet"
VERSION_COMPARE = "nql_version_compare"
SCALAR_FUNCTIONS = {ir.InSubnet: (IP_IN_SUBNET, "dev.nqlflink.udfs.IpInSubnet"),
                    ir.VersionCmp: (VERSION_COMPARE, "dev.nqlflink.udfs.VersionCompare")}


def double(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("DOUBLE"))


def when(cond: exp.Expression, value: exp.Expression) -> exp.Expression:
    """CASE WHEN cond THEN value END: NULL where cond is not true (conditional aggregates)."""
    return exp.Case(ifs=[exp.If(this=cond, true=value)])


def unqualified(name: str) -> exp.Expression:
    return exp.column(name)


def qualified(table: str) -> ColRef:
    return lambda name: exp.column(name, table=table)


def to_exp(e: ir.Scalar, col: ColRef = unqualified, param: ParamRef | None = None) -> exp.Expression:
    def go(n: ir.Scalar) -> exp.Expression:
        if isinstance(n, ir.Col):
            return col(n.name)
        if isinstance(n, ir.Lit):
            return literal(n.value)
        if isinstance(n, ir.Param):
            if param is None:
                raise ValueError(f"parameter {n.name} outside a monitor condition")
            return param(n.name)
        if isinstance(n, ir.Cmp):
            left, right = go(n.left), go(n.right)
            if _is_string(n.left) or _is_string(n.right):
                left, right = _lower(n.left, left), _lower(n.right, right)
            return exp.Paren(this=CMP[n.op](this=left, expression=right))
        if isinstance(n, ir.Like):
            like = exp.Escape(this=exp.Like(this=exp.Lower(this=go(n.operand)), expression=literal(n.pattern.lower())),
                              expression=literal("\\"))
            return exp.Paren(this=exp.Not(this=exp.Paren(this=like))) if n.negated else exp.Paren(this=like)
        if isinstance(n, ir.InList):
            strings = _is_string(n.operand)
            values = [_lower(v, go(v)) if strings else go(v) for v in n.values]
            inn = exp.In(this=_lower(n.operand, go(n.operand)) if strings else go(n.operand), expressions=values)
            return exp.Paren(this=exp.Not(this=inn) if n.negated else inn)
        if isinstance(n, ir.InSubnet):
            inside = exp.Anonymous(this=IP_IN_SUBNET, expressions=[go(n.operand), literal(n.network), literal(n.prefix)])
            return exp.Paren(this=exp.Not(this=inside) if n.negated else inside)
        if isinstance(n, ir.VersionCmp):
            order = exp.Anonymous(this=VERSION_COMPARE, expressions=[go(n.left), go(n.right)])
            return exp.Paren(this=CMP[n.op](this=order, expression=literal(0)))
        if isinstance(n, ir.IsNull):
            isnull = exp.Is(this=go(n.operand), expression=exp.Null())
            return exp.Paren(this=exp.Not(this=isnull)) if n.negated else isnull
        if isinstance(n, ir.Bool):
            if n.op == "NOT":
                return exp.Paren(this=exp.Not(this=go(n.args[0])))
            cls = exp.And if n.op == "AND" else exp.Or
            out = go(n.args[0])
            for a in n.args[1:]:
                out = cls(this=out, expression=go(a))
            return exp.Paren(this=out)
        if isinstance(n, ir.Arith):
            left, right = go(n.left), go(n.right)
            if n.op == "/":
                left = double(left)
            return exp.Paren(this=ARITH[n.op](this=left, expression=right))
        raise TypeError(f"no SQL for {type(n).__name__}")

    return go(e)


def literal(value) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(repr(value) if isinstance(value, float) else value)
    return exp.Literal.string(str(value))


def _is_string(n: ir.Scalar) -> bool:
    return getattr(n, "ty", None) == "string" and not isinstance(n, ir.Agg)


def _lower(n: ir.Scalar, e: exp.Expression) -> exp.Expression:
    if isinstance(n, ir.Lit) and isinstance(n.value, str):
        return literal(n.value.lower())
    return exp.Lower(this=e) if _is_string(n) else e
