"""The generated job on real Kafka (embedded PyFlink with the connector jar), compared with
`nql-flink run` (the same statements on files) for the same records. Scenario and
hand-derived facts: tests/kafka/scenario.py.

How windows are flushed: a streaming job on Kafka never ends, and a window fires only when
the watermark passes it. The inputs end with a flush record per topic (and partition):
tenant `__flush__` (no monitor reads it), event time = when it was written (deploy/kafka/
telemetry.py), days after the scenario: it moves every source's watermark so far that each
tenant of the scenario is silent and behind by more than the lag bound, and is dragged past
all its windows. The same flush lines are in the files of
the embedded run, so both runs see identical input. Where a test is about idleness, the
slow topics get no flush until the end and `--idle-timeout 2 s` must release them.

Two Kafka jobs run here, each on its own topics (topic prefix) and consumer group:
  * `main`  (idle timeout 1 min: nothing goes idle during the run, results are exact):
            acme + globex records and bad records, all produced before the job starts;
  * `live`  (idle timeout 2 s): initech; inventory and config produced before the job, events
            in two phases while it runs, the event topic has a second, empty partition, and
            a new config version is published between the phases.
Each test waits (bounded) for the expected records on the alert topic and cancels its job.
"""
from __future__ import annotations

import contextlib
import io
import json
import time

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.kafka.telemetry import flush as send_flush
from tests.kafka import scenario as sc

pytestmark = [pytest.mark.kafka, pytest.mark.flink, pytest.mark.slow]

EVENTS, INVENTORY = "session.vdi_events", "device.devices"
WAIT = 150.0  # seconds, upper bound for any expected record to show up


def compile_scenario(**options):
    from nql_flink.translator.flink.connectors import CompileOptions
    from nql_flink.translator.pipeline import compile_paths

    compiled = compile_paths([str(sc.MONITORS)], options=CompileOptions(**options))
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    return compiled


def read_topic(bootstrap, topic) -> list[str]:
    return sorted(v.decode() for _, v in kc.tail(bootstrap, topic, timeout=3, idle_timeout=0.5))


def wait_for(bootstrap, topic, predicate, job_state, timeout=WAIT) -> list[str]:
    """Read `topic` until predicate(records) holds; fail early if the job stopped running."""
    deadline = time.monotonic() + timeout
    got: list[str] = []
    while time.monotonic() < deadline:
        got = read_topic(bootstrap, topic)
        if predicate(got):
            return got
        state = job_state()
        assert state in ("RUNNING", "CREATED", "INITIALIZING"), f"job is {state}; records so far: {got}"
        time.sleep(1)
    raise AssertionError(f"timeout after {timeout}s on {topic}; got {got}")


def embedded_state(result):
    return lambda: str(result.get_job_client().get_job_status().result()).split(".")[-1]


def config_lines(compiled, *extra: dict) -> list[str]:
    return [json.dumps(r, sort_keys=True) for r in [*compiled.job.config_records, *extra]]


def publish_config(bootstrap, topic, lines):
    from nql_flink.deploy.submit import config_key

    kc.publish_config(bootstrap, topic, [(config_key(json.loads(ln)), ln) for ln in lines])


def produce_table(bootstrap, topic, table, lines, partition=None):
    from nql_flink.deploy.kafka.telemetry import record_key

    key = record_key(table)
    kc.produce(bootstrap, topic, [(key(sc.as_bytes(ln)) or b"-", sc.as_bytes(ln)) for ln in lines], partition=partition)


# ------------------------------------------------------------------------------ expected
# `expected`: tests/kafka/conftest.py (session-wide, the crash tests compare with it too)


def merge_by_time(a: list[str], b: list[str]) -> list[str]:
    """Interleave two time-ordered event lists (b's records after a's of the same time), keeping
    a's bad records where they are: the watermark sequence of `a` is unchanged."""
    out, j = [], 0
    for ln in a:
        t = json.loads(ln).get("end_time") if isinstance(ln, str) and ln.startswith("{") and '"tenant"' in ln else None
        if t and t[:4] == "2026":
            while j < len(b) and json.loads(b[j])["end_time"] < t:
                out.append(b[j])
                j += 1
        out.append(ln)
    return out + b[j:]


def of_tenants(lines: list[str], *tenants) -> list[str]:
    return sorted(ln for ln in lines if json.loads(ln)["tenant"] in tenants)


# ------------------------------------------------------------------------------ main job
@pytest.fixture(scope="module")
def main_run(kafka_flink_env, kafka_bootstrap, expected, tmp_path_factory):
    """acme + globex on Kafka, every record produced before the job starts."""
    from nql_flink.deploy.embedded.runner import start_job
    from nql_flink.translator.flink.codegen import session_options

    tmp = tmp_path_factory.mktemp("main")
    prefix = f"main{int(time.time() * 1000) % 10**8}."
    props = tmp / "kafka.properties"  # the file config provider: no address in the SQL
    props.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    compiled = compile_scenario(credentials=f"file:{props}", topic_prefix=prefix, group_id=prefix + "nql",
                                idle_timeout="1 min")
    sql = compiled.sql()
    assert kafka_bootstrap not in sql and "${file:" in sql
    o = compiled_options(prefix)
    from nql_flink.deploy.submit import prepare_kafka

    prepare_kafka(kafka_bootstrap, compiled, o)  # topics + config records keyed tenant/monitor
    kc.produce(kafka_bootstrap, o.topic(o.config_topic), sc.flush_records("monitor_config"))
    inputs = expected["inputs"]
    produce_table(kafka_bootstrap, o.topic("nql.device.devices"), INVENTORY, inputs[INVENTORY])
    produce_table(kafka_bootstrap, o.topic("nql.session.vdi_events"), EVENTS, inputs[EVENTS])
    t0 = time.monotonic()
    result = start_job(compiled.statements(), t_env=kafka_flink_env,
                       config={**session_options(compiled_options(prefix, idle_timeout="1 min")),
                               "restart-strategy.type": "none"})
    state = embedded_state(result)
    try:
        want_alerts = of_tenants(expected["alerts"], "acme", "globex")
        want_dead = [d for d in expected["dead"] if '\\"initech\\"' not in d]
        alerts = wait_for(kafka_bootstrap, o.topic(o.alerts_topic), lambda g: len(g) >= len(want_alerts), state)
        dead = wait_for(kafka_bootstrap, o.topic(o.dead_letters_topic), lambda g: len(g) >= len(want_dead), state)
        seconds = time.monotonic() - t0
        running = state()
        out = io.StringIO()
        from nql_flink.translator.cli import main as cli

        with contextlib.redirect_stdout(out):
            rc = cli(["tail-alerts", "--kafka", kafka_bootstrap, "--topic-prefix", prefix, "--timeout", "20",
                      "--max", str(len(want_alerts))])
        assert rc == 0
        yield {"alerts": alerts, "dead": dead, "want_alerts": want_alerts, "want_dead": want_dead,
               "state_after": running, "seconds": seconds, "tail": sorted(out.getvalue().splitlines()),
               "prefix": prefix}
    finally:
        result.get_job_client().cancel().result()


def compiled_options(prefix, **kw):
    from nql_flink.translator.flink.connectors import CompileOptions

    return CompileOptions(topic_prefix=prefix, group_id=prefix + "nql", **kw)


def test_kafka_alerts_equal_the_embedded_run(main_run, expected):
    assert main_run["alerts"] == main_run["want_alerts"]
    assert main_run["tail"] == main_run["want_alerts"]  # nql-flink tail-alerts prints them
    # and the embedded run gives the hand-derived timeline (scenario.py)
    fin, sales = ('{"device.virtualization.desktop_pool": "Finance-Win11"}',
                  '{"device.virtualization.desktop_pool": "Sales-Win10"}')
    assert sc.timeline(main_run["want_alerts"]) == [
        ("acme", fin, "recovered", "2026-11-26T10:03:30.000Z"),
        ("acme", fin, "triggered", "2026-11-26T10:01:30.000Z"),
        ("globex", sales, "triggered", "2026-11-26T10:01:30.000Z")]


def test_the_notifier_delivers_the_jobs_alerts_from_its_topic(main_run, kafka_bootstrap, tmp_path):
    """`nql-flink notify` on the job's own alert topic (transactions, read_committed): each
    transition one webhook call with Alertmanager's payload (docs/notify.md)."""
    from nql_flink.translator.cli import main as cli
    from tests.notify.servers import Webhook

    monitors = tmp_path / "kafka_latency.yaml"
    monitors.write_text((sc.MONITORS / "kafka_latency.yaml").read_text().replace("    trigger:\n",
                                                                                "    notify: [hook]\n    trigger:\n"))
    hook = Webhook()
    try:
        (tmp_path / "receivers.yaml").write_text(f"receivers:\n  hook: {{kind: webhook, url: '{hook.url}'}}\n")
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli(["notify", str(monitors), "--receivers", str(tmp_path / "receivers.yaml"), "--kafka",
                        kafka_bootstrap, "--topic-prefix", main_run["prefix"], "--once"]) == 0
    finally:
        hook.stop()
    calls = []
    for body in (r.json for r in hook.requests):
        [a] = body["alerts"]
        calls.append((a["labels"]["tenant"], a["labels"]["device_virtualization_desktop_pool"], body["status"],
                      a["startsAt"] if body["status"] == "firing" else a["endsAt"]))
    assert sorted(calls) == [("acme", "Finance-Win11", "firing", "2026-11-26T10:01:30.000Z"),
                             ("acme", "Finance-Win11", "resolved", "2026-11-26T10:03:30.000Z"),
                             ("globex", "Sales-Win10", "firing", "2026-11-26T10:01:30.000Z")]


def test_tenants_with_identical_devices_and_pools_see_only_their_own_records(main_run):
    alerts = [json.loads(a) for a in main_run["alerts"]]
    [acme_trig] = [a for a in alerts if a["tenant"] == "acme" and a["status"] == "triggered"]
    # acme's own two Finance devices at 500 ms; globex's identical c-1/c-2 (150 ms) not mixed in
    assert acme_trig["values"] == {"avg_latency": 500.0, "sessions": 2}
    # of acme's own four devices (every one reports at every sample): share 2/4
    assert acme_trig["impact"] == {"devices": 2, "users": 2, "active_devices": 4, "share": 0.5}
    # globex's Finance pool (150 ms) never alerts: mixed with acme's it would average 325 > 200
    assert not [a for a in alerts if a["tenant"] == "globex" and "Finance" in json.dumps(a["group"])]
    [globex] = [a for a in alerts if a["tenant"] == "globex"]
    assert globex["values"] == {"avg_latency": 250.0, "sessions": 2} and globex["condition"].startswith(
        "avg_latency > 200ms")


def test_bad_records_are_dead_lettered_with_a_reason_and_the_job_keeps_running(main_run):
    assert main_run["dead"] == main_run["want_dead"]
    reasons = {json.loads(d)["reason"] for d in main_run["dead"]}
    assert reasons == {"not_utf8", "not_json", "missing_tenant", "missing_event_time", "bad_event_time",
                       "bad_type:network_latency", "late", "missing_key:collector.uid"}
    bad = sc.bad_events()
    for reason, line in bad.items():
        assert {"source": EVENTS, "reason": reason, "line": sc.dead_line(line)} in [json.loads(d) for d in main_run["dead"]]
    # the alerts came after the bad records (they sit in the middle of the input) and the job
    # was still running when everything had arrived
    assert main_run["state_after"] == "RUNNING"


# ------------------------------------------------------------------------------ live job
@pytest.fixture(scope="module")
def live_run(kafka_flink_env, kafka_bootstrap, expected, tmp_path_factory):
    """initech with a 2 s idle timeout: events arrive while the job runs, a config change in between."""
    from nql_flink.deploy.embedded.runner import start_job
    from nql_flink.deploy.submit import prepare_kafka
    from nql_flink.translator.flink.codegen import session_options

    tmp = tmp_path_factory.mktemp("live")
    prefix = f"live{int(time.time() * 1000) % 10**8}."
    props = tmp / "kafka.properties"
    props.write_text(f"bootstrap.servers={kafka_bootstrap}\n")
    idle = "2 s"
    compiled = compile_scenario(credentials=f"file:{props}", topic_prefix=prefix, group_id=prefix + "nql",
                                idle_timeout=idle)
    o = compiled_options(prefix, idle_timeout=idle)
    events_topic, inv_topic, cfg_topic = o.topic("nql.session.vdi_events"), o.topic("nql.device.devices"), \
        o.topic(o.config_topic)
    # the event topic has a second partition that never gets a record before the flush
    kc.create_topics(kafka_bootstrap, [events_topic], partitions=2)
    prepare_kafka(kafka_bootstrap, compiled, o)
    assert kc.partitions(kafka_bootstrap, events_topic) == [0, 1]
    produce_table(kafka_bootstrap, inv_topic, INVENTORY, sc.inventory(("initech",)) + [sc.bad_device("initech")])
    result = start_job(compiled.statements(), t_env=kafka_flink_env,
                       config={**session_options(o), "restart-strategy.type": "none"})
    state = embedded_state(result)
    out: dict = {"idle_timeout_s": 2.0}
    try:
        alerts_topic = o.topic(o.alerts_topic)
        # the job has read the inventory once its bad record is dead-lettered
        wait_for(kafka_bootstrap, o.topic(o.dead_letters_topic), lambda g: len(g) >= 1, state)
        # phase 1: S(0)..S(4), partition 0 only; inventory and config topics stay quiet
        produce_table(kafka_bootstrap, events_topic, EVENTS,
                      sc.event_lines(bad=False, tenants=("initech",), samples=range(5)), partition=0)
        t1 = time.monotonic()
        first = wait_for(kafka_bootstrap, alerts_topic, lambda g: len(g) >= 1, state)
        out["first_alert_s"] = time.monotonic() - t1
        out["first"] = first
        # a new threshold while it runs: trigger_1 200 from T1 = 10:03:30 (watermark is 10:01:50)
        v2 = sc.config_v2(list(compiled.job.config_records))
        publish_config(kafka_bootstrap, cfg_topic, [json.dumps(v2, sort_keys=True)])
        time.sleep(3)  # the config source reads it (sub-second) before events pass T1
        produce_table(kafka_bootstrap, events_topic, EVENTS,
                      sc.event_lines(bad=False, tenants=("initech",), samples=range(5, 12)), partition=0)
        for topic, table in ((events_topic, EVENTS), (inv_topic, INVENTORY), (cfg_topic, "monitor_config")):
            send_flush(kafka_bootstrap, topic, table)
        want = of_tenants(expected["alerts"], "initech")
        out["alerts"] = wait_for(kafka_bootstrap, alerts_topic, lambda g: len(g) >= len(want), state)
        out["want"] = want
        out["state_after"] = state()
        yield out
    finally:
        result.get_job_client().cancel().result()


def test_idle_partition_and_quiet_topics_do_not_hold_back_alerts(live_run):
    """Phase 1 has records on partition 0 only; partition 1, the inventory and the config topic
    have nothing newer than 09:00 / 1970. Without idleness their watermarks would hold every
    temporal join and window forever; the first alert arrives within the idle timeout (2 s)
    plus a checkpoint (1 s) plus processing (a few seconds; the bound leaves room for a busy
    2-core CI machine)."""
    assert [json.loads(a)["status"] for a in live_run["first"]] == ["triggered"]
    print(f"first alert {live_run['first_alert_s']:.1f}s after the phase-1 records")
    assert live_run["first_alert_s"] < live_run["idle_timeout_s"] + 45, live_run["first_alert_s"]


def test_an_alert_does_not_wait_for_the_inventory_lookup_of_the_record_that_completes_it(live_run):
    """Phase 1 ends with S(4) = 10:02:00: initech's clock (its newest event time less the 10 s
    lateness) is 10:01:50, past the end of the window [10:00:30, 10:01:30), the third of the
    streak that triggers at 10:01:30 (scenario.py). The events' watermark is also 10:01:50, so
    S(4)'s own device version is not final yet (10:02:00 > 10:01:50): the window is judged
    without it, the record waiting in the windows function for its first fold (udfs/jvm
    InventoryWindows, docs/flink-job-shape.md §7). With the inventory's temporal join, the
    clock passed the join ahead of the record (PartitionClock); before that, the window waited
    for a record a lateness later still (S(5))."""
    assert [(a["status"], a["at"]) for a in map(json.loads, live_run["first"])] == [
        ("triggered", "2026-11-26T10:01:30.000Z")]


def test_threshold_change_on_the_config_topic_applies_from_its_event_time(live_run):
    assert live_run["alerts"] == live_run["want"]
    fin = '{"device.virtualization.desktop_pool": "Finance-Win11"}'
    # v1 (300) until 10:03:30, then 200: recovery at 10:05:30, not at 10:04:00 as under v1
    assert sc.timeline(live_run["alerts"]) == [
        ("initech", fin, "recovered", "2026-11-26T10:05:30.000Z"),
        ("initech", fin, "triggered", "2026-11-26T10:01:30.000Z")]
    [rec] = [json.loads(a) for a in live_run["alerts"] if '"recovered"' in a]
    assert rec["condition"] == "not (avg_latency > 200ms and sessions >= 2)"
    assert live_run["state_after"] == "RUNNING"  # no restart


# ------------------------------------------------------------------------------ sql-client
def test_deploy_with_sql_client_to_the_standalone_cluster(flink_cluster, kafka_bootstrap, expected, tmp_path):
    """`nql-flink deploy sql-client` (the command itself): scripts written, topics created,
    config published, job submitted by sql-client.sh -i init.sql -f job.sql with the udfs
    package shipped; the cluster's JVMs connect over SASL with the address and JAAS line from
    their environment (tests/kafka/conftest.py flink_cluster), the scripts hold neither."""
    from tests.kafka.conftest import SASL_PASSWORD
    from nql_flink.translator.cli import main as cli

    prefix = f"sqlc{int(time.time() * 1000) % 10**8}."
    o = compiled_options(prefix)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli(["deploy", "sql-client", str(sc.MONITORS), "--kafka", kafka_bootstrap,
                  "--cluster-state", str(flink_cluster.state_dir), "--out", str(tmp_path / "deploy"),
                  "--topic-prefix", prefix, "--group-id", prefix + "nql", "--job-name", prefix + "job",
                  "--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanism", "PLAIN",
                  "--checkpoint-interval", "1 s", "--idle-timeout", "1 min"])
    assert rc == 0
    job_id = out.getvalue().split()[-1]
    try:
        scripts = (tmp_path / "deploy" / "job.sql").read_text() + (tmp_path / "deploy" / "init.sql").read_text()
        assert SASL_PASSWORD not in scripts and kafka_bootstrap not in scripts
        assert "${env:NQL_KAFKA_BOOTSTRAP_SERVERS}" in scripts and "${env:NQL_KAFKA_SASL_JAAS_CONFIG}" in scripts
        # the config records are on the config topic, keyed tenant/monitor
        cfg = dict(kc.tail(kafka_bootstrap, o.topic(o.config_topic), timeout=10, idle_timeout=1))
        assert set(cfg) == {b"acme/kafka_latency", b"globex/kafka_latency", b"initech/kafka_latency"}
        flink_cluster.wait_job(lambda j: j["jid"] == job_id, states=("RUNNING",), timeout=90)
        kc.produce(kafka_bootstrap, o.topic(o.config_topic), sc.flush_records("monitor_config"))
        produce_table(kafka_bootstrap, o.topic("nql.device.devices"), INVENTORY, expected["inputs"][INVENTORY])
        produce_table(kafka_bootstrap, o.topic("nql.session.vdi_events"), EVENTS, expected["inputs"][EVENTS])

        def state():
            return flink_cluster.rest(f"/jobs/{job_id}")["state"]

        want = of_tenants(expected["alerts"], "acme", "globex")
        alerts = wait_for(kafka_bootstrap, o.topic(o.alerts_topic), lambda g: len(g) >= len(want), state)
        assert alerts == want
        want_dead = [d for d in expected["dead"] if '\\"initech\\"' not in d]
        assert wait_for(kafka_bootstrap, o.topic(o.dead_letters_topic), lambda g: len(g) >= len(want_dead),
                        state) == want_dead
        assert state() == "RUNNING"
    finally:
        flink_cluster.cancel(job_id)
    flink_cluster.wait_job(lambda j: j["jid"] == job_id, states=("CANCELED",), timeout=60)
