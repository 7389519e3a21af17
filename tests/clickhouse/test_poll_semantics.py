"""The polling back end on chdb against a timeline derived by hand (no Flink).

Monitor: per desktop pool, avg network latency over 2 min every 1 min; trigger lat > 100 for
1 min, recover lat < 50 (for 0). Inventory (acme): d1 in P1 from 10:00, moved to P2 at 10:03;
d2 in P2 and d4 in P1 from 10:00; d3 without a pool; d5 (P1) only from 10:10.

Window ends E cover [E - 2min, E):
P1: d1 10:00:30 200, 10:01:30 200, 10:02:30 200; d4 10:03:40 10, 10:04:40 10
    E=10:01 {200}           lat 200  n 1  trig           (streak from 10:01)
    E=10:02 {200, 200}      lat 200  n 2  trig, 1 min -> triggered at 10:02
    E=10:03 {200, 200}      lat 200  n 2
    E=10:04 {200, 10}       lat 105  n 2  (d1's 10:03:30 record is P2's: version as of the event)
    E=10:05 {10, 10}        lat 10   n 2  rec -> recovered at 10:05
    E=10:06 {10}            lat 10   n 1
P2: d2 10:00:10 10; d1 10:03:30 20 -> evaluations at 10:01, 10:02 (10), 10:04, 10:05 (20); none at 10:03.
Not counted: d3's 500 (no pool: filtered), d5's 900 at 10:00:20 (no inventory version yet:
`with` drops it), globex's 999 (another tenant).
"""

import hashlib
import json
from datetime import datetime, timezone

import pytest

from nql_flink.translator.cli import main
from nql_flink.translator.clickhouse import poll
from nql_flink.translator.clickhouse.connection import connect
from nql_flink.translator.commands.poll import checked_monitors
from argparse import Namespace

MONITOR = """
id: pool_latency
tenant: acme
name: Pool latency
priority: high
tags: [vdi]
query: |
  session.vdi_events during past 2min
  | where device.virtualization.desktop_pool != null
  | summarize lat = network_latency.avg(), n = count() by device.virtualization.desktop_pool
every: 1min
trigger:
  when: lat > 100ms
  for: 1min
recover:
  when: lat < 50ms
"""


def event(tenant, device, user, hms, latency):
    return json.dumps({"tenant": tenant, "start_time": f"2026-11-26T{hms}.000Z", "end_time": f"2026-11-26T{hms}.000Z",
                       "device": {"collector": {"uid": device}, "name": device.upper()}, "user": {"name": user},
                       "network_latency": latency})


def device(uid, pool, hms):
    return json.dumps({"tenant": "acme", "collector": {"uid": uid}, "name": uid.upper(),
                       "virtualization": {"desktop_pool": pool}, "last_seen": f"2026-11-26T{hms}.000Z"})


EVENTS = [event("acme", "d1", "u1", "10:00:30", 200), event("acme", "d1", "u1", "10:01:30", 200),
          event("acme", "d1", "u1", "10:02:30", 200), event("acme", "d1", "u1", "10:03:30", 20),
          event("acme", "d2", "u2", "10:00:10", 10), event("acme", "d3", "u3", "10:01:00", 500),
          event("acme", "d4", "u4", "10:03:40", 10), event("acme", "d4", "u4", "10:04:40", 10),
          event("acme", "d5", "u5", "10:00:20", 900), event("globex", "d1", "g1", "10:01:30", 999)]
# in version order, as the inventory topic carries them (a version read behind a newer one takes
# effect later: docs/polling.md "Inventory read out of version order")
DEVICES = [device("d1", "P1", "10:00:00"), device("d2", "P2", "10:00:00"), device("d3", None, "10:00:00"),
           device("d4", "P1", "10:00:00"), device("d1", "P2", "10:03:00"), device("d5", "P1", "10:10:00")]


def ms(hms):
    return int(datetime.fromisoformat(f"2026-11-26T{hms}+00:00").astimezone(timezone.utc).timestamp() * 1000)


def expected_id(group_json, at):
    material = json.dumps(["acme", "pool_latency", group_json, ms(at)], separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "m.yaml").write_text(MONITOR)
    (tmp_path / "vdi.jsonl").write_text("\n".join(EVENTS) + "\n")
    (tmp_path / "devices.jsonl").write_text("\n".join(DEVICES) + "\n")
    return tmp_path


def loaded(conn, files):
    from nql_flink.translator.semantic.schema import load_catalog

    catalog = load_catalog()
    poll.create_tables(conn, catalog)
    poll.load_file(conn, catalog, "session.vdi_events", str(files / "vdi.jsonl"))
    poll.load_file(conn, catalog, "device.devices", str(files / "devices.jsonl"))


def test_evaluations_per_pool_follow_windows_filters_and_inventory_versions(files):
    (evaluation,) = checked_monitors(Namespace(paths=[str(files / "m.yaml")], tenant=None, strict=False), "poll")
    with connect("chdb:memory") as conn:
        loaded(conn, files)
        rows = poll.evaluations(conn, evaluation, ms("09:00:00"), ms("11:00:00"))
    got = [(e.group["device.virtualization.desktop_pool"], e.window_end, e.values["lat"], e.values["n"], e.trig, e.rec)
           for e in rows]
    assert got == [
        ("P1", ms("10:01:00"), 200.0, 1, True, False), ("P1", ms("10:02:00"), 200.0, 2, True, False),
        ("P1", ms("10:03:00"), 200.0, 2, True, False), ("P1", ms("10:04:00"), 105.0, 2, True, False),
        ("P1", ms("10:05:00"), 10.0, 2, False, True), ("P1", ms("10:06:00"), 10.0, 1, False, True),
        ("P2", ms("10:01:00"), 10.0, 1, False, True), ("P2", ms("10:02:00"), 10.0, 1, False, True),
        ("P2", ms("10:04:00"), 20.0, 1, False, True), ("P2", ms("10:05:00"), 20.0, 1, False, True)]
    assert {e.window_start for e in rows if e.window_end == ms("10:04:00")} == {ms("10:02:00")}


def test_evaluation_range_is_window_ends_after_from_up_to_to(files):
    (evaluation,) = checked_monitors(Namespace(paths=[str(files / "m.yaml")], tenant=None, strict=False), "poll")
    with connect("chdb:memory") as conn:
        loaded(conn, files)
        rows = poll.evaluations(conn, evaluation, ms("10:02:00"), ms("10:04:00"))
    assert sorted({e.window_end for e in rows}) == [ms("10:03:00"), ms("10:04:00")]


def test_poll_writes_the_two_transitions_as_the_streaming_job_would(files, tmp_path, capsys):
    out = tmp_path / "alerts.jsonl"
    code = main(["poll", str(files / "m.yaml"), "--clickhouse", f"chdb://{tmp_path / 'db'}",
                 "--from", "2026-11-26T09:00:00Z", "--to", "2026-11-26T11:00:00Z",
                 "--input", f"session.vdi_events={files / 'vdi.jsonl'}", "--input", f"device.devices={files / 'devices.jsonl'}",
                 "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    group = '{"device.virtualization.desktop_pool":"P1"}'
    alert = expected_id(group, "10:02:00")
    # impact: P1's one device of acme's active devices in the window, every record of the
    # tenant before the filters and the inventory: [10:00, 10:02) d1, d2, d3, d5 -> 4, share
    # 0.25; [10:03, 10:05) d1, d4 -> 2, share 0.5. Both >= 25%: the monitor's high + 1.
    def common(active: int, share: str) -> str:
        return (f'"group":{group},"impact":{{"active_devices":{active},"devices":1,"share":{share},"users":1}},'
                '"monitor":"pool_latency","name":"Pool latency","priority":"critical"')

    assert out.read_text().splitlines() == [
        f'{{"alert_id":"{alert}","at":"2026-11-26T10:02:00.000Z","baseline":null,"condition":"lat > 100ms",'
        f'{common(4, "0.25")},"status":"triggered","tags":["vdi"],"tenant":"acme","values":{{"lat":200.0,"n":2}},'
        '"window":{"end":"2026-11-26T10:02:00.000Z","start":"2026-11-26T10:00:00.000Z"}}',
        f'{{"alert_id":"{alert}","at":"2026-11-26T10:05:00.000Z","baseline":null,"condition":"lat < 50ms",'
        f'{common(2, "0.5")},"status":"recovered","tags":["vdi"],"tenant":"acme","values":{{"lat":10.0,"n":2}},'
        '"window":{"end":"2026-11-26T10:05:00.000Z","start":"2026-11-26T10:03:00.000Z"}}']


def test_load_keeps_tables_between_commands_and_counts_rejected_records(files, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([EVENTS[0], "not json", json.dumps({"tenant": "acme"}),
                              json.dumps({"tenant": "acme", "end_time": "2026-11-26T10:00:00.000Z", "rtt": "fast"})]) + "\n")
    db = f"chdb://{tmp_path / 'db'}"
    assert main(["load", "--clickhouse", db, "--input", f"session.vdi_events={bad}"]) == 0
    err = capsys.readouterr().err
    assert "1 record(s) loaded" in err
    assert "1 rejected bad_type:rtt, 1 rejected missing_event_time, 1 rejected not_json" in err
    with connect(db) as conn:
        assert conn.rows('SELECT count(), max("network_latency") FROM "nql"."session_vdi_events"') == [[1, 200]]


@pytest.mark.parametrize("left, right, order", [
    ("16.0.9", "16.0.17000", -1), ("16.0.17000", "16.1", -1), ("16.0", "16.0.0", 0), ("v16.1", "16.0.99", 1),
    (" 2.0 ", "2", 0), ("10", "9", 1), ("123456789012345678901234567890", "123456789012345678901234567891", -1),
    ("16.a", "1", None), ("1..2", "1", None), (None, "1", None)])
def test_versions_are_ordered_as_the_java_function_orders_them(left, right, order):
    # udfs/jvm VersionCompare's rules: numeric components, a missing one 0, a leading v ignored,
    # NULL for NULL or a non-version
    from sqlglot import exp

    from nql_flink.translator.clickhouse.expressions import to_sql, version_order

    side = lambda v: exp.Null() if v is None else exp.Literal.string(v)  # noqa: E731
    with connect("chdb:memory") as conn:
        assert conn.rows("SELECT " + to_sql(version_order(side(left), side(right)))) == [[order]]


REGROUP = """
id: busy_pools
tenant: acme
query: |
  devices
  | with device_performance.events during past 2min
  | compute q = cpu_queue_length.avg(), samples = count()
  | where samples >= 2
  | summarize busy = countif(q > 3), desktops = count(), worst = q.max()
    by virtualization.desktop_pool
every: 1min
trigger:
  when: busy >= 2
"""


# summarize after compute: no users per device, and the population is not counted (as on Flink)
NO_POPULATION = {"users": None, "active_devices": None, "share": None}


def perf(uid, hms, queue):
    return json.dumps({"tenant": "acme", "start_time": f"2026-11-26T{hms}.000Z", "end_time": f"2026-11-26T{hms}.000Z",
                       "device": {"collector": {"uid": uid}, "name": uid.upper()}, "cpu_queue_length": queue})


def test_summarize_after_compute_aggregates_each_windows_devices_again(tmp_path):
    # per device and window [E-2min, E): q = avg, kept when samples >= 2; then per pool:
    # E=10:01 P1: v1 {4,6} q 5 busy, v2 {5,1} q 3 not busy (3 > 3 is false), v3 {9} one sample: out
    #         -> busy 1, desktops 2;  P2: v4 {8,8} busy 1, desktops 1
    # E=10:02 the same records and v3 {9,7} q 8 -> P1 busy 2, desktops 3, worst 8 -> triggered at 10:02
    # E=10:03 [10:01,10:03): v3 {7} out, v1 {1,1} q 1 -> P1 busy 0, desktops 1, worst 1 -> recovered at 10:03
    (tmp_path / "m.yaml").write_text(REGROUP)
    (tmp_path / "perf.jsonl").write_text("\n".join([
        perf("v1", "10:00:10", 4), perf("v1", "10:00:40", 6), perf("v2", "10:00:20", 5), perf("v2", "10:00:50", 1),
        perf("v3", "10:00:30", 9), perf("v4", "10:00:15", 8), perf("v4", "10:00:45", 8), perf("v3", "10:01:10", 7),
        perf("v1", "10:02:10", 1), perf("v1", "10:02:40", 1)]) + "\n")
    (tmp_path / "devices.jsonl").write_text("\n".join(
        device(uid, pool, "09:00:00") for uid, pool in (("v1", "P1"), ("v2", "P1"), ("v3", "P1"), ("v4", "P2"))) + "\n")
    out = tmp_path / "alerts.jsonl"
    assert main(["poll", str(tmp_path / "m.yaml"), "--clickhouse", "chdb:memory", "--from", "2026-11-26T09:00:00Z",
                 "--to", "2026-11-26T11:00:00Z", "--input", f"device_performance.events={tmp_path / 'perf.jsonl'}",
                 "--input", f"device.devices={tmp_path / 'devices.jsonl'}", "--output", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(a["status"], a["at"], a["group"], a["values"], a["impact"], a["window"]["start"], a["condition"])
            for a in got] == [
        ("triggered", "2026-11-26T10:02:00.000Z", {"virtualization.desktop_pool": "P1"},
         {"busy": 2, "desktops": 3, "worst": 8.0}, NO_POPULATION | {"devices": 3}, "2026-11-26T10:00:00.000Z",
         "busy >= 2"),
        ("recovered", "2026-11-26T10:03:00.000Z", {"virtualization.desktop_pool": "P1"},
         {"busy": 0, "desktops": 1, "worst": 1.0}, NO_POPULATION | {"devices": 1}, "2026-11-26T10:01:00.000Z",
         "not (busy >= 2)")]
