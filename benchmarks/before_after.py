"""Throughput of a monitor's generated job as compiled by this tree against the same monitor
as compiled by another commit (default: main), on the same simulated input.

Both jobs run on embedded Flink (parallelism 1) in this process, alternately, after warm-up
runs of each, so the JVM, its JIT and the machine's neighbours are the same for both (the
figures of seasonal_throughput.py: events / wall time, events / CPU time of the process tree,
and the same without the JIT compiler threads; on the shared 2-core machine the CPU time is
the one to judge). The other commit's job is its SQL (compiled by its own translator, in a
subprocess, from a `git archive` of it); the Java functions are this tree's (one jar per JVM):
compare commits whose SQL changed, with Java functions that run the older SQL unchanged.
Both jobs' alert records are compared byte for byte and the difference, if any, printed.

    nql-flink simulate --out DIR --tenants acme --tables session.vdi_events,device.devices ...
    .venv/bin/python benchmarks/before_after.py --input session.vdi_events=DIR/session.vdi_events.jsonl \\
        --input device.devices=DIR/device.devices.jsonl [--monitor examples/monitors/vdi_latency_by_pool.yaml]
        [--before main] [--runs 3] [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SINK = "/@NQL_SINK@"  # absolute placeholders: on_files resolves paths
INPUT = "/@NQL_INPUT@/"
# Run in the compiling tree: the job's statements on files (the sinks under SINK), its config
# records and its source tables, as JSON on stdout.
COMPILE = """
import json, sys
from nql_flink.translator.pipeline import compile_paths
c = compile_paths([sys.argv[1]])
assert c.ok, [d.message for d in c.result.diagnostics]
inputs = {name: sys.argv[3] + table for table, name in c.job.source_tables.items()}
print(json.dumps({"statements": c.job.on_files(inputs, sys.argv[2]).executable(),
                  "config": c.job.config_records, "tables": c.job.source_tables}))
"""


def compile_in(tree: Path, monitor: str, scratch: Path) -> dict:
    """The job as `tree`'s own translator compiles it: its modules first on the child's path
    (checkout.child_env; the editable install would otherwise give this tree's to both)."""
    from checkout import child_env  # benchmarks/, the script's folder

    out = subprocess.run([sys.executable, "-c", COMPILE, str(Path(monitor).resolve()), SINK, INPUT], cwd=tree,
                         env=child_env(tree, scratch), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def checkout(ref: str, into: Path) -> Path:
    into.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def statements(job: dict, files: dict[str, str], config: str, sink_dir: Path) -> list[str]:
    paths = {**files, "monitor_config": config}
    text = []
    for s in job["statements"]:
        s = s.replace(SINK, str(sink_dir))
        for table in job["tables"]:
            s = s.replace(INPUT + table, paths[table])
        text.append(s)
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", action="append", required=True, metavar="TABLE=FILE")
    ap.add_argument("--monitor", default=str(ROOT / "examples/monitors/vdi_latency_by_pool.yaml"))
    ap.add_argument("--before", default="main", help="the git ref to compare with (default main)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each job (alternating)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs of each job first")
    args = ap.parse_args()
    files = {t: str(Path(f).resolve()) for t, f in (i.split("=", 1) for i in args.input)}
    from nql_flink.deploy.embedded.runner import create_table_env, run_job
    from pyflink.java_gateway import get_gateway
    from measure import temporary_folder
    from seasonal_throughput import CpuMeter

    events = sum(1 for _ in open(files["session.vdi_events"], encoding="utf-8"))
    with temporary_folder(prefix="nql-bench-before-after-") as d:
        tmp = Path(d)
        jobs = {"before": compile_in(checkout(args.before, tmp / "before"), args.monitor, tmp),
                "after": compile_in(ROOT, args.monitor, tmp)}
        for name, job in jobs.items():
            (tmp / f"{name}.config.jsonl").write_text("".join(json.dumps(r) + "\n" for r in job["config"]))
        t_env = create_table_env(parallelism=1)
        alerts: dict[str, list[str]] = {}

        def run(name: str, tag: str) -> tuple[float, dict[str, float]]:
            out = tmp / f"{name}-{tag}.jsonl"
            stmts = statements(jobs[name], files, str(tmp / f"{name}.config.jsonl"), Path(str(out) + ".d"))
            get_gateway().jvm.System.gc()
            time.sleep(1)
            with CpuMeter() as meter:
                t0 = time.perf_counter()
                alerts[name] = run_job(stmts, {}, str(out), t_env=t_env).alerts
                wall = time.perf_counter() - t0
            return wall, meter.cpu

        for i in range(args.warmup):
            for name in jobs:
                wall, cpu = run(name, f"warm{i}")
                print(f"  warm-up {name:6s}: {wall:6.1f}s wall {cpu['jvm'] + cpu['python']:6.1f}s CPU (not counted)",
                      flush=True)
        series = {m: {k: [] for k in jobs} for m in ("wall", "cpu", "work")}
        for i in range(args.runs):
            for name in (list(jobs) if i % 2 == 0 else list(reversed(jobs))):
                wall, split = run(name, str(i))
                cpu = split["jvm"] + split["python"]
                series["wall"][name].append(wall)
                series["cpu"][name].append(cpu)
                series["work"][name].append(cpu - split["jit"])
                print(f"  run {i + 1} {name:6s}: {wall:6.1f}s wall {events / wall:7.0f} events/s | {cpu:6.1f}s CPU "
                      f"{events / cpu:7.0f} events/CPU-s (JIT compiler {split['jit']:4.1f}s) | "
                      f"{len(alerts[name])} alert records", flush=True)
    rates = {m: {k: events / statistics.median(v) for k, v in s.items()} for m, s in series.items()}
    print(f"{events} events of {Path(files['session.vdi_events']).name}; {Path(args.monitor).name}; "
          f"medians of {args.runs} runs")
    print(f"{'':6s}  {'events/s wall':>14s}  {'events/CPU-s':>13s}  {'without JIT':>12s}")
    for name in jobs:
        print(f"{name:6s}  {rates['wall'][name]:14.0f}  {rates['cpu'][name]:13.0f}  {rates['work'][name]:12.0f}")
    print("after / before: " + ", ".join(f"{m} {rates[m]['after'] / rates[m]['before']:.2f}x"
                                         for m in ("cpu", "work", "wall")))
    same = alerts["before"] == alerts["after"]
    print(f"alert records byte-identical: {same}")
    if not same:
        for a, b in zip(alerts["before"], alerts["after"]):
            if a != b:
                print(f"  before: {a}\n  after:  {b}")
                break
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
