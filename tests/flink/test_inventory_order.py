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
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.compiled_run import jsonl, run_monitors

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
START = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


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
