"""Throughput of the seed monitor's generated job: this worktree against a git revision.

The seed monitor (examples/monitors/vdi_latency_by_pool.yaml: average VDI latency per
desktop pool over 5 min, every 30 s, with the inventory join) runs on embedded Flink as
`nql-flink run` runs it (files in place of Kafka, parallelism 1) over the same simulated
file (`nql-flink simulate`, seed 7, session.vdi_events and device.devices, a latency
incident in one pool so that both jobs alert). The revision
given by --against (default: main) is checked out into a temporary `git worktree` and its
own CLI runs its own job from there; every run is a process of its own (`python -m
nql_flink.translator.cli run ...`, benchmarks/checkout.py, a fresh JVM), and the runs of the two alternate.

Measured per run: wall time of the process and CPU time of its process tree (the Python
driver and the Flink JVM, /proc sampled every 0.2 s), as events/s and events per
CPU-second; medians of --runs runs each. A run pays a fixed start-up (JVM, planning, code
generation and JIT of the job's classes, 15-25 CPU-s here) whatever the input, so each side
also runs on the first --startup-events records (--startup-runs times) and the rates are also
given net of that median start-up: the cost per record, which is what parsing changes. On a
shared 2-core machine the wall time mostly measures the neighbours; the CPU time is the
job's own. Both sides must write the same alert records (checked and printed).

    .venv/bin/python benchmarks/throughput.py [--against main] [--hours 3] [--devices 2000] [--runs 3]
        [--startup-runs 1] [--json throughput.json] [--smoke]

--smoke: 20 simulated minutes of 100 devices, one run each, no start-up runs (CI checks that
the benchmark works; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from checkout import child_env, module, revision_checkout  # benchmarks/, the script's folder
from proctree import descendants, stat_cpu

ROOT = Path(__file__).resolve().parents[1]
MONITOR = "examples/monitors/vdi_latency_by_pool.yaml"
TABLES = ("session.vdi_events", "device.devices")
# +400 ms in one pool from 10 min after the simulation's start (07:00) for 12 min: both jobs alert
INCIDENT = "pool=Finance-Win11,metric=network_latency,start=2026-11-26T07:10:00Z,minutes=12,add_ms=400"


def run_once(python: str, cwd: Path, files: dict[str, Path], out: Path, scratch: Path) -> dict:
    """One `nql-flink run` of the seed monitor in its own process, from the checkout `cwd`
    (its modules, its monitor file, its Java functions): wall seconds, CPU seconds of the
    process tree, alert records."""
    cmd = [python, "-m", module(cwd, "translator.cli"), "run", MONITOR, "--output", str(out), "--no-progress"]
    for table, path in files.items():
        cmd += ["--input", f"{table}={path}"]
    seen: dict[int, float] = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=child_env(cwd, scratch))
    stop = threading.Event()

    def sample() -> None:
        while True:
            for pid in descendants(proc.pid) | {proc.pid}:
                st = stat_cpu(f"/proc/{pid}/stat")
                if st is not None:
                    seen[pid] = max(st[1], seen.get(pid, 0.0))
            if stop.wait(0.2):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"run failed in {cwd} ({proc.returncode}):\n{err[-3000:]}")
    alerts = sorted(out.read_text().splitlines()) if out.exists() else []
    return {"wall": wall, "cpu": sum(seen.values()), "alerts": alerts}


def simulate(python: str, out: Path, hours: float, devices: int) -> dict[str, Path]:
    subprocess.run([python, "-m", "nql_flink.translator.cli", "simulate", "--out", str(out), "--duration", f"{int(hours * 60)}min",
                    "--devices", str(devices), "--seed", "7", "--tables", ",".join(TABLES), "--quiet",
                    "--incident", INCIDENT], env=child_env(ROOT, out.parent),
                   cwd=ROOT, check=True)
    return {t: out / f"{t}.jsonl" for t in TABLES}


def head(files: dict[str, Path], events: int, out: Path) -> dict[str, Path]:
    """The first `events` records of the event table and the whole inventory."""
    out.mkdir()
    first = out / "session.vdi_events.jsonl"
    with files["session.vdi_events"].open() as src, first.open("w") as dst:
        for i, line in enumerate(src):
            if i >= events:
                break
            dst.write(line)
    return {"session.vdi_events": first, "device.devices": files["device.devices"]}


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", default="main", help="git revision to compare with (default: main)")
    ap.add_argument("--hours", type=float, default=3, help="simulated hours of telemetry (default 3)")
    ap.add_argument("--devices", type=int, default=2000, help="simulated devices per tenant (default 2000)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each job, alternating (default 3)")
    ap.add_argument("--startup-runs", type=int, default=1,
                    help="runs of each job on the first --startup-events records, to take the start-up out")
    ap.add_argument("--startup-events", type=int, default=2000)
    ap.add_argument("--json", default="throughput.json", help="where the figures go as JSON")
    ap.add_argument("--smoke", action="store_true", help="tiny input, one run each (CI)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.hours, args.devices, args.runs, args.startup_runs = 1 / 3, 100, 1, 0
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="nql-bench-throughput-") as d:
        tmp = Path(d)
        # (the Java functions are compiled before any timed run)
        with revision_checkout(ROOT, args.against, tmp) as jobs:
            files = simulate(python, tmp / "sim", args.hours, args.devices)
            n_events = count_lines(files["session.vdi_events"])
            print(f"input: {n_events} session.vdi_events, {count_lines(files['device.devices'])} device.devices "
                  f"({args.devices} devices per tenant, {args.hours:g} h)", flush=True)
            small = head(files, args.startup_events, tmp / "small") if args.startup_runs else None
            startup: dict[str, list[dict]] = {k: [] for k in jobs}
            for i in range(args.startup_runs):
                for name, cwd in jobs.items():
                    r = run_once(python, cwd, small, tmp / f"start-{len(startup[name])}-{cwd.name}.jsonl", tmp)
                    startup[name].append(r)
                    print(f"  start-up {name:18s}: {r['wall']:6.1f}s wall {r['cpu']:6.1f}s CPU "
                          f"({args.startup_events} events)", flush=True)
            runs: dict[str, list[dict]] = {k: [] for k in jobs}
            for i in range(args.runs):
                for name in (list(jobs) if i % 2 == 0 else list(reversed(jobs))):
                    r = run_once(python, jobs[name], files, tmp / f"run-{i}-{jobs[name].name}.jsonl", tmp)
                    runs[name].append(r)
                    print(f"  run {i + 1} {name:18s}: {r['wall']:6.1f}s wall {n_events / r['wall']:7.0f} events/s | "
                          f"{r['cpu']:6.1f}s CPU {n_events / r['cpu']:7.0f} events/CPU-s ({len(r['alerts'])} alert records)",
                          flush=True)
    names = list(jobs)
    result = {"input_events": n_events, "hours": args.hours, "devices": args.devices, "runs": args.runs,
              "against": args.against, "jobs": {}}
    for name in names:
        wall = statistics.median(r["wall"] for r in runs[name])
        cpu = statistics.median(r["cpu"] for r in runs[name])
        s_wall = statistics.median(r["wall"] for r in startup[name]) if startup[name] else 0.0
        s_cpu = statistics.median(r["cpu"] for r in startup[name]) if startup[name] else 0.0
        result["jobs"][name] = {
            "wall_s": wall, "cpu_s": cpu, "events_per_s": n_events / wall, "events_per_cpu_s": n_events / cpu,
            "startup_wall_s": s_wall, "startup_cpu_s": s_cpu,
            "net_events_per_s": n_events / (wall - s_wall) if startup[name] and wall > s_wall else None,
            "net_events_per_cpu_s": n_events / (cpu - s_cpu) if startup[name] and cpu > s_cpu else None,
            "alert_records": len(runs[name][0]["alerts"])}
    this, ref = (result["jobs"][n] for n in names)
    ratio = {k: (this[k] / ref[k] if this[k] and ref[k] else None)
             for k in ("events_per_s", "events_per_cpu_s", "net_events_per_s", "net_events_per_cpu_s")}
    same = all(r["alerts"] == runs[names[0]][0]["alerts"] for n in names for r in runs[n])
    result["ratio_this_to_against"] = ratio
    result["same_alerts"] = same

    def fmt(x, spec="7.0f"):
        return "      -" if x is None else format(x, spec)

    print(f"\nmedians of {args.runs} run(s); net = without the median start-up of {args.startup_runs} run(s) on "
          f"{args.startup_events} events")
    print(f"| job | events/s | events per CPU-s | net events/s | net events per CPU-s | start-up CPU-s |")
    print("|---|---|---|---|---|---|")
    for name in names:
        j = result["jobs"][name]
        print(f"| {name} | {fmt(j['events_per_s'])} | {fmt(j['events_per_cpu_s'])} | {fmt(j['net_events_per_s'])} | "
              f"{fmt(j['net_events_per_cpu_s'])} | {j['startup_cpu_s']:.1f} |")
    print(f"| ratio this / {args.against} | {fmt(ratio['events_per_s'], '.2f')} | {fmt(ratio['events_per_cpu_s'], '.2f')} | "
          f"{fmt(ratio['net_events_per_s'], '.2f')} | {fmt(ratio['net_events_per_cpu_s'], '.2f')} | |")
    print(f"same alert records on both sides: {'yes' if same else 'NO'} ({this['alert_records']} records)")
    if not same:
        for name in names:
            for i, r in enumerate(runs[name]):
                print(f"  {name} run {i + 1}:", *r["alerts"], sep="\n    ")
    result["alerts"] = {name: [r["alerts"] for r in runs[name]] for name in names}
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"figures: {args.json}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
