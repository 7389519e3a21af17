"""Measuring jobs that run in processes of their own (benchmarks/throughput.py,
benchmarks/job_cost.py): a command run while the CPU time of its process tree is sampled
from /proc, the medians of alternating runs, and the rates net of a start-up run.

A run of a Flink job pays a fixed start-up (JVM, planning, code generation and JIT of the
job's classes) whatever its input, so a benchmark also runs each job on a few records and
gives the rates net of that median start-up as well: the cost per record.

The JVM's CPU is also split by thread (`cpu_by_kind`): its JIT compilers, its garbage
collector, the client threads that plan the job (PyFlink's gateway threads, main) and the job's
own threads (tasks, sources, the runtime). "Processing CPU" is the job's threads and the
collector: what each record costs once the job runs, without the start-up and without the
compilation of hot code, which is still going on when a run of a minute ends (issue 15:
the seed monitor's generated job spent a third of its CPU in the C2 compiler on 6 h of input)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from proctree import descendants, sample_threads, stat_cpu, thread_kind  # benchmarks/, the script's folder

SAMPLE_S = 0.2


class TimedOut(Exception):
    """A command of run_measured that did not end within its timeout (its process tree killed)."""


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str], *, timeout: float | None = None,
                 capture: bool = False) -> dict:
    """Run `cmd` to its end: wall seconds, CPU seconds of its process tree (the largest value
    seen of each process, /proc sampled every SAMPLE_S), the peak resident memory of its JVM
    (`jvm_peak_rss`: the largest VmHWM of a `java` process of the tree, bytes; None if none
    ran) and, with `capture`, its standard output. A failing command ends the benchmark with
    its stderr; one still running after `timeout` seconds is killed with its whole process
    group (the PyFlink JVM included) and raises TimedOut."""
    seen: dict[int, float] = {}
    rss: dict[int, int] = {}
    threads: dict[tuple[int, int], tuple[str, float]] = {}  # (JVM pid, tid) -> (name, CPU s)
    t0 = time.perf_counter()
    # a process group of its own: a timeout kills the JVM that PyFlink started too
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    stop = threading.Event()

    def sample() -> None:
        while True:
            for pid in descendants(proc.pid) | {proc.pid}:
                st = stat_cpu(f"/proc/{pid}/stat")
                if st is not None:
                    seen[pid] = max(st[1], seen.get(pid, 0.0))
                    if st[0] == "java":
                        rss[pid] = max(peak_rss(pid) or 0, rss.get(pid, 0))
                        sample_threads(pid, threads)
            if stop.wait(SAMPLE_S):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
        wall = time.perf_counter() - t0
    except BaseException as exc:  # the timeout, or ^C: no JVM left behind
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise TimedOut(f"still running after {timeout:g} s") from None
        raise
    finally:
        stop.set()
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}) in {cwd}: {' '.join(cmd)}\n{err[-3000:]}")
    by_kind = {kind: 0.0 for kind in ("job", "gc", "jit", "client")}
    for name, cpu in threads.values():
        by_kind[thread_kind(name)] += cpu
    return {"wall": wall, "cpu": sum(seen.values()), "jvm_peak_rss": max(rss.values()) if rss else None,
            "cpu_by_kind": by_kind, "processing_cpu": by_kind["job"] + by_kind["gc"],
            "source_cpu": source_cpu(threads.values()),
            **({"stdout": out} if capture else {})}


def source_cpu(threads) -> float:
    """CPU seconds of the sources' task threads (named `Source: ...`, chained with what follows
    them up to the first shuffle: reading and parsing the records). Jobs over the same records
    do the same work there, so a run's processing CPU over it is its cost with the machine's
    speed of that minute divided out (docs/benchmarks.md 3ae)."""
    return sum(cpu for name, cpu in threads if name.startswith("Source: "))


def peak_rss(pid: int) -> int | None:
    """VmHWM (the peak resident set so far) of a process, bytes; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(m.group(1)) * 1024 if m else None


def with_gc_log(env: dict[str, str], path: Path) -> dict[str, str]:
    """`env` with the JVM that PyFlink starts logging its garbage collections to `path`
    (JVM_ARGS, read by PyFlink's gateway launcher): heap_after_gc reads it."""
    return {**env, "JVM_ARGS": f"{env.get('JVM_ARGS', '')} -Xlog:gc:file={path}".strip()}


_GC = re.compile(r"GC\(\d+\) Pause .* (\d+)([KMG])->(\d+)([KMG])\((\d+)([KMG])\)")
_UNIT = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def heap_after_gc(path: Path) -> int | None:
    """The largest heap occupancy right after a garbage collection in a JVM's GC log (bytes):
    an upper bound of the live data at its largest, unlike the resident set, which also
    holds garbage the JVM had no need to collect yet (its default maximum heap is a quarter
    of the machine's memory). None when the JVM never collected."""
    if not path.is_file():
        return None
    after = [int(m.group(3)) * _UNIT[m.group(4)] for m in map(_GC.search, path.read_text().splitlines()) if m]
    return max(after) if after else None


def alternating(names: list[str], i: int) -> list[str]:
    """The order of the jobs in run `i`: as given, then reversed, and so on (a job after
    another that warmed the machine's caches, or ran beside a neighbour, in turn)."""
    return list(names) if i % 2 == 0 else list(reversed(names))


def figures(events: int, runs: list[dict], startup: list[dict]) -> dict:
    """Medians of a job's runs over `events` records: events/s and events per CPU-s, and the
    same net of the median start-up run (None without start-up runs, or when the start-up
    took longer than the run)."""
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    s_wall = statistics.median(r["wall"] for r in startup) if startup else 0.0
    s_cpu = statistics.median(r["cpu"] for r in startup) if startup else 0.0
    processing = statistics.median(r["processing_cpu"] for r in runs)
    kinds = {f"{kind}_cpu_s": statistics.median(r["cpu_by_kind"][kind] for r in runs) for kind in runs[0]["cpu_by_kind"]}
    return {"wall_s": wall, "cpu_s": cpu, "events_per_s": events / wall, "events_per_cpu_s": events / cpu,
            **kinds, "processing_cpu_s": processing,
            "events_per_processing_cpu_s": events / processing if processing else None,
            "startup_wall_s": s_wall, "startup_cpu_s": s_cpu,
            "net_events_per_s": events / (wall - s_wall) if startup and wall > s_wall else None,
            "net_events_per_cpu_s": events / (cpu - s_cpu) if startup and cpu > s_cpu else None}


RATES = ("events_per_s", "events_per_cpu_s", "net_events_per_s", "net_events_per_cpu_s", "events_per_processing_cpu_s")


def ratios(job: dict, reference: dict) -> dict:
    """job / reference for each rate (None where either is missing)."""
    return {k: (job[k] / reference[k] if job[k] and reference[k] else None) for k in RATES}


def fmt(x, spec: str = "7.0f") -> str:
    return "      -" if x is None else format(x, spec)


def table(rows: dict[str, dict], ratio_rows: dict[str, dict]) -> str:
    """The figures of each job and the ratios, as a Markdown table."""
    lines = ["| job | events/s | events per CPU-s | net events/s | net events per CPU-s | events per processing CPU-s "
             "| start-up CPU-s | CPU-s: job threads, GC, JIT, client |",
             "|---|---|---|---|---|---|---|---|"]
    for name, j in rows.items():
        lines.append(f"| {name} | {fmt(j['events_per_s'])} | {fmt(j['events_per_cpu_s'])} | "
                     f"{fmt(j['net_events_per_s'])} | {fmt(j['net_events_per_cpu_s'])} | "
                     f"{fmt(j['events_per_processing_cpu_s'])} | {j['startup_cpu_s']:.1f} | "
                     f"{j['job_cpu_s']:.1f}, {j['gc_cpu_s']:.1f}, {j['jit_cpu_s']:.1f}, {j['client_cpu_s']:.1f} |")
    for name, r in ratio_rows.items():
        lines.append(f"| {name} | " + " | ".join(fmt(r[k], ".2f") for k in RATES) + " | | |")
    return "\n".join(lines)


# Where a benchmark's figures go by default: out/ of the folder it runs in (the checkout's, as
# documented; out/ is git-ignored), not the folder itself.
FIGURES = Path("out") / "benchmarks"


def figures_path(name: str) -> str:
    return str(FIGURES / name)


def write_figures(path: str, result: dict) -> None:
    """The figures as JSON at path (its folder made), and where they went."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"figures: {out}")


@contextlib.contextmanager
def temporary_folder(prefix: str | None = None):
    """A temporary folder (its path, as tempfile.TemporaryDirectory gives it) removed when the
    block ends, however it ends: normally, by an exception or ^C, and by SIGTERM. Python's
    default for SIGTERM ends the process at once and removes nothing (a stage_cost.py stopped
    mid-run left 162 MB in /tmp), so in the block it raises SystemExit(143) instead, and a
    stopped benchmark also runs its other `finally` clauses: run_measured kills its command's
    process group, broker_and_flink stops its broker. What a job still writes into the folder as
    it stops does not fail the removal. Only a kill -9 leaves the folder."""
    def terminated(signum, _frame):
        raise SystemExit(128 + signum)

    main = threading.current_thread() is threading.main_thread()  # where Python runs signal handlers
    previous = signal.signal(signal.SIGTERM, terminated) if main else None
    try:
        with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as d:
            yield d
    finally:
        if main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def options(description: str, json_default: str) -> argparse.ArgumentParser:
    """The options of a benchmark over the seed input (benchmarks/seed.py): its size, the runs,
    the start-up runs, the JSON file and --smoke."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=3, help="simulated hours of telemetry (default 3)")
    ap.add_argument("--devices", type=int, default=2000, help="simulated devices per tenant (default 2000)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each job, alternating (default 3)")
    ap.add_argument("--startup-runs", type=int, default=1,
                    help="runs of each job on the first --startup-events records, to take the start-up out")
    ap.add_argument("--startup-events", type=int, default=2000)
    ap.add_argument("--json", default=figures_path(json_default), help="where the figures go as JSON")
    ap.add_argument("--smoke", action="store_true", help="tiny input, one run each, no start-up runs (CI)")
    return ap


def parse(ap: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The options; --smoke: 20 simulated minutes of 100 devices, one run each, no start-up runs."""
    args = ap.parse_args(argv)
    if args.smoke:
        args.hours, args.devices, args.runs, args.startup_runs = 1 / 3, 100, 1, 0
    return args


def measure(names: list[str], run: Callable[[str, str, bool], dict], args: argparse.Namespace,
            events: int) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """The start-up runs, then the timed runs of each job, in alternating order, each printed:
    `run(job, tag, small)` runs the job on the first args.startup_events records (small) or on
    all `events`, in a process of its own, and returns run_measured's figures and its `output`
    (the records it wrote). A run that raises TimedOut (run_measured's timeout) is printed and
    its job runs no more: its lists stop there. -> (start-up runs, timed runs) per job."""
    width = max(map(len, names))
    done = {}
    out_of_time: set[str] = set()
    for phase, count, small, n in (("start-up", args.startup_runs, True, min(events, args.startup_events)),
                                   ("run", args.runs, False, events)):
        done[phase] = {name: [] for name in names}
        for i in range(count):
            for name in alternating(names, i):
                if name in out_of_time:
                    continue
                try:
                    r = run(name, f"{phase}-{i}", small)
                except TimedOut as exc:
                    print(f"  {phase} {i + 1} {name:{width}s}: timed out ({exc}); no more runs of it", flush=True)
                    out_of_time.add(name)
                    continue
                done[phase][name].append(r)
                print(f"  {phase} {i + 1} {name:{width}s}: {r['wall']:6.1f}s wall {n / r['wall']:7.0f} events/s | "
                      f"{r['cpu']:6.1f}s CPU {n / r['cpu']:7.0f} events/CPU-s, processing "
                      f"{r['processing_cpu']:5.1f}s, JIT {r['cpu_by_kind']['jit']:5.1f}s "
                      f"({len(r['output'])} records out, {n} events in)", flush=True)
    return done["start-up"], done["run"]


def same_records(a: list[str], b: list[str]) -> bool:
    """Whether two runs wrote the same JSON records, numbers compared to 12 significant digits:
    a sum of fractional values differs in its last bits with the order Flink adds them in,
    which differs from run to run (the windows' averages of the seed monitor did, in its
    alerts and in the hand-written reference's windows)."""
    def canonical(records: list[str]) -> list[str]:
        return sorted(json.dumps(json.loads(r, parse_float=lambda s: float(f"{float(s):.12g}")), sort_keys=True)
                      for r in records)

    return canonical(a) == canonical(b)
