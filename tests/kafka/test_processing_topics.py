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
