"""Every example monitor's trigger and recover conditions as its windows function judges them
(translator/flink/conditions.py -> udfs/jvm Condition) against the SQL that judged them before,
on the engine, row for row, over measures and parameters drawn at random from values that sit
on and around the examples' thresholds (NULLs, zeros, negatives, fractions) (style rule 9).

The SQL is the one expressions.to_exp writes for the condition, with each measure inlined as the
job defines it over the windows function's numeric outputs `nv` (codegen._measure_sql): what the
judged view computed from `nql_n`, minus the round trip through DOUBLE, which is exact for the
integers a window counts."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlglot import exp

from nql_flink.translator.flink import codegen
from nql_flink.translator.flink.dialect import to_sql
from nql_flink.translator.flink.expressions import to_exp
from nql_flink.translator.pipeline import compile_paths
from nql_flink.translator.semantic.schema import load_catalog

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "monitors").glob("*.yaml"))
NUMBERS = [None, 0.0, 1.0, -1.0, 0.5, -2.7, 2.0, 3.0, 5.0, 7.9, 99.5, 100.0, 250.0, 299.9, 300.0, 300.1, 1e6]
ROWS = 60


def _judged():
    """(name, outputs, params, [(program, SQL)] for trigger, recover and `having` if any) of
    every example pipeline its windows function judges."""
    catalog = load_catalog()
    out = []
    for path in EXAMPLES:
        c = compile_paths([str(path)])
        assert c.ok, path
        for p in codegen.pipelines(c.lowered):
            x = codegen._prepare(p, catalog)
            if not x.programs:
                continue
            defs = codegen._measure_sql(x)

            def param(name: str) -> exp.Expression:
                return exp.Bracket(this=exp.column("params"), expressions=[exp.Literal.string(name)])

            judged = [p.evaluate.trigger, p.evaluate.recover]
            programs = list(x.programs)
            if x.having:       # the monitor's `having`, judged there too (an evaluation only where TRUE)
                judged.append(p.evaluate.input.having)
                programs.append(x.having)
            sqls = [codegen._inline(to_sql(to_exp(cond, param=param)), defs) for cond in judged]
            # the shape's numeric outputs: every aggregate but min / max / last of strings
            outputs = sum(1 for kind, lane, _, _ in x.shape.lanes.entries if lane == "n" or kind == "distinct")
            names = sorted(name for name, _ in p.evaluate.params)  # the monitor's config parameters
            out.append((p.name, outputs, names, list(zip(programs, sqls))))
    return out


JUDGED = _judged()


def test_most_examples_are_judged_by_their_windows_function():
    # the examples' plain threshold monitors (regrouped and detection ones keep their own path)
    assert len(JUDGED) >= 9, [j[0] for j in JUDGED]


def _double(v) -> str:
    return "CAST(NULL AS DOUBLE)" if v is None else f"CAST({v!r} AS DOUBLE)"


@pytest.mark.parametrize("judged", JUDGED, ids=lambda j: j[0])
def test_programs_judge_as_the_sql(flink_env, judged):
    name, outputs, params, conditions = judged
    rnd = random.Random(name)
    rows = []
    for i in range(ROWS):
        nv = "ARRAY[" + ", ".join(_double(rnd.choice(NUMBERS)) for _ in range(outputs)) + "]"
        given = [(k, rnd.choice(NUMBERS)) for k in params if rnd.random() > 0.15]  # some keys missing
        if i == 0 or not given:
            config = "CAST(NULL AS MAP<STRING, DOUBLE>)"
        else:
            config = "MAP[" + ", ".join(f"'{k}', {_double(v)}" for k, v in given) + "]"
        rows.append(f"({i}, {nv}, {config})")
    flink_env.execute_sql("CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS nql_condition_eval "
                          "AS 'dev.nqlflink.udfs.ConditionEval' LANGUAGE JAVA")
    columns = []
    for k, (program, sql) in enumerate(conditions):
        columns += [f"{sql} AS sql_{k}", f"nql_condition_eval({codegen.lit(program)}, `nv`, `params`) AS program_{k}"]
    query = (f"SELECT `id`, {', '.join(columns)} FROM (VALUES {', '.join(rows)}) AS `t`(`id`, `nv`, `params`)")
    with flink_env.execute_sql(query).collect() as result:
        got = sorted(tuple(r) for r in result)
    assert len(got) == ROWS
    differ = [(r[0], k, r[1 + 2 * k], r[2 + 2 * k]) for r in got for k in range(len(conditions))
              if r[1 + 2 * k] != r[2 + 2 * k]]
    assert not differ, (conditions, differ[:5])
    # the draw reaches every outcome somewhere (else the comparison proves little)
    assert {r[1] for r in got} >= {True, False}, conditions
