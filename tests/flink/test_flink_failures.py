"""A failure of Flink on a compiled job reaches the user as a diagnostic naming the monitor
(file, line and column of its query) with Flink's message on one line, not as a Java
traceback (issue 13). The failures are real ones of the shared mini-cluster: the compiled
statements with one of them broken by hand, since no compiled monitor is known to fail."""

import json
import textwrap

import pytest

from nql_flink.deploy.embedded.runner import FlinkError, flink_message, run_job
from nql_flink.translator.diagnostics.render import render_all_text
from nql_flink.translator.pipeline import compile_paths, flink_failure

pytestmark = pytest.mark.flink

MONITOR = """\
# a comment line, so the query is not on line 1
id: lat
tenant: acme
query: |
  session.vdi_events during past 2min
  | summarize lat = network_latency.avg()
every: 1min
trigger: {when: lat > 300ms}
"""


@pytest.fixture
def compiled(tmp_path):
    (tmp_path / "lat.yaml").write_text(MONITOR)
    c = compile_paths([str(tmp_path / "lat.yaml")])
    assert c.ok
    return c


def run_broken(compiled, tmp_path, flink_env, old: str, new: str) -> FlinkError:
    files = {}
    for name in compiled.job.source_tables.values():
        f = tmp_path / f"{name}.jsonl"
        f.write_text("")
        files[name] = str(f)
    cfg = tmp_path / "config.jsonl"
    cfg.write_text("".join(json.dumps(r) + "\n" for r in compiled.job.config_records))
    files["src_monitor_config"] = str(cfg)
    statements = compiled.job.on_files(files, str(tmp_path / "alerts.jsonl.d")).executable()
    [k] = [i for i, s in enumerate(statements) if old in s]
    statements[k] = statements[k].replace(old, new)  # a broken job, as no compiled one is
    with pytest.raises(FlinkError) as caught:
        run_job(statements, files, str(tmp_path / "alerts.jsonl"), t_env=flink_env)
    return caught.value


def test_a_planner_failure_in_a_monitor_view_names_the_monitor_and_its_query(compiled, tmp_path, flink_env):
    err = run_broken(compiled, tmp_path, flink_env, "FROM `nql_windows`(", "FROM `nql_no_such_windows`(")
    [d] = flink_failure(compiled, err.statement, err.message)
    assert d.code == "NQL0602"
    assert (d.source.path, *d.location[1:]) == (str(tmp_path / "lat.yaml"), 5, 3)
    assert d.message.startswith("Flink failed on monitor acme/lat: ")
    assert "nql_no_such_windows" in d.message and "\n" not in d.message
    assert "\tat org.apache" in err.stack and "\tat " not in render_all_text([d])


def test_a_failure_outside_the_monitors_views_names_the_monitor_files(compiled, tmp_path, flink_env):
    err = run_broken(compiled, tmp_path, flink_env, "FROM `src_session_vdi_events`", "FROM `src_no_such_table`")
    [d] = flink_failure(compiled, err.statement, err.message)
    assert (d.code, d.source.path, *d.location[1:]) == ("NQL0602", str(tmp_path / "lat.yaml"), 5, 3)
    assert d.message.startswith("Flink failed on the job: ") and "src_no_such_table" in d.message


def test_the_message_is_the_deepest_cause_without_its_class():
    stack = textwrap.dedent("""\
        org.apache.flink.table.api.ValidationException: SQL validation failed. From line 3, column 6
        \tat org.apache.flink.table.planner.calcite.FlinkPlannerImpl.validate(FlinkPlannerImpl.scala:200)
        Caused by: org.apache.calcite.runtime.CalciteContextException: From line 3, column 6: Object 'x' not found
        \tat sun.reflect.NativeConstructorAccessorImpl.newInstance0(Native Method)
        Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Object 'x'
          not found
        \tat sun.reflect.NativeConstructorAccessorImpl.newInstance0(Native Method)
        """)
    assert flink_message(stack) == "Object 'x' not found"


def test_planning_for_a_deployment_raises_the_same_error(compiled, flink_env):
    """COMPILE PLAN (compile --against, deploy, upgrade: submit.stable_plan) fails as the run does."""
    from nql_flink.deploy.submit import stable_plan
    from nql_flink.translator.flink.connectors import CompileOptions

    statements = [s.replace("FROM `nql_windows`(", "FROM `nql_no_such_windows`(") for s in compiled.statements()]
    with pytest.raises(FlinkError) as caught:
        stable_plan(statements, CompileOptions())
    [d] = flink_failure(compiled, caught.value.statement, caught.value.message)
    assert (d.code, *d.location[1:]) == ("NQL0602", 5, 3) and "nql_no_such_windows" in d.message
