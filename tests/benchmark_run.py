"""A benchmark script run as its smoke test runs it: `--smoke`, its JSON into a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# What a shell gives a command: a child of the test session gets only these (set ones: an empty
# JAVA_HOME makes PyFlink run 'bin/java'), none of the variables PyFlink or earlier tests set in
# this process (PYFLINK_GATEWAY_DISABLED once Python UDFs ran here, FLINK_HOME, FLINK_LIB_DIR):
# with them a child refused to start its own JVM, or ran 'bin/java', depending on test order.
SHELL_ENV = ("PATH", "HOME", "JAVA_HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


def shell_env(**extra: str) -> dict[str, str]:
    """A clean environment for a child process of the test session (SHELL_ENV), plus `extra`."""
    return {k: v for k, v in os.environ.items() if k in SHELL_ENV and v} | extra


def run_benchmark(script: str, out: Path, *args: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess, dict]:
    """benchmarks/`script` --smoke `args` in the repository, its figures written to `out`:
    (the finished process, output captured; the figures, {} if it wrote none)."""
    run = subprocess.run([sys.executable, f"benchmarks/{script}", "--smoke", *args, "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=shell_env())
    return run, json.loads(out.read_text()) if out.exists() else {}
