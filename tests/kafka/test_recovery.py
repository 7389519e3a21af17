"""Crash recovery and restart safety on a standalone cluster of this module's own (it kills a
TaskManager and stops the cluster): `nql-flink deploy sql-client` of the scenario monitor
(tests/kafka/scenario.py) and of a change monitor that never alerts here (python_monitor/: its
state UDAF is Python, so the job has Python workers), then

  1. a second deploy of the same job name while it runs is refused;
  2. kill -9 of the TaskManager: its Python UDF workers are left orphaned, a replacement
     TaskManager ends them, the job restarts from its latest checkpoint and runs again;
  3. cancel: its checkpoints stay; a deploy under another job name (no checkpoints) is refused
     because the alert topic holds alerts; a deploy under the same name resumes from the
     newest retained checkpoint;
  4. stop of the cluster with the job running leaves no Python worker behind.

Expected alerts, derived by hand in scenario.py: acme Finance-Win11 triggered 10:01:30 and
recovered 10:03:30, globex Sales-Win10 triggered 10:01:30; each exactly once on the alert
topic after every recovery (exactly-once sink, state restored, offsets restored).
"""
from __future__ import annotations

import contextlib
import io
import time

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy import recovery
from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.local_service import pid_alive
from tests.kafka import scenario as sc
from tests.kafka.conftest import cluster_of_its_own
from tests.kafka.test_end_to_end import EVENTS, INVENTORY, compiled_options, produce_table, read_topic, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

WAIT = 180.0  # seconds, upper bound for any step on a busy 2-core machine
FIN, SALES = ('{"device.virtualization.desktop_pool": "Finance-Win11"}',
              '{"device.virtualization.desktop_pool": "Sales-Win10"}')
HAND_DERIVED = [("acme", FIN, "recovered", "2026-11-26T10:03:30.000Z"),
                ("acme", FIN, "triggered", "2026-11-26T10:01:30.000Z"),
                ("globex", SALES, "triggered", "2026-11-26T10:01:30.000Z")]


# A monitor whose state is a Python UDAF and that never alerts here: the job then has Python
# workers, which steps 2 and 4 are about.
PYTHON_MONITOR = sc.HERE / "python_monitor"


def deploy(cluster, bootstrap, prefix, job_name, out, checkpoint_interval="1 s", idle_timeout="1 min", extra=()):
    """`nql-flink deploy sql-client` of the scenario and PYTHON_MONITOR (and `extra` arguments)
    -> (exit code, stdout, stderr)."""
    from nql_flink.translator.cli import main as cli

    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        rc = cli(["deploy", "sql-client", str(sc.MONITORS), str(PYTHON_MONITOR), "--kafka", bootstrap,
                  "--cluster-state", str(cluster.state_dir), "--out", str(out), "--topic-prefix", prefix,
                  "--group-id", prefix + "nql", "--job-name", job_name, "--checkpoint-interval", checkpoint_interval,
                  "--idle-timeout", idle_timeout, *extra])
    return rc, o.getvalue().strip(), e.getvalue()


def until(predicate, what: str, timeout: float = WAIT, step: float = 0.5):
    """predicate()'s first truthy value, polled; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = predicate()
        except OSError:  # REST briefly unavailable
            got = None
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"timeout after {timeout}s waiting for {what}")


def checkpoints(cluster, jid) -> dict:
    return cluster.rest(f"/jobs/{jid}/checkpoints").get("latest") or {}


def running_restored(cluster, jid):
    """The checkpoint job ``jid`` restored from, once all its tasks run again."""
    job = cluster.rest(f"/jobs/{jid}")
    restored = checkpoints(cluster, jid).get("restored")
    if job["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in job["vertices"]) and restored:
        return restored


def completed_after(cluster, jid, checkpoint_id):
    """A checkpoint completed after ``checkpoint_id``: whatever the restarted job wrote again is
    committed (visible to read_committed) by then."""
    done = checkpoints(cluster, jid).get("completed") or {}
    return done if done.get("id", -1) > checkpoint_id else None


def same_folder(a: str, b: str) -> bool:
    """'file:/x/chk-7' (Flink's REST) and 'file:///x/chk-7' name the same folder."""
    return recovery.local_path(a).resolve() == recovery.local_path(b).resolve()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, kafka_broker):
    with cluster_of_its_own(tmp_path_factory, "recovery-cluster", kafka_broker.bootstrap) as c:
        yield c


@pytest.fixture(scope="module")
def story(cluster, kafka_bootstrap, tmp_path_factory):
    """Runs the steps of the module docstring once and records what each showed."""
    tmp = tmp_path_factory.mktemp("recovery")
    prefix = f"rec{int(time.time() * 1000) % 10**8}."
    name = prefix + "job"
    o = compiled_options(prefix)
    alerts_topic = o.topic(o.alerts_topic)
    facts: dict = {"name": name, "checkpoint_dir": str(cluster.checkpoint_dir)}

    def alerts():
        return read_topic(kafka_bootstrap, alerts_topic)

    rc, jid1, err = deploy(cluster, kafka_bootstrap, prefix, name, tmp / "d1")
    assert rc == 0, err
    facts["first_deploy"], facts["jid1"] = err, jid1
    cluster.wait_job(lambda j: j["jid"] == jid1, timeout=WAIT)

    def state1():
        return cluster.rest(f"/jobs/{jid1}")["state"]

    kc.produce(kafka_bootstrap, o.topic(o.config_topic), sc.flush_records("monitor_config"))
    produce_table(kafka_bootstrap, o.topic("nql.device.devices"), INVENTORY,
                  sc.inventory() + sc.flush_lines(INVENTORY))
    produce_table(kafka_bootstrap, o.topic("nql.session.vdi_events"), EVENTS,
                  sc.event_lines(bad=False) + sc.flush_lines(EVENTS))
    facts["alerts_before_kill"] = wait_for(kafka_bootstrap, alerts_topic, lambda g: len(g) >= 3, state1, WAIT)
    facts["alert_topic_config"] = kc.topic_config(kafka_bootstrap, alerts_topic)

    # 1. the same job name again while it runs
    facts["while_running"] = deploy(cluster, kafka_bootstrap, prefix, name, tmp / "d-running")

    # 2. kill -9 of the TaskManager, a replacement, the job restarts from its checkpoint
    before = until(lambda: checkpoints(cluster, jid1).get("completed"), "a completed checkpoint")
    facts["checkpoint_before_kill"] = before["id"]
    facts["workers_before_kill"] = cluster.python_workers()
    facts["tm_pids_before"] = {t["name"]: t["pid"] for t in cluster.taskmanagers()}
    t0 = time.monotonic()
    facts["killed_pid"] = cluster.kill_taskmanager("taskmanager-0")
    facts["orphans_after_kill"] = cluster.orphaned_python_workers()
    facts["new_tm"] = cluster.start_taskmanager()
    facts["orphans_alive_after_replacement"] = [p for p in facts["orphans_after_kill"] if pid_alive(p)]
    facts["tm_pids_after"] = {t["name"]: t["pid"] for t in cluster.taskmanagers()}
    restored = until(lambda: running_restored(cluster, jid1), "the job running again from a checkpoint")
    facts["recovery_seconds"] = time.monotonic() - t0
    facts["restored"] = restored
    until(lambda: completed_after(cluster, jid1, restored["id"]), "a checkpoint after the restore")
    facts["alerts_after_kill"] = alerts()

    # 3. cancel, then deploy again: another name is refused, the same name resumes
    cluster.cancel(jid1)
    cluster.wait_job(lambda j: j["jid"] == jid1, states=("CANCELED",), timeout=WAIT)
    facts["rest_latest_after_cancel"] = cluster.latest_checkpoint(jid1)
    facts["scanned_latest"] = recovery.latest(*recovery.job_state_dirs(cluster.checkpoint_dir, name))
    facts["other_name"] = deploy(cluster, kafka_bootstrap, prefix, prefix + "other", tmp / "d-other")
    rc, jid2, err = deploy(cluster, kafka_bootstrap, prefix, name, tmp / "d2")
    assert rc == 0, err
    facts["resume_deploy"], facts["init_sql"] = err, (tmp / "d2" / "init.sql").read_text()
    restored2 = until(lambda: running_restored(cluster, jid2), "the redeployed job running from a checkpoint")
    facts["restored_by_redeploy"] = restored2
    until(lambda: completed_after(cluster, jid2, restored2["id"]), "a checkpoint of the redeployed job")
    facts["alerts_after_redeploy"] = alerts()

    # 4. stop with the job running
    facts["workers_before_stop"] = cluster.python_workers()
    jvms = dict(cluster.pids)
    cluster.stop()
    from nql_flink.deploy.cluster.cluster import _marked_processes

    facts["alive_after_stop"] = [p for p in facts["workers_before_stop"] + list(jvms.values()) if pid_alive(p)]
    facts["marked_after_stop"] = _marked_processes(cluster.state_dir)
    return facts


def test_alerts_are_the_hand_derived_ones_and_the_topic_keeps_every_transition(story):
    assert sc.timeline(story["alerts_before_kill"]) == HAND_DERIVED
    cfg = story["alert_topic_config"]
    assert cfg["cleanup.policy"] == "delete"
    assert cfg["retention.ms"] == str(30 * 24 * 60 * 60 * 1000)
    assert f"no earlier checkpoint of {story['name']!r}" in story["first_deploy"]


def test_deploy_refuses_while_the_job_of_that_name_runs(story):
    rc, out, err = story["while_running"]
    assert rc == 1 and out == ""
    assert "refused [job-running]" in err and "RUNNING" in err


def test_a_killed_taskmanager_is_replaced_and_the_job_resumes_from_its_checkpoint(story):
    assert story["tm_pids_before"] == {"taskmanager-0": story["killed_pid"]}
    # the TaskManager's Python workers outlive a kill -9 ...
    assert story["workers_before_kill"] and set(story["orphans_after_kill"]) == set(story["workers_before_kill"])
    # ... until the replacement ends them; cluster.json knows only live TaskManagers
    assert story["new_tm"] == "taskmanager-1" and story["orphans_alive_after_replacement"] == []
    assert list(story["tm_pids_after"]) == ["taskmanager-1"]
    restored = story["restored"]
    assert restored["id"] >= story["checkpoint_before_kill"] and not restored["is_savepoint"]
    # one of its own checkpoints, in the job name's folder (the file itself may be subsumed by
    # now: 3 are retained)
    folder = recovery.local_path(restored["external_path"])
    assert folder.name == f"chk-{restored['id']}" and folder.parent.name == story["jid1"]
    assert same_folder(str(folder.parent.parent), recovery.job_state_dirs(story["checkpoint_dir"], story["name"])[0])
    print(f"job running again {story['recovery_seconds']:.1f}s after the kill (replacement TaskManager included)")


def test_no_alert_is_written_twice_after_a_crash_or_a_redeploy(story):
    assert story["alerts_after_kill"] == story["alerts_before_kill"]
    assert story["alerts_after_redeploy"] == story["alerts_before_kill"]
    assert sc.timeline(story["alerts_after_redeploy"]) == HAND_DERIVED


def test_cancelled_jobs_checkpoints_are_retained_and_found_on_disk(story):
    rest, scanned = story["rest_latest_after_cancel"], story["scanned_latest"]
    assert rest is not None and scanned is not None
    rest_path = recovery.local_path(rest)
    assert (rest_path / "_metadata").is_file()  # RETAIN_ON_CANCELLATION
    # the scan finds that one or a newer one of the same job: the REST figure can miss a
    # checkpoint that completed while the job was being cancelled (seen: REST chk-6, disk chk-7)
    assert scanned.job_id == rest_path.parent.name and scanned.number >= int(rest_path.name.removeprefix("chk-"))


def test_a_fresh_start_over_existing_alerts_is_refused(story):
    rc, out, err = story["other_name"]
    assert rc == 1 and out == "" and "refused [output-exists]" in err and "alerts is not empty" in err


def test_redeploy_resumes_from_the_newest_retained_checkpoint(story):
    scanned = story["scanned_latest"]
    assert f"resuming from {scanned.url}" in story["resume_deploy"]
    assert f"SET 'execution.state-recovery.path' = '{scanned.url}';" in story["init_sql"]
    assert same_folder(story["restored_by_redeploy"]["external_path"], scanned.url)


def test_cluster_stop_leaves_no_python_worker(story):
    assert story["workers_before_stop"]  # the redeployed job's Python UDF workers were running
    assert story["alive_after_stop"] == [] and story["marked_after_stop"] == []


def test_an_existing_compacted_alert_topic_is_switched_to_delete(kafka_bootstrap):
    from nql_flink.deploy.submit import prepare_kafka
    from tests.kafka.test_end_to_end import compile_scenario

    prefix = f"cmp{int(time.time() * 1000) % 10**8}."
    o = compiled_options(prefix)
    kc.create_topics(kafka_bootstrap, [o.topic(o.alerts_topic)], compacted=True)  # as before this change
    done = prepare_kafka(kafka_bootstrap, compile_scenario(topic_prefix=prefix), o, alert_retention_ms=3_600_000)
    cfg = kc.topic_config(kafka_bootstrap, o.topic(o.alerts_topic))
    assert (cfg["cleanup.policy"], cfg["retention.ms"]) == ("delete", "3600000")
    assert done["changed"] and "compact -> delete" in done["changed"][0]
    assert kc.topic_config(kafka_bootstrap, o.topic(o.config_topic))["cleanup.policy"] == "compact"
