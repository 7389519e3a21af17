"""Conditions as programs for the windows function (translator/flink/conditions.py), one rule
each, expected programs written by hand from the grammar in udfs/jvm Condition.java; and the
unsupported set, each with its reason. (The programs run against the SQL they replace on the
engine in tests/flink/test_judge_programs.py.)"""

import pytest

from nql_flink.translator.flink import conditions
from nql_flink.translator.flink.conditions import Unsupported, program
from nql_flink.translator.ir import relational as ir

LAT = ir.Col("latency", "duration")
N = ir.Col("sessions", "int")
POOL = ir.Col("pool", "string")
MEASURES = {"latency": "n0", "sessions": "l n1"}


def col(name: str) -> str:
    if name not in MEASURES:
        raise Unsupported("a group key")
    return MEASURES[name]


def prog(e) -> str:
    return program(e, col)


def test_comparison_with_a_parameter():
    assert prog(ir.Cmp(">", LAT, ir.Param("trigger_1"))) == "gt n0 $trigger_1"


def test_every_comparison_operator():
    got = [prog(ir.Cmp(op, N, ir.Lit(5, "int"))).split()[0] for op in ("=", "<>", "<", ">", "<=", ">=")]
    assert got == ["eq", "ne", "lt", "gt", "le", "ge"]


def test_and_of_three_nests_to_the_left():
    a, b, c = (ir.Cmp(">", LAT, ir.Lit(v, "duration")) for v in (1, 2, 3))
    assert prog(ir.Bool("AND", (a, b, c))) == "and and gt n0 #1 gt n0 #2 gt n0 #3"


def test_not_or_isnull():
    e = ir.Bool("NOT", (ir.Bool("OR", (ir.IsNull(LAT, False), ir.IsNull(N, True))),))
    assert prog(e) == "not or isnull n0 notnull l n1"


def test_literals():
    assert prog(ir.Cmp("=", LAT, ir.Lit(2.5, "float"))) == "eq n0 %2.5"
    assert prog(ir.Cmp("=", LAT, ir.Lit(1e-05, "float"))) == "eq n0 %1e-05"
    assert prog(ir.Cmp("=", N, ir.Lit(-3, "int"))) == "eq l n1 #-3"
    assert prog(ir.IsNull(ir.Lit(None, "int"), False)) == "isnull null"


def test_in_list_names_its_length():
    e = ir.InList(N, (ir.Lit(1, "int"), ir.Lit(2, "int"), ir.Lit(3, "int")), False)
    assert prog(e) == "in3 l n1 #1 #2 #3"
    assert prog(ir.InList(N, (ir.Lit(4, "int"),), True)) == "notin1 l n1 #4"


def test_arithmetic_in_bigint_and_double():
    assert prog(ir.Cmp(">", ir.Arith("*", N, ir.Lit(2, "int"), "int"), ir.Param("t"))) == "gt mul l n1 #2 $t"
    assert prog(ir.Cmp(">", ir.Arith("/", LAT, N, "float"), ir.Param("t"))) == "gt div n0 l n1 $t"
    assert prog(ir.Cmp(">", ir.Arith("-", LAT, ir.Param("t"), "float"), ir.Lit(0, "int"))) == "gt sub n0 $t #0"


@pytest.mark.parametrize("e, reason", [
    (ir.Cmp("=", POOL, ir.Lit("Finance", "string")), "a string comparison"),
    (ir.InList(POOL, (ir.Lit("a", "string"),), False), "a string comparison"),
    (ir.Like(POOL, "fin%", False), "a LIKE pattern"),
    (ir.InSubnet(POOL, "10.0.0.0", 8, False), "a subnet test"),
    (ir.VersionCmp(">", POOL, ir.Lit("1.2", "string")), "a version comparison"),
    (ir.Cmp(">", ir.Col("pool_size", "int"), ir.Lit(1, "int")), "a group key"),
    # INT arithmetic overflows in 32 bits in Flink, DECIMAL is exact: neither is a long or a double
    (ir.Cmp(">", ir.Arith("+", ir.Lit(1, "int"), ir.Lit(2, "int"), "int"), N), "arithmetic in INT"),
    (ir.Cmp(">", ir.Arith("*", N, ir.Lit(1.5, "float"), "float"), ir.Param("t")), "arithmetic in DECIMAL(22, 1)"),  # BIGINT (19) x DECIMAL(2, 1): 19 + 2 + 1
    (ir.Cmp(">", LAT, ir.Param("bad name")), "the parameter name 'bad name'"),
    # what Condition.parse would refuse (Double.parseDouble reads no `inf`, a long holds no 2^63)
    (ir.Cmp(">", LAT, ir.Lit(float("inf"), "float")), "a literal that is not a finite number"),
    (ir.Cmp(">", N, ir.Lit(2**63, "int")), "an integer beyond BIGINT"),
])
def test_unsupported_says_why(e, reason):
    with pytest.raises(Unsupported) as err:
        prog(e)
    assert str(err.value) == reason


def test_the_unsupported_nodes_are_a_table():
    assert set(conditions.UNSUPPORTED) == {ir.Like, ir.InSubnet, ir.VersionCmp}
