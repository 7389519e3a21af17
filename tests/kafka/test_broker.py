"""(a) The real broker starts, answers metadata, and round-trips records."""
from __future__ import annotations

import json
import os

import pytest

# The Python Kafka client is a test/CLI dependency (requirements.lock); without it these tests
# cannot run at all, so they are skipped with that reason instead of erroring.
pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import KafkaBroker, probe_metadata
from nql_flink.deploy.kafka import client as kc

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


def transactional_producer(bootstrap: str, transactional_id: str):
    """A transactional producer as Flink's exactly-once sink uses one (init, then transactions)."""
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                  "transaction.timeout.ms": 60000})
    p.init_transactions(60)
    return p


@pytest.mark.slow
def test_restart_keeps_records_cluster_id_and_port(tmp_path):
    """A broker of its own (the session broker serves the Flink cluster): records and committed
    transactions survive a crash (SIGKILL) and a stop + start; address and cluster id stay; a
    transaction the crash left open is aborted by the producer's next init_transactions."""
    from nql_flink.deploy.kafka.broker import formatted_cluster_id

    broker = KafkaBroker.start(tmp_path / "kafka")
    try:
        port, cid, topic = broker.port, broker.cluster_id, "restart-probe"
        assert formatted_cluster_id(tmp_path / "kafka" / "data") == cid
        kc.create_topics(broker.bootstrap, [topic])
        kc.produce(broker.bootstrap, topic, ["plain-1", "plain-2"])
        p1 = transactional_producer(broker.bootstrap, "nql-test.alerts-0-1")
        p1.begin_transaction()
        p1.produce(topic, b"committed-1")
        p1.commit_transaction(30)
        p1.begin_transaction()
        p1.produce(topic, b"open-1")  # written, never committed: the crash comes first
        p1.flush(10)
        old_pid = broker.pid
        broker.restart(kill=True)
        del p1
        assert broker.pid != old_pid and not os.path.exists(f"/proc/{old_pid}")  # gone, and reaped
        assert (broker.port, broker.cluster_id) == (port, cid)
        assert probe_metadata(broker.host, broker.port) == [(1, "127.0.0.1", port)]
        p2 = transactional_producer(broker.bootstrap, "nql-test.alerts-0-1")  # same id: fences p1
        p2.begin_transaction()
        p2.produce(topic, b"committed-2")
        p2.commit_transaction(30)
        del p2

        def values(**kw):
            return [v.decode() for _, v in kc.tail(broker.bootstrap, topic, timeout=30, idle_timeout=2, **kw)]

        assert values() == ["plain-1", "plain-2", "committed-1", "committed-2"]
        assert values(read_committed=False) == ["plain-1", "plain-2", "committed-1", "open-1", "committed-2"]
        # a controlled stop, then start: the CLI's `stop` + `start` (data kept unless --fresh)
        broker.stop()
        assert KafkaBroker.load(broker.state_dir).pid == 0
        broker = KafkaBroker.start(tmp_path / "kafka")
        assert (broker.port, broker.cluster_id) == (port, cid)
        assert values() == ["plain-1", "plain-2", "committed-1", "committed-2"]
    finally:
        broker.stop()
