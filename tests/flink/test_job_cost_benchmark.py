"""The job-cost benchmark (benchmarks/job_cost.py, issue 15) works end to end on a tiny input,
one run of each job: every job ran and did its work (the ceilings passed every input record
through, the hand-written reference wrote the incident's breaching windows, the generated job
alerted), and the figures and ratios are there. Its figures mean nothing at this size; the
benchmark is run by hand for them (docs/flink-job-shape.md, "Cost per event against the
hand-written reference").

The reference's breaching windows are also checked against the seed monitor's query computed
here in plain Python over the same simulated files, so the reference measures what the
monitor asks for."""

import json
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.benchmark_run import run_benchmark

pytestmark = [pytest.mark.flink, pytest.mark.benchmark]

ROOT = Path(__file__).resolve().parents[2]
JOBS = {"raw_ceiling", "json_ceiling", "reference", "generated"}


def breaching_windows(events: Path, inventory: Path) -> set[tuple]:
    """The seed monitor's query by hand: tenant acme, 5-minute windows every 30 s, per desktop
    pool of the device as of the event's end time (no pool: left out), average latency
    > 300 ms and >= 5 devices -> (pool, window start, average rounded, devices)."""
    def ts(s):
        return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")

    versions = defaultdict(list)
    for line in inventory.read_text().splitlines():
        r = json.loads(line)
        versions[r["tenant"], r["collector"]["uid"]].append((ts(r["last_seen"]), r["virtualization"]["desktop_pool"]))
    windows = defaultdict(list)
    for line in events.read_text().splitlines():
        r = json.loads(line)
        t, uid = ts(r["end_time"]), r["device"]["collector"]["uid"]
        known = sorted(v for v in versions[r["tenant"], uid] if v[0] <= t)
        if r["tenant"] != "acme" or not known or known[-1][1] is None:
            continue
        first = t.replace(second=t.second // 30 * 30, microsecond=0)
        for k in range(10):  # the ten windows [start, start + 5 min) that hold t
            windows[known[-1][1], first - timedelta(seconds=30 * k)].append((r["network_latency"], uid))
    out = set()
    for (pool, start), rows in windows.items():
        latencies = [x for x, _ in rows if x is not None]
        avg = sum(latencies) / len(latencies)
        devices = len({u for _, u in rows})
        if avg > 300 and devices >= 5:
            out.add((pool, start.strftime("%Y-%m-%d %H:%M:%S"), round(avg, 6), devices))
    return out


def test_the_job_cost_benchmark_runs_every_job_over_the_whole_input(tmp_path):
    run, result = run_benchmark("job_cost.py", tmp_path / "job_cost.json")
    assert run.returncode == 0, run.stdout + run.stderr
    events = result["input"]["events"]
    assert events > 1000 and result["input"]["inventory"] > 0
    assert set(result["jobs"]) == JOBS
    for job in result["jobs"].values():
        assert job["events_per_s"] > 0 and job["events_per_cpu_s"] > 0 and job["same_output_every_run"]
        # the JVM's threads by kind: each ran, and together they are within the process tree's CPU
        kinds = [job[f"{k}_cpu_s"] for k in ("job", "gc", "jit", "client")]
        assert job["job_cpu_s"] > 0 and job["jit_cpu_s"] > 0 and job["client_cpu_s"] > 0
        assert min(kinds) >= 0 and sum(kinds) <= job["cpu_s"]
        assert job["processing_cpu_s"] == job["job_cpu_s"] + job["gc_cpu_s"]
    assert result["jobs"]["raw_ceiling"]["output_records"] == events
    assert result["jobs"]["json_ceiling"]["output_records"] == events
    assert result["jobs"]["reference"]["output_records"] > 0
    assert result["jobs"]["generated"]["output_records"] >= 1
    alerts = [json.loads(a) for a in result["outputs"]["generated"][0]]
    assert ("triggered", "Finance-Win11") in {(a["status"], a["group"]["device.virtualization.desktop_pool"]) for a in alerts}
    for name in ("generated / reference", "generated / json_ceiling"):
        assert result["ratios"][name]["events_per_cpu_s"] > 0
        assert f"| {name} |" in run.stdout

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from seed import EVENTS, simulate  # the same simulated files as the benchmark's

    files = simulate(sys.executable, tmp_path / "sim", result["input"]["hours"], result["input"]["devices"])
    got = {(w["desktop_pool"], w["window_start"], round(w["avg_latency"], 6), w["sessions"])
           for w in map(json.loads, result["outputs"]["reference"][0])}
    expected = breaching_windows(files[EVENTS], files["device.devices"])
    assert expected and got == expected
    assert {w[0] for w in expected} == {"Finance-Win11"}  # the incident's pool
