"""Alert processing on the Kafka path, as deployed (docs/processing.md): the seed monitor with
`grouping: {interval: 1min}` over the demo's hour on the session's broker (embedded
mini-cluster, real Kafka connectors), a maintenance window on the maintenance topic, the
notifications topic written by the job, then `nql-flink notify --topic <notifications>`
delivering to a webhook on loopback.

Expected by hand from the demo's incident (tests/flink/test_demo.py): triggered at 14:28:30,
recovered at 14:37:00. Grouping intervals are (k min, (k+1) min]: the trigger is notified at
14:29:00; the window 14:35-14:40 (UTC) on acme's vdi_latency_by_pool mutes the recovery, so its
notification (at 14:37:00) says `notify: false`, and the webhook gets one call: the trigger,
with its transition's key."""
from __future__ import annotations

import json
import time

import pytest

from nql_flink.deploy.kafka import client as kc
from nql_flink.translator.cli import main
from tests.history.test_history import DATA
from tests.kafka import scenario as sc
from tests.kafka.test_end_to_end import embedded_state, produce_table, wait_for
from tests.kafka.test_notify import TRIG_KEY, receivers_file
from tests.notify.records import monitor_file
from tests.notify.servers import Webhook

pytestmark = [pytest.mark.kafka, pytest.mark.flink, pytest.mark.slow]

EVENTS, INVENTORY = "session.vdi_events", "device.devices"
WINDOW = {"tenant": "acme", "id": "db-upgrade", "updated_at": "2026-11-26T14:00:00.000Z",
          "monitors": ["vdi_latency_by_pool"], "start": "2026-11-26T14:35:00Z", "end": "2026-11-26T14:40:00Z"}


def test_the_job_notifies_in_grouping_intervals_mutes_in_a_window_and_notify_delivers_it(
        kafka_flink_env, kafka_bootstrap, tmp_path, monkeypatch, capsys):
    from nql_flink.deploy.embedded.runner import start_job
    from nql_flink.deploy.submit import prepare_kafka
    from nql_flink.translator.flink.codegen import session_options
    from nql_flink.translator.flink.connectors import CompileOptions
    from nql_flink.translator.pipeline import compile_paths

    monitor = monitor_file(tmp_path, "hook")
    monitor.write_text(monitor.read_text() + "grouping:\n  interval: 1min\n")
    prefix = f"proc{int(time.time() * 1000) % 10**8}."
    options = CompileOptions(bootstrap_servers=kafka_bootstrap, topic_prefix=prefix, group_id=prefix + "nql",
                             idle_timeout="5 s", maintenance_topic="nql.maintenance")
    compiled = compile_paths([str(monitor)], options=options)
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    prepare_kafka(kafka_bootstrap, compiled, options)
    kc.produce(kafka_bootstrap, options.topic("nql.maintenance"), [("acme/db-upgrade", WINDOW)])
    kc.produce(kafka_bootstrap, options.topic(options.config_topic), sc.flush_records("monitor_config"))
    for table in (INVENTORY, EVENTS):
        lines = (DATA / f"{table}.jsonl").read_text().splitlines() + sc.flush_lines(table)
        produce_table(kafka_bootstrap, options.topic("nql." + table), table, lines)
    notifications = options.topic(options.notifications_topic)
    result = start_job(compiled.statements(), t_env=kafka_flink_env,
                       config={**session_options(options), "restart-strategy.type": "none"})
    try:
        got = wait_for(kafka_bootstrap, notifications, lambda g: len(g) >= 2, embedded_state(result))
    finally:
        result.get_job_client().cancel().result()
    records = sorted(map(json.loads, got), key=lambda r: r["at"])
    assert [(r["tenant"], r["monitor"], r["at"], r["notify"],
             [(e["alert"]["status"], e["alert"]["at"], e["notify"], e["muted_by"]) for e in r["alerts"]])
            for r in records] == [
        ("acme", "vdi_latency_by_pool", "2026-11-26T14:29:00.000Z", True,
         [("triggered", "2026-11-26T14:28:30.000Z", True, [])]),
        ("acme", "vdi_latency_by_pool", "2026-11-26T14:37:00.000Z", False,
         [("recovered", "2026-11-26T14:37:00.000Z", False, ["db-upgrade"])])]

    hook = Webhook()
    monkeypatch.setenv("NQL_TEST_HOOK_SECRET", "s")
    try:
        receivers = receivers_file(tmp_path, hook=hook.url)
        assert main(["notify", str(monitor), "--receivers", str(receivers), "--kafka", kafka_bootstrap,
                     "--topic", notifications, "--name", f"t-{notifications}", "--once"]) == 0
    finally:
        hook.stop()
    [req] = hook.requests
    assert (req.json["status"], req.json["idempotencyKey"]) == ("firing", TRIG_KEY)
    assert "delivered  triggered acme/vdi_latency_by_pool" in capsys.readouterr().out
