"""Every generated statement is accepted by Flink's own planner, not only by our dialect:
the whole example job is created and its statement set EXPLAINed on the mini-cluster."""

import pytest

from deploy.embedded.runner import connector_substitution
from translator.pipeline import compile_paths

pytestmark = pytest.mark.flink


def test_every_example_statement_plans(flink_env, flink_database, tmp_path):
    compiled = compile_paths(["examples/monitors"])
    assert compiled.ok
    inputs = {}
    for name in compiled.job.source_tables.values():
        f = tmp_path / f"{name}.jsonl"
        f.write_text("")
        inputs[name] = str(f)
    *ddl, statement_set = compiled.statements()
    for stmt in ddl:
        flink_env.execute_sql(connector_substitution(stmt, inputs, str(tmp_path)))
    assert statement_set.startswith("EXECUTE STATEMENT SET")
    with flink_env.execute_sql("EXPLAIN " + statement_set).collect() as rows:
        plan = "".join(row[0] for row in rows)
    # one alert INSERT per pipeline and one dead-letter INSERT per source table
    assert plan.count("Sink(table=[default_catalog.") >= len(compiled.job.source_tables)
    assert "TemporalJoin" in plan and "WindowAggregate" in plan and "PythonGroupAggregate" in plan
