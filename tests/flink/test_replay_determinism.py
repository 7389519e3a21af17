"""Replay determinism (spec/monitors.md: "Replaying the same input gives the same output, byte
for byte"), on the engine through the whole compiler: the same simulated telemetry replayed
twice, and replayed with its records shuffled within the allowed lateness, gives the same
alert file, byte for byte.

Shuffled within the lateness: records are cut into 5-second buckets of event time, in order,
and shuffled inside each bucket (a fixed seed). Every record then comes after records less than
5 s younger than itself at most, so with a 10 s lateness none is late: the job must decide
exactly as it does on the ordered input. (Checked on the input itself below, not assumed.)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from nql_flink.deploy.embedded.runner import run_job
from nql_flink.translator.flink.monitor_config import config_lines
from nql_flink.translator.pipeline import compile_paths

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]
MONITORS = [ROOT / "examples/monitors/vdi_latency_by_pool.yaml",
            ROOT / "examples/monitors/vdi_input_delay_by_pool_protocol.yaml",
            ROOT / "examples/monitors/busy_desktop_pools.yaml"]
BUCKET_MS = 5_000
LATENESS_MS = 10_000


def millis(text: str) -> int:
    from nql_flink.simulator.config import parse_time

    return parse_time(text)


def simulated() -> dict[str, list[dict]]:
    """acme and globex, 40 devices each, 40 min, a 12-min latency incident in acme's Finance
    pool (the demo's, shorter) and a rise of input delay in globex's Sales pool."""
    from nql_flink.simulator import Incident, SimConfig, Simulation

    incidents = [Incident(metric="network_latency", tenant="acme", pool="Finance-Win11", add=310,
                          start_ms=millis("2026-11-26T10:10:00Z"), end_ms=millis("2026-11-26T10:22:00Z")),
                 Incident(metric="user_input_delay", tenant="globex", pool="Sales-Win10", add=400,
                          start_ms=millis("2026-11-26T10:05:00Z"), end_ms=millis("2026-11-26T10:25:00Z"))]
    sim = Simulation(SimConfig(start="2026-11-26T10:00:00Z", duration="40min", devices=40, seed=11,
                               tenants=("acme", "globex"), vdi_share=0.9, pools=("Finance-Win11", "Sales-Win10"),
                               tables=("session.vdi_events", "device.devices"), incidents=incidents))
    return {t: list(sim.records(t)) for t in ("session.vdi_events", "device.devices")}


def shuffled_within(records: list[dict], field: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    buckets: dict[int, list[dict]] = {}
    for r in records:
        buckets.setdefault(millis(r[field]) // BUCKET_MS, []).append(r)
    out = []
    for b in sorted(buckets):
        chunk = buckets[b][:]
        rng.shuffle(chunk)
        out += chunk
    return out


def newest_before_exceeds_lateness(records: list[dict], field: str) -> int:
    """How many records come after one at least the lateness younger (0: none would be late)."""
    newest, late = None, 0
    for r in records:
        t = millis(r[field])
        if newest is not None and newest - t >= LATENESS_MS:
            late += 1
        newest = t if newest is None else max(newest, t)
    return late


@pytest.fixture(scope="module")
def runs(flink_env, tmp_path_factory):
    compiled = compile_paths([str(m) for m in MONITORS])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    data = simulated()
    events = data["session.vdi_events"]
    reordered = shuffled_within(events, "end_time", seed=3)
    assert reordered != events and sorted(map(json.dumps, reordered)) == sorted(map(json.dumps, events))
    assert newest_before_exceeds_lateness(reordered, "end_time") == 0
    out = {}
    for name, vdi in (("first", events), ("again", events), ("shuffled", reordered)):
        d = tmp_path_factory.mktemp(name)
        files = {"session.vdi_events": vdi, "device.devices": data["device.devices"]}
        sources = {}
        for table in compiled.job.source_tables:          # busy_desktop_pools also reads device performance
            if table != "monitor_config":
                files.setdefault(table, [])
        for table, records in files.items():
            (d / f"{table}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            sources[compiled.job.source_tables[table]] = str(d / f"{table}.jsonl")
        (d / "config.jsonl").write_text(config_lines(compiled.job.config_records), encoding="utf-8")
        sources[compiled.job.source_tables["monitor_config"]] = str(d / "config.jsonl")
        run_job(compiled.job, sources, str(d / "alerts.jsonl"), t_env=flink_env)
        out[name] = (d / "alerts.jsonl").read_bytes()
    return out


def test_the_runs_alert(runs):
    """Not a vacuous comparison: the acme latency incident triggers and recovers."""
    alerts = [json.loads(line) for line in runs["first"].splitlines()]
    latency = sorted(a["status"] for a in alerts if a["monitor"] == "vdi_latency_by_pool")
    assert latency == ["recovered", "triggered"]


def test_replaying_the_same_input_gives_the_same_bytes(runs):
    assert runs["again"] == runs["first"]


def test_shuffling_within_the_lateness_gives_the_same_bytes(runs):
    assert runs["shuffled"] == runs["first"]


TIED = """
    id: {id}
    tenant: acme
    name: records tied in event time
    query: |
      session.vdi_events during past 1min
      | summarize v = network_latency.avg(), s = network_latency.sum(){by}
    every: 30s
    trigger:
      when: v > 1ms
    """


def test_records_tied_in_event_time_give_the_same_bytes_in_any_arrival_order(flink_env, tmp_path_factory):
    """40 devices' samples at the same millisecond, with latencies whose double sum depends on
    the order of its terms (checked below), in three arrival orders: the same alert bytes (the
    windows function folds a slice's records in event-time order, ties by their bytes)."""
    from tests.compiled_run import jsonl, run_monitors

    rnd = random.Random(5)
    latencies = [round(rnd.uniform(0, 1000), 3) for _ in range(40)]
    orders = {"written": list(range(40)), "reversed": list(range(39, -1, -1))}
    orders["shuffled"] = list(range(40))
    random.Random(1).shuffle(orders["shuffled"])
    sums = {name: sum(latencies[i] for i in order) for name, order in orders.items()}
    assert len(set(sums.values())) > 1  # summed in arrival order, the orders give different bits

    def sample(i: int, end: str, latency: float) -> dict:
        return {"tenant": "acme", "start_time": "2026-11-26T09:59:40.000Z", "end_time": end,
                "device": {"collector": {"uid": f"d{i}"}}, "network_latency": latency}

    devices = jsonl({"tenant": "acme", "collector": {"uid": f"d{i}"}, "virtualization": {"desktop_pool": "P"},
                     "last_seen": "2026-11-26T09:00:00.000Z"} for i in range(40))
    monitors = {"m.yaml": TIED.format(id="tied", by=" by device.virtualization.desktop_pool"),  # inventory join
                "m2.yaml": TIED.format(id="tied_all", by="")}                                 # none
    out = {}
    for name, order in orders.items():
        events = [sample(i, "2026-11-26T10:00:10.000Z", latencies[i]) for i in order]
        tables = {"session.vdi_events": jsonl(events + [sample(0, "2026-11-26T10:03:00.000Z", 1.0)]),
                  "device.devices": devices}
        out[name] = run_monitors(tmp_path_factory.mktemp(name), monitors, tables, flink_env)[1].alerts
    assert out["reversed"] == out["written"] and out["shuffled"] == out["written"]
    triggered = [json.loads(r) for r in out["written"] if '"status":"triggered"' in r]
    assert len(triggered) == 2 and all(abs(r["values"]["s"] - sums["written"]) < 1e-6 for r in triggered)
