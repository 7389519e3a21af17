"""An alert's `impact.active_devices` when the windows before it never needed the count: the
windows function computes a population window's device count only when a row carries it (a
judged monitor's 'alert' rows), and passes the other windows, evicting each one's first slice
(docs/flink-job-shape.md §7, "Session 51"). The count at the alert must still be the tenant's
distinct devices with a record in the alert's window, whatever was evicted before.

One monitor (acme): during past 1min, every 30s, by pool, avg_latency > 300ms (for 0), default
recovery. Records at S(i) = 10:00:00 + 30 s i; a window ending E holds S(i) in [E - 1 min, E),
its 30-s slices end at E - 30 s and E.
  Finance c-1 at S(0)..S(7): 100 ms, but 500 at S(4) and S(5).
  Sales c-3 at S(4) only (10:02:00), 100 ms.
Worked by hand for Finance:
  10:00:30 .. 10:02:00   100: ok, no alert row: the population window is passed
  10:02:30 (S3, S4)      (100 + 500) / 2 = 300, not > 300: passed too, its first slice (ending
                         10:02:00, S3) evicted; the slice ending 10:02:30 (S4: c-1, c-3) stays
  10:03:00 (S4, S5)      500: triggered; devices with a record in [10:02:00, 10:03:00): c-1
                         and c-3 -> active_devices 2 (c-3 only in the slice a wrong eviction at
                         10:02:30 would have taken)
  10:03:30 (S5, S6)      300, not > 300: recovered; [10:02:30, 10:03:30): c-1 -> 1
Sales: 100 at every window it has, no alert.
"""
from __future__ import annotations

import json

import pytest

from tests.compiled_run import jsonl, run_monitors
from tests.kafka import scenario as sc

pytestmark = pytest.mark.flink

MONITOR = """\
id: pool_latency
tenant: acme
query: |
  session.vdi_events during past 1min
  | where device.virtualization.desktop_pool != null
  | summarize avg_latency = network_latency.avg() by device.virtualization.desktop_pool
every: 30s
trigger:
  when: avg_latency > 300ms
"""


@pytest.fixture(scope="module")
def alerts(flink_env, tmp_path_factory):
    events = [sc.event("acme", "c-1", sc.S(i), 500 if i in (4, 5) else 100) for i in range(8)]
    events.insert(5, sc.event("acme", "c-3", sc.S(4), 100))
    inventory = [sc.device("acme", uid) for uid in sc.POOLS]
    _, result = run_monitors(tmp_path_factory.mktemp("population-on-demand"), {"m.yaml": MONITOR},
                             {"session.vdi_events": jsonl(events), "device.devices": jsonl(inventory)}, flink_env)
    return [json.loads(a) for a in result.alerts]


def test_the_alert_counts_the_devices_of_its_window_after_passed_windows(alerts):
    assert sorted((a["status"], a["at"], a["impact"]["active_devices"]) for a in alerts) == [
        ("recovered", "2026-11-26T10:03:30.000Z", 1),
        ("triggered", "2026-11-26T10:03:00.000Z", 2)]
    assert {a["group"]["device.virtualization.desktop_pool"] for a in alerts} == {"Finance-Win11"}
