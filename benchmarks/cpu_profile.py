"""Where a thread's CPU goes, frame by frame, in the jobs of the many-monitors benchmark (issue
15): by default the windows function's thread in `same 1` (one monitor, one tenant) and `same
1000` (1,000 monitors over 100 tenants), or with --family distinct the distinct-shape family's
sizes (`--family distinct --sizes 1,100`), each run once by `nql-flink run` on the same input as
benchmarks/many_monitors.py, under async-profiler (deploy/profiler: from Maven Central through
the Maven build, nothing in git) in its `ctimer` mode.

Why this profiler: `ctimer` samples each thread on its own CPU-time timer, so it needs no perf
events (this machine's VM has none) and a thread's samples follow its CPU time, interpreted,
compiled and native frames alike. JFR's execution samples misled twice here (docs/flink-job-
shape.md §7, sessions 50-53). A sample is one tick of 1 ms of CPU; in this VM about a quarter
of the ticks are sampled, in the same proportion in every job, so jobs compare by their samples
but a sample count is not a number of milliseconds.

For the threads whose name matches --thread (a regular expression; default: the windows
function's thread, `ProcessTableFunction[..] -> (` chained to several Calcs), it prints each
frame's inclusive samples in every job and the difference from the first job, largest first,
and with --under FRAME the frames directly under FRAME. A frame is `Class.method`, its package
left out, lambdas as `Class$$Lambda`.

What a profile of many tenants shows is where memory is first touched, not always work that can
be removed: moving a step moves its cache misses (docs/flink-job-shape.md §7, session 53). Check
a change with the windows thread's section timers or paired runs, not with the profile alone.

    .venv/bin/python benchmarks/cpu_profile.py [--family same|distinct] [--sizes 1,1000] [--hours 3] [--devices 2000]
        [--thread REGEX] [--under FRAME ...] [--frames 40] [--keep DIR] [--json cpu_profile.json] [--smoke]

--smoke: sizes 1 and 10, 20 simulated minutes of 100 devices (CI checks that it works: the
figures mean nothing).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from checkout import child_env, short  # benchmarks/, the script's folder
from measure import figures_path, temporary_folder, write_figures
from monitor_sets import SEED_TENANT, input_files, layout, monitor_count, monitors_file, tenants
from seed import ROOT, run_command, simulate

WINDOWS_THREAD = r"^ProcessTableFunction\[\d+\] -> \("


def frame(name: str) -> str:
    """A frame as printed: its class (package left out) and method, lambdas as `Class$$Lambda`."""
    name = re.sub(r"\$\$Lambda.*", "$$Lambda", name)
    return name.rsplit("/", 1)[-1]


def read_collapsed(folder: Path, thread: re.Pattern) -> tuple[int, dict[str, int], dict[tuple[str, str], int], dict[str, int]]:
    """async-profiler's collapsed stacks in `folder` (one file per JVM; `threads`: each stack's first
    frame is `[name tid=n]`), those of the threads matching `thread` -> (their samples, inclusive
    samples per frame, samples per (frame, the frame directly under it), samples per thread name)."""
    total = 0
    inclusive: collections.Counter = collections.Counter()
    under: collections.Counter = collections.Counter()
    names: collections.Counter = collections.Counter()
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            name = re.sub(r" tid=\d+\]$", "", frames[0].lstrip("["))
            if not thread.search(name):
                continue
            n = int(count)
            total += n
            names[name] += n
            chain = [frame(f) for f in frames[1:]]
            for f in set(chain):
                inclusive[f] += n
            seen = set()
            for parent, child in zip(chain, chain[1:] + ["<self>"]):
                if (parent, child) not in seen:
                    under[parent, child] += n
                    seen.add((parent, child))
    return total, dict(inclusive), dict(under), dict(names)


def run_profiled(python: str, monitors: Path, files: dict[str, Path], out: Path, folder: Path, scratch: Path) -> None:
    """`nql-flink run` of `monitors` over `files` under the profiler, its stacks into `folder`."""
    from nql_flink.deploy.jars import profiler_agent

    folder.mkdir(parents=True)
    agent = profiler_agent(quiet=True)
    env = {**child_env(ROOT, scratch),
           "JAVA_TOOL_OPTIONS": f"-agentpath:{agent}=start,event=ctimer,interval=1ms,threads,collapsed,"
                                f"file={folder}/prof-%p.txt"}
    done = subprocess.run(run_command(python, ROOT, files, out, monitors=str(monitors)), cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"`nql-flink run` of {monitors.name} failed:\n{done.stderr[-4000:]}")
    # the JVM writes its stacks as it exits, after the command has returned: wait for them
    sizes, deadline = None, time.monotonic() + 120
    while time.monotonic() < deadline:
        now = {p.name: p.stat().st_size for p in folder.glob("*.txt")}
        if now and now == sizes:
            return
        sizes = now
        time.sleep(1)
    raise SystemExit(f"the profiler wrote no stacks into {folder} within 120 s of the run's end")


def table(jobs: dict[str, dict], count: int) -> str:
    """Each frame's inclusive samples per job and the difference from the first job, the largest first."""
    names = list(jobs)
    first = jobs[names[0]]["frames"]
    every = set().union(*(j["frames"] for j in jobs.values()))
    last = jobs[names[-1]]["frames"]
    order = sorted(every, key=lambda f: (-(last.get(f, 0) - first.get(f, 0)), f))[:count]
    lines = ["| frame | " + " | ".join(names) + f" | {names[-1]} - {names[0]} |",
             "|---|" + "---|" * (len(names) + 1)]
    for f in order:
        lines.append(f"| {f} | " + " | ".join(str(jobs[n]["frames"].get(f, 0)) for n in names)
                     + f" | {last.get(f, 0) - first.get(f, 0):+d} |")
    return "\n".join(lines)


def children(jobs: dict[str, dict], parent: str) -> str:
    """The frames directly under `parent` (and its own samples, `<self>`) per job."""
    names = list(jobs)
    kids = sorted({c for j in jobs.values() for p, c in j["under"] if p == parent},
                  key=lambda c: -sum(j["under"].get((parent, c), 0) for j in jobs.values()))
    lines = [f"under {parent} (inclusive: " + ", ".join(f"{n} {jobs[n]['frames'].get(parent, 0)}" for n in names) + ")",
             "| frame | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for c in kids[:25]:
        lines.append(f"| {c} | " + " | ".join(str(jobs[n]["under"].get((parent, c), 0)) for n in names) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="same", choices=("same", "distinct"),
                    help="the family of benchmarks/many_monitors.py profiled (default same)")
    ap.add_argument("--sizes", default="1,1000", help="sizes of the family, the first the reference (default 1,1000)")
    ap.add_argument("--hours", type=float, default=3, help="simulated hours of telemetry (default 3)")
    ap.add_argument("--devices", type=int, default=2000, help="simulated devices (default 2000)")
    ap.add_argument("--thread", default=WINDOWS_THREAD, help="regular expression of the threads profiled "
                                                             "(default: the windows function's)")
    ap.add_argument("--under", action="append", default=[], metavar="FRAME",
                    help="also the frames directly under FRAME (Class.method), per job; repeatable")
    ap.add_argument("--frames", type=int, default=40, help="frames in the table (default 40)")
    ap.add_argument("--keep", metavar="DIR", help="keep the collapsed stacks there (one folder per job)")
    ap.add_argument("--json", default=figures_path("cpu_profile.json"), help="where the figures go as JSON")
    ap.add_argument("--smoke", action="store_true", help="sizes 1 and 10, tiny input (CI)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.sizes, args.hours, args.devices = "1,10", 1 / 3, 100
    sizes = [int(s) for s in args.sizes.split(",")]
    thread = re.compile(args.thread)
    python = sys.executable
    commit = short(ROOT, "HEAD")
    family = args.family
    jobs: dict[str, dict] = {}
    with temporary_folder(prefix="nql-bench-profile-") as d:
        tmp = Path(d)
        subprocess.run([python, "-m", "nql_flink.deploy.jars", "build", "udfs"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, env=child_env(ROOT, tmp))
        sim = simulate(python, tmp / "sim", args.hours, args.devices, tenants=SEED_TENANT)
        for n in sizes:
            name = f"{family} {n}"
            print(f"profiling {name} ({monitor_count(family, n)} monitors, {tenants(family, n)} tenants) ...",
                  flush=True)
            folder = tmp / f"prof-{n}"
            run_profiled(python, monitors_file(tmp / f"{family}-{n}.yaml", family, n),
                         input_files(sim, layout(family, n), tmp), tmp / f"out-{n}.jsonl", folder, tmp)
            if args.keep:
                shutil.copytree(folder, Path(args.keep) / f"{family}-{n}", dirs_exist_ok=True)
            total, frames, under, names = read_collapsed(folder, thread)
            jobs[name] = {"monitors": monitor_count(family, n), "tenants": tenants(family, n), "samples": total,
                          "threads": names, "frames": frames, "under": under}
    print(f"\nprofile of the threads matching {args.thread!r}, commit {commit}, {args.hours:g} h of {args.devices} "
          f"devices; samples of 1 ms ticks of CPU (async-profiler, ctimer)")
    print("| job | monitors | tenants | samples | threads |\n|---|---|---|---|---|")
    for name, j in jobs.items():
        print(f"| {name} | {j['monitors']} | {j['tenants']} | {j['samples']} | {', '.join(sorted(j['threads']))} |")
    print()
    print(table(jobs, args.frames))
    for parent in args.under:
        print()
        print(children(jobs, parent))
    top = {n: dict(sorted(j["frames"].items(), key=lambda kv: -kv[1])[:500]) for n, j in jobs.items()}
    write_figures(args.json, {
        "commit": commit, "thread": args.thread, "hours": args.hours, "devices": args.devices,
        "jobs": {n: {**{k: j[k] for k in ("monitors", "tenants", "samples", "threads")}, "frames": top[n]}
                 for n, j in jobs.items()}})
    ok = all(j["samples"] > 0 for j in jobs.values())
    if not ok:
        print(f"error: no sample of a thread matching {args.thread!r} in some job", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
