"""deploy's topics for a job with alert processing (docs/processing.md), on the session's real
broker: the notifications topic keeps every record like the alert topic (keyed tenant/monitor,
compaction would keep one per monitor), the maintenance topic is compacted (a version per
window id)."""
from __future__ import annotations

import pytest

from nql_flink.deploy import submit
from nql_flink.deploy.kafka import client as kc
from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.pipeline import compile_paths

pytestmark = pytest.mark.kafka


def test_deploy_creates_the_notifications_and_maintenance_topics(kafka_bootstrap, topic_name):
    prefix = topic_name("proc") + "."
    o = CompileOptions(maintenance_topic="nql.maintenance", topic_prefix=prefix)
    compiled = compile_paths(["examples/monitors/vdi_latency_by_pool.yaml"], options=o)
    out = submit.prepare_kafka(kafka_bootstrap, compiled, o)
    assert {prefix + "nql.notifications", prefix + "nql.maintenance"} <= set(out["topics"])
    notifications = kc.topic_config(kafka_bootstrap, prefix + "nql.notifications")
    assert notifications["cleanup.policy"] == "delete" and notifications["retention.ms"] == str(submit.ALERT_RETENTION_MS)
    assert kc.topic_config(kafka_bootstrap, prefix + "nql.maintenance")["cleanup.policy"] == "compact"


def test_deploy_says_which_source_topics_have_fewer_partitions_than_the_parallelism(kafka_bootstrap, topic_name):
    # a source subtask without a partition holds the job's watermark back for the idle timeout
    # after every start (docs/guarantees.md, "An idle event topic beside a live inventory or config")
    prefix = topic_name("parts") + "."
    o = CompileOptions(maintenance_topic="nql.maintenance", topic_prefix=prefix)
    compiled = compile_paths(["examples/monitors/vdi_latency_by_pool.yaml"], options=o)
    out = submit.prepare_kafka(kafka_bootstrap, compiled, o, partitions=2)
    sources = {prefix + t for t in ("nql.session.vdi_events", "nql.device.devices", "nql.monitor.config",
                                    "nql.maintenance")}
    assert out["source_partitions"] == {t: 2 for t in sources}
    assert submit.idle_source_notes(out["source_partitions"], 2) == []
    notes = submit.idle_source_notes(out["source_partitions"], 3)
    assert [n.split(" ")[0] for n in notes] == sorted(sources)
    assert all("has 2 partition(s) for parallelism 3: 1 of its source subtasks read nothing" in n for n in notes)
