"""Throughput of a seasonal monitor against the same monitor with a fixed threshold.

Both are the same NQL query (average VDI latency per desktop pool over 5 min, every 30 s,
with the inventory join); one has `trigger: avg_latency > 300ms ...`, the other
`detection: seasonal`. Both run on embedded Flink (parallelism 1), in this process, on the
same simulated input (simulator.Simulation, seed 7), alternately, after a warm-up run.
Events/s = input events / wall time of the whole job (start to end of input, all sinks
flushed). Goal (issue #5): seasonal >= 90% of threshold. Python runs only on aggregated
rows: the seasonal UDAF once per evaluation (pool x 30 s), the alert state UDAF per
evaluation in both jobs.

    .venv/bin/python benchmarks/seasonal_throughput.py [--devices 150] [--hours 30] [--runs 2]
        [--watermark-interval '200 ms' | '0 ms']
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def simulate(tmp: Path, devices: int, hours: int) -> tuple[dict[str, str], int]:
    from simulator import SimConfig, Simulation

    sim = Simulation(SimConfig(start="2026-11-23T00:00:00Z", duration=f"{hours}h", devices=devices, seed=7,
                               tenants=("acme",), tables=("session.vdi_events", "device.devices")))
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
    from translator.pipeline import compile_paths

    path = tmp / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    compiled = compile_paths([str(path)])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    cfg = tmp / f"{name}.config.jsonl"
    cfg.write_text("".join(json.dumps(r) + "\n" for r in compiled.job.config_records))
    return compiled, str(cfg)


def run(t_env, compiled, cfg: str, files: dict[str, str], out: Path) -> tuple[float, int]:
    from deploy.embedded.runner import run_job

    inputs = {compiled.job.source_tables[t]: f for t, f in files.items()}
    inputs[compiled.job.source_tables["monitor_config"]] = cfg
    t0 = time.perf_counter()
    result = run_job(compiled.statements(), inputs, str(out), t_env=t_env)
    return time.perf_counter() - t0, len(result.alerts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=150, help="simulated devices (60%% VDI)")
    ap.add_argument("--hours", type=int, default=30, help="simulated hours from Monday 00:00 UTC")
    ap.add_argument("--runs", type=int, default=2, help="timed runs of each monitor (alternating)")
    ap.add_argument("--watermark-interval", default="200 ms",
                    help="pipeline.auto-watermark-interval: '200 ms' as on Kafka (default); '0 ms' = the "
                         "embedded test setting, a watermark per record, which flushes every Python "
                         "operator's bundle at every window end")
    args = ap.parse_args()
    from deploy.embedded.runner import create_table_env

    with tempfile.TemporaryDirectory(prefix="nql-bench-seasonal-") as d:
        tmp = Path(d)
        t0 = time.perf_counter()
        files, n_events = simulate(tmp, args.devices, args.hours)
        print(f"input: {n_events} session.vdi_events ({args.devices} devices, {args.hours} h), "
              f"simulated in {time.perf_counter() - t0:.1f}s", flush=True)
        jobs = {"threshold": compile_one(tmp, "threshold", THRESHOLD), "seasonal": compile_one(tmp, "seasonal", SEASONAL)}
        t_env = create_table_env(parallelism=1, config={"pipeline.auto-watermark-interval": args.watermark_interval})
        (tmp / "warm").mkdir()
        warm_files, _ = simulate(tmp / "warm", 10, 10)
        for name, (compiled, cfg) in jobs.items():  # JVM + Python worker warm-up, both plans
            run(t_env, compiled, cfg, warm_files, tmp / f"warm-{name}.jsonl")
        times: dict[str, list[float]] = {k: [] for k in jobs}
        alerts: dict[str, int] = {}
        for i in range(args.runs):
            order = list(jobs) if i % 2 == 0 else list(reversed(jobs))
            for name in order:
                compiled, cfg = jobs[name]
                secs, alerts[name] = run(t_env, compiled, cfg, files, tmp / f"{name}-{i}.jsonl")
                times[name].append(secs)
                print(f"  run {i + 1} {name:9s}: {secs:6.1f}s  {n_events / secs:9.0f} events/s  "
                      f"({alerts[name]} alert records)", flush=True)
    rate = {k: n_events / statistics.median(v) for k, v in times.items()}
    ratio = rate["seasonal"] / rate["threshold"]
    print(f"watermark interval: {args.watermark_interval}")
    print(f"threshold: {rate['threshold']:9.0f} events/s (median of {args.runs})")
    print(f"seasonal : {rate['seasonal']:9.0f} events/s (median of {args.runs})")
    print(f"ratio seasonal / threshold: {ratio:.1%}  (goal >= 90%: {'met' if ratio >= 0.9 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
