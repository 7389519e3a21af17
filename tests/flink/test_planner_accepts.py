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
    assert "TemporalJoin" in plan and "WindowAggregate" in plan and "nql_alert_states(" in plan


def test_every_golden_case_plans(explain_plan):
    """The golden cases (every literal kind and operator, devices shorthand, include, IPs
    and bytes) pass check, so they must compile and pass Flink's planner too."""
    compiled = compile_paths(["tests/golden/cases"])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    assert len(compiled.result.monitors) == 4
    plan = explain_plan(compiled)
    assert plan.count("nql_alert_states(") >= 1 and "nql_ip_in_subnet(" in plan and "nql_version_compare(" in plan


def test_each_raw_line_is_parsed_once_whatever_reads_it(explain_plan):
    """The event table feeds the dead-letter INSERT, several monitors and the impact
    population, yet the execution plan parses each of its fields once: one shared parsing
    Calc per raw-line source (Flink does not reuse a repeated JSON_VALUE within a Calc, so a
    copy per consumer parsed each line again for every field)."""
    compiled = compile_paths(["examples/monitors", "examples/seasonal"])
    assert compiled.ok
    plan = explain_plan(compiled)
    execution = plan[plan.index("== Optimized Execution Plan =="):]
    raw_tables = [t for t in compiled.job.source_tables.values() if t != "src_monitor_config"]
    assert len(raw_tables) >= 2
    parsing = [ln for ln in execution.splitlines() if "JSON_VALUE(line, '$.tenant') AS tenant" in ln]
    assert len(parsing) == len(raw_tables), parsing
    assert execution.count("WatermarkAssigner(") == len(compiled.job.source_tables)  # one per source


def test_embedded_runs_use_the_planner_options_the_generated_script_sets():
    """The generated SET lines are dropped for embedded runs (the runner has its own session
    options): the ones that shape the plan must be the same there."""
    from deploy.embedded.runner import DEFAULT_CONFIG
    from translator.flink.codegen import CompileOptions, session_options

    generated = session_options(CompileOptions())
    for key in ("table.exec.uid.generation", "table.optimizer.reuse-optimize-block-with-digest-enabled",
                "table.local-time-zone"):
        assert DEFAULT_CONFIG[key] == generated[key], key
