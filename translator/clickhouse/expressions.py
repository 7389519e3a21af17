"""IR scalars -> ClickHouse SQL, through sqlglot's ClickHouse dialect.

The scalar rules are the Flink back end's (translator/flink/expressions.py `to_exp`: string
comparisons case-insensitive, `/` over DOUBLEs, every literal escaped by sqlglot); this
module takes its sqlglot tree and replaces what ClickHouse spells differently:
- LOWER -> lowerUTF8 (ClickHouse's `lower` folds ASCII only; Flink's LOWER is Unicode);
- LIKE ... ESCAPE '\\' -> LIKE: a backslash is ClickHouse's LIKE escape already;
- the project's Java functions -> ClickHouse's own: an IP in a subnet is
  `isIPAddressInRange(address, 'net/prefix')` (NULL for a non-address, as IpInSubnet); versions
  compared by their numeric components as VersionCompare (`version_order`).
Rendering raises on anything the dialect cannot express (never a warning).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import ErrorLevel

from nql_flink.translator.flink.expressions import IP_IN_SUBNET, VERSION_COMPARE, literal, to_exp
from nql_flink.translator.ir import relational as ir

DIALECT = "clickhouse"
# NQL types (after lowering) -> ClickHouse column types; every field may be missing.
CH_TYPES = {"int": "Int64", "byte": "Int64", "float": "Float64", "duration": "Float64", "bool": "Bool",
            "string": "String", "datetime": "DateTime64(3, 'UTC')"}


def to_sql(node: exp.Expression) -> str:
    return node.sql(dialect=DIALECT, unsupported_level=ErrorLevel.RAISE, identify=True)


def ident(name: str) -> str:
    """A quoted identifier."""
    return to_sql(exp.to_identifier(name, quoted=True))


def lit(value) -> str:
    """A literal, escaped by sqlglot."""
    return to_sql(literal(value))


def call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _clickhouse(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Lower):
        return call("lowerUTF8", node.this)
    if isinstance(node, exp.Escape):
        return node.this
    if isinstance(node, exp.Anonymous) and node.name == IP_IN_SUBNET:
        address, network, prefix = node.expressions
        cidr = exp.Literal.string(f"{network.name}/{prefix.name}")
        text = call("toString", address)
        valid = exp.Or(this=call("isIPv4String", text), expression=call("isIPv6String", text))
        return call("if", valid, call("isIPAddressInRange", text, cidr), exp.Null())
    if isinstance(node, exp.Anonymous) and node.name == VERSION_COMPARE:
        return version_order(*node.expressions)
    return node


_VERSION = exp.Literal.string(r"^[0-9]+(\.[0-9]+)*$")


def version_order(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    """-1, 0 or 1 as VersionCompare (udfs/jvm): numeric components left to right, a missing one
    counting as 0 (`16.0` = `16.0.0`), a leading `v` ignored; NULL when either side is NULL or
    not a version. Components as UInt256 (Java: BigInteger; 78 digits suffice for any version)."""
    def text(e: exp.Expression) -> exp.Expression:
        return call("replaceRegexpOne", call("trimBoth", e.copy()), exp.Literal.string("^[vV]"), exp.Literal.string(""))

    def parts(t: exp.Expression, n: exp.Expression) -> exp.Expression:
        numbers = call("arrayMap", exp.Lambda(this=call("toUInt256OrZero", exp.column("p")), expressions=[exp.to_identifier("p")]),
                       call("splitByChar", exp.Literal.string("."), t))
        return call("arrayResize", numbers, n, exp.cast(exp.Literal.number(0), "UInt256"))

    a, b = text(left), text(right)
    n = call("greatest", call("length", call("splitByChar", exp.Literal.string("."), a.copy())),
             call("length", call("splitByChar", exp.Literal.string("."), b.copy())))
    x, y = parts(a.copy(), n.copy()), parts(b.copy(), n.copy())
    valid = exp.and_(call("match", a.copy(), _VERSION.copy()), call("match", b.copy(), _VERSION.copy()))
    order = call("if", exp.LT(this=x.copy(), expression=y.copy()), exp.Literal.number(-1),
                 call("if", exp.GT(this=x, expression=y), exp.Literal.number(1), exp.Literal.number(0)))
    return call("if", valid, order, exp.Null())


class Unsupported(Exception):
    """An IR construct this back end cannot evaluate yet (reported as NQL0801)."""


def to_ch(e: ir.Scalar, col=None, param=None) -> exp.Expression:
    """The scalar as a ClickHouse expression (sqlglot tree); `col` maps a column name to its
    reference, `param` a config parameter to its value."""
    tree = to_exp(e, col or (lambda name: exp.column(name)), param)
    return tree.transform(_clickhouse, copy=False)


def to_ch_sql(e: ir.Scalar, col=None, param=None) -> str:
    return to_sql(to_ch(e, col, param))
