"""(b) Embedded PyFlink (streaming) reads JSON from Kafka and writes Kafka, through the
connector uber-jar on pipeline.jars."""
from __future__ import annotations

import json

import pytest

# The Python Kafka client is a test/CLI dependency (requirements.lock); without it these tests
# cannot run at all, so they are skipped with that reason instead of erroring.
pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import client as kc
from tests.kafka.flink_jobs import kafka_json_roundtrip

pytestmark = [pytest.mark.kafka, pytest.mark.flink]


def test_pyflink_kafka_to_kafka(kafka_flink_env, kafka_broker, kafka_bootstrap, topic_name,
                                flink_database, tmp_path):
    """Source over SASL/PLAIN, sink plaintext + exactly-once; neither address nor secret is in
    the SQL: both come from properties files through Kafka's FileConfigProvider."""
    from tests.kafka.conftest import SASL_PASSWORD, SASL_USER

    src, dst = topic_name("in"), topic_name("out")
    sasl_file, plain_file = tmp_path / "src.properties", tmp_path / "dst.properties"
    sasl_file.write_text(f"bootstrap.servers={kafka_broker.sasl_bootstrap}\n"
                         f"sasl.jaas.config={kc.plain_jaas(SASL_USER, SASL_PASSWORD)}\n")
    plain_file.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    src_conn = kc.flink_properties(provider="file", file_path=str(sasl_file),
                                   security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN")
    dst_conn = kc.flink_properties(provider="file", file_path=str(plain_file))
    assert SASL_PASSWORD not in repr(src_conn) and kafka_bootstrap not in repr(dst_conn)
    kc.create_topics(kafka_bootstrap, [src, dst])
    recs = [
        {"tenant": "acme", "device": "d1", "cpu": 95.0, "ts": "2026-01-01T00:00:00Z"},
        {"tenant": "acme", "device": "d2", "cpu": 10.0, "ts": "2026-01-01T00:00:01Z"},
        {"tenant": "globex", "device": "g1", "cpu": 91.5, "ts": "2026-01-01T00:00:02Z"},
    ]
    kc.produce(kafka_bootstrap, src, recs + ["{not json"])
    kafka_json_roundtrip(kafka_flink_env, kafka_bootstrap, src, dst,
                         src_connection=src_conn, dst_connection=dst_conn)
    # the job has finished (bounded source) and committed its transaction: a read_committed
    # consumer sees everything
    out = kc.tail(kafka_bootstrap, dst, timeout=30, idle_timeout=2, read_committed=True)
    got = sorted(((k.decode(), json.loads(v)) for k, v in out), key=lambda kv: kv[1]["device"])
    assert got == [
        ("acme", {"device": "d1", "cpu": 95.0, "high": True}),
        ("acme", {"device": "d2", "cpu": 10.0, "high": False}),
        ("globex", {"device": "g1", "cpu": 91.5, "high": True}),
    ]
