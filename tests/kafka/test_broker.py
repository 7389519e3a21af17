"""(a) The real broker starts, answers metadata, and round-trips records."""
from __future__ import annotations

import json

import pytest

# The Python Kafka client is a test/CLI dependency (requirements.lock); without it these tests
# cannot run at all, so they are skipped with that reason instead of erroring.
pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from deploy.kafka import KafkaBroker, probe_metadata
from deploy.kafka import client as kc

pytestmark = pytest.mark.kafka


def test_broker_answers_metadata(kafka_broker: KafkaBroker):
    assert kafka_broker.alive()
    brokers = probe_metadata(kafka_broker.host, kafka_broker.port)
    assert brokers == [(1, "127.0.0.1", kafka_broker.port)]
    # state survives for the CLI (status/stop by pid)
    loaded = KafkaBroker.load(kafka_broker.state_dir)
    assert loaded is not None and loaded.pid == kafka_broker.pid


def test_produce_and_consume(kafka_bootstrap, topic_name):
    topic = topic_name("telemetry")
    kc.create_topics(kafka_bootstrap, [topic])
    recs = [{"tenant": "acme", "device": f"d{i}", "cpu": float(i)} for i in range(10)]
    assert kc.produce(kafka_bootstrap, topic, recs, key=lambda r: r["tenant"]) == 10
    got = [json.loads(v) for v in kc.consume(kafka_bootstrap, topic, 10, timeout=30)]
    assert got == recs


def test_compacted_config_topic(kafka_bootstrap, topic_name):
    topic = topic_name("config")
    kc.create_topics(kafka_bootstrap, [topic], compacted=True)
    kc.publish_config(kafka_bootstrap, topic, {"acme/cpu_high": {"threshold": 90}})
    [(k, v)] = list(kc.tail(kafka_bootstrap, topic, timeout=30, idle_timeout=1))
    assert k == b"acme/cpu_high" and json.loads(v) == {"threshold": 90}


def test_transaction_timeout_allows_flink_exactly_once(kafka_broker: KafkaBroker):
    # Flink's KafkaSink defaults to a 1 h transaction timeout; the broker must accept it.
    props = (kafka_broker.state_dir / "server.properties").read_text()
    assert "transaction.max.timeout.ms=3600000" in props


def test_sasl_listener_from_environment(kafka_broker: KafkaBroker, topic_name):
    from tests.kafka.conftest import SASL_PASSWORD, SASL_USER

    topic = topic_name("sasl")
    env = {"NQL_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.sasl_bootstrap,
           "NQL_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "NQL_KAFKA_SASL_MECHANISM": "PLAIN",
           "NQL_KAFKA_SASL_USERNAME": SASL_USER, "NQL_KAFKA_SASL_PASSWORD": SASL_PASSWORD}
    conf = kc.client_config(env=env)
    assert conf["sasl.username"] == SASL_USER and conf["bootstrap.servers"] == kafka_broker.sasl_bootstrap
    kc.create_topics(kafka_broker.bootstrap, [topic])
    kc.produce(kafka_broker.bootstrap, topic, [{"x": 1}])
    # read through the authenticated listener with settings taken from the environment only
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    c = Consumer({**conf, "group.id": "sasl-probe"})
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        m = None
        for _ in range(50):
            m = c.poll(0.5)
            if m is not None and not m.error():
                break
        assert m is not None and json.loads(m.value()) == {"x": 1}
    finally:
        c.close()
    bad = {**conf, "sasl.password": "wrong", "group.id": "sasl-bad"}
    from confluent_kafka.admin import AdminClient

    with pytest.raises(Exception):
        AdminClient(bad).list_topics(timeout=2)
