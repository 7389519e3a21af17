"""(b) Embedded PyFlink (streaming) reads JSON from Kafka and writes Kafka, through the
connector uber-jar on pipeline.jars."""
from __future__ import annotations

import json

import pytest

from deploy.kafka import client as kc
from tests.kafka.flink_jobs import kafka_json_roundtrip

pytestmark = [pytest.mark.kafka, pytest.mark.flink]


def test_pyflink_kafka_to_kafka(kafka_flink_env, kafka_bootstrap, topic_name, flink_database):
    src, dst = topic_name("in"), topic_name("out")
    kc.create_topics(kafka_bootstrap, [src, dst])
    recs = [
        {"tenant": "acme", "device": "d1", "cpu": 95.0, "ts": "2026-01-01T00:00:00Z"},
        {"tenant": "acme", "device": "d2", "cpu": 10.0, "ts": "2026-01-01T00:00:01Z"},
        {"tenant": "globex", "device": "g1", "cpu": 91.5, "ts": "2026-01-01T00:00:02Z"},
    ]
    kc.produce(kafka_bootstrap, src, recs + ["{not json"])
    kafka_json_roundtrip(kafka_flink_env, kafka_bootstrap, src, dst)
    # the job has finished (bounded source) and committed its transaction: a read_committed
    # consumer sees everything
    out = kc.tail(kafka_bootstrap, dst, timeout=30, idle_timeout=2, read_committed=True)
    got = sorted(((k.decode(), json.loads(v)) for k, v in out), key=lambda kv: kv[1]["device"])
    assert got == [
        ("acme", {"device": "d1", "cpu": 95.0, "high": True}),
        ("acme", {"device": "d2", "cpu": 10.0, "high": False}),
        ("globex", {"device": "g1", "cpu": 91.5, "high": True}),
    ]
