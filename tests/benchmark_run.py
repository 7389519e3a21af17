"""A benchmark script run as its smoke test runs it: `--smoke`, its JSON into a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.shell_env import shell_env

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(script: str, out: Path, *args: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess, dict]:
    """benchmarks/`script` --smoke `args` in the repository, its figures written to `out`:
    (the finished process, output captured; the figures, {} if it wrote none)."""
    run = subprocess.run([sys.executable, f"benchmarks/{script}", "--smoke", *args, "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=shell_env())
    return run, json.loads(out.read_text()) if out.exists() else {}
