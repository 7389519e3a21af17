"""The inventory read out of version order on embedded Flink (udfs/jvm VersionOrder,
docs/polling.md "Inventory read out of version order"): which version an event is joined with
depends on the order the inventory file (one Kafka partition) holds, never on how fast the
inventory and the events are read.

beta's device b1 (pool Finance) sends a sample every 30 s, S(i) = 10:00:00 + 30 s i, i = 1..30
(10:00:30 .. 10:15:00). Its only version has last_seen 09:00. alpha's device a1 has a version at
10:07. The monitor counts beta's samples per pool, every minute over the last minute, and
triggers on one or more.

- b1's version read first: in order, in force from 09:00: the window [10:00, 10:01) holds S(1)
  -> triggered at 10:01:00; no dead letter.
- alpha's 10:07 version read first: b1's 09:00 version is read behind it, so it takes effect at
  10:07:00 (the newest version time read before it). S(1)..S(13) (10:00:30 .. 10:06:30) find no
  version: 13 `unknown_device` dead letters; S(14) = 10:07:00 is joined -> window [10:07, 10:08)
  -> triggered at 10:08:00.

Then every branch of the rule (a late version replaced by a later-timed late one, dropped behind
an in-order one at the same time, replaced by an in-order one) on Flink and on chdb alike.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.compiled_run import jsonl, run_monitors
from tests.kafka.scenario import BASE as START, iso

pytestmark = pytest.mark.flink

MONITOR = """
    id: pool_samples
    tenant: beta
    query: |
      session.vdi_events during past 1min
      | summarize n = count() by device.virtualization.desktop_pool
    every: 1min
    trigger: {when: n >= 1}
    """


def device(tenant: str, uid: str, pool: str, hm: str) -> dict:
    return {"tenant": tenant, "collector": {"uid": uid}, "virtualization": {"desktop_pool": pool},
            "last_seen": f"2026-11-26T{hm}:00.000Z"}


def samples() -> list[dict]:
    return [{"tenant": "beta", "start_time": iso(t - timedelta(seconds=30)), "end_time": iso(t),
             "device": {"collector": {"uid": "b1"}}, "network_latency": 100.0}
            for t in (START + timedelta(seconds=30 * i) for i in range(1, 31))]


def run(tmp, t_env, inventory: list[dict]):
    _, result = run_monitors(tmp, {"m.yaml": MONITOR},
                             {"session.vdi_events": jsonl(samples()), "device.devices": jsonl(inventory)}, t_env)
    alerts = [(a["status"], a["at"]) for a in map(json.loads, result.alerts)]
    dead = [json.loads(d) for d in result.dead_letters]
    return alerts, sorted(json.loads(d["line"])["event_time"] for d in dead if d["reason"] == "unknown_device")


B1, A1 = device("beta", "b1", "Finance", "09:00"), device("alpha", "a1", "Sales", "10:07")


def test_a_version_read_in_order_is_in_force_from_its_time(flink_env, tmp_path):
    alerts, unknown = run(tmp_path, flink_env, [B1, A1])
    assert alerts == [("triggered", "2026-11-26T10:01:00.000Z")]
    assert unknown == []


def test_a_version_read_behind_a_newer_one_is_in_force_from_that_time(flink_env, tmp_path):
    alerts, unknown = run(tmp_path, flink_env, [A1, B1])
    assert alerts == [("triggered", "2026-11-26T10:08:00.000Z")]
    assert unknown == [iso(START + timedelta(seconds=30 * i)) for i in range(1, 14)]


# Every branch of the rule, on both engines (the polling side's unit test reads the same nine
# versions, tests/clickhouse/test_polling_unit.py). Read in this order; the pool names the version.
EDGE_VERSIONS = [("acme", "d1", "10:00", "A"),     # in order (newest 10:00)
                 ("globex", "g1", "10:07", "X"),   # in order (newest 10:07)
                 ("acme", "d2", "09:00", "B"),     # late: from 10:07
                 ("acme", "d2", "09:30", "C"),     # late, from 10:07, the later version time: replaces B
                 ("acme", "d3", "10:07", "D"),     # in order at 10:07
                 ("acme", "d3", "09:50", "E"),     # late, d3 in order at 10:07: dropped
                 ("acme", "d4", "09:10", "F"),     # late: from 10:07
                 ("acme", "d4", "10:07", "G"),     # in order at 10:07: replaces F
                 ("acme", "d1", "10:05", "H")]     # late: from 10:07 (A before)
EDGE_MONITOR = """id: per_version
tenant: acme
query: |
  session.vdi_events during past 1min
  | summarize n = count() by device.collector.uid, device.virtualization.desktop_pool
every: 1min
trigger: {when: n >= 1}
"""


def test_every_branch_of_the_rule_gives_the_same_alerts_on_both_engines(flink_env, monkeypatch, tmp_path):
    """One sample of each of d1..d4 at 10:06:30 (window ending 10:07) and at 10:07:30 (ending
    10:08). At 10:06:30 only d1 has a version in force (A); d2, d3 and d4 have none yet (theirs
    take effect at 10:07): `unknown_device`. At 10:07:30: d1 H (10:07, after A's 10:00), d2 C, d3
    D, d4 G. Each group triggers in the window of its sample."""
    from tests.clickhouse.differential import run_both

    (tmp_path / "monitors.yaml").write_text(EDGE_MONITOR)
    (tmp_path / "devices.jsonl").write_bytes(jsonl(device(t, uid, pool, hm) for t, uid, hm, pool in EDGE_VERSIONS))
    events = [{"tenant": "acme", "start_time": f"2026-11-26T{hms}.000Z", "end_time": f"2026-11-26T{hms}.000Z",
               "device": {"collector": {"uid": uid}}, "network_latency": 100.0}
              for hms in ("10:06:30", "10:07:30") for uid in ("d1", "d2", "d3", "d4")]
    (tmp_path / "vdi.jsonl").write_bytes(jsonl(events))
    flink, polled = run_both(flink_env, monkeypatch, tmp_path)
    got = sorted((a["group"]["device.collector.uid"], a["group"]["device.virtualization.desktop_pool"], a["status"],
                  a["at"][11:16]) for a in map(json.loads, flink))
    assert got == [("d1", "A", "triggered", "10:07"), ("d1", "H", "triggered", "10:08"),
                   ("d2", "C", "triggered", "10:08"), ("d3", "D", "triggered", "10:08"),
                   ("d4", "G", "triggered", "10:08")]
    assert flink == polled
    dead = [json.loads(d) for d in (tmp_path / "flink.jsonl.dead_letters.jsonl").read_text().splitlines()]
    assert sorted(json.loads(d["line"])["device"] for d in dead if d["reason"] == "unknown_device") == ["d2", "d3", "d4"]


def test_a_version_from_a_wrong_clock_is_rejected_and_orders_nothing(flink_env, tmp_path):
    """A version dated 2099 (a wrong clock, more than the clock skew bound ahead of the
    processing clock) read first would otherwise be the newest for ever, and b1's 09:00 version
    read behind it would take effect only then: it is dead-lettered `future`, as an event is, and
    b1's version is in order: triggered at 10:01:00, as in the first test."""
    wrong = dict(device("alpha", "a9", "Sales", "10:07"), last_seen="2099-01-01T00:00:00.000Z")
    _, result = run_monitors(tmp_path, {"m.yaml": MONITOR},
                             {"session.vdi_events": jsonl(samples()), "device.devices": jsonl([wrong, B1])}, flink_env)
    assert [(a["status"], a["at"]) for a in map(json.loads, result.alerts)] == [("triggered", "2026-11-26T10:01:00.000Z")]
    dead = [json.loads(d) for d in result.dead_letters]
    assert [(d["source"], d["reason"]) for d in dead] == [("device.devices", "future")]
