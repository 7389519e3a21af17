"""Scale-out and operating metrics on a standalone cluster with 2 TaskManagers (2 slots each).

Two deployments of the scenario's monitors (tests/kafka/scenario.py) by `nql-flink deploy
sql-client`, at parallelism 2 (job name `nql-flink`, the default) and at parallelism 1, read
the SAME topics of 2 partitions (the first deployment creates them, the second only adds its
own alert and dead-letter topics, --kafka-config), so both see identical records in identical
partitions; the telemetry is produced once: acme + globex samples with one bad record of each
reason and a flush per partition.

Hand-derived facts (scenario.py): 3 alert records (acme Finance triggered 10:01:30 and
recovered 10:03:30, globex Sales triggered 10:01:30); 8 dead letters: the 7 bad events
(not_utf8, not_json, missing_tenant, missing_event_time, bad_event_time,
bad_type:network_latency, late) and the inventory record without collector.uid. No record
comes after its window was evaluated (the late one is rejected before the windows).

The sums behind `avg` are of integers here, exact in any order: the alert records are compared
exactly, floats included (see docs/operating.md, "Parallelism", for values that are not).
"""
from __future__ import annotations

import contextlib
import io
import json
import time

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.cluster import metrics as pm
from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.kafka.telemetry import flush as send_flush
from nql_flink.deploy.prometheus import rules as pr
from tests.kafka import scenario as sc
from tests.kafka.conftest import cluster_of_its_own
from tests.kafka.test_end_to_end import EVENTS, INVENTORY, produce_table, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.flink, pytest.mark.slow]

ALERTS, DEAD_LETTERS = 3, 8          # hand-derived above
SCRAPE_WAIT = 60.0                   # seconds, bound for the counters to reach the records read


def deploy(cluster, bootstrap, out, prefix, parallelism, *extra) -> str:
    """`nql-flink deploy sql-client` of the scenario at ``parallelism``; its own alert and
    dead-letter topics and consumer group; returns the job id."""
    settings = out / f"p{parallelism}.yaml"
    settings.write_text(f"alerts_topic: nql.alerts.p{parallelism}\ndead_letters_topic: nql.dead_letters.p{parallelism}\n"
                        f"group_id: {prefix}p{parallelism}\n")
    stdout = io.StringIO()
    from nql_flink.translator.cli import main as cli

    with contextlib.redirect_stdout(stdout):
        rc = cli(["deploy", "sql-client", str(sc.MONITORS), "--kafka", bootstrap, "--cluster-state",
                  str(cluster.state_dir), "--out", str(out / f"deploy-p{parallelism}"), "--topic-prefix", prefix,
                  "--kafka-config", str(settings), "--parallelism", str(parallelism), "--partitions", "2",
                  "--checkpoint-interval", "2 s", "--idle-timeout", "1 min", *extra])
    assert rc == 0
    return stdout.getvalue().split()[-1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, kafka_broker):
    bootstrap = kafka_broker.bootstrap
    out = tmp_path_factory.mktemp("scale-out")
    prefix = f"scale{int(time.time() * 1000) % 10**8}."
    with cluster_of_its_own(tmp_path_factory, "scale-out-cluster", bootstrap, taskmanagers=2) as cluster:
        # first, on the empty cluster: its 2 subtasks go one to each TaskManager (load-balance SLOTS)
        p2 = deploy(cluster, bootstrap, out, prefix, 2)          # job name nql-flink; creates the topics
        p1 = deploy(cluster, bootstrap, out, prefix, 1, "--job-name", "nql-flink-p1", "--no-config")
        try:
            topic = f"{prefix}nql.%s"
            assert kc.partitions(bootstrap, topic % "session.vdi_events") == [0, 1]
            produce_table(bootstrap, topic % "device.devices", INVENTORY, sc.inventory() + [sc.bad_device("acme")])
            produce_table(bootstrap, topic % "session.vdi_events", EVENTS, sc.event_lines())
            for t, table in (("session.vdi_events", EVENTS), ("device.devices", INVENTORY),
                             ("monitor.config", "monitor_config")):
                send_flush(bootstrap, topic % t, table)          # to every partition
            got = {}
            for p, jid in ((1, p1), (2, p2)):
                def state(jid=jid):
                    return cluster.rest(f"/jobs/{jid}")["state"]
                got[p] = {"alerts": wait_for(bootstrap, topic % f"alerts.p{p}", lambda g: len(g) >= ALERTS, state),
                          "dead": wait_for(bootstrap, topic % f"dead_letters.p{p}",
                                           lambda g: len(g) >= DEAD_LETTERS, state),
                          "job": cluster.rest(f"/jobs/{jid}")}
            yield {"cluster": cluster, "jobs": {1: p1, 2: p2}, **got, "samples": settled_samples(cluster)}
        finally:
            for jid in (p1, p2):
                cluster.cancel(jid)


def settled_samples(cluster) -> list[pm.Sample]:
    """A scrape of every JVM once the counters of job `nql-flink` show what its topics hold and a
    checkpoint completed (the topics' records were read at least a checkpoint earlier)."""
    deadline = time.monotonic() + SCRAPE_WAIT
    while True:
        samples = pm.scrape_all(cluster.metrics_urls().values())
        job = [s for s in samples if s.labels.get("job_name") == "nql_flink"]
        if (pm.total(job, "flink_taskmanager_job_task_operator_numRecordsSend", operator_name="sink_alerts_*")
                >= ALERTS and pm.total(job, "flink_jobmanager_job_numberOfCompletedCheckpoints") > 0
                or time.monotonic() > deadline):
            return samples
        time.sleep(1)


def vertices(job: dict) -> dict[str, int]:
    return {v["name"]: v["parallelism"] for v in job["vertices"]}


def test_parallelism_2_on_2_taskmanagers_equals_parallelism_1(runs):
    # the same alert records, field for field (ids, times, statuses, values, impact)
    assert runs[2]["alerts"] == runs[1]["alerts"]
    assert len(runs[1]["alerts"]) == ALERTS
    fin, sales = ('{"device.virtualization.desktop_pool": "Finance-Win11"}',
                  '{"device.virtualization.desktop_pool": "Sales-Win10"}')
    assert sc.timeline(runs[2]["alerts"]) == [
        ("acme", fin, "recovered", "2026-11-26T10:03:30.000Z"),
        ("acme", fin, "triggered", "2026-11-26T10:01:30.000Z"),
        ("globex", sales, "triggered", "2026-11-26T10:01:30.000Z")]
    assert runs[2]["dead"] == runs[1]["dead"] and len(runs[2]["dead"]) == DEAD_LETTERS
    # --parallelism reached the job: every operator at 2, but the ticks' window over the whole
    # table (no key: Flink runs it on one subtask); parallelism 1: every operator at 1
    p2 = vertices(runs[2]["job"])
    assert {n: p for n, p in p2.items() if not n.startswith("GlobalWindowAggregate")} == dict.fromkeys(
        [n for n in p2 if not n.startswith("GlobalWindowAggregate")], 2)
    assert set(vertices(runs[1]["job"]).values()) == {1}
    # and its subtasks ran on both TaskManagers
    cluster, jid = runs["cluster"], runs["jobs"][2]
    where = {st["taskmanager-id"] for v in runs[2]["job"]["vertices"]
             for st in cluster.rest(f"/jobs/{jid}/vertices/{v['id']}")["subtasks"]}
    assert where == {"taskmanager-0", "taskmanager-1"}


def test_prometheus_endpoints_are_in_the_state_file_and_listed_by_the_cli(runs, capsys):
    from nql_flink.deploy.cluster import FlinkCluster
    from nql_flink.deploy.cluster.cluster import main as cluster_cli

    cluster = runs["cluster"]
    urls = FlinkCluster.load(cluster.state_dir).metrics_urls()   # what another process finds
    assert sorted(urls) == ["jobmanager", "taskmanager-0", "taskmanager-1"]
    assert len(set(urls.values())) == 3
    assert cluster_cli(["metrics", "--state-dir", str(cluster.state_dir)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{n}\t{u}" for n, u in urls.items()]
    # each endpoint answers with its own JVM's metrics
    for name, url in urls.items():
        scope = "flink_jobmanager_" if name == "jobmanager" else "flink_taskmanager_"
        assert any(s.name.startswith(scope) for s in pm.scrape(url)), name


def test_prometheus_endpoints_count_alerts_dead_letters_and_checkpoints(runs):
    samples = runs["samples"]
    job = [s for s in samples if s.labels.get("job_name") == "nql_flink"]
    send = "flink_taskmanager_job_task_operator_numRecordsSend"
    # records written into the sinks by the writers of both subtasks (the exactly-once alert
    # sink counts what it wrote into transactions: with no failure, every one was committed)
    assert pm.total(job, send, operator_name="sink_alerts_*") == ALERTS
    assert pm.total(job, send, operator_name="sink_dead_letters_*") == DEAD_LETTERS
    assert {s.labels["subtask_index"] for s in pm.matching(job, send, operator_name="sink_alerts_*")} == {"0", "1"}
    # nothing came after its window was evaluated; the counter is there, at 0
    late = pm.matching(job, "flink_taskmanager_job_task_operator_nqlLateRecords")
    assert late and sum(s.value for s in late) == 0
    # the groups whose alert state the windows function keeps (it judges the scenario's monitor):
    # the gauge is there on the windows function's subtasks (its value depends on whether the
    # flush records' jump of event time evicted them yet)
    assert {s.labels["subtask_index"] for s in pm.matching(job, "flink_taskmanager_job_task_operator_nqlAlertGroups")} \
        == {"0", "1"}
    # checkpoints (JobManager): some completed; failed ones are counted (while the job starts,
    # those triggered before all its tasks run fail: how many depends on the machine's load)
    assert pm.total(job, "flink_jobmanager_job_numberOfCompletedCheckpoints") > 0
    assert pm.matching(job, "flink_jobmanager_job_numberOfFailedCheckpoints")
    assert pm.total(job, "flink_jobmanager_job_runningState") == 1
    # consumer lag: pending records of each source subtask, all read by now
    lag = pm.matching(job, "flink_taskmanager_job_task_operator_pendingRecords", operator_name="Source:_KafkaSource_*")
    assert {s.labels["operator_name"].rsplit("_src_", 1)[1] for s in lag} == {
        "session_vdi_events", "device_devices", "monitor_config"}
    assert all(s.value == 0 for s in lag)
    # the sources read every record: 96 samples, 7 bad ones and 2 flush records per partition
    read = pm.matching(job, "flink_taskmanager_job_task_operator_numRecordsIn",
                       operator_name="Source:_KafkaSource_default_catalog_default_database_src_session_vdi_events")
    assert sum(s.value for s in read) == len(sc.event_lines()) + 2 * 2


def test_every_selector_of_the_alerting_rules_matches_a_running_job(runs):
    doc = pr.load()
    alerts = {r["alert"] for r in pr.rules(doc)}
    assert {"NqlFlinkJobNotRunning", "NqlFlinkJobRestarting", "NqlFlinkCheckpointsFailing", "NqlFlinkCheckpointsSlow",
            "NqlFlinkConsumerLagGrowing", "NqlFlinkLateRecordsDropped", "NqlFlinkDeadLettersRising",
            "NqlFlinkEventTimeStalled"} <= alerts
    samples = runs["samples"]
    dead = [f"{r['alert']}: {s}" for r in pr.rules(doc) for s in pr.selectors(r["expr"])
            if not any(pr.matches(s, x) for x in samples)]
    assert dead == [], f"selectors that match no exported series: {dead}"
