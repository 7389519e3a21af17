"""The seed monitor's benchmark input and run (benchmarks/throughput.py, benchmarks/job_cost.py):
one simulated file of its table and the inventory (`nql-flink simulate`, seed 7, a latency
incident in one pool so that the monitor alerts), its first records for the start-up runs, and
the `nql-flink run` command of the monitor over them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from checkout import child_env, module  # benchmarks/, the script's folder

ROOT = Path(__file__).resolve().parents[1]
MONITOR = "examples/monitors/vdi_latency_by_pool.yaml"
TABLES = ("session.vdi_events", "device.devices")
EVENTS = "session.vdi_events"
# +400 ms in one pool from 10 min after the simulation's start (07:00) for 12 min: the monitor alerts
INCIDENT = "pool=Finance-Win11,metric=network_latency,start=2026-11-26T07:10:00Z,minutes=12,add_ms=400"


def simulate(python: str, out: Path, hours: float, devices: int, tenants: str | None = None) -> dict[str, Path]:
    """The simulated files of TABLES (catalog table -> JSONL file); `tenants` as `nql-flink
    simulate --tenants` takes them (default: the simulator's, acme and globex; the incident is
    the first tenant's)."""
    subprocess.run([python, "-m", "nql_flink.translator.cli", "simulate", "--out", str(out), "--duration", f"{int(hours * 60)}min",
                    "--devices", str(devices), "--seed", "7", "--tables", ",".join(TABLES), "--quiet",
                    "--incident", INCIDENT, *(["--tenants", tenants] if tenants else [])],
                   env=child_env(ROOT, out.parent), cwd=ROOT, check=True)
    return {t: out / f"{t}.jsonl" for t in TABLES}


def head(files: dict[str, Path], events: int, out: Path) -> dict[str, Path]:
    """The first `events` records of the event table and the whole inventory."""
    out.mkdir()
    first = out / f"{EVENTS}.jsonl"
    with files[EVENTS].open() as src, first.open("w") as dst:
        for i, line in enumerate(src):
            if i >= events:
                break
            dst.write(line)
    return {**files, EVENTS: first}


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def run_command(python: str, checkout: Path, files: dict[str, Path], out: Path, monitors: str = MONITOR,
                state_backend: str | None = None) -> list[str]:
    """`nql-flink run` of the seed monitor (or of the `monitors` file) over `files`, with the
    modules of `checkout` (run it there, with checkout.child_env), its alert records written to
    `out`; `state_backend`: its --state-backend (None: the command's default)."""
    cmd = [python, "-m", module(checkout, "translator.cli"), "run", monitors, "--output", str(out), "--no-progress"]
    if state_backend:
        cmd += ["--state-backend", state_backend]
    for table, path in files.items():
        cmd += ["--input", f"{table}={path}"]
    return cmd
