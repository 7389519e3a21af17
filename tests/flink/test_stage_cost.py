"""The stage-cost benchmark's copies of a generated job (benchmarks/stage_cost.py, issue 15):
each edit finds what it changes in today's generated SQL, every copy plans on Flink, and the
seed monitor without its clock function alerts as the job does on an input in order (the clock
changes when a window is judged, not which: the simulated records are never late), so the copy
measures the job's work less the clock's, not something else."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nql_flink.translator.pipeline import compile_paths
from tests.conftest import explain_statements

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import stage_cost  # noqa: E402  (benchmarks/ is not a package)
from seed import MONITOR, simulate  # noqa: E402


def job_statements(monitors: Path, workdir: Path, files: dict[str, str] | None = None,
                   sinks: str | None = None) -> list[str]:
    compiled = compile_paths([str(monitors)])
    assert compiled.ok
    return stage_cost.statements_on_files(compiled, files or {}, workdir / "config.jsonl",
                                          sinks or str(workdir / "sinks"))


@pytest.fixture(scope="module")
def same_file(tmp_path_factory):
    # three monitors of the same family over three tenants: the shape of same 1000/100
    return stage_cost.same_file(tmp_path_factory.mktemp("same") / "same.yaml", 3, 100)


def test_each_edit_changes_what_it_names(tmp_path, same_file):
    seed = job_statements(ROOT / MONITOR, tmp_path)
    no_clock = stage_cost.without_clock(seed)
    assert not any("clk_session_vdi_events" in s for s in no_clock if "nql_clock`(" not in s)
    same = job_statements(same_file, tmp_path)
    no_config = stage_cost.without_config_join(same)
    assert not any("ver_monitor_config` FOR SYSTEM_TIME" in s for s in no_config)
    only = stage_cost.windows_only(same)
    assert "sink_alerts" not in only[-1] and "stage_cost_blackhole" in only[-1]
    # an edit of something the job does not have says so
    with pytest.raises(stage_cost.EditFailed):
        stage_cost.without_clock(no_clock)
    with pytest.raises(stage_cost.EditFailed):
        stage_cost.without_config_join(no_config)


# every distinct copy of the benchmark's sets (the jobs as compiled are planned by other tests)
COPIES = sorted({("seed" if what == "seed" else "same", tuple(edits))
                 for s in stage_cost.SETS.values() for what, edits in s.values() if edits})


@pytest.mark.parametrize("monitors,edits", COPIES)
def test_every_copy_plans(monitors, edits, flink_env, flink_database, tmp_path, same_file):
    statements = stage_cost.edited(job_statements(ROOT / MONITOR if monitors == "seed" else same_file, tmp_path),
                                   list(edits))
    plan = explain_statements(flink_env, statements).split("== Optimized Execution Plan ==")[-1]
    # what each edit takes out is gone from the plan, and nothing else is
    assert ("nql_clock(" in plan) == ("without_clock" not in edits)
    assert "TemporalJoin(joinType=[LeftOuterJoin]" not in plan    # the windows function looks the inventory up
    config_join = "without_config_join" not in edits and "windows_only" not in edits
    assert ("TemporalJoin(joinType=[InnerJoin]" in plan) == config_join
    assert ("nql_alert_states(" in plan) == ("windows_only" not in edits)
    assert "nql_inventory_windows(" in plan


def test_the_seed_monitor_without_its_clock_alerts_as_it_does(flink_env, tmp_path):
    from nql_flink.deploy.embedded.runner import run_job

    files = {t: str(p) for t, p in simulate(sys.executable, tmp_path / "sim", 1 / 3, 100).items()}
    alerts = {}
    for name, edits in (("generated", []), ("no clock", ["without_clock"])):
        work = tmp_path / name.replace(" ", "-")
        work.mkdir()
        out = str(work / "alerts.jsonl")
        statements = stage_cost.edited(job_statements(ROOT / MONITOR, work, dict(files), out + ".d"), edits)
        alerts[name] = [json.loads(a) for a in run_job(statements, {}, out, t_env=flink_env).alerts]
    triggered = {(a["status"], a["group"]["device.virtualization.desktop_pool"]) for a in alerts["generated"]}
    assert ("triggered", "Finance-Win11") in triggered  # the simulated incident
    assert alerts["no clock"] == alerts["generated"]
