"""The Managed Flink package, unzipped and started as Managed Flink starts it: its driver
`main.py` in a Python process of its own (PyFlink's local mini-cluster there), with a local
application_properties.json in the service's format naming the session's Kafka broker. Same
records as tests/kafka/test_end_to_end.py's `main` job; its alerts and dead letters must equal
`nql-flink run`'s on the same records (the `expected` fixture), whose alert timeline is the
hand-derived one of tests/kafka/scenario.py.

Here (tests/kafka/) for the session's broker and `expected`; it starts one extra JVM, stopped
at the end with its process group (the process is this test's own).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from tests.kafka import scenario as sc
from tests.kafka.test_end_to_end import (EVENTS, INVENTORY, WAIT, compile_scenario, compiled_options, of_tenants,
                                         produce_table, wait_for)
from tests.shell_env import shell_env

pytestmark = [pytest.mark.kafka, pytest.mark.flink, pytest.mark.slow]


def properties(bootstrap: str) -> list[dict]:
    """Runtime properties as Managed Flink writes them to /etc/flink/application_properties.json."""
    return [{"PropertyGroupId": "kinesis.analytics.flink.run.options",
             "PropertyMap": {"python": "main.py", "jarfile": "lib/nql-flink-managed.jar", "pyFiles": "lib/python"}},
            {"PropertyGroupId": "nql.kafka", "PropertyMap": {"bootstrap.servers": bootstrap}},
            {"PropertyGroupId": "nql.local", "PropertyMap": {"execution.checkpointing.interval": "1 s",
                                                             "restart-strategy.type": "none"}}]


@contextlib.contextmanager
def started(app_dir, props_file, log):
    """`python main.py` in the unzipped package, as its own process group; killed at the end."""
    # a clean environment: none of this repository (PYTHONPATH), none of PyFlink's variables;
    # the JVM's temporary files (mini-cluster folder, RPC jar) beside the package, not left in
    # /tmp when it is killed
    tmp = Path(app_dir).parent / "jvm-tmp"
    tmp.mkdir(exist_ok=True)
    env = shell_env(NQL_APPLICATION_PROPERTIES=str(props_file), JVM_ARGS=f"-Djava.io.tmpdir={tmp}")
    proc = subprocess.Popen([sys.executable, "main.py"], cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_unzipped_package_started_like_managed_flink_gives_the_alerts_of_run(kafka_bootstrap, expected, tmp_path):
    from nql_flink.deploy.kafka import client as kc
    from nql_flink.deploy.submit import prepare_kafka
    from nql_flink.translator.cli import main as cli

    prefix = f"mf{int(time.time() * 1000) % 10**8}."
    zip_path = tmp_path / "app.zip"
    assert cli(["package", "managed-flink", str(sc.MONITORS), "-o", str(zip_path), "--kafka-auth", "plaintext",
                "--topic-prefix", prefix, "--group-id", prefix + "nql", "--idle-timeout", "1 min"]) == 0
    app = tmp_path / "app"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(app)
    assert kafka_bootstrap not in (app / "job.json").read_text()
    # topics, and the package's own monitor-config records published keyed tenant/monitor
    o = compiled_options(prefix)
    records = [json.loads(ln) for ln in (app / "monitor-config.jsonl").read_text().splitlines()]
    prepare_kafka(kafka_bootstrap, compile_scenario(topic_prefix=prefix), o, records=records)
    kc.produce(kafka_bootstrap, o.topic(o.config_topic), sc.flush_records("monitor_config"))
    inputs = expected["inputs"]
    produce_table(kafka_bootstrap, o.topic("nql.device.devices"), INVENTORY, inputs[INVENTORY])
    produce_table(kafka_bootstrap, o.topic("nql.session.vdi_events"), EVENTS, inputs[EVENTS])
    props = tmp_path / "application_properties.json"
    props.write_text(json.dumps(properties(kafka_bootstrap)))
    log_path = tmp_path / "main.log"
    with open(log_path, "w") as log, started(app, props, log) as proc:
        def state():
            return "RUNNING" if proc.poll() is None else f"exited {proc.returncode}: {log_path.read_text()[-3000:]}"

        want_alerts = of_tenants(expected["alerts"], "acme", "globex")
        want_dead = [d for d in expected["dead"] if '\\"initech\\"' not in d]
        # a bound, not a speed check: this process starts its own JVM and plans the job cold,
        # which on a busy 2-core machine took up to 150 s before the first record was read
        alerts = wait_for(kafka_bootstrap, o.topic(o.alerts_topic), lambda g: len(g) >= len(want_alerts), state,
                          timeout=2 * WAIT)
        dead = wait_for(kafka_bootstrap, o.topic(o.dead_letters_topic), lambda g: len(g) >= len(want_dead), state)
        assert state() == "RUNNING"
    assert alerts == want_alerts
    assert dead == want_dead
    fin, sales = ('{"device.virtualization.desktop_pool": "Finance-Win11"}',
                  '{"device.virtualization.desktop_pool": "Sales-Win10"}')
    assert sc.timeline(alerts) == [("acme", fin, "recovered", "2026-11-26T10:03:30.000Z"),
                                   ("acme", fin, "triggered", "2026-11-26T10:01:30.000Z"),
                                   ("globex", sales, "triggered", "2026-11-26T10:01:30.000Z")]
