"""Size of the compiled plan of many distinct monitors on one table: this worktree against a git
revision (issue 15: the job graph should grow with shapes, not monitors).

N monitors like the seed monitor (examples/monitors/vdi_latency_by_pool.yaml: average VDI
latency per desktop pool, every 30 s, with the inventory join), ids lat_0 .. lat_<N-1>, each
with its own window (`during past 5min` .. `during past <N+4>min`): N distinct monitors, no
two share a pipeline. Each side compiles them with its own code (a process of its own per
side, benchmarks/checkout.py) and plans the job as deploy runs it (COMPILE PLAN, stable ids,
deploy/submit.py stable_plan), then counts the plan's exec nodes, its process table function
nodes (windows and alert states) and, of those, the alert-state ones (uid `...--alerts--...`).
The counts are the same on any machine; the planning time (COMPILE PLAN's wall clock, one run
per side) is printed for orientation only.

    .venv/bin/python benchmarks/plan_size.py [--against main] [--monitors 20] [--json plan_size.json] [--smoke]

--smoke: 2 monitors (CI checks that the benchmark works).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from checkout import child_env, module, revision_checkout  # benchmarks/, the script's folder
from measure import figures_path, run_measured, temporary_folder, with_gc_log, write_figures

ROOT = Path(__file__).resolve().parents[1]

MONITOR = """\
  - id: lat_{i}
    tenant: acme
    query: |
      session.vdi_events during past {minutes}min
      | where device.virtualization.desktop_pool != null
      | summarize avg_latency = network_latency.avg(), sessions = device.count()
        by device.virtualization.desktop_pool
    every: 30s
    trigger:
      when: avg_latency > 300ms and sessions >= 5
      for: 5min
"""

# Run in the side's own process, with its modules: compile, plan as deploy does, count (and
# time both steps: benchmarks/many_monitors.py reads the times as the submit time).
COUNT = """\
import json, sys, time
t0 = time.perf_counter()
from {pipeline} import compile_paths
from {submit} import stable_plan
from {connectors} import CompileOptions
compiled = compile_paths([sys.argv[1]], options=CompileOptions())
assert compiled.ok, [d.message for d in compiled.result.diagnostics]
t1 = time.perf_counter()
nodes = stable_plan(compiled.statements(), CompileOptions())["nodes"]
kind = lambda n: n["type"].rsplit("_", 1)[0]
functions = [n for n in nodes if kind(n) == "stream-exec-process-table-function"]
print(json.dumps({{"exec_nodes": len(nodes), "process_table_functions": len(functions),
                  "alert_state_functions": sum("--alerts--" in n.get("uid", "") for n in functions),
                  "python_group_aggregates": sum(kind(n) == "stream-exec-python-group-aggregate" for n in nodes),
                  "plan_bytes": len(json.dumps(nodes)), "compile_wall_s": round(t1 - t0, 2),
                  "plan_wall_s": round(time.perf_counter() - t1, 1)}}))
"""


def monitors_file(path: Path, n: int) -> Path:
    path.write_text("monitors:\n" + "".join(MONITOR.format(i=i, minutes=5 + i) for i in range(n)), encoding="utf-8")
    return path


def count(python: str, cwd: Path, monitors: Path, scratch: Path, timeout: float | None = None,
          gc_log: Path | None = None) -> dict:
    """Compile and plan `monitors` with the code of `cwd` in a process of its own: the counts,
    the compile and plan wall times, and run_measured's figures of the process (its wall and
    CPU time, its JVM's peak RSS), its JVM's GC log written to `gc_log` if given. Raises
    measure.TimedOut after `timeout` seconds."""
    env = child_env(cwd, scratch)
    code = COUNT.format(pipeline=module(cwd, "translator.pipeline"), submit=module(cwd, "deploy.submit"),
                        connectors=module(cwd, "translator.flink.connectors"))
    run = run_measured([python, "-c", code, str(monitors)], cwd, with_gc_log(env, gc_log) if gc_log else env,
                       timeout=timeout, capture=True)
    return {**json.loads(run.pop("stdout").strip().splitlines()[-1]), **run}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", default="main", help="git revision to compare with (default: main)")
    ap.add_argument("--monitors", type=int, default=20, help="distinct monitors on session.vdi_events (default 20)")
    ap.add_argument("--json", default=figures_path("plan_size.json"), help="where the figures go as JSON")
    ap.add_argument("--smoke", action="store_true", help="2 monitors (CI)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.monitors = 2
    python = sys.executable
    with temporary_folder(prefix="nql-bench-plan-size-") as d:
        tmp = Path(d)
        monitors = monitors_file(tmp / "monitors.yaml", args.monitors)
        result = {"monitors": args.monitors, "against": args.against, "jobs": {}}
        with revision_checkout(ROOT, args.against, tmp) as jobs:
            for name, cwd in jobs.items():
                result["jobs"][name] = count(python, cwd, monitors, tmp)
    this, ref = result["jobs"].values()
    keys = ("exec_nodes", "process_table_functions", "alert_state_functions", "plan_bytes")
    result["ratio_this_to_against"] = {k: this[k] / ref[k] if ref[k] else None for k in keys}
    print(f"{args.monitors} distinct monitors on session.vdi_events (lat_0 .. lat_{args.monitors - 1}, "
          f"during past 5 .. {args.monitors + 4}min)")
    print("| job | exec nodes | process table functions | of which alert states | plan JSON bytes | planning s (wall) |")
    print("|---|---|---|---|---|---|")
    for name, j in result["jobs"].items():
        print(f"| {name} | {j['exec_nodes']} | {j['process_table_functions']} | {j['alert_state_functions']} | "
              f"{j['plan_bytes']} | {j['plan_wall_s']} |")
    r = result["ratio_this_to_against"]
    print(f"| ratio this / {args.against} | " + " | ".join("-" if r[k] is None else f"{r[k]:.2f}" for k in keys) + " | |")
    print("(planning time: one run per side, wall clock of a shared machine; the counts are exact)")
    write_figures(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
