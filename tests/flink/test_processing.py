"""Alert processing after the alert topic (translator/flink/processing.py, udfs/jvm
AlertProcessing, docs/processing.md): the generated job on files, its notification records
against timelines derived by hand. The alert records themselves are those of the alert topic.

Records: one per device every 30 s, S(i) = 10:00:00 + 30 s i, i = 0..41 (to 10:20:30), acme's
c-1 (pool Finance-Win11) and c-3 (Sales-Win10); the monitor `pool_latency` reads windows of
1 min every 1 min by pool, triggers on avg_latency > 300ms and recovers when it is not (the
transition at 10:0m+1 is the window [10:0m, 10:0m+1), samples S(2m) and S(2m+1)).
"""
from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from nql_flink.translator.flink import processing
from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.pipeline import compile_paths
from tests.compiled_run import jsonl, run_monitors
from tests.kafka import scenario as sc

pytestmark = pytest.mark.flink

# by pool, every minute, over the last minute; recovers when the trigger condition is false
MONITOR = ("id: pool_latency\ntenant: acme\nevery: 1min\ntrigger: {when: avg_latency > 300ms}\n"
           "query: session.vdi_events during past 1min | where device.virtualization.desktop_pool != null"
           " | summarize avg_latency = network_latency.avg() by device.virtualization.desktop_pool\n")
FINANCE = '{"device.virtualization.desktop_pool":"Finance-Win11"}'
SALES = '{"device.virtualization.desktop_pool":"Sales-Win10"}'


def at(minute: int, second: int = 0) -> str:
    return f"2026-11-26T10:{minute:02d}:{second:02d}.000Z"


def run(tmp, t_env, options: str, latency, maintenance: list[dict] | None = None) -> tuple[list[dict], list[dict]]:
    """The alert records and notification records (in the order written) of the monitor with
    `options` over the records; latency(uid, minute) -> ms; with `maintenance`, the job reads
    those records as its maintenance topic."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "m.yaml").write_text(MONITOR + textwrap.dedent(options), encoding="utf-8")
    compile_options = CompileOptions(maintenance_topic="nql.maintenance") if maintenance is not None else CompileOptions()
    compiled = compile_paths([str(tmp / "m.yaml")], options=compile_options)
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    events = [json.dumps(sc.event("acme", uid, sc.S(i), latency(uid, i // 2))) for i in range(42) for uid in ("c-1", "c-3")]
    tables = {"session.vdi_events": events, "device.devices": sc.inventory(("acme",))}
    if maintenance is not None:
        tables["maintenance"] = [json.dumps(w) for w in maintenance]
    files = sc.write_inputs(tmp / "in", tables)
    config = [json.dumps(r) for r in compiled.job.config_records]
    alerts, _ = sc.run_embedded(t_env, compiled, files, config, tmp / "alerts.jsonl")
    records = processing.notification_records(str(tmp / "alerts.jsonl.d"))
    return [json.loads(a) for a in alerts], [json.loads(r) for r in records]


def entries(notifications: list[dict]) -> list[tuple]:
    """(group, status, at, notify, flapping, settled) of every alert of every notification, in time order."""
    out = [(json.dumps(e["alert"]["group"], separators=(",", ":")), e["alert"]["status"], e["alert"]["at"], e["notify"],
            e["flapping"], e["settled"], n["at"]) for n in notifications for e in n["alerts"]]
    assert all(e["muted_by"] == [] for n in notifications for e in n["alerts"])
    return sorted(out, key=lambda x: (x[-1], x[0], x[2]))


def flapping_latency(uid: str, minute: int) -> int:
    """Finance: 500 in minutes 0, 2 and 4..17, else 100; Sales: 500 throughout."""
    if uid == "c-3":
        return 500
    return 500 if minute in (0, 2) or 4 <= minute <= 17 else 100


def test_a_flapping_group_is_suppressed_until_it_settles(flink_env, tmp_path):
    """flapping: more than 2 changes within 10 min. Finance changes at 10:01 (triggered),
    10:02 (recovered), 10:03 (triggered: the third change in (09:53, 10:03], flapping), 10:04
    (recovered), 10:05 (triggered): those three are not notified. Its last change is 10:05; at
    10:15 it has not changed for 10 min and settles: its state (triggered since 10:05) differs
    from the last notified (recovered at 10:02), so the 10:05 alert is notified then, marked
    settled. It recovers at 10:19 (window [10:18, 10:19)): one change in (10:09, 10:19], not
    flapping, and its trigger was notified: notified. Sales triggers at 10:01, once: notified."""
    alerts, notifications = run(tmp_path, flink_env, "flapping:\n  changes: 2\n  within: 10min\n", flapping_latency)
    assert sorted((json.dumps(a["group"], separators=(",", ":")), a["status"], a["at"]) for a in alerts) == sorted([
        (FINANCE, "triggered", at(1)), (FINANCE, "recovered", at(2)), (FINANCE, "triggered", at(3)),
        (FINANCE, "recovered", at(4)), (FINANCE, "triggered", at(5)), (FINANCE, "recovered", at(19)),
        (SALES, "triggered", at(1))])
    assert entries(notifications) == [
        (FINANCE, "triggered", at(1), True, False, False, at(1)),
        (SALES, "triggered", at(1), True, False, False, at(1)),
        (FINANCE, "recovered", at(2), True, False, False, at(2)),
        (FINANCE, "triggered", at(3), False, True, False, at(3)),
        (FINANCE, "recovered", at(4), False, True, False, at(4)),
        (FINANCE, "triggered", at(5), False, True, False, at(5)),
        (FINANCE, "triggered", at(5), True, False, True, at(15)),
        (FINANCE, "recovered", at(19), True, False, False, at(19))]
    # every alert of a notification is the alert topic's record, unchanged
    assert all(e["alert"] in alerts for n in notifications for e in n["alerts"])
    # one alert per notification without grouping; its key is its transition's (settled: the
    # settling time, marked)
    for n in notifications:
        (e,) = n["alerts"]
        assert n["notify"] == e["notify"]
        assert n["key"] == f"{e['alert']['alert_id']}/{e['alert']['status']}/{n['at']}" + (
            "/settled" if e["settled"] else "")


def maintenance_latency(uid: str, minute: int) -> int:
    """Finance: 500 in minutes 0..2 and 11..13, else 100; Sales: 500 in minutes 0..16, then 100."""
    if uid == "c-3":
        return 500 if minute <= 16 else 100
    return 500 if minute <= 2 or 11 <= minute <= 13 else 100


def window(id_: str, updated_at: str, **fields) -> dict:
    return {"tenant": "acme", "id": id_, "updated_at": updated_at, **fields}


WINDOWS = [
    # one-off, Paris time (UTC+1 in November): 10:00-10:10 UTC, Finance only
    window("finance-upgrade", "2026-11-26T09:00:00.000Z", group={"device.virtualization.desktop_pool": "Finance-Win11"},
           start="2026-11-26T11:00:00", end="2026-11-26T11:10:00", time_zone="Europe/Paris"),
    # every day from 20 November, 11:17-11:19 Paris: on the 26th 10:17-10:19 UTC; this monitor, tag VDI
    window("nightly", "2026-11-26T09:00:00.000Z", monitors=["pool_latency"], tags=["VDI"],
           start="2026-11-20T11:17:00", end="2026-11-20T11:19:00", time_zone="Europe/Paris", repeat="daily"),
    # Sales 10:00-10:30 UTC, but written at 10:05: not in force for what happened before
    window("late-edit", "2026-11-26T10:05:00.000Z", group={"device.virtualization.desktop_pool": "Sales-Win10"},
           start="2026-11-26T10:00:00", end="2026-11-26T10:30:00"),
    # all day, but for another monitor, another tag, or withdrawn before anything happened
    window("other-monitor", "2026-11-26T09:00:00.000Z", monitors=["something_else"],
           start="2026-11-26T00:00:00", end="2026-11-27T00:00:00"),
    window("other-tag", "2026-11-26T09:00:00.000Z", tags=["network"], start="2026-11-26T00:00:00", end="2026-11-27T00:00:00"),
    window("withdrawn", "2026-11-26T09:00:00.000Z", start="2026-11-26T00:00:00", end="2026-11-27T00:00:00"),
    window("withdrawn", "2026-11-26T09:30:00.000Z", deleted=True),
    # dead-lettered: no id
    {"tenant": "acme", "updated_at": "2026-11-26T09:00:00.000Z", "start": "2026-11-26T00:00:00", "end": "2026-11-27T00:00:00"},
]


def test_a_maintenance_window_mutes_alerts_inside_it_and_not_outside(flink_env, tmp_path):
    """Transitions: Finance triggered 10:01, recovered 10:04, triggered 10:12, recovered 10:15;
    Sales triggered 10:01, recovered 10:18. finance-upgrade (10:00-10:10 UTC) mutes Finance's
    10:01 and 10:04, not 10:12 and 10:15. Sales at 10:01: late-edit covers it but was written
    at 10:05, so it is not in force then: notified. Sales at 10:18: inside late-edit and inside
    the daily window's occurrence 10:17-10:19 UTC: muted by both. The other windows never
    match (another monitor, a tag the monitor lacks, withdrawn at 09:30)."""
    alerts, notifications = run(tmp_path, flink_env, "tags: [VDI]\n", maintenance_latency, WINDOWS)
    got = sorted(((json.dumps(e["alert"]["group"], separators=(",", ":")), e["alert"]["status"], e["alert"]["at"],
                   e["notify"], e["muted_by"]) for n in notifications for e in n["alerts"]), key=lambda x: (x[2], x[0]))
    assert got == [
        (FINANCE, "triggered", at(1), False, ["finance-upgrade"]),
        (SALES, "triggered", at(1), True, []),
        (FINANCE, "recovered", at(4), False, ["finance-upgrade"]),
        (FINANCE, "triggered", at(12), True, []),
        (FINANCE, "recovered", at(15), True, []),
        (SALES, "recovered", at(18), False, ["late-edit", "nightly"])]
    assert all(e["alert"] in alerts for n in notifications for e in n["alerts"])
    assert len(alerts) == 6
    dead = [json.loads(d) for d in (tmp_path / "alerts.jsonl.dead_letters.jsonl").read_text().splitlines()]
    assert [(d["source"], d["reason"]) for d in dead] == [("maintenance", "missing_key:id")]


def grouping_latency(uid: str, minute: int) -> int:
    """Finance: 500 in minutes 0..7, then 100; Sales: 500 in minutes 0..15, then 100."""
    return 500 if minute <= (7 if uid == "c-1" else 15) else 100


def test_grouping_merges_simultaneous_groups_into_one_notification_and_repeats(flink_env, tmp_path):
    """grouping: interval 5min, repeat 10min. Intervals (10:00, 10:05], (10:05, 10:10], ...
    Finance and Sales both trigger at 10:01: one notification at 10:05 with both. Finance
    recovers at 10:09 (window [10:08, 10:09)): a notification at 10:10, and its repeat (due at
    10:11) is cancelled. Sales is still triggered at 10:11 (10:01 + 10 min): its alert again,
    repeat 1, in the notification at 10:15. It recovers at 10:17: notification at 10:20, and
    its next repeat (10:21) is cancelled."""
    alerts, notifications = run(tmp_path, flink_env, "grouping:\n  interval: 5min\n  repeat: 10min\n", grouping_latency)
    assert len(alerts) == 4
    got = [(n["key"], n["at"], n["notify"],
            [(json.dumps(e["alert"]["group"], separators=(",", ":")), e["alert"]["status"], e["alert"]["at"], e["repeat"],
              e["notify"]) for e in n["alerts"]]) for n in sorted(notifications, key=lambda n: n["at"])]
    assert got == [
        (f"acme/pool_latency/{at(5)}", at(5), True,
         [(FINANCE, "triggered", at(1), 0, True), (SALES, "triggered", at(1), 0, True)]),
        (f"acme/pool_latency/{at(10)}", at(10), True, [(FINANCE, "recovered", at(9), 0, True)]),
        (f"acme/pool_latency/{at(15)}", at(15), True, [(SALES, "triggered", at(1), 1, True)]),
        (f"acme/pool_latency/{at(20)}", at(20), True, [(SALES, "recovered", at(17), 0, True)])]
    # every alert, the repeat's too, is the alert topic's record (the repeat: of the trigger it repeats)
    assert all(e["alert"] in alerts for n in notifications for e in n["alerts"])


def test_changing_the_options_keeps_every_state_in_a_savepoint_upgrade(flink_env, tmp_path):
    """The processing function's uid names no monitor and its spec is not state: on the plans
    Flink compiles (deploy/plan.py), other options keep every operator's state, the
    processing's (owner: the job) included."""
    from nql_flink.deploy import plan, submit

    def stable(name: str, options: str) -> dict:
        (tmp_path / f"{name}.yaml").write_text(MONITOR + options, encoding="utf-8")
        o = CompileOptions(maintenance_topic="nql.maintenance")
        compiled = compile_paths([str(tmp_path / f"{name}.yaml")], options=o)
        assert compiled.ok
        return submit.stable_plan(compiled.statements(), o)

    before = stable("before", "flapping: {changes: 2, within: 10min}\n")
    after = stable("after", "flapping: {changes: 5, within: 1h}\ngrouping: {interval: 5min, repeat: 4h}\n")
    uids = [n.get("uid") for n in after["nodes"] if str(n.get("uid", "")).startswith("job--processing--")]
    assert len(uids) == 1
    changes = plan.compare(before, after)
    assert {c.verdict for c in changes} == {"keeps"}, [c for c in changes if c.verdict != "keeps"]
    assert "source:src_maintenance" in {c.owner for c in changes}


def test_nql_flink_run_reads_a_maintenance_file_and_writes_the_notifications(flink_env, tmp_path, capsys):
    """The maintenance scenario through the command line: `--input maintenance=FILE` turns the
    maintenance topic on, `--notifications FILE` gets the same six decisions."""
    from nql_flink.translator.cli import main

    (tmp_path / "m.yaml").write_text(MONITOR + "tags: [VDI]\n", encoding="utf-8")
    events = [json.dumps(sc.event("acme", uid, sc.S(i), maintenance_latency(uid, i // 2)))
              for i in range(42) for uid in ("c-1", "c-3")]
    files = sc.write_inputs(tmp_path / "in", {"session.vdi_events": events, "device.devices": sc.inventory(("acme",)),
                                              "maintenance": [json.dumps(w) for w in WINDOWS]})
    out = tmp_path / "notifications.jsonl"
    assert main(["run", str(tmp_path / "m.yaml"), "--input", f"session.vdi_events={files['session.vdi_events']}",
                 "--input", f"device.devices={files['device.devices']}", "--input", f"maintenance={files['maintenance']}",
                 "--notifications", str(out), "--output", str(tmp_path / "alerts.jsonl"), "--no-progress"]) == 0
    decided = sorted((e["alert"]["status"], e["alert"]["at"], e["muted_by"])
                     for n in map(json.loads, out.read_text().splitlines()) for e in n["alerts"])
    assert decided == sorted([("triggered", at(1), ["finance-upgrade"]), ("triggered", at(1), []),
                              ("recovered", at(4), ["finance-upgrade"]), ("triggered", at(12), []),
                              ("recovered", at(15), []), ("recovered", at(18), ["late-edit", "nightly"])])
    assert "6 notification record(s)" in capsys.readouterr().err


# A change monitor (a Python state aggregate, no time attribute) and a threshold monitor side by
# side, per device of globex. Samples of devices g1 and g2 end at Thursday 2026-11-26 00:00:30 +
# 5 min k, k = 0..35; cpu_queue_length 3.0 for k = 24..26 (02:00:30, 02:05:30, 02:10:30), else 1.0.
DETECTION_MONITORS = {
    "change.yaml": """
        id: cpu_change
        tenant: globex
        query: |
          device_performance.events during past 5min
          | summarize q = cpu_queue_length.avg() by device.collector.uid
        every: 5min
        detection: {type: change, metric: q, change: 100%, direction: above, history: 1h}
        grouping: {interval: 5min}
        """,
    "threshold.yaml": """
        id: cpu_high
        tenant: globex
        query: |
          device_performance.events during past 5min
          | summarize q = cpu_queue_length.avg() by device.collector.uid
        every: 5min
        trigger: {when: q > 2}
        grouping: {interval: 5min}
        """,
}


def cpu_samples() -> list[dict]:
    day = datetime(2026, 11, 26, 0, 0, 30, tzinfo=timezone.utc)
    return [{"tenant": "globex", "start_time": sc.iso(day + timedelta(minutes=5 * k - 5)),
             "end_time": sc.iso(day + timedelta(minutes=5 * k)),
             "device": {"collector": {"uid": uid}, "name": uid.upper()},
             "cpu_queue_length": 3.0 if 24 <= k <= 26 else 1.0}
            for k in range(36) for uid in ("g1", "g2")]


def test_change_monitor_alerts_are_grouped_and_muted_like_threshold_alerts(flink_env, tmp_path):
    """Both monitors judge each device's window [t - 5min, t) every 5 min. Threshold: q = 3.0 >
    2 in the windows ending 02:05, 02:10, 02:15 -> triggered 02:05, recovered 02:20 (the default
    recovery: not the trigger). Change (history 1h: the mean of the 12 evaluations before,
    above by more than 100%): 02:05: 3.0 vs 1.0 -> triggered; 02:10: 3.0 vs 14/12, 02:15: 3.0 vs
    16/12 (still above 2x); 02:20: 1.0 vs 18/12 -> recovered. Same for g1 and g2. Grouping by 5
    min intervals (kG, (k+1)G]: per monitor one notification at 02:05 with both triggers and
    one at 02:20 with both recoveries. The window g2-work (02:15-02:25 UTC, g2's group, every
    monitor) mutes g2's recoveries, not g1's."""
    windows = [{"tenant": "globex", "id": "g2-work", "updated_at": "2026-11-26T00:00:00.000Z",
                "group": {"device.collector.uid": "g2"}, "start": "2026-11-26T02:15:00", "end": "2026-11-26T02:25:00"}]
    _, result = run_monitors(tmp_path, DETECTION_MONITORS,
                             {"device_performance.events": jsonl(cpu_samples()), "maintenance": jsonl(windows)},
                             flink_env, options=CompileOptions(maintenance_topic="nql.maintenance"))
    alerts = [json.loads(a) for a in result.alerts]
    t2 = "2026-11-26T02:{:02d}:00.000Z".format
    assert sorted((a["monitor"], a["group"]["device.collector.uid"], a["status"], a["at"]) for a in alerts) == sorted(
        (m, g, s, t2(minute)) for m in ("cpu_change", "cpu_high") for g in ("g1", "g2")
        for s, minute in (("triggered", 5), ("recovered", 20)))
    notifications = [json.loads(r) for r in processing.notification_records(str(tmp_path / "alerts.jsonl.d"))]
    got = sorted((n["key"], n["at"], n["notify"],
                  [(e["alert"]["group"]["device.collector.uid"], e["alert"]["status"], e["notify"], e["muted_by"])
                   for e in n["alerts"]]) for n in notifications)
    assert got == sorted((f"globex/{m}/{t2(minute)}", t2(minute), True, entries)
                         for m in ("cpu_change", "cpu_high")
                         for minute, entries in ((5, [("g1", "triggered", True, []), ("g2", "triggered", True, [])]),
                                                 (20, [("g1", "recovered", True, []),
                                                       ("g2", "recovered", False, ["g2-work"])])))
    # every alert of a notification is the alert topic's record, the change monitor's with its baseline
    assert all(e["alert"] in alerts for n in notifications for e in n["alerts"])
    assert all(e["alert"]["baseline"] is not None for n in notifications for e in n["alerts"]
               if e["alert"]["monitor"] == "cpu_change")
