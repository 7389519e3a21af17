"""The nql_read micro-benchmark (benchmarks/read_rate.py) works end to end: a tiny input, one
timed pass of each side, this checkout's Java functions against a revision's (HEAD here: it
exists in any clone) and Flink's JSON format. Its figures mean nothing at this size; the
benchmark is run by hand for them (docs/flink-job-shape.md §7)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]


def test_the_read_rate_benchmark_compares_two_builds_and_the_json_format(tmp_path):
    out = tmp_path / "read_rate.json"
    run = subprocess.run([sys.executable, "benchmarks/read_rate.py", "--smoke", "--against", "HEAD", "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert set(result["reasons"]) == {"ok"}  # the simulator writes good records
    assert result["json_format_rows"] == result["lines"] > 0
    assert len(result["lines_per_cpu_s"]) == 3 and all(r > 0 for r in result["lines_per_cpu_s"].values())
    assert "ratio this / HEAD" in run.stdout
