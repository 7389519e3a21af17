"""How fast the `nql-flink` command starts: wall time of fresh interpreter processes.

Times `--help`, `check --help` and `check` of one example monitor, each as a new
`python -m nql_flink.translator.cli` process (best of N), and prints each against a reference run
measured the same way on the same machine: `python -c pass` (the interpreter alone), so
the ratio means something on any machine. Goal (issue #13): `check` and `--help` under
0.5 s. For where the time goes: `python -X importtime -m nql_flink.translator.cli check FILE`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 0.5

CASES: dict[str, list[str]] = {
    "--help": ["-m", "nql_flink.translator.cli", "--help"],
    "check --help": ["-m", "nql_flink.translator.cli", "check", "--help"],
    "check one monitor": ["-m", "nql_flink.translator.cli", "check", str(ROOT / "examples" / "monitors" / "device_cpu_queue.yaml")],
}
REFERENCE = ["-c", "pass"]


def best_of(runs: int, args: list[str]) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    ref_s = best_of(args.runs, REFERENCE)
    print(f"reference: python -c pass  : {ref_s * 1000:7.0f} ms")
    for name, argv in CASES.items():
        s = best_of(args.runs, argv)
        verdict = "met" if s < GOAL_S else "NOT met"
        print(f"{name:<27}: {s * 1000:7.0f} ms  = {s / ref_s:5.1f}x reference   goal < {GOAL_S} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
