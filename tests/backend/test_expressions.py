"""The mapping of IR scalars to Flink SQL (translator/flink/expressions.py), one rule each.
Expected SQL written by hand from docs/nql-dialect.md: strings compare case-insensitively,
wildcards are LIKE patterns with `\\` as escape, subnets and version order call the
project's Java functions, division is in DOUBLE. (Each mapping runs on Flink in
tests/flink/test_semantics.py and test_compiled_features.py.)"""

import pytest

from nql_flink.translator.flink.dialect import to_sql
from nql_flink.translator.flink.expressions import qualified, to_exp
from nql_flink.translator.ir import relational as ir
from sqlglot import exp

S = ir.Col("pool", "string")
N = ir.Col("latency", "duration")


def sql(e, **kw) -> str:
    return to_sql(to_exp(e, **kw))


def test_string_equality_ignores_case_on_both_sides():
    assert sql(ir.Cmp("=", S, ir.Lit("Finance-Win11", "string"))) == "(LOWER(`pool`) = 'finance-win11')"


def test_numbers_compare_as_they_are():
    assert sql(ir.Cmp(">=", N, ir.Lit(300, "duration"))) == "(`latency` >= 300)"


def test_wildcard_is_a_lowered_like_with_backslash_escape():
    assert sql(ir.Like(S, "fin%\\_%", False)) == "(LOWER(`pool`) LIKE 'fin%\\_%' ESCAPE '\\')"


def test_negated_wildcard():
    assert sql(ir.Like(S, "%Dev", True)) == "(NOT (LOWER(`pool`) LIKE '%dev' ESCAPE '\\'))"


def test_string_in_list_lowers_the_values():
    e = ir.InList(S, (ir.Lit("A", "string"), ir.Lit("b", "string")), True)
    assert sql(e) == "(NOT LOWER(`pool`) IN ('a', 'b'))"


def test_number_in_list():
    assert sql(ir.InList(N, (ir.Lit(1, "duration"), ir.Lit(2, "duration")), False)) == "(`latency` IN (1, 2))"


def test_subnet_calls_the_java_function():
    e = ir.InSubnet(ir.Col("client_ip", "string"), "10.20.0.0", 16, False)
    assert sql(e) == "(nql_ip_in_subnet(`client_ip`, '10.20.0.0', 16))"


def test_outside_a_subnet():
    e = ir.InSubnet(ir.Col("client_ip", "string"), "f164::", 32, True)
    assert sql(e) == "(NOT nql_ip_in_subnet(`client_ip`, 'f164::', 32))"


def test_version_order_compares_the_java_function_with_zero():
    e = ir.VersionCmp("<", ir.Col("binary_version", "string"), ir.Lit("16.0.17000", "string"))
    assert sql(e) == "(nql_version_compare(`binary_version`, '16.0.17000') < 0)"


def test_null_tests():
    assert sql(ir.IsNull(S, False)) == "`pool` IS NULL"
    assert sql(ir.IsNull(S, True)) == "(NOT `pool` IS NULL)"


def test_and_or_not_are_parenthesised():
    a, b = ir.Cmp(">", N, ir.Lit(1, "duration")), ir.Cmp("<", N, ir.Lit(9, "duration"))
    e = ir.Bool("NOT", (ir.Bool("OR", (a, ir.Bool("AND", (a, b)))),))
    assert sql(e) == "(NOT ((`latency` > 1) OR ((`latency` > 1) AND (`latency` < 9))))"


def test_division_is_in_double():
    e = ir.Arith("/", ir.Col("total", "int"), ir.Col("devices", "int"), "float")
    assert sql(e) == "(CAST(`total` AS DOUBLE) / `devices`)"


def test_literals():
    assert sql(ir.Lit(True, "bool")) == "TRUE"
    assert sql(ir.Lit(None, "string")) == "NULL"
    assert sql(ir.Lit(0.5, "float")) == "0.5"
    assert sql(ir.Lit("it's", "string")) == "'it''s'"


def test_parameters_and_qualified_columns():
    param = lambda name: exp.Bracket(this=exp.column("params", table="c"), expressions=[exp.Literal.string(name)])  # noqa: E731
    e = ir.Cmp(">", N, ir.Param("trigger_1"))
    assert sql(e, col=qualified("v"), param=param) == "(`v`.`latency` > `c`.`params`['trigger_1'])"


def test_a_parameter_outside_a_condition_is_refused():
    with pytest.raises(ValueError):
        sql(ir.Cmp(">", N, ir.Param("trigger_1")))
