"""The throughput benchmark (benchmarks/throughput.py) works end to end: a tiny input, one
run of each job, this checkout against a revision checked out into a temporary git worktree
(HEAD here: it exists in any clone). Its figures mean nothing at this size; the benchmark
is run by hand for them (docs/flink-job-shape.md, "Parse once")."""

import pytest

from tests.benchmark_run import run_benchmark

pytestmark = [pytest.mark.flink, pytest.mark.benchmark]


def test_the_throughput_benchmark_compares_two_revisions(tmp_path):
    run, result = run_benchmark("throughput.py", tmp_path / "throughput.json", "--against", "HEAD")
    assert run.returncode == 0, run.stdout + run.stderr
    assert result["same_alerts"] is True
    assert len(result["jobs"]) == 2
    for job in result["jobs"].values():
        assert job["events_per_s"] > 0 and job["events_per_cpu_s"] > 0 and job["alert_records"] >= 1
    assert result["ratio_this_to_against"]["events_per_cpu_s"] > 0
    assert "ratio this / HEAD" in run.stdout
