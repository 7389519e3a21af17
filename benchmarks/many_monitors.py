"""Many monitors on one table (issue 15, benchmark 3): what 1, 10, 100, 1,000 monitors on
session.vdi_events cost against one, in two families (benchmarks/monitor_sets.py): `distinct`
(N different shapes, one tenant) and `same` (N copies of the seed monitor's shape with their
own ids, thresholds and tenants, over max(1, N/10) tenants); on request (--families) three
more that take `same` apart: `tenants` (the same monitors, one per tenant), `one_tenant` (the
same monitors, all of one tenant) and `pools` (one monitor, one tenant, the groups of `tenants
N`): what monitors, groups and tenants each cost. Every size reads the same events (one
simulated tenant's devices dealt out to the tenants, or to sets of pools), so throughputs
compare.

For each family and N, each step in a process of its own, through the public paths only:

  submit      compile (translator.pipeline.compile_paths) and plan as `nql-flink deploy`
              does (deploy/submit.py stable_plan: COMPILE PLAN, stable operator ids), the
              script of benchmarks/plan_size.py: what a user waits for before the job runs.
              Compile = Python start, imports and compile; plan = PyFlink's JVM start and the
              plan. One run per job.
  throughput  `nql-flink run` of the N monitors over the files on embedded Flink (parallelism
              1), measured as benchmarks/throughput.py does (benchmarks/measure.py): events/s
              and events per CPU-s of the process tree, medians of --runs alternating runs,
              and net of the median start-up run on the first --startup-events records
              (which includes planning the job again).
  memory      of the JVM: its peak resident set (VmHWM, /proc) and the largest heap occupancy
              right after a garbage collection (its GC log): the first is what the machine
              gave it, with a default maximum heap of a quarter of RAM (garbage included); the
              second bounds what it needed. For the plan and for the runs (the largest over
              the runs).

Ratios: each N against N = 1 of the same family, in the same invocation; by processing CPU
also pair by pair (run i of each job: the runs alternate), to show the spread of the medians'
ratio, and by processing CPU per CPU-s of the sources' threads (measure.source_cpu: the same
records read and parsed in every job, so the machine's speed, which moves every thread of a run
by tens of percent from minute to minute, divides out: docs/benchmarks.md 3ae). --runs 0: the submit figures only. Sizes that do not
plan within --timeout seconds (or whose run does not end within it) are reported as timed
out, and the family's larger sizes are skipped. Each job must alert at least once (the seed
incident), the same records in every run.

    .venv/bin/python benchmarks/many_monitors.py [--sizes 1,10,100,1000] [--families distinct,same[,tenants]]
        [--timeout 900] [--hours 3] [--devices 2000] [--runs 3] [--startup-runs 1]
        [--startup-events 2000] [--state-backend hashmap|rocksdb] [--against REV] [--handwritten]
        [--json many_monitors.json]
        [--smoke]

--against REV: every job also runs from a git worktree of REV (benchmarks/checkout.py: its own
modules and Java functions, this checkout's monitor files and input), alternating with this
checkout's runs, and each job prints this / REV by processing CPU per source CPU, its medians'
ratio and pair by pair (above 1: this checkout is cheaper), and whether both sides wrote the
same alert records: a change to the windows function measured in one command (5 pairs on 12 h
tell apart about 3-5%, docs/benchmarks.md 3af). The submit step is this checkout's only.

--handwritten: also the seed monitor's shape written by hand in Flink SQL (benchmarks/reference/
seed_monitor.sql, as benchmarks/job_cost.py's reference, over every tenant of the input: one
query, Flink's HOP window grouped by tenant and pool, a literal threshold, at least one device)
over each tenant layout of the same family's sizes, as jobs `hand-written T` (T tenants),
alternating with the others: `same N / hand-written T` (by processing CPU: the two jobs' sources
read the records differently, so not per source CPU) is what the N monitors cost against one
query a Flink engineer would write for the same tenants, and `hand-written T / hand-written 1`
what Flink's own windows lose when the same records are dealt out to T tenants.

--hours 3 by default: on 1 h (100,000 events) a run is 20-30 s, of which the JVM, planning and
JIT are most, so the ratios were mostly of the same start-up; 3 h is what a running job does
(docs/benchmarks.md 3s). The net figures leave the start-up run out.

--smoke: size 1 of the same family (unless --sizes or --families say otherwise), 20 simulated
minutes of 100 devices, one run, no start-up runs (CI checks that the benchmark works, in as
few JVMs as it can: its figures mean nothing).
"""

from __future__ import annotations

import contextlib
import subprocess
import statistics
import sys
from pathlib import Path

from checkout import child_env, revision_checkout  # benchmarks/, the script's folder
from job_cost import JOBS as REFERENCE_JOBS, output_lines, sql_command
from measure import (TimedOut, figures, heap_after_gc, measure, options, parse, ratios, run_measured, same_records,
                     table, temporary_folder, with_gc_log, write_figures)
from monitor_sets import (SEED_TENANT, add_arguments, chosen, input_files, layout, monitor_count, monitors_file,
                          tenants)
from plan_size import count
from seed import EVENTS, ROOT, count_lines, head, run_command, simulate

MB = 1 << 20


def job_name(family: str, n: int) -> str:
    return f"{family} {n}"


def submit(python: str, family: str, n: int, tmp: Path, timeout: float) -> dict:
    """Compile and plan the family's N monitors (benchmarks/plan_size.py's script) -> its
    figures, or {"timed_out": seconds}."""
    monitors = monitors_file(tmp / f"{family}-{n}.yaml", family, n)
    gc = tmp / f"submit-{family}-{n}.gc.log"
    try:
        r = count(python, ROOT, monitors, tmp, timeout=timeout, gc_log=gc)
    except TimedOut:
        return {"timed_out": timeout}
    return {**r, "jvm_heap_after_gc": heap_after_gc(gc)}


def run_once(python: str, checkout: Path, monitors: Path, files: dict[str, Path], out: Path, scratch: Path,
             timeout: float, state_backend: str) -> dict:
    """One `nql-flink run` of `monitors` with the modules and Java functions of `checkout`."""
    r = measured_with_heap(run_command(python, checkout, files, out, str(monitors), state_backend), checkout, out,
                           scratch, timeout)
    return {**r, "output": sorted(out.read_text().splitlines()) if out.exists() else []}


def measured_with_heap(command: list[str], checkout: Path, out: Path, scratch: Path, timeout: float) -> dict:
    """run_measured of `command` in `checkout`, its JVM's GC log beside `out`, with the largest
    heap after a GC (`jvm_heap_after_gc`)."""
    gc = out.with_suffix(".gc.log")
    r = run_measured(command, checkout, with_gc_log(child_env(checkout, scratch), gc), timeout=timeout)
    return {**r, "jvm_heap_after_gc": heap_after_gc(gc)}


HANDWRITTEN = "hand-written"


def handwritten_once(python: str, files: dict[str, Path], out: Path, scratch: Path, timeout: float) -> dict:
    """One run of the seed monitor's shape written by hand over every tenant of `files`
    (--handwritten), its breaching windows written to the folder `out`."""
    command = sql_command(python, REFERENCE_JOBS["reference"][1], files, out, tenants="TRUE", sessions="1")
    return {**measured_with_heap(command, ROOT, out, scratch, timeout), "output": sorted(output_lines(out))}


def handwritten_ratios(done: dict) -> dict:
    """`same N / hand-written T` for each same job and the hand-written job over its tenants:
    by processing CPU only (not per source CPU: the jobs read the records differently)."""
    out = {}
    for name, j in done.items():
        reference = job_name(HANDWRITTEN, j["tenants"])
        if j["family"] == "same" and reference in done:
            out[f"{name} / {reference}"] = compared(done[name], done[reference], per_source=False)
    return out


def dealt(inputs, devices: int) -> str:
    """The inputs' layouts, as words: "1, 100 tenant(s) (2000, 20 devices a tenant); 100 set(s) of
    pools". Same 1000 / same 1 depends on the devices a tenant: each tenant's windows cost about
    what 5-9 more devices' records do (docs/benchmarks.md 3ah)."""
    tenants_ = [t for kind, t in inputs if kind == "tenants"]
    pools = [str(t) for kind, t in inputs if kind == "pools"]
    size = ", ".join(f"{devices / t:g}" for t in tenants_)
    return "; ".join(([f"{', '.join(map(str, tenants_))} tenant(s) ({size} devices a tenant)"] if tenants_ else []) +
                     ([f"{', '.join(pools)} set(s) of pools"] if pools else []))


def largest(runs: list[dict], key: str) -> int | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return max(values) if values else None


def pair_ratios(job: list[float], reference: list[float]) -> list[float]:
    """Per pair of runs (run i of each: adjacent, the runs alternate) the reference's processing
    CPU over the job's: the ratio each pair gives, so that the spread of the medians' ratio shows
    (this machine's runs spread by tens of percent within an hour, docs/benchmarks.md 3aa)."""
    return [r / j for j, r in zip(job, reference) if j]


def per_source(processing: list[float], source: list[float]) -> list[float]:
    """Each run's processing CPU over its sources' threads' CPU (runs without source CPU left out)."""
    return [p / s for p, s in zip(processing, source) if s]


def per_source_ratio(job: dict, reference: dict) -> dict:
    """The reference's median processing CPU per source CPU over the job's, and pair by pair."""
    mine = per_source(job["processing_cpu_s_by_run"], job["source_cpu_s_by_run"])
    theirs = per_source(reference["processing_cpu_s_by_run"], reference["source_cpu_s_by_run"])
    return {"processing_per_source": statistics.median(theirs) / statistics.median(mine) if mine and theirs else None,
            "processing_per_source_pairs": pair_ratios(mine, theirs)}


def compared(job: dict, reference: dict, per_source: bool = True) -> dict:
    """A job's figures over a reference's: the rates' ratios, and by processing CPU pair by pair
    and per source CPU (above 1: the job costs less). Without `per_source` (jobs whose sources
    do different work) the per-source ratio is None and has no pairs."""
    return {**ratios(job, reference),
            "processing_pairs": pair_ratios(job["processing_cpu_s_by_run"], reference["processing_cpu_s_by_run"]),
            **(per_source_ratio(job, reference) if per_source
               else {"processing_per_source": None, "processing_per_source_pairs": []})}


def job_figures(events: int, job_runs: list[dict], job_startup: list[dict]) -> dict:
    """A job's figures from its timed and start-up runs (each run's processing and source CPU
    kept, for the ratios pair by pair)."""
    outputs = [r["output"] for r in job_runs]
    return {**figures(events, job_runs, job_startup),
            "jvm_peak_rss": largest(job_runs + job_startup, "jvm_peak_rss"),
            "jvm_heap_after_gc": largest(job_runs + job_startup, "jvm_heap_after_gc"),
            "processing_cpu_s_by_run": [r["processing_cpu"] for r in job_runs],
            "source_cpu_s_by_run": [r["source_cpu"] for r in job_runs],
            "alert_records": len(outputs[0]),
            "same_output_every_run": all(same_records(o, outputs[0]) for o in outputs)}


def mb(x) -> str:
    return "-" if x is None else f"{x / MB:.0f}"


def fmt1(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def print_against(commit: str, against: dict, done: dict) -> None:
    """This checkout's jobs against the same jobs from the other revision's worktree."""
    rev = against["revision"]
    print(f"\nthis checkout ({commit}) against {rev}: the same jobs from its worktree, alternating with this "
          f"checkout's runs; ratios this / {rev}")
    jobs = {}
    for name in against["jobs"]:
        jobs[f"{name} [this]"] = done[name]
        jobs[f"{name} [{rev}]"] = against["jobs"][name]
    print(table(jobs, {f"{name}: this / {rev}": r for name, r in against["ratios"].items()}))
    for name, r in against["ratios"].items():
        per_source_ = "-" if r["processing_per_source"] is None else f"{r['processing_per_source']:.2f}"
        print(f"{name}: this / {rev} by processing CPU per source CPU (above 1: this checkout is cheaper): medians' "
              f"ratio {per_source_}, pair by pair {', '.join(f'{x:.2f}' for x in r['processing_per_source_pairs'])}; "
              f"same alert records on both sides: {'yes' if r['same_alerts'] else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    ap = options(__doc__, "many_monitors.json")
    ap.set_defaults(hours=3)
    add_arguments(ap, "1,10,100,1000")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds a size may take to plan, or one of its runs to end (default 900)")
    ap.add_argument("--state-backend", choices=("hashmap", "rocksdb"), default="hashmap",
                    help="the runs' state backend (`nql-flink run --state-backend`; default hashmap, the "
                         "command's default; rocksdb as deployed)")
    ap.add_argument("--against", metavar="REV", help="also run every job from a git worktree of REV, alternating, "
                                                     "and print this / REV per job")
    ap.add_argument("--handwritten", action="store_true",
                    help="also run the seed monitor's shape written by hand in Flink SQL over each tenant layout of "
                         "the same family, and print same N / hand-written over the same tenants")
    args = parse(ap, argv)
    sizes, families = chosen(args, "1,10,100,1000")
    python = sys.executable
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    result = {"commit": commit, "state_backend": args.state_backend, "sizes": sizes, "families": families,
              "timeout_s": args.timeout, "runs": args.runs,
              "startup_runs": args.startup_runs, "startup_events": args.startup_events, "jobs": {}, "skipped": {}}
    with temporary_folder(prefix="nql-bench-many-") as d, contextlib.ExitStack() as stack:
        tmp = Path(d)
        if args.against:  # a worktree of REV, both sides' Java functions built
            sides = stack.enter_context(revision_checkout(ROOT, args.against, tmp))
        else:
            subprocess.run([python, "-m", "nql_flink.deploy.jars", "build", "udfs"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, env=child_env(ROOT, tmp))  # before any timed run
            sides = {"this": ROOT}
        this_side, *others = sides
        other_side = others[0] if others else None   # the worktree's side (with --against)

        def key(name: str, side: str) -> str:
            """A job's runs from one side: this checkout's are the job's name."""
            return name if side == this_side else f"{name} [{side}]"

        sim = simulate(python, tmp / "sim", args.hours, args.devices, tenants=SEED_TENANT)
        inputs = {lay: input_files(sim, lay, tmp) for lay in sorted({layout(f, n) for f in families for n in sizes})}
        n_events = count_lines(sim[EVENTS])
        result["input"] = {"events": n_events, "inventory": count_lines(sim["device.devices"]), "hours": args.hours,
                           "devices": args.devices}
        small = {lay: head(files, args.startup_events, tmp / f"small-{lay[0]}-{lay[1]}")
                 for lay, files in inputs.items()} if args.startup_runs else {}
        print(f"input: {n_events} {EVENTS}, {result['input']['inventory']} device.devices ({args.devices} devices, "
              f"{args.hours:g} h), dealt out to {dealt(inputs, args.devices)}", flush=True)

        planned: dict[str, tuple[str, int]] = {}
        for family in families:
            for n in sizes:
                name = job_name(family, n)
                if any(s["family"] == family for s in result["skipped"].values()):
                    result["skipped"][name] = {"family": family, "monitors": monitor_count(family, n),
                                               "why": "a smaller size timed out"}
                    print(f"submit {name}: skipped (a smaller size of the family timed out)", flush=True)
                    continue
                s = submit(python, family, n, tmp, args.timeout)
                if "timed_out" in s:
                    result["skipped"][name] = {"family": family, "monitors": monitor_count(family, n),
                                               "why": f"did not compile and plan within {args.timeout:g} s"}
                    print(f"submit {name}: TIMED OUT after {args.timeout:g} s", flush=True)
                    continue
                print(f"submit {name}: compile {s['compile_wall_s']:.1f} s, plan {s['plan_wall_s']:.1f} s, "
                      f"{s['exec_nodes']} exec nodes, JVM peak RSS {mb(s['jvm_peak_rss'])} MB", flush=True)
                result["jobs"][name] = {"family": family, "size": n, "monitors": monitor_count(family, n),
                                        "tenants": tenants(family, n), "submit": s}
                planned[name] = (family, n)

        keys = {key(name, side): (name, i, side) for name in planned for i, side in enumerate(sides)}
        if args.handwritten and "same" in families:   # one query, this checkout's side only
            for t in sorted({tenants("same", n) for n in sizes}):
                name = job_name(HANDWRITTEN, t)
                result["jobs"][name] = {"family": HANDWRITTEN, "size": t, "monitors": 1, "tenants": t, "submit": None}
                planned[name] = (HANDWRITTEN, t)
                keys[name] = (name, 0, this_side)

        def run(k: str, tag: str, start: bool) -> dict:
            name, i, side = keys[k]
            family, n = planned[name]
            if family == HANDWRITTEN:   # over the same family's input of n tenants
                lay = ("tenants", n)
                return handwritten_once(python, small[lay] if start else inputs[lay], tmp / f"{tag}-{family}-{n}", tmp,
                                        args.timeout)
            lay = layout(family, n)
            return run_once(python, sides[side], tmp / f"{family}-{n}.yaml", small[lay] if start else inputs[lay],
                            tmp / f"{tag}-{family}-{n}-{i}.jsonl", tmp, args.timeout, args.state_backend)

        startup, runs = measure(list(keys), run, args, n_events) if planned and args.runs else ({}, {})

    for name in planned if args.runs else []:
        job = result["jobs"][name]
        if not runs[name] or (args.startup_runs and not startup[name]):
            result["skipped"][name] = {**{k: job[k] for k in ("family", "monitors")},
                                       "why": f"a run did not end within {args.timeout:g} s"}
            continue
        job.update(job_figures(n_events, runs[name], startup[name]))
    done = {name: j for name, j in result["jobs"].items() if "events_per_s" in j}
    result["ratios"] = {}
    for name, j in done.items():
        reference = job_name(j["family"], 1)
        if j["size"] > 1 and reference in done:
            result["ratios"][f"{name} / {reference}"] = compared(j, done[reference])
    result["ratios"].update(handwritten_ratios(done))
    against = {}
    if other_side and args.runs:
        against = {"revision": other_side, "jobs": {}, "ratios": {}}
        for name in done:
            k = key(name, other_side)
            if k in keys and runs[k] and (startup[k] or not args.startup_runs):   # (hand-written: this side only)
                other = against["jobs"][name] = job_figures(n_events, runs[k], startup[k])
                against["ratios"][name] = {**compared(done[name], other),
                                           "same_alerts": same_records(runs[name][0]["output"], runs[k][0]["output"])}
        result["against"] = against
    result["outputs"] = {name: [r["output"] for r in runs[name]] for name in done}

    print(f"\nmany monitors on {EVENTS}: {n_events} events, commit {commit}; submit = one run; rates = medians of "
          f"{args.runs} run(s), net = without the median start-up of {args.startup_runs} run(s) on "
          f"{args.startup_events} events")
    print("| job | monitors | tenants | compile s | plan s | exec nodes | plan JVM RSS MB | plan heap MB | "
          "run JVM RSS MB | run heap MB | alert records (hand-written: breaching windows) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, j in result["jobs"].items():
        s = j["submit"] or {}   # none for the hand-written jobs
        print(f"| {name} | {j['monitors']} | {j['tenants']} | {fmt1(s.get('compile_wall_s'))} | "
              f"{fmt1(s.get('plan_wall_s'))} | {s.get('exec_nodes', '-')} | {mb(s.get('jvm_peak_rss'))} | "
              f"{mb(s.get('jvm_heap_after_gc'))} | "
              f"{mb(j.get('jvm_peak_rss'))} | {mb(j.get('jvm_heap_after_gc'))} | {j.get('alert_records', '-')} |")
    print("(RSS: the JVM's peak resident set; heap: its largest occupancy after a GC)\n")
    if done:
        print(table(done, result["ratios"]))
        print("processing CPU-s by run: " + "; ".join(
            f"{name} {', '.join(f'{c:.1f}' for c in j['processing_cpu_s_by_run'])}" for name, j in done.items()))
        print("processing CPU-s per CPU-s of the sources' threads, by run: " + "; ".join(
            f"{name} {', '.join(f'{c:.2f}' for c in per_source(j['processing_cpu_s_by_run'], j['source_cpu_s_by_run']))}"
            for name, j in done.items()))
        for name, r in result["ratios"].items():
            print(f"{name}, by processing CPU, pair by pair: {', '.join(f'{x:.2f}' for x in r['processing_pairs'])}")
            if r["processing_per_source"] is not None:
                print(f"{name}, by processing CPU per source CPU (the machine's speed divided out): medians' ratio "
                      f"{r['processing_per_source']:.2f}, pair by pair "
                      f"{', '.join(f'{x:.2f}' for x in r['processing_per_source_pairs'])}")
    if against:
        print_against(commit, against, done)
    for name, s in result["skipped"].items():
        print(f"skipped: {name}: {s['why']}")
    ok = all(j["alert_records"] > 0 and j["same_output_every_run"]
             for j in [*done.values(), *against.get("jobs", {}).values()]) and \
        all(r["same_alerts"] for r in against.get("ratios", {}).values()) and \
        bool(done or not args.runs and result["jobs"])
    if not ok:
        print("NOT every job alerted with the same records in every run (above): the figures are suspect")
    write_figures(args.json, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
