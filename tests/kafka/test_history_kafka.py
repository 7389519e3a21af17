"""The alert history on the Kafka path (issue 16: "history rows in PostgreSQL equal the alert
topic, after a job restart too"): the seed monitor over the demo's hour on the session's
broker (embedded mini-cluster, real Kafka connectors, exactly-once alert sink) with the
history in the session's PostgreSQL (tests/postgres_server.py); the job is cancelled once its
alerts are committed and started again without state, so it reads and writes everything once
more: the alert topic then holds each record twice, the history each once, equal to them.
(A restart from a checkpoint replays less than this; tests/kafka/test_exactly_once.py kills
TaskManagers on the standalone cluster for the alert topic's side.)"""
from __future__ import annotations

import json
import time

import pytest

from nql_flink.deploy import history
from nql_flink.deploy.kafka import client as kc
from tests.history.test_history import DATA, DAY, SEED, create_database, history_records
from tests.kafka import scenario as sc
from tests.kafka.test_end_to_end import embedded_state, produce_table, read_topic, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.flink, pytest.mark.slow]

EVENTS, INVENTORY = "session.vdi_events", "device.devices"


def test_history_equals_the_alert_topic_after_the_job_is_stopped_and_started_again(
        kafka_flink_env, kafka_bootstrap, postgres):
    from nql_flink.deploy.embedded.runner import start_job
    from nql_flink.deploy.submit import prepare_kafka
    from nql_flink.translator.flink.codegen import session_options
    from nql_flink.translator.flink.connectors import CompileOptions
    from nql_flink.translator.pipeline import compile_paths

    url = create_database(postgres, "kafka_history")
    history.init(url, first=DAY, days=0)
    prefix = f"hist{int(time.time() * 1000) % 10**8}."
    options = CompileOptions(bootstrap_servers=kafka_bootstrap, topic_prefix=prefix, group_id=prefix + "nql",
                             idle_timeout="5 s", history_jdbc=url)
    compiled = compile_paths([str(SEED)], options=options)
    assert compiled.ok
    prepare_kafka(kafka_bootstrap, compiled, options)
    kc.produce(kafka_bootstrap, options.topic(options.config_topic), sc.flush_records("monitor_config"))
    for table in (INVENTORY, EVENTS):
        lines = (DATA / f"{table}.jsonl").read_text().splitlines() + sc.flush_lines(table)
        produce_table(kafka_bootstrap, options.topic("nql." + table), table, lines)
    topic = options.topic(options.alerts_topic)
    config = {**session_options(options), "restart-strategy.type": "none"}

    def run_until(n: int) -> list[str]:
        result = start_job(compiled.statements(), t_env=kafka_flink_env, config=config)
        try:
            return wait_for(kafka_bootstrap, topic, lambda got: len(got) >= n, embedded_state(result))
        finally:
            result.get_job_client().cancel().result()

    def records(lines: list[str]) -> list[dict]:
        return sorted(map(json.loads, lines), key=lambda r: (r["at"], r["status"]))

    first = run_until(2)
    # the JDBC sink flushes in the checkpoint that commits the alert topic's transaction
    assert history_records(url) == records(first)
    assert [(r["status"], r["at"]) for r in records(first)] == [
        ("triggered", "2026-11-26T14:28:30.000Z"), ("recovered", "2026-11-26T14:37:00.000Z")]
    again = run_until(4)
    assert again == sorted(first + first)  # the topic got every record again
    assert history_records(url) == records(first)  # the history did not
