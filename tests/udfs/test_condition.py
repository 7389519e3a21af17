"""A monitor's trigger/recover condition as data (udfs/jvm `Condition`, docs/sharing.md "Judging
in the windows function", step 2): a program's value is the one SQL gives the expression it
stands for. Each expected value below is written from SQL's rules, not read off the program:

- three-valued logic: AND is FALSE if either side is, else NULL if either is; OR the mirror;
  NOT NULL is NULL; IS [NOT] NULL and boolean literals are never NULL;
- a comparison or arithmetic with a NULL operand is NULL; BIGINTs compare and compute as longs
  (exact beyond 2^53, wrapping around as Flink's generated Java), a BIGINT with a DOUBLE as
  doubles; NaN equals, orders before and after nothing (<> NaN is TRUE); x / 0.0 is Infinity;
- CAST(DOUBLE AS BIGINT) truncates toward zero, NaN gives 0, out of range saturates;
- x IN (v...) is x = v1 OR ...: NULL when nothing matches and x or some v is NULL;
- a measure beyond the window's outputs, a parameter absent, NULL, or without any params is NULL;

and as Flink evaluates the SQL once Calcite has simplified it, which differs from the rules
above only when a DOUBLE is NaN or a BIGINT is looked up in a list of DOUBLEs (each rewrite was
seen on the engine, and test_programs_and_their_sql_agree_on_flink checks it there):

- NOT (a < b) is a >= b (each order comparison the other way round), NOT goes through AND and OR
  by De Morgan: NOT (NaN > 5) is FALSE, and a monitor's default recover is NOT (trigger);
- x = x, x <= x, x >= x are x IS NOT NULL OR NULL, and x <> x, x < x, x > x are x IS NULL AND
  NULL, whatever x's value (NaN = NaN is TRUE here, but FALSE for two NaNs of other expressions),
  x + 0, 0 + x, x - 0, x * 1, 1 * x and x / 1 being x itself;
- x IN (v...) casts each v to x's type: CAST(0 AS BIGINT) IN (0.5E0) is TRUE.

Programs that are not one BOOLEAN expression are refused at parse, naming the token.

Two rewrites are not followed (found by comparing random programs with their SQL on the
engine): Calcite merges comparisons of one operand that cannot be NULL (a COALESCE) with
literals into ranges, so x < 5 OR x >= 5 is TRUE even for a NaN x (the program: FALSE); and it
folds a division of two literals by zero at planning, where the job fails (the program:
Infinity or NaN)."""

from __future__ import annotations

import json
import math

import pytest

from tests.udfs.java_check import run_java_check

MAX, MIN = 2**63 - 1, -(2**63)
NAN, INF = math.nan, math.inf
T, F, N = "TRUE", "FALSE", "NULL"
TRIG = {"trigger_1": 300.0, "trigger_2": 5.0}

# (program, nv, params, expected)
CASES = [
    # literals
    ("true", [], None, T),
    ("false", [], None, F),
    ("isnull null", [], None, T),
    ("notnull null", [], None, F),
    ("eq null #1", [], None, N),
    ("eq null null", [], None, N),
    # AND / OR / NOT truth tables
    *[(f"and {a} {b}", [], None, want) for a, b, want in [
        ("true", "true", T), ("true", "false", F), ("true", "null", N),
        ("false", "true", F), ("false", "false", F), ("false", "null", F),
        ("null", "true", N), ("null", "false", F), ("null", "null", N)]],
    *[(f"or {a} {b}", [], None, want) for a, b, want in [
        ("true", "true", T), ("true", "false", T), ("true", "null", T),
        ("false", "true", T), ("false", "false", F), ("false", "null", N),
        ("null", "true", T), ("null", "false", N), ("null", "null", N)]],
    ("not true", [], None, F),
    ("not false", [], None, T),
    ("not null", [], None, N),
    ("not gt n0 #0", [None], None, N),
    # the same with NULLs from the data, either side
    ("and gt n0 #0 lt n1 #0", [None, -1.0], None, N),
    ("and gt n0 #0 lt n1 #0", [None, 1.0], None, F),
    ("and lt n1 #0 gt n0 #0", [None, 1.0], None, F),
    ("or gt n0 #0 lt n1 #0", [None, -1.0], None, T),
    ("or lt n1 #0 gt n0 #0", [None, -1.0], None, T),
    ("or gt n0 #0 lt n1 #0", [None, 1.0], None, N),
    ("notnull and null false", [], None, T),
    ("isnull or null false", [], None, T),
    ("isnull gt n0 #1", [None], None, T),
    # the window's outputs
    ("gt n0 %1.5", [2.0], None, T),
    ("gt n0 %1.5", [1.5], None, F),
    ("gt n0 %1.5", [None], None, N),
    ("gt n1 %1.5", [0.0, 2.0], None, T),
    ("isnull n3", [1.0], None, T),
    ("gt n3 #0", [1.0], None, N),
    ("isnull n0", None, None, T),
    ("notnull n0", [1.0], None, T),
    # parameters
    ("eq $t %2.0", [], {"t": 2.0}, T),
    ("eq $t %2.0", [], {"t": 3.0}, F),
    ("eq $t %2.0", [], {}, N),
    ("eq $t %2.0", [], {"t": None}, N),
    ("eq $t %2.0", [], None, N),
    ("isnull $t", [], None, T),
    ("notnull $T_2", [], {"T_2": 0.0}, T),
    ("isnull $t", [], {"u": 1.0}, T),
    # comparisons: BIGINT with BIGINT as longs (2^53 + 1 and 2^53 differ)
    ("lt #3 #5", [], None, T),
    ("gt #3 #5", [], None, F),
    ("le #5 #5", [], None, T),
    ("ge #4 #5", [], None, F),
    ("eq #5 #5", [], None, T),
    ("ne #5 #5", [], None, F),
    ("eq #9007199254740993 #9007199254740992", [], None, F),
    ("gt #9007199254740993 #9007199254740992", [], None, T),
    ("lt #-3 #2", [], None, T),
    # BIGINT with DOUBLE as doubles (2^53 + 1 widens to 2^53)
    ("lt #2 %2.5", [], None, T),
    ("eq #2 %2.0", [], None, T),
    ("gt %2.5 #2", [], None, T),
    ("eq #9007199254740993 %9007199254740992.0", [], None, T),
    ("ge n0 #3", [3.0], None, T),
    ("lt n0 #1", [None], None, N),
    ("ge #1 $x", [], {}, N),
    # NaN: not equal to, less or greater than anything, another NaN included
    ("eq n0 n1", [NAN, NAN], None, F),
    ("ne n0 n1", [NAN, NAN], None, T),
    ("ne n0 %1.0", [NAN], None, T),
    ("lt n0 %1.0", [NAN], None, F),
    ("gt n0 %1.0", [NAN], None, F),
    ("le n0 %1.0", [NAN], None, F),
    ("ge n0 %1.0", [NAN], None, F),
    ("eq n0 %NaN", [NAN], None, F),
    ("gt n0 %1e308", [INF], None, T),
    ("lt n0 %-1e308", [-INF], None, T),
    # BOOLEANs: eq and ne only
    ("eq true true", [], None, T),
    ("eq true false", [], None, F),
    ("ne true false", [], None, T),
    ("ne false false", [], None, F),
    ("eq true null", [], None, N),
    ("eq gt n0 #0 gt n1 #0", [1.0, 2.0], None, T),
    ("ne gt n0 #0 gt n1 #0", [1.0, -2.0], None, T),
    ("eq gt n0 #0 gt n1 #0", [1.0, None], None, N),
    # CAST AS BIGINT: toward zero, NaN 0, saturated; NULL stays
    ("eq l n0 #-2", [-2.7], None, T),
    ("eq l n0 #2", [2.7], None, T),
    ("eq l n0 #0", [NAN], None, T),
    ("eq l n0 #0", [-0.5], None, T),
    (f"eq l n0 #{MAX}", [1e30], None, T),
    (f"eq l n0 #{MIN}", [-INF], None, T),
    ("isnull l n0", [None], None, T),
    ("isnull l null", [], None, T),
    ("eq l #7 #7", [], None, T),
    ("ge l n1 #5", [0.0, 5.99], None, T),
    ("ge l n1 #5", [0.0, 4.99], None, F),
    # CAST AS DOUBLE: the arithmetic is then a double's
    ("eq d #3 %3.0", [], None, T),
    (f"eq mul d #{MAX} #2 %1.8446744073709552e19", [], None, T),
    ("isnull d null", [], None, T),
    ("isnull d n0", [None], None, T),
    # arithmetic
    ("eq add #2 #3 #5", [], None, T),
    ("eq sub #2 #3 #-1", [], None, T),
    ("eq mul #4 #3 #12", [], None, T),
    ("eq add #1 %0.5 %1.5", [], None, T),
    ("eq sub n0 n1 %-1.5", [1.0, 2.5], None, T),
    ("eq mul n0 #3 %7.5", [2.5], None, T),
    ("eq add #9007199254740992 #1 #9007199254740993", [], None, T),
    # BIGINT wraps around as Java's long
    (f"eq mul #{MAX} #2 #-2", [], None, T),
    (f"eq add #{MAX} #1 #{MIN}", [], None, T),
    (f"eq sub #{MIN} #1 #{MAX}", [], None, T),
    ("lt mul l n0 #2 #0", [9.3e18], None, T),   # saturated to 2^63 - 1, then doubled: -2
    ("eq mul l n0 #2 #-2", [9.3e18], None, T),
    # division: always a double's (7 / 2 = 3.5), x / 0 is +-Infinity or NaN, never an error
    ("eq div #7 #2 %3.5", [], None, T),
    ("gt div n0 n1 %1e308", [1.0, 0.0], None, T),
    ("lt div n0 n1 %-1e308", [-1.0, 0.0], None, T),
    ("gt div #1 #0 %1e308", [], None, T),
    ("isnull div n0 n1", [0.0, 0.0], None, F),
    ("ne div n0 n1 div %0.0 n1", [0.0, 0.0], None, T),
    ("eq div n0 #4 %0.25", [1.0], None, T),
    # NULL operands
    ("isnull add n0 #1", [None], None, T),
    ("isnull add #1 n0", [None], None, T),
    ("isnull sub null #1", [], None, T),
    ("isnull mul #1 $k", [], {}, T),
    ("isnull div n0 %0.0", [None], None, T),
    ("isnull div %1.0 n0", [None], None, T),
    ("gt add n0 $t #0", [1.0], {"t": None}, N),
    # COALESCE(x, 0)
    ("eq nzl l n0 #0", [None], None, T),
    ("eq nzl l n0 #3", [3.9], None, T),
    ("notnull nzl null", [], None, T),
    ("eq nzl null #0", [], None, T),
    ("eq nzl n0 %2.5", [2.5], None, T),
    ("eq nzl n0 #0", [None], None, T),
    ("eq nzd n0 %0.0", [None], None, T),
    ("eq nzd $t %2.5", [], {"t": 2.5}, T),
    ("eq nzd $t %0.0", [], None, T),
    ("eq nzd #7 %7.0", [], None, T),
    ("eq add nzl l n0 #1 #1", [None], None, T),
    # IN / NOT IN
    ("in3 n0 #1 #2 #3", [2.0], None, T),
    ("in3 n0 #1 #2 #3", [4.0], None, F),
    ("in3 n0 #1 #2 #3", [None], None, N),
    ("in2 n0 #1 null", [1.0], None, T),
    ("in2 n0 #1 null", [2.0], None, N),
    ("in2 n0 null #1", [1.0], None, T),
    ("in2 n0 #1 $t", [2.0], {}, N),
    ("in2 n0 #1 $t", [2.0], {"t": 2.0}, T),
    ("in2 n0 #1 $t", [2.0], {"t": 3.0}, F),
    ("in1 l n0 #-2", [-2.9], None, T),
    ("in2 n0 n1 #1", [NAN, NAN], None, F),
    ("in2 #9007199254740993 #9007199254740992 #1", [], None, F),
    ("in2 true false true", [], None, T),
    ("in1 true false", [], None, F),
    ("in1 null #1", [], None, N),
    ("notin3 n0 #1 #2 #3", [4.0], None, T),
    ("notin3 n0 #1 #2 #3", [2.0], None, F),
    ("notin3 n0 #1 #2 #3", [None], None, N),
    ("notin2 n0 #1 null", [2.0], None, N),
    ("notin2 n0 #1 null", [1.0], None, F),
    ("notin1 n0 $t", [1.0], None, N),
    # IN casts each value to the type of what it looks up (Calcite): a DOUBLE to BIGINT truncates
    ("in1 #0 n0", [0.5], None, T),
    ("in1 #0 n0", [NAN], None, T),
    ("eq #0 n0", [0.5], None, F),           # = widens the BIGINT instead
    ("in1 n0 #0", [0.5], None, F),          # a BIGINT value for a DOUBLE: widened
    ("in2 l n0 %2.5 #7", [2.9], None, T),   # 2 IN (2, 7)
    ("notin1 #0 n0", [NAN], None, F),
    ("in1 #0 n0", [None], None, N),
    # NOT as Flink evaluates it: Calcite rewrites NOT (a < b) to a >= b, and pushes NOT through
    # AND / OR (De Morgan), so with a NaN the NOT of a FALSE order comparison is FALSE
    ("not gt n0 #5", [NAN], None, F),
    ("not gt n0 #5", [1.0], None, T),
    ("not lt n0 n1", [1.0, NAN], None, F),
    ("not le n0 #5", [NAN], None, F),
    ("not ge n0 #5", [NAN], None, F),
    ("not eq n0 #5", [NAN], None, T),        # NaN <> 5
    ("not ne n0 #5", [NAN], None, F),        # NaN = 5
    ("not not gt n0 #5", [NAN], None, F),
    ("not and ge n0 #5 le n0 #10", [NAN], None, F),   # n0 < 5 OR n0 > 10
    ("not or gt n0 #5 lt n0 #1", [NAN], None, F),     # n0 <= 5 AND n0 >= 1
    ("not or gt n0 #5 lt n0 #1", [3.0], None, T),
    ("not and gt n0 #5 true", [NAN], None, F),       # n0 <= 5 OR FALSE
    ("not in2 n0 #1 #2", [NAN], None, T),            # n0 <> 1 AND n0 <> 2
    ("notin2 n0 #1 #2", [NAN], None, T),
    ("not isnull n0", [NAN], None, T),
    ("not notnull n0", [None], None, T),
    ("not eq gt n0 #5 true", [NAN], None, T),        # (n0 > 5) <> TRUE
    # a comparison of an expression with itself, as Calcite decides it: x = x (<=, >=) is
    # x IS NOT NULL OR NULL, x <> x (<, >) is x IS NULL AND NULL, whatever x's value, NaN too
    ("eq n0 n0", [NAN], None, T),
    ("ne n0 n0", [NAN], None, F),
    ("le n0 n0", [NAN], None, T),
    ("lt n0 n0", [NAN], None, F),
    ("ge n0 n0", [2.0], None, T),
    ("gt n0 n0", [2.0], None, F),
    ("eq n0 n0", [None], None, N),
    ("ne n0 n0", [None], None, N),
    ("not eq n0 n0", [NAN], None, F),
    ("ne div n0 n1 div n0 n1", [0.0, 0.0], None, F),
    ("eq d n0 n0", [NAN], None, T),          # CAST(x AS DOUBLE) of a DOUBLE is x itself
    ("eq l l n0 l n0", [NAN], None, T),
    ("eq %5.0 %5.00", [], None, T),
    ("in2 n0 n0 #1", [NAN], None, T),        # x IN (x, 1) is x = x OR x = 1
    ("notin2 n0 #1 n0", [NAN], None, F),
    ("eq gt n0 #1 gt n0 #1", [None], None, N),
    ("eq $t $t", [], {"t": NAN}, T),
    # x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1 are x to Calcite, so compared with x, itself
    ("ne n0 sub n0 #0", [NAN], None, F),
    ("eq n0 add %0.0 n0", [NAN], None, T),
    ("eq n0 add n0 %-0.0", [NAN], None, T),
    ("eq mul #1 n0 n0", [NAN], None, T),
    ("eq n0 div n0 %1.0", [NAN], None, T),
    ("eq d l n0 add l n0 %0.0", [NAN], None, T),  # CAST(l n0 AS DOUBLE), but no NaN in a BIGINT anyway
    ("eq add n0 #0 add %0.0 n0", [NAN], None, T),
    ("eq n0 add n0 %1.0", [NAN], None, F),      # not an identity
    ("ne n0 sub #0 n0", [NAN], None, T),        # 0 - x is not x
    ("eq n0 mul n0 #0", [NAN], None, F),
    # a realistic condition: avg > trigger_1 and CAST(count AS BIGINT) >= trigger_2
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [350.0, 5.9], TRIG, T),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [350.0, 4.9], TRIG, F),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [300.0, 9.0], TRIG, F),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [250.0, None], TRIG, F),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [350.0, None], TRIG, N),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [NAN, 9.0], TRIG, F),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [350.0, 9.0], {"trigger_1": 300.0}, N),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [250.0, 9.0], {"trigger_1": 300.0}, F),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [350.0, 9.0], None, N),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2", [350.0], TRIG, N),
    # its default recover condition, NOT (trigger): n0 <= trigger_1 OR CAST(n1 AS BIGINT) < trigger_2
    ("not and gt n0 $trigger_1 ge l n1 $trigger_2", [250.0, 9.0], TRIG, T),
    ("not and gt n0 $trigger_1 ge l n1 $trigger_2", [350.0, 9.0], TRIG, F),
    ("not and gt n0 $trigger_1 ge l n1 $trigger_2", [NAN, 9.0], TRIG, F),
    ("not and gt n0 $trigger_1 ge l n1 $trigger_2", [NAN, 4.0], TRIG, T),
    ("not and gt n0 $trigger_1 ge l n1 $trigger_2", [NAN, None], TRIG, N),
    ("not and gt n0 $trigger_1 ge l n1 $trigger_2", [250.0, None], TRIG, T),
]

# (program, what the message must name) for programs refused at parse
ERRORS = [
    ("", "empty"),
    ("foo", "'foo' at token 0"),
    ("gt n0 foo", "'foo' at token 2"),
    ("nz n0", "'nz' at token 0"),
    ("in n0 #1", "'in' at token 0"),
    ("nx", "'nx' at token 0"),
    ("gt n0", "'gt' at token 0"),
    ("and true", "'and' at token 0"),
    ("in2 n0 #1", "'in2' at token 0"),
    ("not", "'not' at token 0"),
    ("true false", "'false' at token 1"),
    ("gt n0 #1 #2", "'#2' at token 3"),
    ("eq #1x #1", "'#1x' at token 1"),
    ("eq # #1", "'#' at token 1"),
    (f"eq #{MAX + 1} #1", f"'#{MAX + 1}' at token 1"),
    ("gt %abc #1", "'%abc' at token 1"),
    ("gt %inf #1", "'%inf' at token 1"),
    ("gt n99999999999 #1", "'n99999999999' at token 1"),
    ("in0 n0", "'in0' at token 0"),
    ("notin0 n0", "'notin0' at token 0"),
    ("gt $a-b #1", "'$a-b' at token 1"),
    ("gt $ #1", "'$' at token 1"),
    ("gt $é #1", "'$é' at token 1"),
    ("add n0 #1", "'add' at token 0"),
    ("n0", "'n0' at token 0"),
    ("null", "'null' at token 0"),
    ("l n0", "'l' at token 0"),
    ("and n0 true", "'n0' at token 1"),
    ("not #1", "'#1' at token 1"),
    ("add true #1", "'true' at token 1"),
    ("l false", "'false' at token 1"),
    ("eq true #1", "'eq' at token 0"),
    ("in2 n0 #1 true", "'in2' at token 0"),
    ("lt true false", "'lt' at token 0"),
    ("gt  n0 #1", "'' at token 1"),
    ("gt n0 #1 ", "'' at token 3"),
]


def _double(x) -> str:
    if x is None:
        return "null"
    if math.isnan(x):
        return "Double.NaN"
    if math.isinf(x):
        return "Double.POSITIVE_INFINITY" if x > 0 else "Double.NEGATIVE_INFINITY"
    return repr(float(x))


def _java(program, nv, params) -> str:
    array = "null" if nv is None else "new Double[] {" + ", ".join(map(_double, nv)) + "}"
    if params is None:
        m = "null"
    else:
        m = "m(" + ", ".join(f"{json.dumps(k)}, {_double(v)}" for k, v in params.items()) + ")"
    return f"{json.dumps(program)}, {array}, {m}"


def check_source() -> str:
    cases = "\n".join(f"        c({_java(*case[:3])});" for case in CASES)
    errors = "\n".join(f"        e({json.dumps(program)});" for program, _ in ERRORS)
    return r"""
package dev.nqlflink.udfs;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

public class ConditionCheck {
    static Map<String, Double> m(Object... kv) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            out.put((String) kv[i], (Double) kv[i + 1]);
        }
        return out;
    }

    static String show(Boolean b) {
        return b == null ? "NULL" : b ? "TRUE" : "FALSE";
    }

    static void c(String program, Double[] nv, Map<String, Double> params) {
        System.out.println("case " + show(Condition.parse(program).eval(nv, params)));
    }

    static void e(String program) {
        try {
            Condition.parse(program);
            System.out.println("error none");
        } catch (IllegalArgumentException ex) {
            System.out.println("error " + ex.getMessage());
        }
    }

    public static void main(String[] args) throws Exception {
""" + cases + "\n" + errors + r"""
        Condition c = Condition.parse("and gt n0 $trigger_1 ge l n1 $trigger_2");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        Condition back = (Condition) new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())).readObject();
        System.out.println("text " + back.text() + " | " + back);
        Map<String, Double> params = m("trigger_1", 300.0, "trigger_2", 5.0);
        System.out.println("serialized " + show(back.eval(new Double[] {350.0, 5.0}, params)));
    }
}
"""


def test_programs_evaluate_as_sql_and_bad_ones_are_refused(tmp_path):
    out = run_java_check(tmp_path, "ConditionCheck", check_source()).splitlines()
    assert len(out) == len(CASES) + len(ERRORS) + 2
    wrong = [(program, nv, params, want, got) for (program, nv, params, want), got in zip(CASES, out)
             if got != f"case {want}"]
    assert not wrong, "\n".join(map(str, wrong))
    for (program, fragment), got in zip(ERRORS, out[len(CASES):]):
        assert got.startswith("error ") and got != "error none", (program, got)
        assert fragment in got, (program, got)
    assert out[-2:] == ["text and gt n0 $trigger_1 ge l n1 $trigger_2 | and gt n0 $trigger_1 ge l n1 $trigger_2",
                        "serialized TRUE"]


# (program, the SQL it stands for) over `nv` ARRAY<DOUBLE> (SQL indexes from 1) and `params`
ENGINE = [
    ("gt n0 $t", "nv[1] > params['t']"),
    ("isnull $t", "params['t'] IS NULL"),
    ("and gt n0 $trigger_1 ge l n1 $trigger_2",
     "(nv[1] > params['trigger_1']) AND (CAST(nv[2] AS BIGINT) >= params['trigger_2'])"),
    ("not and gt n0 $trigger_1 ge l n1 $trigger_2",
     "NOT ((nv[1] > params['trigger_1']) AND (CAST(nv[2] AS BIGINT) >= params['trigger_2']))"),
    ("not gt n0 #5", "NOT (nv[1] > 5)"),
    ("not or lt n0 $t isnull n1", "NOT ((nv[1] < params['t']) OR (nv[2] IS NULL))"),
    ("or lt n0 #0 isnull n1", "(nv[1] < 0) OR (nv[2] IS NULL)"),
    ("eq mul l n0 #2 #-2", "CAST(nv[1] AS BIGINT) * 2 = -2"),
    ("gt div n0 n1 %1e308", "CAST(nv[1] AS DOUBLE) / nv[2] > 1e308"),
    ("ne n0 n1", "nv[1] <> nv[2]"),
    ("eq n0 n0", "nv[1] = nv[1]"),
    ("not lt n0 n0", "NOT (nv[1] < nv[1])"),
    ("in2 n0 #1 $t", "nv[1] IN (1, params['t'])"),
    ("notin2 n0 %-2.7 $t", "nv[1] NOT IN (-2.7E0, params['t'])"),
    ("notin2 n0 %-2.7 null", "nv[1] NOT IN (-2.7E0, CAST(NULL AS DOUBLE))"),
    ("in1 l n0 n1", "CAST(nv[1] AS BIGINT) IN (nv[2])"),
    ("eq nzl l n0 #0", "COALESCE(CAST(nv[1] AS BIGINT), 0) = 0"),
    ("isnull n2", "nv[3] IS NULL"),
]

# read from a file, so that the SQL is evaluated per row as in a job (over VALUES the planner
# folds some of it into constants); "NaN" and "Infinity" are read as those numbers
ROWS = [
    {"nv": [350.0, 5.9, 1.0], "params": {"t": 300.0, "trigger_1": 300.0, "trigger_2": 5.0}},
    {"nv": [250.0, None], "params": {"t": 300.0, "trigger_1": 300.0, "trigger_2": 5.0}},
    {"nv": [350.0, None, None], "params": {"trigger_1": 300.0, "trigger_2": 5.0}},
    {"nv": ["NaN", 9.0, 2.0], "params": {"t": 1.0, "trigger_1": 300.0, "trigger_2": 5.0}},
    {"nv": ["NaN", 4.0], "params": {"t": None, "trigger_1": 300.0, "trigger_2": 5.0}},
    {"nv": ["NaN", "NaN", "NaN"], "params": {"t": "NaN", "trigger_2": 5.0}},
    {"nv": [-2.7, 0.0], "params": {"t": -2.0}},
    {"nv": [-2.7, -2.9], "params": None},
    {"nv": [9.3e18, 0.0], "params": {"t": 1e300}},
    {"nv": [1.0, 0.0], "params": {"t": 1.0}},
    {"nv": [-1.0, 0.0], "params": {}},
    {"nv": [0.0, 0.0], "params": {"t": 0.0}},
    {"nv": [None, "Infinity"], "params": {"t": 0.0}},
    {"nv": ["-Infinity", 7.0], "params": {"t": 5.0, "trigger_1": 5.0}},
    {"nv": [5.0], "params": {"t": 5.0}},
    {"nv": [], "params": {"t": 5.0}},
]


@pytest.mark.flink
def test_programs_and_their_sql_agree_on_flink(flink_env, flink_database, tmp_path):
    (tmp_path / "rows.json").write_text("".join(json.dumps({"id": i, **r}) + "\n" for i, r in enumerate(ROWS)))
    flink_env.execute_sql(f"CREATE TABLE rows_ (id INT, nv ARRAY<DOUBLE>, params MAP<STRING, DOUBLE>) WITH "
                          f"('connector' = 'filesystem', 'path' = '{tmp_path / 'rows.json'}', 'format' = 'json')")
    flink_env.execute_sql("CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS nql_condition_eval "
                          "AS 'dev.nqlflink.udfs.ConditionEval' LANGUAGE JAVA")
    columns = [c for k, (program, sql) in enumerate(ENGINE)
               for c in (f"({sql}) AS sql_{k}", f"nql_condition_eval('{program}', nv, params) AS program_{k}")]
    with flink_env.execute_sql(f"SELECT id, {', '.join(columns)} FROM rows_").collect() as result:
        got = {r[0]: r[1:] for r in (tuple(r) for r in result)}
    assert sorted(got) == list(range(len(ROWS)))
    differ = [(ROWS[i], program, sql, got[i][2 * k], got[i][2 * k + 1])
              for i in got for k, (program, sql) in enumerate(ENGINE) if got[i][2 * k] != got[i][2 * k + 1]]
    assert not differ, "\n".join(map(str, differ))
    # each program's SQL comes out TRUE, FALSE and NULL somewhere (else agreeing proves little),
    # bar what it never is: IS NULL and a COALESCE never NULL, x = x never FALSE, NOT IN a NULL never TRUE
    never = {"isnull $t": None, "isnull n2": None, "eq nzl l n0 #0": None, "eq n0 n0": False,
             "not lt n0 n0": False, "notin2 n0 %-2.7 null": True}
    for k, (program, _) in enumerate(ENGINE):
        seen = {got[i][2 * k] for i in got}
        assert seen == {True, False, None} - {never.get(program, "")}, (program, seen)
    # where Flink is not plain three-valued logic: a NaN (row 3)
    by_program = {program: [got[i][2 * k] for i in sorted(got)] for k, (program, _) in enumerate(ENGINE)}
    assert by_program["not gt n0 #5"][3] is False                                    # NOT (NaN > 5)
    assert by_program["not and gt n0 $trigger_1 ge l n1 $trigger_2"][3] is False     # the default recover
    assert by_program["eq n0 n0"][3] is True                                         # NaN = NaN, itself
    assert by_program["ne n0 n1"][5] is True                                         # NaN <> NaN, another
    assert by_program["in1 l n0 n1"][7] is True                                      # -2 IN (CAST(-2.9 AS BIGINT))
