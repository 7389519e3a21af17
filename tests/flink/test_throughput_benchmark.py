"""The throughput benchmark (benchmarks/throughput.py) works end to end: a tiny input, one
run of each job, this checkout against a revision checked out into a temporary git worktree
(HEAD here: it exists in any clone). Its figures mean nothing at this size; the benchmark
is run by hand for them (docs/flink-job-shape.md, "Parse once")."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]


def test_the_throughput_benchmark_compares_two_revisions(tmp_path):
    out = tmp_path / "throughput.json"
    run = subprocess.run([sys.executable, "benchmarks/throughput.py", "--smoke", "--against", "HEAD", "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert result["same_alerts"] is True
    assert len(result["jobs"]) == 2
    for job in result["jobs"].values():
        assert job["events_per_s"] > 0 and job["events_per_cpu_s"] > 0 and job["alert_records"] >= 1
    assert result["ratio_this_to_against"]["events_per_cpu_s"] > 0
    assert "ratio this / HEAD" in run.stdout
