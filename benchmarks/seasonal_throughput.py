"""Throughput of a seasonal monitor against the same monitor with a fixed threshold.

Both are the same NQL query (average VDI latency per desktop pool over 5 min, every 30 s,
with the inventory join); one has `trigger: avg_latency > 300ms ...`, the other
`detection: seasonal`. Both run on embedded Flink (parallelism 1), in this process, on the
same simulated input (simulator.Simulation, seed 7), alternately, after warm-up runs of
each on the same input. Three throughputs per job: events / wall time of the whole job
(start to end of input, all sinks flushed); events / CPU time of the process tree (the
Flink JVM, and this process, where PyFlink's local mini-cluster runs the Python UDFs in
loopback mode; both shares are printed); and the same without the JVM's JIT compiler
threads (every submitted job compiles its generated operator classes anew, 6-35 CPU-s per
run here and the noisiest part of the total: a start-up cost that a long-running job pays
once). On a shared 2-core machine the wall time mostly measures the neighbours (runs of
one job vary by 1.5x), while the CPU time is the job's own cost; the goal is judged on it.
Goal (issue #5): seasonal >= 90% of threshold. Python runs only on aggregated
rows in both jobs: the alert state UDAF once per evaluation (pool x 30 s); in the seasonal
job that UDAF also keeps the per-slot history and scores each evaluation against it.

The default input starts on Monday 00:00 UTC and lasts 76 h, so that from Wednesday 00:00
(the third day: history from 2 days) the baselines are usable and the medians are really
computed, and it has a +400 ms latency incident in every pool on Wednesday 14:00-14:30,
which both monitors alert on (the alert counts are printed: both jobs do real work).

    .venv/bin/python benchmarks/seasonal_throughput.py [--devices 150] [--hours 76] [--runs 3] [--warmup 2]
        [--watermark-interval '200 ms' | '0 ms']
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measure import temporary_folder  # noqa: E402  (benchmarks/, the script's folder)
from proctree import descendants, sample_threads, stat_cpu, thread_kind  # noqa: E402  (benchmarks/, the script's folder)

QUERY = """
    query: |
      session.vdi_events during past 5min
      | where device.virtualization.desktop_pool != null
      | summarize avg_latency = network_latency.avg(), sessions = device.count()
        by device.virtualization.desktop_pool
    every: 30s
"""
THRESHOLD = """
    id: bench_latency
    tenant: acme
""" + QUERY + """
    trigger:
      when: avg_latency > 300ms and sessions >= 5
      for: 5min
"""
SEASONAL = """
    id: bench_latency
    tenant: acme
""" + QUERY + """
    detection: {type: seasonal, metric: avg_latency, deviations: 3, direction: above, history: 7d, slot: 15min}
    trigger:
      when: sessions >= 5
      for: 5min
"""


INCIDENT_START_MS = 1_795_615_200_000   # Wed 2026-11-25 14:00 UTC


def simulate(tmp: Path, devices: int, hours: int) -> tuple[dict[str, str], int]:
    from nql_flink.simulator import Incident, SimConfig, Simulation

    incident = Incident(metric="network_latency", start_ms=INCIDENT_START_MS, end_ms=INCIDENT_START_MS + 1_800_000,
                        tenant="acme", add=400.0, name="wednesday-latency")
    sim = Simulation(SimConfig(start="2026-11-23T00:00:00Z", duration=f"{hours}h", devices=devices, seed=7,
                               tenants=("acme",), tables=("session.vdi_events", "device.devices"),
                               incidents=[incident]))
    files, n_events = {}, 0
    for table in ("session.vdi_events", "device.devices"):
        path = tmp / f"{table}.jsonl"
        n = 0
        with path.open("w") as f:
            for n, rec in enumerate(sim.records(table), 1):
                f.write(json.dumps(rec) + "\n")
        files[table] = str(path)
        if table == "session.vdi_events":
            n_events = n
    return files, n_events


def compile_one(tmp: Path, name: str, text: str):
    from nql_flink.translator.pipeline import compile_paths

    path = tmp / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    compiled = compile_paths([str(path)])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    cfg = tmp / f"{name}.config.jsonl"
    cfg.write_text("".join(json.dumps(r) + "\n" for r in compiled.job.config_records))
    return compiled, str(cfg)


class CpuMeter:
    """CPU seconds of the process tree during a run: "python" (this process: on the local
    mini-cluster PyFlink runs the Python UDFs in loopback mode here), "jvm" (the Flink JVM
    it started, all threads, and its children: the JVM also boots a Python worker process
    per job, ~1 CPU-s of start-up, idle afterwards since the UDFs run in loopback mode) and
    "jit" (the JVM's JIT compiler threads, part of "jvm").

    Process totals include the threads that ended (task threads end with the job). JIT
    compiler threads are sampled every half second (the JVM may stop an idle one; its last
    half second is then missed, so "jit" errs low) by a thread of this process whose own
    CPU time is taken out of "python"."""

    def __init__(self):
        self._stop = threading.Event()
        self._jit: dict[tuple[int, int], float] = {}
        self._own = 0.0

    def _jvm_pids(self) -> list[int]:
        return sorted(descendants(os.getpid()))

    def _totals(self) -> dict[str, float]:
        py = stat_cpu(f"/proc/{os.getpid()}/stat")[1]
        jvm = 0.0
        for pid in self._jvm_pids():
            st = stat_cpu(f"/proc/{pid}/stat", reaped_children=True)
            jvm += st[1] if st else 0.0
        return {"python": py, "jvm": jvm}

    def _sample_jit(self) -> None:
        threads: dict[tuple[int, int], tuple[str, float]] = {}
        for pid in self._jit_pids:        # the JVM's processes, found once per run (not a /proc scan per sample)
            sample_threads(pid, threads)
        self._jit.update({k: cpu for k, (name, cpu) in threads.items() if thread_kind(name) == "jit"})

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample_jit()
        self._own = time.thread_time()

    def __enter__(self) -> "CpuMeter":
        self._jit_pids = self._jvm_pids()
        self._sample_jit()
        self._jit0, self._t0 = dict(self._jit), self._totals()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample_jit()
        t1 = self._totals()
        self.cpu = {k: t1[k] - self._t0[k] for k in t1}
        self.cpu["python"] -= self._own
        self.cpu["jit"] = sum(v - self._jit0.get(k, 0.0) for k, v in self._jit.items())


def run(t_env, compiled, cfg: str, files: dict[str, str], out: Path) -> tuple[float, dict[str, float], int]:
    """-> (wall seconds, CPU seconds {"python", "jvm", "jit"} of the process tree (CpuMeter), alert records)"""
    from nql_flink.deploy.embedded.runner import run_job

    from pyflink.java_gateway import get_gateway

    inputs = {compiled.job.source_tables[t]: f for t, f in files.items()}
    inputs[compiled.job.source_tables["monitor_config"]] = cfg
    get_gateway().jvm.System.gc()  # each run starts on a collected heap, not the previous job's garbage
    time.sleep(1)
    with CpuMeter() as meter:
        t0 = time.perf_counter()
        result = run_job(compiled.job, inputs, str(out), t_env=t_env)
        wall = time.perf_counter() - t0
    return wall, meter.cpu, len(result.alerts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=150, help="simulated devices (60%% VDI)")
    ap.add_argument("--hours", type=int, default=76, help="simulated hours from Monday 00:00 UTC")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each monitor (alternating)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="untimed runs of each monitor first: a long-running job is measured warm (the "
                         "JVM's JIT keeps speeding up the first few runs in one process)")
    ap.add_argument("--watermark-interval", default="200 ms",
                    help="pipeline.auto-watermark-interval: '200 ms' as on Kafka (default); '0 ms' = the "
                         "embedded test setting, a watermark per record, which flushes every Python "
                         "operator's bundle at every window end")
    args = ap.parse_args()
    from nql_flink.deploy.embedded.runner import create_table_env

    with temporary_folder(prefix="nql-bench-seasonal-") as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        files, n_events = simulate(tmp, args.devices, args.hours)
        print(f"input: {n_events} session.vdi_events ({args.devices} devices, {args.hours} h), "
              f"simulated in {time.perf_counter() - t0:.1f}s", flush=True)
        jobs = {"threshold": compile_one(tmp, "threshold", THRESHOLD), "seasonal": compile_one(tmp, "seasonal", SEASONAL)}
        t_env = create_table_env(parallelism=1, config={"pipeline.auto-watermark-interval": args.watermark_interval})
        for i in range(args.warmup):  # JVM JIT + Python workers, on the real input, both plans
            for name, (compiled, cfg) in jobs.items():
                wall, cpu, _ = run(t_env, compiled, cfg, files, tmp / f"warm-{name}-{i}.jsonl")
                print(f"  warm-up {name:9s}: {wall:6.1f}s wall {cpu['jvm'] + cpu['python']:6.1f}s CPU (not counted)", flush=True)
        walls: dict[str, list[float]] = {k: [] for k in jobs}
        cpus: dict[str, list[float]] = {k: [] for k in jobs}       # all CPU of the process tree
        work: dict[str, list[float]] = {k: [] for k in jobs}       # the same without JIT compilation
        alerts: dict[str, int] = {}
        for i in range(args.runs):
            order = list(jobs) if i % 2 == 0 else list(reversed(jobs))
            for name in order:
                compiled, cfg = jobs[name]
                wall, split, alerts[name] = run(t_env, compiled, cfg, files, tmp / f"{name}-{i}.jsonl")
                cpu = split["jvm"] + split["python"]
                walls[name].append(wall)
                cpus[name].append(cpu)
                work[name].append(cpu - split["jit"])
                print(f"  run {i + 1} {name:9s}: {wall:6.1f}s wall {n_events / wall:7.0f} events/s | {cpu:6.1f}s CPU "
                      f"{n_events / cpu:7.0f} events/CPU-s = JVM {split['jvm']:5.1f}s (JIT compiler "
                      f"{split['jit']:4.1f}s) + Python UDFs {split['python']:4.1f}s | without JIT "
                      f"{n_events / (cpu - split['jit']):7.0f} events/CPU-s ({alerts[name]} alert records)", flush=True)
    rates = {measure: {k: n_events / statistics.median(v) for k, v in series.items()}
             for measure, series in (("wall", walls), ("cpu", cpus), ("work", work))}
    ratio = {measure: r["seasonal"] / r["threshold"] for measure, r in rates.items()}
    print(f"watermark interval: {args.watermark_interval}; medians of {args.runs} runs")
    for name in jobs:
        print(f"{name:9s}: {rates['wall'][name]:7.0f} events/s wall, {rates['cpu'][name]:7.0f} events per CPU-second, "
              f"{rates['work'][name]:7.0f} without JIT compilation")
    print(f"ratio seasonal / threshold: {ratio['cpu']:.1%} by CPU time, {ratio['work']:.1%} by CPU time without "
          f"JIT compilation, {ratio['wall']:.1%} by wall time")
    print(f"goal >= 90% by CPU time (the measure that does not depend on the other work of a shared machine): "
          f"{'met' if ratio['cpu'] >= 0.9 else 'NOT met'}; without the JIT compiler's time (each submitted job "
          f"compiles its generated classes anew: a start-up cost that a long-running job pays once): "
          f"{'met' if ratio['work'] >= 0.9 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
