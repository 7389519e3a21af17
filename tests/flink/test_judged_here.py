"""The alert states a windows function keeps for the monitors it judges (docs/sharing.md,
step 3): a monitor's `where` after `summarize` (its `having`), judged there too, takes an
evaluation away, and the missing evaluation breaks the `for` run; the alert-state topic shows
every change, as the job's alert state function showed it.

One monitor (acme): during past 1min, every 30s, by pool, avg_latency > 300ms for 1min, where
sessions >= 2, default recovery (NOT trigger). Records at S(i) = 10:00:00 + 30 s i, i = 0..11,
a window ending E holds S(i) in [E - 1 min, E):
  Finance c-1 at every S(i); c-2 at every S(i) but S(1) and S(2); 500 ms for i < 8, then 100.
  Sales c-3, c-4 at every S(i), 250 ms.
Worked by hand for Finance:
  10:00:30 (S0: 2 devices, 500)   pending since 10:00:30, due 10:01:30
  10:01:00 (S0, S1: 2 devices)    pending since 10:00:30
  10:01:30 (S1, S2: c-1 only)     no evaluation (sessions 1): the run is broken
  10:02:00 (S2, S3: 2 devices)    10:01:00 was the last evaluation, 60 s ago, not 30:
                                  pending since 10:02:00, due 10:03:00
  10:02:30                        pending since 10:02:00
  10:03:00                        triggered (the alert at 10:03:00, not 10:01:30: without the
                                  `where`, 10:01:30 would have been an evaluation, 500 > 300)
  10:03:30 .. 10:04:00            triggered (nothing new to show)
  10:04:30 (S7 500 x2, S8 100 x2) avg 300, not > 300: recovered, ok since 10:04:30
Sales: ok since 10:00:30, never anything else.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nql_flink.translator.pipeline import compile_paths
from tests.kafka import scenario as sc

pytestmark = pytest.mark.flink

MONITOR = """\
id: pool_latency
tenant: acme
query: |
  session.vdi_events during past 1min
  | where device.virtualization.desktop_pool != null
  | summarize avg_latency = network_latency.avg(), sessions = device.count()
    by device.virtualization.desktop_pool
  | where sessions >= 2
every: 30s
trigger:
  when: avg_latency > 300ms
  for: 1min
"""
FINANCE = '{"device.virtualization.desktop_pool":"Finance-Win11"}'


@pytest.fixture(scope="module")
def run(flink_env, tmp_path_factory):
    from nql_flink.deploy.embedded.runner import run_job

    tmp = tmp_path_factory.mktemp("judged-here")
    (tmp / "m.yaml").write_text(MONITOR, encoding="utf-8")
    compiled = compile_paths([str(tmp / "m.yaml")])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    events = []
    for i in range(12):
        for uid in sc.POOLS:
            if uid == "c-2" and i in (1, 2):
                continue
            latency = 250 if uid in ("c-3", "c-4") else 500 if i < 8 else 100
            events.append(json.dumps(sc.event("acme", uid, sc.S(i), latency)))
    files = sc.write_inputs(tmp / "in", {"session.vdi_events": events, "device.devices": sc.inventory(("acme",))})
    cfg = tmp / "config.jsonl"
    cfg.write_text("".join(json.dumps(r) + "\n" for r in compiled.job.config_records), encoding="utf-8")
    sources = {compiled.job.source_tables[t]: f for t, f in files.items()}
    sources[compiled.job.source_tables["monitor_config"]] = str(cfg)
    result = run_job(compiled.job, sources, str(tmp / "alerts.jsonl"), t_env=flink_env)
    parts = sorted(p for p in Path(result.output_dir, "sink_alert_state").rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    states = [json.loads(ln) for part in parts for ln in part.read_text(encoding="utf-8").splitlines()]
    return compiled, [json.loads(a) for a in result.alerts], states


def test_the_monitor_is_judged_by_its_windows_function_having_included(run):
    compiled, _, _ = run
    sql = compiled.sql()
    assert ";hav=ge l n1 #2;every=30000;" in sql          # sessions (a count, BIGINT) >= 2
    assert "`nql_alert_states`" not in sql                # no alert state function in the job


def test_a_having_that_takes_an_evaluation_away_breaks_the_run(run):
    _, alerts, _ = run
    assert sorted((a["status"], a["at"], a["group"]["device.virtualization.desktop_pool"]) for a in alerts) == [
        ("recovered", "2026-11-26T10:04:30.000Z", "Finance-Win11"),
        ("triggered", "2026-11-26T10:03:00.000Z", "Finance-Win11")]
    triggered, recovered = sorted(alerts, key=lambda a: a["at"])
    assert triggered["alert_id"] == recovered["alert_id"]
    assert triggered["values"] == {"avg_latency": 500.0, "sessions": 2}
    assert triggered["window"] == {"start": "2026-11-26T10:02:00.000Z", "end": "2026-11-26T10:03:00.000Z"}
    assert recovered["values"] == {"avg_latency": 300.0, "sessions": 2}


def test_the_state_topic_shows_each_change_as_worked_out(run):
    _, alerts, states = run
    fin = [(json.loads(r["value"])["state"], json.loads(r["value"])["since"][11:19],
            (json.loads(r["value"])["due"] or "")[11:19], json.loads(r["value"])["at"][11:19])
           for r in states if r["key"] == "acme/pool_latency/" + FINANCE]
    assert fin == [("pending", "10:00:30", "10:01:30", "10:00:30"), ("pending", "10:00:30", "10:01:30", "10:01:00"),
                   ("pending", "10:02:00", "10:03:00", "10:02:00"), ("pending", "10:02:00", "10:03:00", "10:02:30"),
                   ("triggered", "10:03:00", "", "10:03:00"), ("ok", "10:04:30", "", "10:04:30")]
    [opened] = [json.loads(r["value"]) for r in states
                if r["key"] == "acme/pool_latency/" + FINANCE and json.loads(r["value"])["state"] == "triggered"]
    assert opened["alert_id"] == alerts[0]["alert_id"]
    sales = [json.loads(r["value"])["state"] for r in states if "Sales" in r["key"]]
    assert sales == ["ok"]
