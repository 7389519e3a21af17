"""Connector options of the generated job (translator/flink/connectors.py): no broker needed."""
from __future__ import annotations

import re

import pytest

from nql_flink.translator.flink.connectors import CompileOptions, load_settings, options_from_args
from nql_flink.translator.pipeline import compile_paths
from tests.kafka.scenario import MONITORS


def tables(sql: str) -> dict[str, dict[str, str]]:
    """CREATE TABLE name -> its WITH options."""
    out = {}
    for name, body in re.findall(r"CREATE TABLE `(\w+)` \(.*?\) WITH \((.*?)\n\);", sql, re.S):
        out[name] = dict(re.findall(r"'([^']+)' = '((?:[^']|'')*)'", body))
    return out


def compiled_sql(**kw) -> str:
    c = compile_paths([str(MONITORS)], options=CompileOptions(**kw))
    assert c.ok
    return c.sql()


def test_default_options_reference_the_environment_and_hold_no_address():
    t = tables(compiled_sql())
    assert set(t) == {"src_session_vdi_events", "src_device_devices", "src_monitor_config", "sink_alerts",
                      "sink_dead_letters", "sink_alert_state"}
    for name, o in t.items():
        assert o["properties.bootstrap.servers"] == "${env:NQL_KAFKA_BOOTSTRAP_SERVERS}", name
        assert o["properties.config.providers"] == "env"
        assert o["properties.config.providers.env.class"].endswith("shaded.org.apache.kafka.common.config."
                                                                  "provider.EnvVarConfigProvider")
        assert "properties.sasl.jaas.config" not in o
    # events: configured start + partition discovery; versioned topics always from the start
    assert t["src_session_vdi_events"]["scan.startup.mode"] == "earliest-offset"
    assert t["src_session_vdi_events"]["scan.topic-partition-discovery.interval"] == "5 min"
    for name in ("src_device_devices", "src_monitor_config"):
        assert t[name]["scan.startup.mode"] == "earliest-offset"
        assert "scan.topic-partition-discovery.interval" not in t[name]
    assert t["sink_alerts"]["sink.delivery-guarantee"] == "exactly-once"
    assert t["sink_alerts"]["sink.transactional-id-prefix"] == "nql-flink.alerts"
    assert t["sink_alerts"]["properties.transaction.timeout.ms"] == "900000"
    assert t["sink_dead_letters"]["sink.delivery-guarantee"] == "at-least-once"
    # each group's state, keyed tenant/monitor/group, a raw NULL value = a tombstone
    assert (t["sink_alert_state"]["topic"], t["sink_alert_state"]["sink.transactional-id-prefix"]) == (
        "nql.alert_state", "nql-flink.alert-state")
    assert (t["sink_alert_state"]["key.fields"], t["sink_alert_state"]["value.format"]) == ("key", "raw")


def test_production_settings_from_a_file(tmp_path):
    f = tmp_path / "kafka.yaml"
    f.write_text("security_protocol: SASL_SSL\nsasl_mechanism: SCRAM-SHA-512\ngroup_id: nql-prod\n"
                 "startup_mode: group-offsets\npartition_discovery: 1 min\ntopic_prefix: prod.\n"
                 "credentials: file:/etc/nql/kafka.properties\nkafka_properties: {client.dns.lookup: "
                 "use_all_dns_ips}\n")

    class Args:
        kafka_config = str(f)
        group_id = "nql-prod-2"  # a flag beats the file

    o = options_from_args(Args(), lateness_ms=5000)
    t = tables(compiled_sql(**{k: getattr(o, k) for k in o.__dataclass_fields__}))
    ev = t["src_session_vdi_events"]
    assert ev["topic"] == "prod.nql.session.vdi_events" and ev["properties.group.id"] == "nql-prod-2"
    assert ev["scan.startup.mode"] == "group-offsets" and ev["scan.topic-partition-discovery.interval"] == "1 min"
    assert t["src_monitor_config"]["scan.startup.mode"] == "earliest-offset"
    assert ev["properties.security.protocol"] == "SASL_SSL" and ev["properties.sasl.mechanism"] == "SCRAM-SHA-512"
    assert ev["properties.sasl.jaas.config"] == "${file:/etc/nql/kafka.properties:sasl.jaas.config}"
    assert ev["properties.bootstrap.servers"] == "${file:/etc/nql/kafka.properties:bootstrap.servers}"
    assert ev["properties.client.dns.lookup"] == "use_all_dns_ips"
    assert t["sink_alerts"]["sink.transactional-id-prefix"] == "nql-prod-2.alerts"
    assert load_settings(f)["topic_prefix"] == "prod."


@pytest.mark.parametrize("bad", [{"startup_mode": "newest"}, {"delivery_guarantee": "twice"},
                                 {"credentials": "vault"}, {"credentials": "file:"},
                                 {"kafka_properties": (("sasl.password", "x"),)},
                                 {"startup_mode": "timestamp"}])
def test_invalid_settings_are_refused(bad):
    with pytest.raises(ValueError):
        CompileOptions(**bad)


def test_unknown_setting_in_a_file_is_refused():
    with pytest.raises(ValueError, match="unknown Kafka setting"):
        CompileOptions.from_mapping({"bootstrap": "x"})
