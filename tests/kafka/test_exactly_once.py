"""Exactly-once alerts across crashes, on a standalone cluster of this module's own: the
scenario monitor (tests/kafka/scenario.py, tenants acme and globex; a broker of its own too)
deployed with
`nql-flink deploy sql-client`, its events produced in phases while the job runs, and

  kill 1  kill -9 of the TaskManager BEFORE A TRANSITION: phase 1 (samples S(0)..S(2)) read and
          in a completed checkpoint; acme's Finance streak has begun (window 10:00:30 is above
          300 ms) but nothing has triggered;
  kill 2  kill -9 BETWEEN WRITE AND COMMIT: after phase 2 (S(3)..S(5)), as soon as both
          `triggered` alerts (10:01:30) are in the alert topic's open transaction
          (read_uncommitted), before a checkpoint commits them;
  kill 3  kill -9 WHILE AN ALERT IS OPEN: after phase 3 (S(6), S(7)), once those two are
          committed;
  outage  the broker stopped for 30 s and started again on its data, between phase 4
          (S(8), S(9): acme recovers at 10:03:30) and phase 5 (S(10), S(11) and the flush).

The job also processes its transitions (docs/processing.md: compiled with a maintenance topic,
one window on it muting globex's trigger), so its notifications topic, written exactly once
like the alert topic by a second transactional sink after the Java processing function (and
fed by the change monitor's Python aggregate too), goes through the same kills.

Each kill is followed by a replacement TaskManager; the job restarts from its latest retained
checkpoint and replays from that checkpoint's offsets. A restored job has no watermark (Flink
does not checkpoint watermarks): what it replays is evaluated when newer events move the
watermark again, so each phase after a kill is the next telemetry arriving, as in production.
At the end the read_committed alert topic must equal the undisturbed run (the embedded run on
files, `expected` in conftest.py, whose timeline test_end_to_end checks against the
hand-derived one), record for record: alert id, status, at, values, everything. A phase ends
with a marker record (not JSON): its dead letter says the job has read the phase (the
dead-letter topic is at-least-once, docs/guarantees.md: a marker may show up twice, never
not at all).
"""
from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.kafka.telemetry import flush as send_flush
from tests.kafka import scenario as sc
from tests.kafka.conftest import cluster_of_its_own
from tests.kafka.test_end_to_end import EVENTS, INVENTORY, compiled_options, of_tenants, produce_table, read_topic
from tests.kafka.test_recovery import HAND_DERIVED, WAIT, checkpoints, deploy, running_restored, until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CHECKPOINT_INTERVAL = 20  # seconds: room to see an alert written and kill before its commit
IDLE_TIMEOUT = "10 s"     # a restored job waits this long for the quiet inventory and config topics


# globex's maintenance: 10:00-10:02 UTC, every monitor of globex; mutes its trigger at 10:01:30
WINDOW = {"tenant": "globex", "id": "sales-work", "updated_at": "2026-11-26T09:00:00.000Z",
          "start": "2026-11-26T10:00:00Z", "end": "2026-11-26T10:02:00Z"}


def marker(phase: str) -> str:
    return f"end of {phase} {{not json"


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A broker of this module's own: the test stops it."""
    from nql_flink.deploy.kafka import KafkaBroker

    b = KafkaBroker.start(tmp_path_factory.mktemp("exactly-once-kafka"), quiet=True)
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, broker):
    with cluster_of_its_own(tmp_path_factory, "exactly-once-cluster", broker.bootstrap) as c:
        yield c


@pytest.fixture(scope="module")
def story(cluster, broker, tmp_path_factory):
    bootstrap = broker.bootstrap
    tmp = tmp_path_factory.mktemp("exactly-once")
    prefix = f"eo{int(time.time() * 1000) % 10**8}."
    o = compiled_options(prefix)
    alerts_topic, dead_topic = o.topic(o.alerts_topic), o.topic(o.dead_letters_topic)
    events_topic = o.topic("nql.session.vdi_events")
    facts: dict = {"kills": []}

    notifications_topic = o.topic(o.notifications_topic)
    rc, jid, err = deploy(cluster, bootstrap, prefix, prefix + "job", tmp / "deploy",
                          checkpoint_interval=f"{CHECKPOINT_INTERVAL} s", idle_timeout=IDLE_TIMEOUT,
                          extra=("--maintenance-topic", "nql.maintenance"))
    assert rc == 0, err
    cluster.wait_job(lambda j: j["jid"] == jid, timeout=WAIT)

    def committed(topic):
        return read_topic(bootstrap, topic)

    def wait_committed(topic, predicate, what):
        def check():
            got = committed(topic)
            return got if predicate(got) else None
        return until(check, what, timeout=WAIT, step=1)

    def phase(name, samples):
        produce_table(bootstrap, events_topic, EVENTS,
                      sc.event_lines(bad=False, samples=samples) + [marker(name)])
        wait_committed(dead_topic, lambda g: any(marker(name) in d for d in g), f"the marker of {name}")

    def checkpoint_done():
        return (checkpoints(cluster, jid).get("completed") or {}).get("id", -1)

    def kill(point):
        cluster.kill_taskmanager(cluster.taskmanagers()[0]["name"])
        facts["kills"].append(point)

    def recover(point):
        t0 = time.monotonic()
        cluster.start_taskmanager()
        until(lambda: running_restored(cluster, jid), f"the job running again after the kill {point}")
        facts[f"recovery_s:{point}"] = time.monotonic() - t0

    kc.produce(bootstrap, o.topic(o.config_topic), sc.flush_records("monitor_config"))
    kc.produce(bootstrap, o.topic("nql.maintenance"), [("globex/sales-work", WINDOW)])
    produce_table(bootstrap, o.topic("nql.device.devices"), INVENTORY, sc.inventory() + sc.flush_lines(INVENTORY))

    # kill 1: before a transition, phase 1 in a completed checkpoint
    phase("phase 1", range(0, 3))
    last = checkpoint_done()
    until(lambda: checkpoint_done() > last, "a checkpoint after phase 1", step=0.5)
    facts["alerts_at_kill_1"] = committed(alerts_topic)
    kill("before a transition")
    recover("before a transition")

    # kill 2: between the write of the two triggered alerts and their commit
    phase("phase 2", range(3, 6))
    seen = []
    for _, value in kc.tail(bootstrap, alerts_topic, timeout=WAIT, read_committed=False):
        seen.append(value.decode())
        if len(seen) == 2:
            break
    kill("between write and commit")
    facts["uncommitted_at_kill_2"] = sorted(seen)
    # the transaction the kill left open: read_committed readers see nothing of it
    facts["committed_at_kill_2"] = committed(alerts_topic)
    recover("between write and commit")

    # kill 3: while the alerts are open
    phase("phase 3", range(6, 8))
    facts["triggered"] = wait_committed(alerts_topic, lambda g: len(g) >= 2, "the triggered alerts committed")
    kill("while an alert is open")
    recover("while an alert is open")

    # phase 4, the broker down for 30 s, phase 5 and the flush
    phase("phase 4", range(8, 10))
    broker.restart(down_for=30.0, quiet=True)
    phase("phase 5", range(10, 12))
    send_flush(bootstrap, events_topic, EVENTS)
    wait_committed(alerts_topic, lambda g: len(g) >= 3, "all three transitions")
    wait_committed(notifications_topic, lambda g: len(g) >= 3, "the three transitions' notifications")
    # one more checkpoint: a duplicate written after the third alert would be committed by then
    last = checkpoint_done()
    until(lambda: checkpoint_done() > last, "one more checkpoint")
    facts["alerts"] = committed(alerts_topic)
    facts["dead"] = committed(dead_topic)
    facts["notifications"] = committed(notifications_topic)
    cluster.cancel(jid)
    return facts


def test_every_kill_point_was_hit(story):
    assert story["kills"] == ["before a transition", "between write and commit", "while an alert is open"]
    assert story["alerts_at_kill_1"] == []
    # kill 2 came after both triggered alerts were written and before their commit
    assert [json.loads(a)["status"] for a in story["uncommitted_at_kill_2"]] == ["triggered", "triggered"]
    assert story["committed_at_kill_2"] == []
    assert [json.loads(a)["status"] for a in story["triggered"]] == ["triggered", "triggered"]


def test_alerts_after_three_kills_and_an_outage_equal_the_undisturbed_run(story, expected):
    undisturbed = of_tenants(expected["alerts"], "acme", "globex")
    assert sc.timeline(undisturbed) == HAND_DERIVED
    assert story["alerts"] == undisturbed
    # the alerts written before kill 2 and aborted are the ones written again: same ids
    assert sorted(json.loads(a)["alert_id"] for a in story["uncommitted_at_kill_2"]) == sorted(
        json.loads(a)["alert_id"] for a in undisturbed if '"triggered"' in a)
    for point in story["kills"]:
        print(f"kill {point}: running again {story[f'recovery_s:{point}']:.1f}s after the replacement started")


def test_notifications_after_three_kills_and_an_outage_are_each_transition_once(story, expected):
    """Without grouping, one notification per transition, keyed alert id/status/at, holding the
    alert topic's record; globex's trigger muted by sales-work, acme's two notified."""
    undisturbed = [json.loads(a) for a in of_tenants(expected["alerts"], "acme", "globex")]
    got = sorted((json.loads(n) for n in story["notifications"]), key=lambda n: n["key"])
    assert [(n["key"], [(e["alert"], e["notify"], e["muted_by"]) for e in n["alerts"]]) for n in got] == sorted(
        (f"{a['alert_id']}/{a['status']}/{a['at']}",
         [(a, a["tenant"] == "acme", [] if a["tenant"] == "acme" else ["sales-work"])]) for a in undisturbed)


def test_no_dead_letter_lost(story):
    markers = {json.loads(d)["line"] for d in story["dead"]}
    assert markers == {marker(f"phase {n}") for n in range(1, 6)}
