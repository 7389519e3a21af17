"""`nql-flink simulate --kafka`: the simulator's records on each catalog table's topic, keyed
tenant|entity id, ending with flush records on every partition (no Flink needed)."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.kafka.telemetry import FLUSH_TENANT, flush_time
from nql_flink.translator.cli import main as cli

pytestmark = pytest.mark.kafka


def test_simulate_produces_keyed_telemetry_per_table_topic(kafka_bootstrap, topic_name):
    prefix = topic_name("sim") + "."
    before = flush_time()
    rc = cli(["simulate", "--kafka", kafka_bootstrap, "--topic-prefix", prefix, "--partitions", "2",
              "--tables", "device.devices,session.vdi_events", "--devices", "4", "--vdi-share", "1",
              "--duration", "2min", "--start", "2026-11-26T10:00:00Z", "--flush", "--quiet"])
    assert rc == 0
    after = flush_time()
    events = list(kc.tail(kafka_bootstrap, prefix + "nql.session.vdi_events", timeout=20, idle_timeout=2))
    devices = list(kc.tail(kafka_bootstrap, prefix + "nql.device.devices", timeout=20, idle_timeout=2))
    assert kc.partitions(kafka_bootstrap, prefix + "nql.session.vdi_events") == [0, 1]
    for records, path in ((events, ("device", "collector", "uid")), (devices, ("collector", "uid"))):
        real = [(k, json.loads(v)) for k, v in records if json.loads(v)["tenant"] != FLUSH_TENANT]
        assert real
        for k, rec in real:
            node = rec
            for p in path:
                node = node[p]
            assert k == f"{rec['tenant']}|{node}".encode()
        # two flush records per partition (a minute ago, now: deploy/kafka/telemetry.py)
        flushes = [json.loads(v) for k, v in records if json.loads(v)["tenant"] == FLUSH_TENANT]
        assert len(flushes) == 4
    flush_times = sorted({json.loads(v)["end_time"] for _, v in events if FLUSH_TENANT.encode() in v})
    # same format: text order = time order
    assert len(flush_times) == 2 and flush_times[0] < before and before <= flush_times[1] <= after
    # same records as the file output of the same command
    assert len([1 for _, v in events if FLUSH_TENANT.encode() not in v]) > 4


def test_commands_say_when_there_is_no_kafka(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("NQL_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("NQL_KAFKA_STATE_DIR", str(tmp_path))  # no local broker there
    assert cli(["tail-alerts", "--timeout", "1"]) == 2
    assert "no Kafka address" in capsys.readouterr().err
