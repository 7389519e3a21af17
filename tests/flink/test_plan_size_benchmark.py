"""The plan-size benchmark (benchmarks/plan_size.py) works end to end: 2 monitors, this
checkout against a revision checked out into a temporary git worktree (HEAD here: it exists
in any clone). The figures of 20 monitors against main are in docs/sharing.md."""

import pytest

from tests.benchmark_run import run_benchmark

pytestmark = [pytest.mark.flink, pytest.mark.benchmark]


def test_the_plan_size_benchmark_compares_two_revisions(tmp_path):
    run, result = run_benchmark("plan_size.py", tmp_path / "plan_size.json", "--against", "HEAD")
    assert run.returncode == 0, run.stdout + run.stderr
    assert result["monitors"] == 2 and len(result["jobs"]) == 2
    for job in result["jobs"].values():
        # the table's one windows function (both monitors' shapes, keeping the tenants' clocks and
        # judging both: threshold monitors keep their alert states there, docs/sharing.md step 3)
        # and the inventory's version order; no alert state function of the job's
        assert (job["process_table_functions"], job["alert_state_functions"]) == (2, 0)
        assert job["exec_nodes"] > job["process_table_functions"]
    assert result["ratio_this_to_against"]["exec_nodes"] == 1.0
    assert "ratio this / HEAD" in run.stdout
