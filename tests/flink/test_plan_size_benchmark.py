"""The plan-size benchmark (benchmarks/plan_size.py) works end to end: 2 monitors, this
checkout against a revision checked out into a temporary git worktree (HEAD here: it exists
in any clone). The figures of 20 monitors against main are in docs/sharing.md."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]


def test_the_plan_size_benchmark_compares_two_revisions(tmp_path):
    out = tmp_path / "plan_size.json"
    run = subprocess.run([sys.executable, "benchmarks/plan_size.py", "--smoke", "--against", "HEAD", "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert result["monitors"] == 2 and len(result["jobs"]) == 2
    for job in result["jobs"].values():
        # the table's one windows function (both monitors' shapes, keeping the tenants' clocks), the
        # inventory's version order and the job's one alert state function
        assert (job["process_table_functions"], job["alert_state_functions"]) == (3, 1)
        assert job["exec_nodes"] > job["process_table_functions"]
    assert result["ratio_this_to_against"]["exec_nodes"] == 1.0
    assert "ratio this / HEAD" in run.stdout
