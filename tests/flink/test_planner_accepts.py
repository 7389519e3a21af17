"""Every generated statement is accepted by Flink's own planner, not only by our dialect:
the whole example job is created and its statement set EXPLAINed on the mini-cluster."""

import pytest

from translator.pipeline import compile_paths

pytestmark = pytest.mark.flink


def test_every_example_statement_plans(explain_plan):
    compiled = compile_paths(["examples/monitors"])
    assert compiled.ok
    plan = explain_plan(compiled)
    # one alert INSERT per pipeline and one dead-letter INSERT per source table
    assert plan.count("Sink(table=[default_catalog.") >= len(compiled.job.source_tables)
    assert "TemporalJoin" in plan and "WindowAggregate" in plan and "PythonGroupAggregate" in plan
