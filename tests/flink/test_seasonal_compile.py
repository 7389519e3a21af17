"""Seasonal/change monitors compile (no NQL0601 any more) to the documented job shape, in
the same single statement set as threshold monitors, and Flink's planner accepts it: the
bundled seasonal example (inventory filter -> `keep`, the tenant's population from the
windows function, the seasonal state UDAF) plus a change monitor (its state UDAF keeps the
history), with threshold monitors alongside, EXPLAINed on the mini-cluster."""

import textwrap
from pathlib import Path

import pytest

from nql_flink.translator.pipeline import compile_paths

CHANGE = """
    id: crashes_change
    tenant: acme
    query: |
      execution.crashes during past 1h
      | summarize crashes = count() by binary.name
    every: 15min
    detection: {type: change, metric: crashes, change: 200%, direction: above, history: 2d}
    trigger: {when: crashes >= 3}
    recover: {when: crashes < 2}
    """


@pytest.fixture
def compiled(tmp_path):
    (tmp_path / "change.yaml").write_text(textwrap.dedent(CHANGE))
    c = compile_paths(["examples/seasonal", "examples/monitors/vdi_latency_by_pool.yaml", str(tmp_path / "change.yaml")])
    assert c.ok, [d.message for d in c.result.diagnostics]
    return c


def test_detection_compiles_to_the_documented_shape(compiled):
    sql = compiled.sql()
    assert sql.count("EXECUTE STATEMENT SET") == 1
    assert sql.count("CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS `alert_transitions_seasonal`\n"
                     "  AS 'nql_flink.udfs.flink.alert_state.alert_transitions_seasonal' LANGUAGE PYTHON;") == 1
    assert sql.count("CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS `alert_transitions_change`\n"
                     "  AS 'nql_flink.udfs.flink.alert_state.alert_transitions_change' LANGUAGE PYTHON;") == 1
    for view in ("rows", "input", "windows"):          # one windows function per table
        assert sql.count(f"CREATE TEMPORARY VIEW `t_session_vdi_events__{view}`") == 1
        assert sql.count(f"CREATE TEMPORARY VIEW `t_execution_crashes__{view}`") == 1
    for view in ("eval", "judged", "state", "alerts"):
        assert f"`m_vdi_latency_seasonal__{view}`" in sql and f"`m_crashes_change__{view}`" in sql
    # every shape asks the windows function for the tenant's population (pop=1: every alert's
    # impact share): each pipeline's shape in its table's windows spec (`| <shape id> (<pipelines>):
    # ...`); the seasonal monitor and the threshold one of the same window, group and aggregates
    # now share one shape
    def spec(monitor):
        at = sql.index(f"{monitor}@m_{monitor}")
        end = sql.index("'", at)
        return sql[at:sql.index(" | ", at)] if " | " in sql[at:end] else sql[at:end]
    assert ";pop=1;" in spec("vdi_latency_seasonal") and ";pop=1;" in spec("crashes_change")
    assert "(acme: vdi_latency_by_pool@m_vdi_latency_by_pool, vdi_latency_seasonal@m_vdi_latency_seasonal): " in sql
    assert ";pop=0;" not in sql
    # the change monitor: 15 min windows of 1 h; its state: direction|history ms|default recovery
    assert "size=3600000;slide=900000;" in spec("crashes_change")
    change = sql[sql.index("CREATE TEMPORARY VIEW `m_crashes_change__state`"):]
    assert "`nql_sensitivity`, 'above|172800000|0') AS `trs`" in change[:change.index(";")]
    # the seasonal state: extra arguments and the compiled spec (direction|slot|history|zone|weekly|
    # min samples|min days|default recovery), the example's detection block by hand
    state = sql[sql.index("CREATE TEMPORARY VIEW `m_vdi_latency_seasonal__state`"):]
    assert ("`payload`, `nql_enabled`, `nql_value`, `nql_sensitivity`, 'above|900|604800|UTC|auto|4|2|1') AS `trs`"
            in state[:state.index(";")])
    # the threshold monitors' alert records (the job's) are AlertRecord's, which writes no
    # baseline (tests/flink/test_alert_record.py); only the detection monitors' carry one
    end = sql.index("FROM `job__alerts`")
    threshold = sql[sql.rindex("SELECT `alert_id`,", 0, end):end]
    assert "`nql_alert_record`(" in threshold and "'baseline'" not in threshold


def test_sensitivity_is_a_config_parameter_and_the_condition_reads_well(compiled):
    records = {r["monitor"]: r for r in compiled.job.config_records}
    seasonal, change = records["vdi_latency_seasonal"], records["crashes_change"]
    assert seasonal["params"] == {"trigger_1": 5.0, "detection_deviations": 3.0}
    assert seasonal["trigger_condition"] == ("avg_latency above seasonal baseline + 3 spreads (slot 15min, history 7d) "
                                             "and sessions >= 5")
    assert change["params"] == {"trigger_1": 3.0, "recover_1": 2.0, "detection_change": 2.0}
    assert change["trigger_condition"] == "crashes above its 2d average + 200% and crashes >= 3"
    assert change["recover_condition"] == "crashes < 2"


@pytest.mark.flink
def test_flink_plans_the_detection_job(compiled, explain_plan):
    plan = explain_plan(compiled)
    assert "PythonOverAggregate" not in plan and "TemporalJoin" in plan and "ProcessTableFunction" in plan
    # Python sees evaluations only: the seasonal state UDAF's input is the config join of the
    # windows function's evaluations, not a source
    execution = plan[plan.index("== Optimized Execution Plan =="):]
    [line] = [ln for ln in execution.splitlines() if "alert_transitions_seasonal(" in ln]
    assert "PythonGroupAggregate(" in line, line
    seasonal = execution[execution.index(line):]
    below = [ln for ln in seasonal.splitlines()[1:] if not any(k in ln for k in ("Exchange(", "Calc("))]
    assert "TemporalJoin(" in below[0] and "Python" not in below[0], below[0]
    # one windows function per table, shared by the evaluations and the dead letters
    assert sum("ProcessTableFunction(" in ln and "uid=[t_session_vdi_events--windows--" in ln
               for ln in execution.splitlines()) == 1


def test_explain_traces_the_judged_view_in_the_same_statement_set(compiled):
    from nql_flink.translator.commands.explain import traced_job

    stmts = traced_job(compiled, "m_vdi_latency_seasonal").executable()
    assert stmts[:-1] == compiled.statements()[:-1] + [stmts[-2]] and "CREATE TABLE `nql_trace`" in stmts[-2]
    assert stmts[-1].count("INSERT INTO") == compiled.statements()[-1].count("INSERT INTO") + 1
    assert "FROM `m_vdi_latency_seasonal__judged`" in stmts[-1]


def test_explain_plots_metric_band_and_transitions(compiled, tmp_path):
    import json

    from nql_flink.translator.commands.explain import pick_group, plot

    [monitor] = [m for m in compiled.result.monitors if m.id == "vdi_latency_seasonal"]
    group = json.dumps({"device.virtualization.desktop_pool": "P1"})
    evaluations = []
    for k in range(60):
        at = f"2026-11-26T10:{k:02d}:00.000Z"
        baseline = None if k < 10 else {"centre": 100.0, "band": [70.0, 130.0], "slot": "10:00", "history_size": 12}
        evaluations.append({"group_json": group, "at": at,
                            "payload": {"values": {"avg_latency": 200.0 if 30 <= k < 40 else 100.0}, "baseline": baseline}})
    alerts = [{"group": {"device.virtualization.desktop_pool": "P1"}, "status": s, "at": f"2026-11-26T10:{m}:00.000Z"}
              for s, m in (("triggered", 35), ("recovered", 40))]
    assert pick_group(alerts, evaluations, None) == group
    assert pick_group(alerts, evaluations, '{"device.virtualization.desktop_pool": "nope"}') is None
    out = tmp_path / "plot.png"
    info = plot(str(out), monitor, "avg_latency", group, alerts, evaluations)
    assert info == {"evaluations": 60, "transitions": 2, "learning": 10}
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_monitors_of_one_table_share_its_clock_and_ticks(tmp_path):
    base = (Path("examples/seasonal/vdi_latency_seasonal.yaml")).read_text()
    (tmp_path / "acme.yaml").write_text(base)
    (tmp_path / "globex.yaml").write_text(base.replace("tenant: acme", "tenant: globex")
                                          .replace("id: vdi_latency_seasonal", "id: vdi_latency_other"))
    sql = compile_paths([str(tmp_path)]).sql()
    for view in ("chk_session_vdi_events", "tick_session_vdi_events", "t_session_vdi_events__windows"):
        assert sql.count(f"CREATE TEMPORARY VIEW `{view}`") == 1
    # the windows function keeps both tenants' clocks: no clock function of its own
    assert "clk_session_vdi_events" not in sql and "late=10000" in sql
    # one tick query for both tenants (the plan does not grow with them)
    assert sql.count("FROM `tick_session_vdi_events`") == 1 and sql.count("FROM `t_session_vdi_events__rows`") == 1
    assert "LATERAL TABLE(`nql_each`('acme', 'globex'))" in sql
    # the same shape (ids and tenants differ): one part of the table's windows serves both
    assert "(acme: vdi_latency_seasonal@m_vdi_latency_seasonal; globex: vdi_latency_other@m_vdi_latency_other): size=" in sql
