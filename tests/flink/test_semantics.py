"""Alert semantics of spec/monitors.md, on real Flink, through the whole compiler.

One job (one mini-cluster run) holds several monitors over a small hand-made input. Every
expected transition below is derived by hand from the records; the derivation is written
next to each monitor. Times are minutes after 10:00 on 2026-11-26 (UTC).

Conventions: every monitor here is `during past 2min`, `every: 1min`, so the evaluation at
t covers records with time in [t-2min, t). Samples are at mm:30 unless said otherwise,
so the window ending at minute k holds the samples of minutes k-2 and k-1.
"""

import datetime
import json

import pytest

from tests.compiled_run import run_monitors
from nql_flink.udfs.alerting.state_machine import alert_id

pytestmark = pytest.mark.flink

DAY = "2026-11-26"


def at(minute: int, second: int = 30) -> str:
    return f"{DAY}T10:{minute:02d}:{second:02d}.000Z"


def vdi(tenant, uid, minute, latency=100, second=30, protocol="rdp", site="Zurich", rtt=10, user="u"):
    return {"tenant": tenant, "start_time": at(minute, second - 30) if second >= 30 else at(minute - 1, second + 30),
            "end_time": at(minute, second), "device": {"collector": {"uid": uid}, "name": uid.upper()},
            "user": {"name": f"{user}-{uid}"}, "network_latency": latency, "rtt": rtt, "protocol": protocol,
            "event_type": "sample", "client": {"location": {"site": site}}}


def perf(uid, minute, queue):
    return {"tenant": "acme", "start_time": at(minute, 0), "end_time": at(minute, 30),
            "device": {"collector": {"uid": uid}, "name": uid.upper()}, "cpu_queue_length": queue}


def device(tenant, uid, pool=None, kind="virtual"):
    rec = {"tenant": tenant, "collector": {"uid": uid}, "name": uid.upper(), "hardware": {"type": kind},
           "last_seen": "2026-11-26T09:00:00.000Z"}
    if pool:
        rec["virtualization"] = {"desktop_pool": pool}
    return rec


# (monitor file name, YAML) -- thresholds written once here, derivations beside each.
MONITORS = {
    # M1, acme: P1 latency by minute [100,100,400,400,400,400,400,100,100,100,100,100]
    #   windows: 10:01 100 | 10:02 100 | 10:03 250 | 10:04..10:07 400 | 10:08 250 | 10:09.. 100
    #   > 300 from 10:04; for 2min -> triggered 10:06; default recovery -> recovered 10:08.
    #   P2 (M2's series) is > 300 only at 10:03: never 2 min -> no alert. P4: 100 -> none.
    # M1, globex: same id and shape, threshold 900: its P1 is 1000 from 10:01 -> triggered
    #   10:03 (10:01 + 2min), never recovers. acme's P1 must not see globex's 1000s.
    "lat.yaml": """
        monitors:
          - id: lat
            tenant: acme
            query: |
              session.vdi_events during past 2min
              | summarize lat = network_latency.avg(), n = count() by device.virtualization.desktop_pool
            every: 1min
            trigger: {when: lat > 300ms, for: 2min}
          - id: lat
            tenant: globex
            query: |
              session.vdi_events during past 2min
              | summarize lat = network_latency.avg(), n = count() by device.virtualization.desktop_pool
            every: 1min
            trigger: {when: lat > 900ms, for: 2min}
        """,
    # M2 hysteresis, P2 by minute [100,400,400,200,200,400,200,100,100,100,100,100]
    #   windows: 10:01 100 | 10:02 250 | 10:03 400 | 10:04 300 | 10:05 200 | 10:06 300 |
    #   10:07 300 | 10:08 150 | 10:09.. 100
    #   triggered 10:03 (> 300, for 0); < 150 first at 10:09, for 1min -> recovered 10:10.
    #   (default recovery would have recovered at 10:04: the band keeps it triggered.)
    "hyst.yaml": """
        id: hyst
        tenant: acme
        query: |
          session.vdi_events during past 2min
          | where device.virtualization.desktop_pool == "p2"
          | summarize lat = network_latency.avg()
        every: 1min
        trigger: {when: lat > 300ms}
        recover: {when: lat < 150ms, for: 1min}
        """,
    # M3 no group, a gap breaks the run. d3 (laptop) queue by minute
    #   [1,6,6,-,-,6,6,6,1,1]; d5 (desktop) is excluded by the where.
    #   max per window: 10:01 1 | 10:02 6 | 10:03 6 | 10:04 6 | 10:05 no evaluation |
    #   10:06 6 | 10:07 6 | 10:08 6 | 10:09 6 | 10:10 1 | 10:11 1
    #   for 3min: 10:02..10:04 is broken by 10:05; 10:06 + 3min -> triggered 10:09;
    #   recovered 10:10. A late d3 sample at 10:03:30 (beyond lateness) must not fill the
    #   gap: applied, it would trigger at 10:05.
    "fleet.yaml": """
        id: fleet
        tenant: acme
        query: |
          device_performance.events during past 2min
          | where device.hardware.type == laptop
          | summarize q = cpu_queue_length.max()
        every: 1min
        trigger: {when: q > 5, for: 3min}
        """,
    # M4 two keys, in-list, wildcard (case-insensitive), countif, p95, sumif. Group
    #   (P4, ica): 10:00:30 d4a rtt 150, d4b rtt 200; 10:01:30 d4a rtt 50 (written 6 s out
    #   of order, within the 10 s lateness). d4c (blast) and d4d (site Geneva) are filtered.
    #   10:01: slow 2, p95(150,200) = 150 + 0.95*50 = 197.5, total 350 -> triggered 10:01
    #   10:02: slow 2 | 10:03: only the 50 -> slow 0 -> recovered 10:03
    "rtt.yaml": """
        id: rtt
        tenant: acme
        query: |
          session.vdi_events during past 2min
          | where protocol in [ica, rdp] and client.location.site == "lau*"
          | summarize slow = countif(rtt > 100ms), p = rtt.p95(), total = rtt.sumif(protocol == ica)
            by device.virtualization.desktop_pool, protocol
        every: 1min
        trigger: {when: slow >= 2}
        """,
    # M5 per device, where after compute (k >= 2 drops evaluations).
    #   d3 avg: 10:01 k=1 - | 10:02 3.5 | 10:03 6 -> triggered 10:03 | 10:04 k=1 - | 10:05 - |
    #   10:06 k=1 - | 10:07 6 | 10:08 6 | 10:09 3.5 -> recovered 10:09
    #   d5 queue 9 at minutes 0 and 1: 10:01 k=1 - | 10:02 9 -> triggered 10:02; no later
    #   evaluation, so it stays triggered.
    "per_device.yaml": """
        id: per_device
        tenant: acme
        query: |
          devices
          | where hardware.type in [laptop, desktop]
          | with device_performance.events during past 2min
          | compute c = cpu_queue_length.avg(), k = count()
          | where k >= 2
        every: 1min
        trigger: {when: c > 5}
        """,
    # M6 a literal with quotes, a semicolon and `--` reaches Flink escaped and matches
    #   exactly: one record has that site, another one a site that differs by one character.
    #   10:01: n = 1 -> triggered 10:01; 10:02: n = 1; then no record, no evaluation.
    "escape.yaml": """
        id: escape
        tenant: acme
        query: |
          session.vdi_events during past 2min
          | where client.location.site == "O'Brien; DROP TABLE x; -- \\"q\\""
          | summarize n = count()
        every: 1min
        trigger: {when: n >= 1}
        """,
}
TRICKY_SITE = "O'Brien; DROP TABLE x; -- \"q\""

L1 = [100, 100, 400, 400, 400, 400, 400, 100, 100, 100, 100, 100]
L2 = [100, 400, 400, 200, 200, 400, 200, 100, 100, 100, 100, 100]
Q3 = [1, 6, 6, None, None, 6, 6, 6, 1, 1]


def inputs():
    vdi_rows = []
    for m in range(12):
        vdi_rows.append(vdi("acme", "d1", m, L1[m]))
        vdi_rows.append(vdi("acme", "d2", m, L2[m], protocol="blast"))
        vdi_rows.append(vdi("globex", "d1", m, 1000))
    vdi_rows += [vdi("acme", "d4a", 0, rtt=150, protocol="ica", site="Lausanne-HQ"),
                 vdi("acme", "d4b", 0, rtt=200, protocol="ica", site="Lausanne-HQ"),
                 vdi("acme", "d4c", 0, rtt=300, protocol="blast", site="Lausanne-HQ"),
                 vdi("acme", "d4d", 0, rtt=300, protocol="ica", site="Geneva"),
                 vdi("acme", "d6", 0, site=TRICKY_SITE),
                 vdi("acme", "d7", 0, site=TRICKY_SITE + "X")]
    vdi_rows.sort(key=lambda r: r["end_time"])
    # out of order within lateness: a globex record at 10:01:36 is written before d4a's 10:01:30
    ooo = vdi("acme", "d4a", 1, rtt=50, protocol="ica", site="Lausanne-HQ")
    filler = vdi("globex", "d1", 1, 1000, second=36)
    cut = max(i for i, r in enumerate(vdi_rows) if r["end_time"] <= at(1, 36)) + 1
    vdi_rows[cut:cut] = [filler, ooo]
    vdi_lines = [json.dumps(r) for r in vdi_rows]
    vdi_lines.insert(5, "{not json")
    vdi_lines.insert(9, json.dumps({k: v for k, v in vdi("acme", "d1", 0).items() if k != "tenant"}))

    perf_rows = [perf("d3", m, q) for m, q in enumerate(Q3) if q is not None]
    perf_rows += [perf("d5", 0, 9), perf("d5", 1, 9)]
    perf_rows.sort(key=lambda r: r["end_time"])
    late = perf("d3", 3, 6)  # written after the 10:09:30 sample: 6 min behind, lateness 10 s
    perf_lines = [json.dumps(r) for r in perf_rows] + [json.dumps(late)]

    devices = [device("acme", "d1", "P1"), device("acme", "d2", "P2"), device("globex", "d1", "P1")]
    devices += [device("acme", u, "P4") for u in ("d4a", "d4b", "d4c", "d4d")]
    devices += [device("acme", "d3", kind="laptop"), device("acme", "d5", kind="desktop")]
    return {"session.vdi_events": vdi_lines, "device_performance.events": perf_lines,
            "device.devices": [json.dumps(d) for d in devices]}, late


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, flink_env):
    data, late = inputs()
    tables = {table: ("\n".join(lines) + "\n").encode() for table, lines in data.items()}
    _, result = run_monitors(tmp_path_factory.mktemp("semantics"), MONITORS, tables, flink_env)
    return [json.loads(a) for a in result.alerts], [json.loads(d) for d in result.dead_letters], late


def timeline(alerts, tenant, monitor):
    return sorted((json.dumps(a["group"], sort_keys=True), a["status"], a["at"][11:16]) for a in alerts
                  if a["tenant"] == tenant and a["monitor"] == monitor)


def pool(p):
    return json.dumps({"device.virtualization.desktop_pool": p})


def test_for_and_default_recovery(outcome):
    alerts, _, _ = outcome
    assert timeline(alerts, "acme", "lat") == [(pool("P1"), "recovered", "10:08"), (pool("P1"), "triggered", "10:06")]


def test_tenants_with_the_same_groups_never_mix_and_keep_their_own_thresholds(outcome):
    alerts, _, _ = outcome
    assert timeline(alerts, "globex", "lat") == [(pool("P1"), "triggered", "10:03")]


def test_hysteresis_and_recover_for(outcome):
    alerts, _, _ = outcome
    assert timeline(alerts, "acme", "hyst") == [("{}", "recovered", "10:10"), ("{}", "triggered", "10:03")]


def test_a_missing_evaluation_breaks_the_run_and_late_records_are_not_applied(outcome):
    alerts, dead, late = outcome
    assert timeline(alerts, "acme", "fleet") == [("{}", "recovered", "10:10"), ("{}", "triggered", "10:09")]
    assert {"source": "device_performance.events", "reason": "late", "line": json.dumps(late)} in dead


def test_two_keys_wildcards_in_lists_and_conditional_aggregates(outcome):
    alerts, _, _ = outcome
    group = json.dumps({"device.virtualization.desktop_pool": "P4", "protocol": "ica"}, sort_keys=True)
    assert timeline(alerts, "acme", "rtt") == [(group, "recovered", "10:03"), (group, "triggered", "10:01")]
    [trig] = [a for a in alerts if a["monitor"] == "rtt" and a["status"] == "triggered"]
    assert trig["values"] == {"slow": 2, "p": 197.5, "total": 350}


def test_per_device_monitor_with_where_after_compute(outcome):
    alerts, _, _ = outcome
    d3, d5 = json.dumps({"device.collector.uid": "d3"}), json.dumps({"device.collector.uid": "d5"})
    assert timeline(alerts, "acme", "per_device") == [
        (d3, "recovered", "10:09"), (d3, "triggered", "10:03"), (d5, "triggered", "10:02")]


def test_escaped_literal_matches_exactly(outcome):
    alerts, _, _ = outcome
    [a] = [a for a in alerts if a["monitor"] == "escape"]
    assert (a["status"], a["at"][11:16], a["values"]) == ("triggered", "10:01", {"n": 1})


def test_alert_records_have_the_spec_shape_and_recovery_reuses_the_alert_id(outcome):
    alerts, _, _ = outcome
    trig, rec = sorted((a for a in alerts if a["tenant"] == "acme" and a["monitor"] == "lat"), key=lambda a: a["at"])
    assert set(trig) == {"alert_id", "tenant", "monitor", "status", "at", "group", "values", "window", "condition",
                         "baseline", "impact", "priority", "name", "tags"}
    trigger_ms = int(datetime.datetime(2026, 11, 26, 10, 6, tzinfo=datetime.timezone.utc).timestamp() * 1000)
    group_json = '{"device.virtualization.desktop_pool":"P1"}'  # as JSON_OBJECT writes it
    assert trig["alert_id"] == rec["alert_id"] == alert_id("acme", "lat", group_json, trigger_ms)
    assert trig["window"] == {"start": f"{DAY}T10:04:00.000Z", "end": f"{DAY}T10:06:00.000Z"}
    assert trig["values"] == {"lat": 400.0, "n": 2}
    assert trig["condition"] == "lat > 300ms" and rec["condition"] == "not (lat > 300ms)"
    # the window [10:04, 10:06) of acme's session.vdi_events holds d1 (P1) and d2 (P2): P1's one
    # device is half of the tenant's active devices, >= 25%: the monitor's priority (medium) + 1
    assert trig["impact"] == {"devices": 1, "users": 1, "active_devices": 2, "share": 0.5}
    assert (trig["priority"], trig["name"], trig["tags"], trig["baseline"]) == ("high", "lat", [], None)


def test_bad_records_go_to_the_dead_letters_with_a_reason(outcome):
    _, dead, _ = outcome
    reasons = sorted(d["reason"] for d in dead if d["source"] == "session.vdi_events")
    assert [r for r in reasons if r != "unknown_device"] == ["missing_tenant", "not_json"]
    # d6 and d7 (the tricky site names, 10:00:30) have no inventory record: the three acme
    # monitors that group by an inventory attribute (lat, hyst, rtt) cannot place them
    unknown = sorted((json.loads(d["line"])["monitor"], json.loads(d["line"])["device"], json.loads(d["line"])["event_time"])
                     for d in dead if d["reason"] == "unknown_device")
    assert unknown == [(m, u, f"{DAY}T10:00:30.000Z") for m in ("hyst", "lat", "rtt") for u in ("d6", "d7")]
