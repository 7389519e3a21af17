"""`nql-flink upgrade` on a standalone cluster of this module's own: monitors added and changed
while a third monitor's group is in a pending `for` run, and none of them loses its state.

acme, desktop pool Finance-Win11 (devices c-1, c-2), one sample per device every 30 s at
S(i) = 10:00:00 + 30 s * i: latency 500 for i <= 9, then 100 (i = 10..15). Every monitor:
`session.vdi_events during past 1min`, every 30s, by pool, `sessions >= 2`; default recovery.
A window ending at E covers [E - 1 min, E): windows ending 10:00:30 .. 10:05:00 average 500;
10:05:30 averages (500 + 100) / 2 = 300; from 10:06:00 on, 100.

  slow_burn  (v1 and v2)  avg > 300, for 3min: the streak starts at 10:00:30 and reaches
             3 min at 10:03:30 -> triggered 10:03:30; 300 is not > 300 -> recovered 10:05:30.
  changed    v1: avg > 400 -> triggered 10:00:30; v2: avg > 450 (its threshold changed in
             the upgrade): still triggered, and recovered 10:05:30 (300 <= 450) with the alert
             id of the v1 trigger. Had its state been lost, the v2 job would trigger it a second
             time and a recovery would carry a new id.
  added      (v2 only)    avg > 250: it has the shape of the two others (only thresholds
             differ, and they are data), so it shares their windows function's state and sees
             every window that function had not yet emitted when the savepoint was taken.
             The function emits a window ending at e once acme's clock (its newest event time
             read, less the 10 s lateness) reaches e - 1 ms and its watermark is past e - 1 ms.
             S(5) (10:02:30) moved acme's clock to 10:02:20 (the function keeps the tenant's
             clock itself, udfs/jvm TenantClock), past the window end 10:02:00, and the events'
             watermark (10:02:20) is past it too. So windows ending 10:00:30 .. 10:02:00 were emitted to
             v1's monitors only (10:02:30 needs a clock at 10:02:30: S(6)); `added` sees those
             from 10:02:30 on: window 10:02:30 = [10:01:30, 10:02:30) holds S(3), S(4): 500 >
             250 -> triggered 10:02:30; (500 + 100) / 2 = 300 > 250 at 10:05:30; 100 at
             10:06:00 -> recovered.

Records S(0)..S(5) go to the v1 job; when its slow_burn group is pending (the 10:02:30
window evaluated: 2 of the 6 evaluations it needs), `nql-flink upgrade` stops it with a
savepoint and starts v2 from it; then S(6)..S(15). An undisturbed v1 run triggers slow_burn
at 10:03:30 (derived above): the upgraded job must too, once.

Second story, on the same cluster (its own topics and job): the population windows across the
upgrade. An alert's `impact.active_devices` is the tenant's distinct devices with a record in
the evaluated window, before the monitor's filters (docs/nql-dialect.md); the table's windows
function keeps it once per distinct `during`/`every`, in a population window `pop-<size>-<slide>`
(udfs/jvm Shapes.populations). Here the upgrade keeps one (kept's), drops one (dropped's) and
adds one (added's).

acme again; Finance-Win11 c-1, c-2 at every S(i): latency 100, but 900 at i = 6, 7; Sales-Win10
c-3, c-4 at S(0)..S(5) only, latency 40. S(0)..S(5) go to the v1 job, S(6)..S(15) to v2: the
tenant has 4 active devices before the upgrade, 2 after. Every monitor: by pool, every 30s,
`avg_latency > X ms and sessions >= 2` (Sales, at 40, breaches no X here). Only Finance counts below.

  dropped  (v1 only)   during 1min, X = 50, for 90s: every window from 10:00:30 averages 100,
           so the streak from 10:00:30 reaches 90 s at 10:02:00 = [10:01:00, 10:02:00): S(2),
           S(3) -> triggered 10:02:00, active_devices 4, devices 2, share 0.5. That window is
           emitted once acme's clock is at 10:02:00, which only S(5) brings (10:02:30 less the
           10 s lateness): when v1 says it, v1 has read S(0)..S(5), and it has evaluated no
           window after 10:02:00 (the next needs a clock at 10:02:30: S(6)). v2 has no `dropped`:
           its shape and its window pop-60000-30000 are dropped, its open alert is never
           recovered, it has no record after the upgrade.
  kept     (v1 and v2) during 2min, X = 250: window E = [E - 2min, E), four samples; v2
           evaluates it from 10:02:30 on. Up to 10:03:00 all 100. 10:03:30 = [10:01:30,
           10:03:30): S(3), S(4), S(5) read by v1, S(6) by v2: (3 * 100 + 900) / 4 = 300 > 250
           -> triggered 10:03:30 with active_devices 4: c-3 and c-4, seen only before the
           savepoint, are in the window, so pop-120000-30000 must keep its state (its slices and
           the records v1 held but had not folded) through the upgrade; lost, it would say 2.
           Then 500 (10:04:00, 10:04:30, 10:05:00), 300 (10:05:30), and 10:06:00 = [10:04:00,
           10:06:00): 100 -> recovered 10:06:00, active_devices 2 (c-1, c-2 only), share 1.0.
  added    (v2 only)   during 90s, X = 250: a window no v1 monitor had: its shape and its
           population window pop-90000-30000 start empty at the upgrade (docs/upgrades.md: "one
           a new shape brings starts empty, as the shape does"). With the inventory looked up in
           the windows function there is no join holding records before it at the savepoint, so
           the new shape's windows hold only what the function reads after the restore, S(6) on:
           S(4) and S(5), which v1's function held but had not folded (their slice ends at
           10:02:30, 10:03:00), count neither in its groups nor in its population. So 10:02:30
           and 10:03:00 hold nothing of it (not evaluated), and its first window, 10:03:30 =
           [10:02:00, 10:03:30), holds S(6) only: 900 -> triggered 10:03:30 with active_devices 2
           and share 1.0 (a job with `added` from the start: (100 + 100 + 900) / 3 = 366.67, 4
           devices, triggered too; so would v2, had the held records kept v1's shape numbers:
           added takes dropped's place in the spec's order, pop-90000-30000 pop-60000-30000's).
           10:04:00: 900; 10:04:30: (900 + 900 + 100) / 3; 10:05:00: (900 + 100 + 100) / 3 =
           366.67; 10:05:30 = [10:04:00, 10:05:30): 100 -> recovered 10:05:30, active_devices 2.
"""
from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from tests.kafka import scenario as sc
from tests.kafka.conftest import cluster_of_its_own
from tests.kafka.test_end_to_end import EVENTS, INVENTORY, compiled_options, produce_table, read_topic
from tests.kafka.test_recovery import WAIT, until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

MONITOR = """\
  - id: {id}
    tenant: acme
    query: |
      session.vdi_events during past 1min
      | where device.virtualization.desktop_pool != null
      | summarize avg_latency = network_latency.avg(), sessions = device.count()
        by device.virtualization.desktop_pool
    every: 30s
    trigger:
      when: avg_latency > {threshold}ms and sessions >= 2
{extra}"""
FOR_3MIN = "      for: 3min\n"
FIN = {"device.virtualization.desktop_pool": "Finance-Win11"}


def monitors(*entries: tuple[str, int, str]) -> str:
    return "monitors:\n" + "".join(MONITOR.format(id=i, threshold=t, extra=x) for i, t, x in entries)


V1 = monitors(("slow_burn", 300, FOR_3MIN), ("changed", 400, ""))
V2 = monitors(("slow_burn", 300, FOR_3MIN), ("changed", 450, ""), ("added", 250, ""))


def samples(indices) -> list[str]:
    return [json.dumps(sc.event("acme", uid, sc.S(i), 500 if i <= 9 else 100))
            for i in indices for uid in ("c-1", "c-2")]


def cli(*argv: str) -> tuple[int, str, str]:
    from nql_flink.translator.cli import main

    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        rc = main(list(argv))
    return rc, o.getvalue().strip(), e.getvalue()


def transitions(records: list[str]) -> list[tuple]:
    rows = [json.loads(r) for r in records]
    return sorted((r["monitor"], r["status"], r["at"], r["alert_id"]) for r in rows if r["group"] == FIN)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, kafka_broker):
    with cluster_of_its_own(tmp_path_factory, "upgrade-cluster", kafka_broker.bootstrap) as c:
        yield c


class _Upgrade:
    """One story's v1 job deployed on the module's cluster, its own topics (`head` + a stamp),
    the inventory and `first` events produced; then `upgrade(to_v2)`: `nql-flink upgrade` to v2
    with a savepoint, waiting for the new job, and its stderr."""

    def __init__(self, cluster, kafka_bootstrap, tmp, head: str, v1: str, v2: str, first: list):
        self.cluster, self.bootstrap, self.tmp = cluster, kafka_bootstrap, tmp
        prefix = f"{head}{int(time.time() * 1000) % 10**8}."
        self.o = compiled_options(prefix)
        for name, text in (("v1", v1), ("v2", v2)):
            (tmp / name).mkdir()
            (tmp / name / "monitors.yaml").write_text(text, encoding="utf-8")
        self.common = ["--kafka", kafka_bootstrap, "--cluster-state", str(cluster.state_dir),
                       "--out", str(tmp / "deploy"), "--topic-prefix", prefix, "--group-id", prefix + "nql",
                       "--job-name", prefix + "job", "--checkpoint-interval", "1 s", "--idle-timeout", "5 s"]
        rc, self.jid1, err = cli("deploy", "sql-client", str(tmp / "v1"), *self.common)
        assert rc == 0, err
        cluster.wait_job(lambda j: j["jid"] == self.jid1, timeout=WAIT)
        produce_table(kafka_bootstrap, self.o.topic("nql.device.devices"), INVENTORY, sc.inventory(("acme",)))
        self.produce(first)
        self.alerts_topic = self.o.topic(self.o.alerts_topic)

    def produce(self, events: list) -> None:
        produce_table(self.bootstrap, self.o.topic("nql.session.vdi_events"), EVENTS, events)

    def alerts(self) -> list:
        return read_topic(self.bootstrap, self.alerts_topic)

    def upgrade(self) -> str:
        rc, self.jid2, err = cli("upgrade", "sql-client", str(self.tmp / "v2"), *self.common)
        assert rc == 0, err
        self.cluster.wait_job(lambda j: j["jid"] == self.jid2, timeout=WAIT)
        return err


@pytest.fixture(scope="module")
def story(cluster, kafka_bootstrap, tmp_path_factory):
    run = _Upgrade(cluster, kafka_bootstrap, tmp_path_factory.mktemp("upgrade"), "upg", V1, V2, samples(range(6)))
    facts: dict = {}
    # pending: `changed` triggered (10:00:30) shows the v1 job evaluates; the 10:02:30 window
    # needs S(5) (10:02:30) past the lateness, so wait for acme's clock via the checkpointed state
    until(lambda: any(json.loads(a)["monitor"] == "changed" for a in run.alerts()), "the v1 job's first alert")
    time.sleep(5)  # a few checkpoints more: the savepoint is taken while slow_burn is pending
    facts["before"] = transitions(run.alerts())
    facts["upgrade"] = run.upgrade()
    facts["jobs"] = {j["jid"]: j["state"] for j in cluster.jobs()}
    facts["jid1"], facts["jid2"] = run.jid1, run.jid2
    run.produce(samples(range(6, 16)))
    facts["after"] = transitions(until(
        lambda: (lambda got: got if sum(1 for t in transitions(got) if t[1] == "recovered") >= 3 else None)(
            run.alerts()), "the three recoveries"))
    time.sleep(3)
    facts["final"] = transitions(run.alerts())
    cluster.cancel(run.jid2)
    return facts


def test_the_pending_monitor_triggers_when_an_undisturbed_run_does_once(story):
    assert ("slow_burn", "triggered") not in {t[:2] for t in story["before"]}   # it was pending
    slow = [t[:3] for t in story["final"] if t[0] == "slow_burn"]
    assert slow == [("slow_burn", "recovered", "2026-11-26T10:05:30.000Z"),
                    ("slow_burn", "triggered", "2026-11-26T10:03:30.000Z")]


def test_the_changed_monitor_keeps_its_open_alert_and_recovers_it(story):
    changed = [t for t in story["final"] if t[0] == "changed"]
    assert [t[1:3] for t in changed] == [("recovered", "2026-11-26T10:05:30.000Z"),
                                         ("triggered", "2026-11-26T10:00:30.000Z")]
    assert changed[0][3] == changed[1][3]                  # one alert: the id of the v1 trigger


def test_the_added_monitor_starts_from_the_upgrade(story):
    added = [t[:3] for t in story["final"] if t[0] == "added"]
    assert added == [("added", "recovered", "2026-11-26T10:06:00.000Z"),
                     ("added", "triggered", "2026-11-26T10:02:30.000Z")]


def test_upgrade_says_what_keeps_state_and_stops_the_old_job(story):
    report = story["upgrade"]
    assert "keeps    monitor slow_burn: keeps its state" in report
    assert "keeps    monitor changed: keeps its state" in report
    assert "new      monitor added: starts without state" in report
    assert "savepoint file:" in report
    assert story["jobs"][story["jid1"]] == "FINISHED"       # stop-with-savepoint ends it


# ---------------------------------------------------------------- second story: populations

POP_MONITOR = MONITOR.replace("during past 1min", "during past {during}")
FOR_90S = "      for: 90s\n"


def pop_monitors(*entries: tuple[str, str, int, str]) -> str:
    return "monitors:\n" + "".join(POP_MONITOR.format(id=i, during=d, threshold=t, extra=x) for i, d, t, x in entries)


POP_V1 = pop_monitors(("kept", "2min", 250, ""), ("dropped", "1min", 50, FOR_90S))
POP_V2 = pop_monitors(("kept", "2min", 250, ""), ("added", "90s", 250, ""))


def pop_samples(indices) -> list[str]:
    """Finance c-1, c-2 at every S(i) (100, 900 at i = 6, 7); Sales c-3, c-4 at i <= 5 only (40)."""
    out = []
    for i in indices:
        out += [json.dumps(sc.event("acme", uid, sc.S(i), 900 if i in (6, 7) else 100)) for uid in ("c-1", "c-2")]
        if i <= 5:
            out += [json.dumps(sc.event("acme", uid, sc.S(i), 40)) for uid in ("c-3", "c-4")]
    return out


def finance(records: list[str]) -> dict[str, list[dict]]:
    """monitor -> its Finance alert records, in time order."""
    out: dict[str, list[dict]] = {}
    for r in sorted((json.loads(x) for x in records), key=lambda r: (r["at"], r["status"])):
        if r["group"] == FIN:
            out.setdefault(r["monitor"], []).append(r)
    return out


def at(hms: str) -> str:
    return f"2026-11-26T{hms}.000Z"


FOUR_ACTIVE = {"devices": 2, "users": 2, "active_devices": 4, "share": 0.5}   # Finance's impact
TWO_ACTIVE = {"devices": 2, "users": 2, "active_devices": 2, "share": 1.0}


@pytest.fixture(scope="module")
def population_story(cluster, kafka_bootstrap, tmp_path_factory):
    run = _Upgrade(cluster, kafka_bootstrap, tmp_path_factory.mktemp("upgrade-populations"), "upp", POP_V1, POP_V2,
                   pop_samples(range(6)))
    facts: dict = {}
    # dropped's trigger at 10:02:00 needs S(5): v1 has read every record before the upgrade
    until(lambda: "dropped" in finance(run.alerts()), "the v1 job's trigger of dropped")
    time.sleep(3)
    facts["before"] = finance(run.alerts())
    facts["upgrade"] = run.upgrade()
    run.produce(pop_samples(range(6, 16)))

    def both_recovered():
        got = finance(run.alerts())
        done = all(any(r["status"] == "recovered" for r in got.get(m, [])) for m in ("kept", "added"))
        return got if done else None

    until(both_recovered, "the recoveries of kept and added")
    time.sleep(3)
    facts["final"] = finance(run.alerts())
    cluster.cancel(run.jid2)
    return facts


def test_the_kept_window_counts_devices_seen_before_the_savepoint(population_story):
    assert "kept" not in population_story["before"]
    trig, rec = population_story["final"]["kept"]
    assert (trig["status"], trig["window"]) == ("triggered", {"start": at("10:01:30"), "end": at("10:03:30")})
    assert trig["values"] == {"avg_latency": 300.0, "sessions": 2}
    assert trig["impact"] == FOUR_ACTIVE     # c-3, c-4 at S(3)..S(5), read by the v1 job
    assert (rec["status"], rec["window"]) == ("recovered", {"start": at("10:04:00"), "end": at("10:06:00")})
    assert rec["values"] == {"avg_latency": 100.0, "sessions": 2}
    assert rec["impact"] == TWO_ACTIVE
    assert rec["alert_id"] == trig["alert_id"]


def test_the_added_window_starts_empty_at_the_upgrade(population_story):
    trig, rec = population_story["final"]["added"]
    assert (trig["status"], trig["window"]) == ("triggered", {"start": at("10:02:00"), "end": at("10:03:30")})
    assert trig["values"] == {"avg_latency": 900.0, "sessions": 2}     # S(6) only, not S(4), S(5)
    assert trig["impact"] == TWO_ACTIVE                                  # not c-3, c-4 of S(4), S(5)
    assert (rec["status"], rec["window"]) == ("recovered", {"start": at("10:04:00"), "end": at("10:05:30")})
    assert rec["impact"] == TWO_ACTIVE


def test_the_removed_window_alerted_before_and_nothing_after(population_story):
    [trig] = population_story["before"]["dropped"]
    assert (trig["status"], trig["window"]) == ("triggered", {"start": at("10:01:00"), "end": at("10:02:00")})
    assert trig["values"] == {"avg_latency": 100.0, "sessions": 2}
    assert trig["impact"] == FOUR_ACTIVE
    assert population_story["final"]["dropped"] == [trig]               # open, never recovered
    assert set(population_story["final"]) == {"dropped", "kept", "added"}


def test_upgrade_says_which_windows_keep_state(population_story):
    lines = population_story["upgrade"].splitlines()
    for said in ("keeps    monitor kept: keeps its state", "new      monitor added: starts without state",
                 "removed  monitor dropped: its own state is dropped; its groups stay in the alert states "
                 "(an open alert is never recovered)",
                 "keeps    windows function of table session_vdi_events: keeps its state"):
        assert any(line.strip() == said for line in lines), said
