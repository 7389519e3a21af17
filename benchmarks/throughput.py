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

import sys
from pathlib import Path

from checkout import child_env, revision_checkout  # benchmarks/, the script's folder
from measure import (figures, measure, options, parse, ratios, run_measured, same_records, table, temporary_folder,
                     write_figures)
from seed import ROOT, EVENTS, count_lines, head, run_command, simulate


def run_once(python: str, cwd: Path, files: dict[str, Path], out: Path, scratch: Path) -> dict:
    """One `nql-flink run` of the seed monitor in its own process, from the checkout `cwd`
    (its modules, its monitor file, its Java functions): wall seconds, CPU seconds of the
    process tree, alert records."""
    r = run_measured(run_command(python, cwd, files, out), cwd, child_env(cwd, scratch))
    return {**r, "output": sorted(out.read_text().splitlines()) if out.exists() else []}


def main(argv: list[str] | None = None) -> int:
    ap = options(__doc__, "throughput.json")
    ap.add_argument("--against", default="main", help="git revision to compare with (default: main)")
    args = parse(ap, argv)
    python = sys.executable
    with temporary_folder(prefix="nql-bench-throughput-") as d:
        tmp = Path(d)
        with revision_checkout(ROOT, args.against, tmp) as jobs:  # Java functions compiled first
            files = simulate(python, tmp / "sim", args.hours, args.devices)
            n_events = count_lines(files[EVENTS])
            print(f"input: {n_events} session.vdi_events, {count_lines(files['device.devices'])} device.devices "
                  f"({args.devices} devices per tenant, {args.hours:g} h)", flush=True)
            small = head(files, args.startup_events, tmp / "small") if args.startup_runs else None

            def run(name: str, tag: str, start: bool) -> dict:
                cwd = jobs[name]
                return run_once(python, cwd, small if start else files, tmp / f"{tag}-{cwd.name}.jsonl", tmp)

            startup, runs = measure(list(jobs), run, args, n_events)
    names = list(jobs)
    result = {"input_events": n_events, "hours": args.hours, "devices": args.devices, "runs": args.runs,
              "against": args.against, "jobs": {}}
    for name in names:
        result["jobs"][name] = {**figures(n_events, runs[name], startup[name]),
                                "alert_records": len(runs[name][0]["output"])}
    this, ref = (result["jobs"][n] for n in names)
    ratio = ratios(this, ref)
    same = all(same_records(r["output"], runs[names[0]][0]["output"]) for n in names for r in runs[n])
    result["ratio_this_to_against"] = ratio
    result["same_alerts"] = same

    print(f"\nmedians of {args.runs} run(s); net = without the median start-up of {args.startup_runs} run(s) on "
          f"{args.startup_events} events")
    print(table(result["jobs"], {f"ratio this / {args.against}": ratio}))
    print(f"same alert records on both sides: {'yes' if same else 'NO'} ({this['alert_records']} records)")
    if not same:
        for name in names:
            for i, r in enumerate(runs[name]):
                print(f"  {name} run {i + 1}:", *r["output"], sep="\n    ")
    result["alerts"] = {name: [r["output"] for r in runs[name]] for name in names}
    write_figures(args.json, result)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
