"""The nql_read micro-benchmark (benchmarks/read_rate.py) works end to end: a tiny input, one
timed pass of each side, this checkout's Java functions against a revision's (HEAD here: it
exists in any clone) and Flink's JSON format. Its figures mean nothing at this size; the
benchmark is run by hand for them (docs/flink-job-shape.md §7)."""

import pytest

from tests.benchmark_run import run_benchmark

pytestmark = [pytest.mark.flink, pytest.mark.benchmark]


def test_the_read_rate_benchmark_compares_two_builds_and_the_json_format(tmp_path):
    run, result = run_benchmark("read_rate.py", tmp_path / "read_rate.json", "--against", "HEAD")
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(result["reasons"]) == {"ok"}  # the simulator writes good records
    assert result["json_format_rows"] == result["lines"] > 0
    assert len(result["lines_per_cpu_s"]) == 3 and all(r > 0 for r in result["lines_per_cpu_s"].values())
    assert "ratio this / HEAD" in run.stdout
