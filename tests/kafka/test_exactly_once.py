"""Exactly-once alerts across crashes, on a standalone cluster of this module's own: the
scenario monitor (tests/kafka/scenario.py, tenants acme and globex) deployed with
`nql-flink deploy sql-client`, its events produced in three phases while the job runs, and

  kill 1  kill -9 of the TaskManager BEFORE A TRANSITION: phase 1 (samples S(0)..S(2)) read and
          checkpointed; acme's Finance streak has begun (window 10:00:30 is above 300 ms) but
          nothing has triggered;
  kill 2  kill -9 BETWEEN WRITE AND COMMIT: phase 2 (S(3)..S(5)) produced right after a
          checkpoint; as soon as both `triggered` alerts (10:01:30) are in the alert topic's
          open transaction (read_uncommitted) and before the next checkpoint commits them;
  kill 3  kill -9 WHILE AN ALERT IS OPEN: once those two are committed;
  outage  the broker stopped for 30 s and started again on its data, between phase 3a
          (S(6), S(7)) and phase 3b (S(8)..S(11) and the flush), which recovers acme's alert
          at 10:03:30.

Each kill is followed by a replacement TaskManager; the job restarts from its latest retained
checkpoint. After all of it the read_committed alert topic must equal the undisturbed run (the
embedded run on files, `expected` in conftest.py, whose timeline test_end_to_end checks against
the hand-derived one), record for record: alert id, status, at, values, everything. A phase
ends with a marker record (not JSON): its dead letter on the read_committed topic says the job
has read the phase and a checkpoint holding it has completed; each marker is there exactly once.
"""
from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from deploy.kafka import client as kc
from deploy.kafka.telemetry import flush as send_flush
from tests.kafka import scenario as sc
from tests.kafka.test_end_to_end import EVENTS, INVENTORY, compiled_options, of_tenants, produce_table, read_topic
from tests.kafka.test_recovery import (HAND_DERIVED, WAIT, checkpoints, completed_after, deploy, running_restored,
                                       until)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CHECKPOINT_INTERVAL = 15  # seconds: room to see an alert written and kill before its commit


def marker(phase: str) -> str:
    return f"end of {phase} {{not json"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, kafka_broker):
    from deploy.cluster import FlinkCluster
    from deploy.kafka.client import ENV_BOOTSTRAP

    c = FlinkCluster.start(tmp_path_factory.mktemp("exactly-once-cluster"),
                           env={ENV_BOOTSTRAP: kafka_broker.bootstrap})
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def story(cluster, kafka_broker, tmp_path_factory):
    bootstrap = kafka_broker.bootstrap
    tmp = tmp_path_factory.mktemp("exactly-once")
    prefix = f"eo{int(time.time() * 1000) % 10**8}."
    o = compiled_options(prefix)
    alerts_topic, dead_topic = o.topic(o.alerts_topic), o.topic(o.dead_letters_topic)
    events_topic = o.topic("nql.session.vdi_events")
    facts: dict = {"kills": []}

    rc, jid, err = deploy(cluster, bootstrap, prefix, prefix + "job", tmp / "deploy",
                          checkpoint_interval=f"{CHECKPOINT_INTERVAL} s")
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

    def phase_read(name):
        wait_committed(dead_topic, lambda g: any(marker(name) in d for d in g), f"the marker of {name}")

    def checkpoint_done():
        return (checkpoints(cluster, jid).get("completed") or {}).get("id", -1)

    def kill_and_recover(point):
        t0 = time.monotonic()
        cluster.kill_taskmanager(cluster.taskmanagers()[0]["name"])
        facts["kills"].append(point)
        cluster.start_taskmanager()
        restored = until(lambda: running_restored(cluster, jid), f"the job running again after kill at {point}")
        until(lambda: completed_after(cluster, jid, restored["id"]), f"a checkpoint after the restore ({point})")
        facts[f"recovery_s:{point}"] = time.monotonic() - t0

    kc.produce(bootstrap, o.topic(o.config_topic), sc.flush_records("monitor_config"))
    produce_table(bootstrap, o.topic("nql.device.devices"), INVENTORY, sc.inventory() + sc.flush_lines(INVENTORY))

    # kill 1: before a transition
    phase("phase 1", range(0, 3))
    phase_read("phase 1")
    facts["alerts_at_kill_1"] = committed(alerts_topic)
    kill_and_recover("before a transition")

    # kill 2: between the write of the two triggered alerts and their commit
    last = checkpoint_done()
    until(lambda: checkpoint_done() > last, "a checkpoint to produce phase 2 right after", step=0.2)
    phase("phase 2", range(3, 6))
    seen = []
    for _, value in kc.tail(bootstrap, alerts_topic, timeout=WAIT, read_committed=False):
        seen.append(value.decode())
        if len(seen) == 2:
            break
    cluster.kill_taskmanager(cluster.taskmanagers()[0]["name"])
    facts["uncommitted_at_kill_2"] = sorted(seen)
    # the transaction the kill left open: read_committed readers see nothing of it
    facts["committed_at_kill_2"] = committed(alerts_topic)
    facts["kills"].append("between write and commit")
    cluster.start_taskmanager()
    restored = until(lambda: running_restored(cluster, jid), "the job running again after kill 2")
    facts["triggered"] = wait_committed(alerts_topic, lambda g: len(g) >= 2, "the triggered alerts committed")
    until(lambda: completed_after(cluster, jid, restored["id"]), "a checkpoint after the restore (kill 2)")

    # kill 3: while the alerts are open
    kill_and_recover("while an alert is open")

    # phase 3a, the broker down for 30 s, phase 3b and the flush
    phase("phase 3a", range(6, 8))
    phase_read("phase 3a")
    kafka_broker.restart(down_for=30.0, quiet=True)
    phase("phase 3b", range(8, 12))
    send_flush(bootstrap, events_topic, EVENTS)
    phase_read("phase 3b")
    facts["alerts"] = wait_committed(alerts_topic, lambda g: len(g) >= 3, "all three transitions")
    # one more checkpoint: a duplicate written after the third alert would be committed by then
    last = checkpoint_done()
    until(lambda: checkpoint_done() > last, "one more checkpoint")
    facts["alerts"] = committed(alerts_topic)
    facts["dead"] = committed(dead_topic)
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
    for point in ("before a transition", "while an alert is open"):
        print(f"kill {point}: running again and checkpointed {story[f'recovery_s:{point}']:.1f}s later")


def test_nothing_dead_lettered_twice_or_lost(story):
    markers = sorted(json.loads(d)["line"] for d in story["dead"])
    assert markers == sorted(marker(p) for p in ("phase 1", "phase 2", "phase 3a", "phase 3b"))
