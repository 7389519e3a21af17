"""Every generated statement is accepted by Flink's own planner, not only by our dialect:
the whole example job is created and its statement set EXPLAINed on the mini-cluster."""

import re

import pytest

from nql_flink.translator.pipeline import compile_paths

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
    population, yet the execution plan reads each raw line (events, the inventory and the
    monitor config alike) in one Calc per source, right
    under its watermark assigner, by nql_read alone: no JSON function parses the line
    anywhere else (Flink does not reuse a repeated JSON_VALUE within a Calc, so a JSON_VALUE
    per field parsed each line once per field). That Calc calls nql_read twice, for the record
    and for the rowtime (a computed column cannot read another one), on the same line with
    the same schema: the function keeps its last row, so the line is parsed once."""
    compiled = compile_paths(["examples/monitors", "examples/seasonal"])
    assert compiled.ok
    plan = explain_plan(compiled)
    execution = plan[plan.index("== Optimized Execution Plan =="):]
    raw_tables = list(compiled.job.source_tables.values())
    assert len(raw_tables) >= 3 and "src_monitor_config" in raw_tables
    for reading_the_line in ("JSON_VALUE(line", "JSON_QUERY(line", "line IS JSON", "ENCODE(line"):
        assert reading_the_line not in execution, reading_the_line
    lines = execution.splitlines()
    reading = [i for i, ln in enumerate(lines) if "nql_read(" in ln]
    # the inventory's versions are read once more after their order function (udfs/jvm
    # VersionOrder passes the line through, not the fields): one Calc over its output
    again = [i for i in reading if "nql_version_order(" in lines[i + 1]]
    assert len(again) == 1, [lines[i:i + 2] for i in reading]
    assert lines[again[0]].count("nql_read(") == 1
    reading = [i for i in reading if i not in again]
    assert len(reading) == len(raw_tables), reading
    for i in reading:
        calls = re.findall(r"nql_read\(line, '[^']*'\)", lines[i])
        assert len(calls) == 2 and calls[0] == calls[1], lines[i]
        assert "AS nql_rec" in lines[i] and "WatermarkAssigner(" in lines[i - 1], lines[i - 1:i + 1]
    assert execution.count("WatermarkAssigner(") == len(compiled.job.source_tables)  # one per source


def test_embedded_runs_use_the_planner_options_the_generated_script_sets():
    """The generated SET lines are dropped for embedded runs (the runner has its own session
    options): the ones that shape the plan must be the same there."""
    from nql_flink.deploy.embedded.runner import DEFAULT_CONFIG
    from nql_flink.translator.flink.codegen import CompileOptions, session_options

    generated = session_options(CompileOptions())
    for key in ("table.exec.uid.generation", "table.optimizer.reuse-optimize-block-with-digest-enabled",
                "table.local-time-zone", "pipeline.object-reuse"):
        assert DEFAULT_CONFIG[key] == generated[key], key
