"""Flink parts of the Kafka tests, written as functions of a TableEnvironment so they run on
whichever environment the session shares (tests/conftest.py `flink_env`)."""
from __future__ import annotations


def kafka_json_roundtrip(t_env, bootstrap: str, src_topic: str, dst_topic: str, *,
                         group_id: str = "nql-test", delivery: str = "exactly-once",
                         src_connection: dict[str, str] | None = None,
                         dst_connection: dict[str, str] | None = None) -> None:
    """Streaming job: JSON telemetry from ``src_topic`` -> filter/derive -> JSON on ``dst_topic``.

    The source is bounded at the offsets present at start ('scan.bounded.mode'='latest-offset'),
    so the streaming job finishes by itself and ``.wait()`` returns. Names are unique per call
    (temporary tables), so it can run in any current database.
    ``delivery='exactly-once'`` makes the sink transactional (Flink's default transaction
    timeout is 1 h, so this also proves the broker's transaction.max.timeout.ms accepts it);
    the end of the bounded input commits the last transaction.
    ``src_connection``/``dst_connection`` replace the plain 'properties.bootstrap.servers'
    (e.g. deploy.kafka.client.flink_properties(...): config-provider references, SASL).
    The sink keys records by tenant with 'key.fields-prefix' (the option connector 4.0.x breaks
    on Flink >= 2.1, flink.md section 2): key = raw tenant, value = JSON without it.
    """
    from nql_flink.deploy.kafka.client import with_options

    txn = (f", 'sink.transactional-id-prefix' = 'nql-{dst_topic}'" if delivery == "exactly-once" else "")
    src_conn = with_options(src_connection or {"properties.bootstrap.servers": bootstrap})
    dst_conn = with_options(dst_connection or {"properties.bootstrap.servers": bootstrap})
    suffix = src_topic.replace("-", "_")
    src, dst = f"kin_{suffix}", f"kout_{suffix}"
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE {src} (
            tenant STRING, device STRING, cpu DOUBLE, ts TIMESTAMP(3),
            WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
        ) WITH (
            'connector' = 'kafka', 'topic' = '{src_topic}', {src_conn},
            'properties.group.id' = '{group_id}',
            'scan.startup.mode' = 'earliest-offset',
            'scan.bounded.mode' = 'latest-offset',
            'format' = 'json', 'json.ignore-parse-errors' = 'true',
            'json.timestamp-format.standard' = 'ISO-8601'
        )""")
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE {dst} (
            k_tenant STRING, device STRING, cpu DOUBLE, high BOOLEAN
        ) WITH (
            'connector' = 'kafka', 'topic' = '{dst_topic}', {dst_conn},
            'sink.delivery-guarantee' = '{delivery}'{txn},
            'key.format' = 'raw', 'key.fields' = 'k_tenant', 'key.fields-prefix' = 'k_',
            'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY'
        )""")
    t_env.execute_sql(f"""
        INSERT INTO {dst}
        SELECT tenant, device, cpu, cpu > 90 FROM {src} WHERE tenant IS NOT NULL""").wait()
