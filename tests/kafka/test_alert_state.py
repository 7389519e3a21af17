"""`nql-flink status` during an incident, on the real broker and the standalone cluster: the
scenario monitor (tests/kafka/scenario.py) deployed with `nql-flink deploy sql-client`, acme's
records sent in two phases.

Hand-derived (scenario.py: windows of 1 min every 30 s, lateness 10 s, acme Finance at 500 ms
from S(0) = 10:00:00, `for: 1min`, threshold 300; Sales at 250 ms):
  phase 1, samples S(0)..S(3) (newest 10:01:30): acme's clock is 10:01:20, so the windows
  ending 10:00:30 and 10:01:00 are evaluated, once S(3)'s records have passed the inventory's
  temporal join, which releases a record when the watermark passes its time: records of a
  tenant no monitor reads, from 10:01:40 a second apart while the test waits
  (scenario.Nudger), move the watermark to 10:01:30 and on (acme's clock stays 10:01:20: the
  window ending 10:01:30 waits). Finance is over the threshold in both: pending
  since 10:00:30 (its first window), due 10:01:30 (since + for), at 10:01:00, 30 s left.
  Sales is under it: ok since its first evaluation, 10:00:30.
  phase 2, S(4)..S(11): Finance triggers at 10:01:30 and recovers at 10:03:30 (scenario.py;
  S(11) moves the watermark to 10:05:20, past the recovery's window; records of the tenant
  nobody, from 10:05:40 a second apart, while the test waits: scenario.Nudger).
  phase 3, once the recovery shows, the flush records (wall-clock time, days later): with
  --evict-after 1h they move event time past every group's last evaluation + 1 h (+ the lag
  bound and a slide): Finance and Sales are ok, so both are evicted (at the watermark's next
  advance: flush records are sent again while the test waits), and the state topic gets a
  tombstone (a NULL value) for each. (Sent with phase 2 after the topic was idle, the flush's
  tick could drag acme past its windows before S(4).. reached them: docs/guarantees.md, "A
  burst after an idle topic".)
"""
from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import timedelta

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import client as kc
from tests.kafka import scenario as sc
from tests.kafka.test_end_to_end import EVENTS, INVENTORY, compiled_options, produce_table

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

WAIT = 180.0
FIN = 'acme/kafka_latency/{"device.virtualization.desktop_pool":"Finance-Win11"}'
SALES = 'acme/kafka_latency/{"device.virtualization.desktop_pool":"Sales-Win10"}'


def cli_out(*argv) -> tuple[int, str]:
    from nql_flink.translator.cli import main as cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = cli(list(argv))
    return rc, out.getvalue()


def until(predicate, what: str, job_state):
    deadline = time.monotonic() + WAIT
    got = None
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        assert job_state() == "RUNNING", f"job is {job_state()} while waiting for {what}"
        time.sleep(1)
    raise AssertionError(f"timeout after {WAIT}s waiting for {what}; last: {got}")


@pytest.fixture(scope="module")
def incident(flink_cluster, kafka_bootstrap, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alert-state")
    prefix = f"st{int(time.time() * 1000) % 10**8}."
    o = compiled_options(prefix)
    rc, out = cli_out("deploy", "sql-client", str(sc.MONITORS), "--kafka", kafka_bootstrap,
                      "--cluster-state", str(flink_cluster.state_dir), "--out", str(tmp / "deploy"),
                      "--topic-prefix", prefix, "--group-id", prefix + "nql", "--job-name", prefix + "job",
                      "--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanism", "PLAIN",
                      "--checkpoint-interval", "1 s", "--idle-timeout", "2 s", "--evict-after", "1h")
    assert rc == 0
    job_id = out.split()[-1]
    state_topic = o.topic(o.alert_state_topic)

    def job_state():
        return flink_cluster.rest(f"/jobs/{job_id}")["state"]

    def status(*extra):
        rc, text = cli_out("status", "--kafka", kafka_bootstrap, "--topic-prefix", prefix, *extra)
        assert rc == 0
        return text

    facts = {"cleanup": kc.topic_config(kafka_bootstrap, state_topic).get("cleanup.policy")}
    try:
        flink_cluster.wait_job(lambda j: j["jid"] == job_id, states=("RUNNING",), timeout=90)
        produce_table(kafka_bootstrap, o.topic("nql.device.devices"), INVENTORY, sc.inventory(("acme",)))
        send = lambda lines: produce_table(kafka_bootstrap, o.topic("nql.session.vdi_events"), EVENTS, lines)  # noqa: E731
        send(sc.event_lines(bad=False, tenants=("acme",), samples=range(4)))
        nudge = sc.Nudger(send, sc.S(3) + timedelta(seconds=10))

        def pending():
            nudge()
            rows = [json.loads(ln) for ln in status("--tenant", "acme", "--json").splitlines()]
            return rows if any(r["state"] == "pending" and r["at"] == "2026-11-26T10:01:00.000Z" for r in rows) else None

        try:
            facts["pending"] = until(pending, "a pending group", job_state)
        except AssertionError as e:
            counts = {t: kc.record_count(kafka_bootstrap, o.topic(t)) for t in
                      (o.alert_state_topic, o.alerts_topic, o.dead_letters_topic)}
            exceptions = flink_cluster.rest(f"/jobs/{job_id}/exceptions").get("root-exception")
            raise AssertionError(f"{e}; records: {counts}; status: {status()!r}; job exception: {exceptions}") from e
        facts["table"] = status("--monitor", "kafka_latency")
        facts["other_tenant"] = status("--tenant", "globex")
        send(sc.event_lines(bad=False, tenants=("acme",), samples=range(4, 12)))
        nudge = sc.Nudger(send, sc.S(11) + timedelta(seconds=10))

        def recovered():
            nudge()
            rows = [json.loads(ln) for ln in status("--tenant", "acme", "--json").splitlines()]
            return [r for r in rows if r["state"] == "ok" and "Finance-Win11" in json.dumps(r["group"])]

        facts["recovered"] = until(recovered, "Finance's recovery", job_state)
        produce_table(kafka_bootstrap, o.topic("nql.session.vdi_events"), EVENTS, sc.flush_lines(EVENTS))
        produce_table(kafka_bootstrap, o.topic("nql.device.devices"), INVENTORY, sc.flush_lines(INVENTORY))

        def tombstones():
            # a flush again at each look: an eviction is decided one watermark advance after
            # its timer fired (AlertStates.onTimer), and the watermark moves only with records
            produce_table(kafka_bootstrap, o.topic("nql.session.vdi_events"), EVENTS, sc.flush_lines(EVENTS))
            records = [(k.decode(), v) for k, v in kc.tail(kafka_bootstrap, state_topic, timeout=5, idle_timeout=1)]
            latest = dict(records)
            return records if FIN in latest and SALES in latest and latest[FIN] is None and latest[SALES] is None else None

        try:
            facts["records"] = until(tombstones, "the tombstones", job_state)
        except AssertionError as e:
            records = [(k.decode(), v) for k, v in kc.tail(kafka_bootstrap, state_topic, timeout=5, idle_timeout=1)]
            alerts = [v for _, v in kc.tail(kafka_bootstrap, o.topic(o.alerts_topic), timeout=5, idle_timeout=1)]
            raise AssertionError(f"{e}; state records: {records}; alerts: {alerts}") from e
        facts["after"] = status("--tenant", "acme", "--json")
        facts["alerts"] = [json.loads(v) for _, v in kc.tail(kafka_bootstrap, o.topic(o.alerts_topic), timeout=5,
                                                             idle_timeout=1)]
    finally:
        flink_cluster.cancel(job_id)
    flink_cluster.wait_job(lambda j: j["jid"] == job_id, states=("CANCELED",), timeout=60)
    return facts


def test_status_shows_the_pending_group_with_its_since(incident):
    rows = {r["group"]["device.virtualization.desktop_pool"]: r for r in incident["pending"]}
    fin, sales = rows["Finance-Win11"], rows["Sales-Win10"]
    assert (fin["state"], fin["since"], fin["due"], fin["at"], fin["left_ms"]) == (
        "pending", "2026-11-26T10:00:30.000Z", "2026-11-26T10:01:30.000Z", "2026-11-26T10:01:00.000Z", 30_000)
    assert fin["alert_id"] is None and fin["tenant"] == "acme" and fin["monitor"] == "kafka_latency"
    assert (sales["state"], sales["since"], sales["left_ms"]) == ("ok", "2026-11-26T10:00:30.000Z", None)
    # the readable table: a header, one aligned line per group, the time left for the pending one
    lines = incident["table"].splitlines()
    assert lines[0].split() == ["tenant", "monitor", "group", "state", "since", "left"]
    [fin_line] = [ln for ln in lines if "Finance" in ln]
    assert fin_line.split() == ["acme", "kafka_latency", '{"device.virtualization.desktop_pool":"Finance-Win11"}',
                                "pending", "2026-11-26T10:00:30.000Z", "30s"]
    assert lines[0].index("state") == fin_line.index("pending") and lines[0].index("left") == fin_line.index("30s")
    assert [ln.split()[0] for ln in incident["other_tenant"].splitlines()] == ["tenant"]   # --tenant filters


def test_the_state_topic_is_compacted_and_evicted_groups_get_a_tombstone(incident):
    assert incident["cleanup"] == "compact"
    fin = [json.loads(v) if v is not None else None for k, v in incident["records"] if k == FIN]
    shown = [(s["state"], s["since"]) if s else None for s in fin]
    # each change once (pending is shown at each of its evaluations), then the tombstone
    assert shown == [("pending", "2026-11-26T10:00:30.000Z"), ("pending", "2026-11-26T10:00:30.000Z"),
                     ("triggered", "2026-11-26T10:01:30.000Z"), ("ok", "2026-11-26T10:03:30.000Z"), None]
    [triggered] = [a for a in incident["alerts"] if a["status"] == "triggered"]
    assert fin[2]["alert_id"] == triggered["alert_id"]
    assert incident["after"] == ""          # evicted groups are not shown
