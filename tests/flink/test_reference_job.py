"""The seed monitor, compiled, on a small hand-made input,
checked against an alert timeline derived BY HAND from monitors.md (not from a run).

Monitor: avg_latency > 300 (ms) and sessions >= 2, for 5 min, every 30 s, window 5 min,
default recovery (NOT trigger), recover.for 0. Thresholds/for come from the config file.
Times below are 2026-11-26, UTC; "S(i)" = 10:00:00 + 30 s * i.

Inventory (last_seen 09:00, older than every event):
  acme   c-1, c-2 -> Finance-Win11 ; acme c-3 -> Dev-Win10 ; acme c-4 -> no pool (physical)
  globex c-1, c-5 -> Finance-Win11 (c-1: same uid as acme's, other tenant) ; globex c-9 -> Dev-Win10

Events (one record per device per sample time):
  acme   c-1,c-2  S(0)..S(15) latency 500, S(16)..S(25) latency 100  (users u1, u2)
  acme   c-4      S(0)..S(15) latency 900  -> pool null, filtered by the NQL where
  globex c-1,c-5  S(0)..S(15) latency 100
  globex c-9      S(0)..S(15) latency 900  -> sessions = 1 < 2, never triggers
  + globex c-9 at 10:03:05 (latency 900) written BEFORE acme c-2's S(6)=10:03:00 record:
    out of order by 5 s < 10 s lateness (watermark then 10:02:55 < 10:03:00) -> applied.
  + acme c-3 at 10:01:00 written after the 10:06:00 records: watermark 10:05:50 -> 'late'.
  + bad lines: not JSON, no tenant, no end_time, unparsable end_time, latency "fast".

Derivation for acme / Finance-Win11 (the only group that can alert):
  A window ending at e holds the samples e-5min .. e-30s. Evaluations exist at every
  e = 10:00:30 .. 10:17:30 (S(25) + 5 min), 30 s apart, so no gap.
  e <= 10:08:00: every sample in the window is 500 -> avg 500 > 300, sessions 2 -> true.
  e = 10:08:00 + 30 s * j (j = 1..10): high samples = 10 - j of 10, avg = 100 + 40 (10 - j)
    -> true for j <= 4 (e <= 10:10:00), false at j = 5 (e = 10:10:30, avg = 300.0, not > 300).
  Trigger streak starts t0 = 10:00:30; first t with t - t0 >= 5 min is 10:05:30 -> triggered
    at 10:05:30, window 10:00:30..10:05:30, avg 500.0, sessions 2, devices 2, users 2.
  Recovery (NOT trigger, for 0): first false evaluation after that is 10:10:30 -> recovered
    at 10:10:30, window 10:05:30..10:10:30, avg 300.0, sessions 2, same alert_id.
  Impact: acme's active devices in both windows are c-1, c-2 and c-4 (c-4 has no pool but
    reports; c-3's one record is late, the bad lines are dead letters): 3, share 2/3 >= 25%
    -> priority high + 1 = critical.
  Afterwards every evaluation is false and the group is ok: nothing more.
Tenant isolation: if globex's Finance-Win11 (latency 100) were mixed into acme's, acme's
  averages would be (2*500 + 2*100)/4 = 300 -> never > 300 -> no alert at all.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from nql_flink.deploy.embedded.runner import run_job
from nql_flink.translator.pipeline import compile_paths
from nql_flink.udfs.alerting.state_machine import alert_id

pytestmark = pytest.mark.flink

MONITOR = """
monitors:
{}
"""
ONE = """
  - id: vdi_latency_by_pool
    tenant: {tenant}
    name: VDI network latency by desktop pool
    priority: high
    tags: [VDI, network]
    query: |
      session.vdi_events during past 5min
      | where device.virtualization.desktop_pool != null
      | summarize avg_latency = network_latency.avg(), sessions = device.count()
        by device.virtualization.desktop_pool
    every: 30s
    trigger:
      when: avg_latency > 300ms and sessions >= 2
      for: 5min
"""
BASE = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def S(i: int) -> datetime:
    return BASE + timedelta(seconds=30 * i)


def ev(tenant, uid, user, t, latency):
    return json.dumps({"tenant": tenant, "start_time": iso(t - timedelta(seconds=30)),
                       "end_time": iso(t), "device": {"collector": {"uid": uid}, "name": uid},
                       "user": {"name": user}, "network_latency": latency,
                       "event_type": "sample"})


def build_events() -> tuple[list[str], dict[str, str]]:
    lines: list[str] = ["this is not json"]
    bad = {}
    ooo = ev("acme", "c-2", "u2", S(6), 500)           # out of order, within lateness
    late = ev("acme", "c-3", "u3", S(2), 900)          # beyond lateness
    for i in range(26):
        t = S(i)
        if i < 16:
            lines.append(ev("acme", "c-1", "u1", t, 500))
            if i != 6:
                lines.append(ev("acme", "c-2", "u2", t, 500))
            lines.append(ev("acme", "c-4", "u4", t, 900))
            lines.append(ev("globex", "c-1", "g1", t, 100))
            lines.append(ev("globex", "c-5", "g5", t, 100))
            lines.append(ev("globex", "c-9", "g9", t, 900))
        else:
            lines.append(ev("acme", "c-1", "u1", t, 100))
            lines.append(ev("acme", "c-2", "u2", t, 100))
        if i == 6:
            lines.append(ev("globex", "c-9", "g9", t + timedelta(seconds=5), 900))
            lines.append(ooo)
        if i == 12:
            lines.append(late)
            bad["late"] = late
        if i == 3:
            no_tenant = json.loads(ev("acme", "c-1", "u1", t, 500))
            del no_tenant["tenant"]
            bad["missing_tenant"] = json.dumps(no_tenant)
            no_time = json.loads(ev("acme", "c-1", "u1", t, 500))
            del no_time["end_time"]
            bad["missing_event_time"] = json.dumps(no_time)
            bad_time = json.loads(ev("acme", "c-1", "u1", t, 500))
            bad_time["end_time"] = "yesterday"
            bad["bad_event_time"] = json.dumps(bad_time)
            bad_type = json.loads(ev("acme", "c-1", "u1", t, 500))
            bad_type["network_latency"] = "fast"
            bad["bad_type:network_latency"] = json.dumps(bad_type)
            lines += [bad["missing_tenant"], bad["missing_event_time"], bad["bad_event_time"],
                      bad["bad_type:network_latency"]]
    bad["not_json"] = "this is not json"
    return lines, bad


def inventory() -> list[str]:
    def dev(tenant, uid, pool):
        return json.dumps({"tenant": tenant, "collector": {"uid": uid}, "name": uid,
                           "hardware": {"type": "virtual" if pool else "laptop"},
                           "virtualization": {"desktop_pool": pool, "environment": "Citrix-EU"},
                           "last_seen": "2026-11-26T09:00:00.000Z"})
    return [dev("acme", "c-1", "Finance-Win11"), dev("acme", "c-2", "Finance-Win11"),
            dev("acme", "c-3", "Dev-Win10"), dev("acme", "c-4", None),
            dev("globex", "c-1", "Finance-Win11"), dev("globex", "c-5", "Finance-Win11"),
            dev("globex", "c-9", "Dev-Win10")]


TRIGGER_TEXT = "avg_latency > 300ms and sessions >= 2"
RECOVER_TEXT = "not (avg_latency > 300ms and sessions >= 2)"


def expected_alerts() -> list[dict]:
    group = {"device.virtualization.desktop_pool": "Finance-Win11"}
    group_json = json.dumps(group, separators=(",", ":"))
    aid = alert_id("acme", "vdi_latency_by_pool", group_json,
                   int(datetime(2026, 11, 26, 10, 5, 30, tzinfo=timezone.utc).timestamp() * 1000))
    common = {"alert_id": aid, "tenant": "acme", "monitor": "vdi_latency_by_pool",
              "group": group, "baseline": None, "priority": "critical",
              "name": "VDI network latency by desktop pool", "tags": ["VDI", "network"],
              "impact": {"devices": 2, "users": 2, "active_devices": 3, "share": 2 / 3}}
    return [
        {**common, "status": "triggered", "at": "2026-11-26T10:05:30.000Z",
         "values": {"avg_latency": 500.0, "sessions": 2},
         "window": {"start": "2026-11-26T10:00:30.000Z", "end": "2026-11-26T10:05:30.000Z"},
         "condition": TRIGGER_TEXT},
        {**common, "status": "recovered", "at": "2026-11-26T10:10:30.000Z",
         "values": {"avg_latency": 300.0, "sessions": 2},
         "window": {"start": "2026-11-26T10:05:30.000Z", "end": "2026-11-26T10:10:30.000Z"},
         "condition": RECOVER_TEXT},
    ]


def test_reference_job_alert_timeline(flink_env, tmp_path):
    events, bad = build_events()
    (tmp_path / "events.jsonl").write_text("\n".join(events) + "\n")
    (tmp_path / "devices.jsonl").write_text("\n".join(inventory()) + "\n")
    (tmp_path / "m.yaml").write_text(MONITOR.format("".join(ONE.format(tenant=t) for t in ("acme", "globex"))))
    compiled = compile_paths([str(tmp_path / "m.yaml")])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    (tmp_path / "config.jsonl").write_text("".join(json.dumps(r) + "\n" for r in compiled.job.config_records))
    inputs = {"src_session_vdi_events": str(tmp_path / "events.jsonl"),
              "src_device_devices": str(tmp_path / "devices.jsonl"),
              "src_monitor_config": str(tmp_path / "config.jsonl")}
    res = run_job(compiled.job, inputs, str(tmp_path / "alerts.jsonl"), t_env=flink_env)

    alerts = sorted((json.loads(a) for a in res.alerts), key=lambda a: (a["at"], a["status"]))
    assert alerts == expected_alerts()
    # canonical bytes: JSON_OBJECT writes keys sorted, no spaces
    for line in res.alerts:
        assert line == json.dumps(json.loads(line), sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False)

    dead = sorted((json.loads(d) for d in res.dead_letters), key=lambda d: d["reason"])
    assert dead == sorted(({"source": "session.vdi_events", "reason": r, "line": l}
                           for r, l in bad.items()), key=lambda d: d["reason"])
    assert (tmp_path / "alerts.jsonl").read_text() == "".join(a + "\n" for a in res.alerts)
