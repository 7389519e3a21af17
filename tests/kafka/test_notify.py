"""`nql-flink notify` against real components on loopback: the session's Kafka broker, an
SMTP server (aiosmtpd), a webhook receiver (http.server) and Prometheus Alertmanager 0.25 from
the OS packages, checked through its own API v2. Alert records are produced onto a fresh topic
by the tests (the notifier reads what a job writes; no job is needed).

Deterministic: a receiver fails for a number of requests, not for a time; the notifier is
killed from inside the webhook's handler at a chosen request.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections import defaultdict

import pytest

from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.local_service import free_port, wait_until
from nql_flink.deploy.notify.receivers import read_receivers, routes
from nql_flink.deploy.notify.service import Notifier, Settings
from nql_flink.translator.cli import main
from nql_flink.translator.pipeline import check_paths
from tests.notify.records import RECOVERED, TRIGGERED, monitor_file, transitions
from tests.notify.servers import Alertmanager, Mailbox, Webhook

pytestmark = pytest.mark.kafka

HOOK_SECRET, SMTP_USER, SMTP_PASSWORD = "whsec-4b1d", "nql", "smtp-pw-77"
ENV = {"NQL_TEST_HOOK_SECRET": HOOK_SECRET, "NQL_TEST_SMTP_PASSWORD": SMTP_PASSWORD}
TRIG_KEY, REC_KEY = "815b0b6b65a56af84757cfc38f44ca63", "1c95bfc51b1328d611d74829dbf89567"
LABELS = {"alertname": "vdi_latency_by_pool", "tenant": "acme",
          "device_virtualization_desktop_pool": "Finance-Win11", "priority": "high"}
WHAT = "acme/vdi_latency_by_pool [device.virtualization.desktop_pool=Finance-Win11]"


def receivers_file(tmp_path, *, hook: str | None = None, mail: Mailbox | None = None, am: str | None = None):
    text = "receivers:\n"
    if hook:
        text += (f"  hook:\n    kind: webhook\n    url: {hook}\n    secret_env: NQL_TEST_HOOK_SECRET\n    timeout: 2s\n"
                 "    retry: {initial: 50ms, max: 200ms}\n    link: https://g.example/d/nql?tenant={tenant}&alert={alert_id}\n")
    if mail:
        text += (f"  mail:\n    kind: email\n    host: 127.0.0.1\n    port: {mail.port}\n    tls: starttls\n"
                 f"    ca_file: {mail.cert}\n"
                 f"    username: {SMTP_USER}\n    password_env: NQL_TEST_SMTP_PASSWORD\n    from: nql@example.com\n"
                 "    to: [vdi-team@example.com, oncall@example.com]\n    retry: {initial: 50ms, max: 200ms}\n"
                 "    link: https://g.example/d/nql?tenant={tenant}&alert={alert_id}\n")
    if am:
        text += f"  am:\n    kind: alertmanager\n    url: {am}\n    timeout: 5s\n    retry: {{initial: 50ms, max: 200ms}}\n"
    path = tmp_path / "receivers.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def env(monkeypatch):
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def mailbox(tmp_path):
    box = Mailbox(SMTP_USER, SMTP_PASSWORD, tmp_path)
    yield box
    box.stop()


def alert_topic(bootstrap: str, topic_name, records) -> str:
    topic = topic_name("alerts")
    kc.create_topics(bootstrap, [topic], partitions=2)
    kc.produce(bootstrap, topic, [(r["alert_id"], r) if isinstance(r, dict) else (None, r) for r in records])
    return topic


def notify_args(monitor, receivers, bootstrap, topic, *more) -> list[str]:
    return ["notify", str(monitor), "--receivers", str(receivers), "--kafka", bootstrap, "--topic", topic,
            "--name", f"t-{topic}", *more]


def keys_of(requests) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in requests]


def one_body_per_key(requests) -> dict[str, bytes]:
    """key -> body; a key delivered twice must have been the same body (a recognisable duplicate)."""
    bodies = defaultdict(set)
    for r in requests:
        body = r.json
        assert r.headers["Idempotency-Key"] == body["idempotencyKey"]
        bodies[body["idempotencyKey"]].add(json.dumps(body, sort_keys=True))
    assert {k: len(v) for k, v in bodies.items() if len(v) > 1} == {}
    return {k: v.pop() for k, v in bodies.items()}


def test_triggered_then_recovered_reaches_every_receiver_once(kafka_bootstrap, topic_name, tmp_path, env, capsys):
    am = Alertmanager()
    hook = Webhook()
    mailbox = Mailbox(SMTP_USER, SMTP_PASSWORD, tmp_path)  # STARTTLS required, then AUTH
    try:
        monitor = monitor_file(tmp_path, "hook", "mail", "am")
        receivers = receivers_file(tmp_path, hook=hook.url, mail=mailbox, am=am.url)
        topic = alert_topic(kafka_bootstrap, topic_name, [TRIGGERED])
        args = notify_args(monitor, receivers, kafka_bootstrap, topic, "--once")
        assert main(args) == 0
        out = capsys.readouterr().out
        for r in ("hook", "mail", "am"):
            assert f"{r}  delivered  triggered {WHAT} at 2026-11-26T14:28:30.000Z key={TRIG_KEY}" in out

        # the webhook: Alertmanager's payload, signed, with the key
        [req] = hook.requests
        assert req.path == "/hook" and req.headers["Content-Type"] == "application/json"
        assert req.headers["X-NQL-Signature"] == "sha256=" + hmac.new(HOOK_SECRET.encode(), req.body,
                                                                      hashlib.sha256).hexdigest()
        body = req.json
        assert (body["version"], body["status"], body["receiver"], body["idempotencyKey"]) == ("4", "firing", "hook",
                                                                                                TRIG_KEY)
        assert req.headers["Idempotency-Key"] == TRIG_KEY
        assert body["groupLabels"] == {"alertname": "vdi_latency_by_pool", "tenant": "acme"}
        [sent] = body["alerts"]
        assert (sent["labels"], sent["startsAt"], sent["endsAt"]) == (LABELS, "2026-11-26T14:28:30.000Z",
                                                                      "0001-01-01T00:00:00Z")
        assert sent["generatorURL"] == "https://g.example/d/nql?tenant=acme&alert=b9d8ff09e1f3c2a4b5d6e7f8091a2b3c"
        assert (sent["annotations"]["values"], sent["annotations"]["impact"]) == (
            '{"avg_latency":404.7,"sessions":18}', '{"devices":18,"users":17}')

        # the email, through STARTTLS and AUTH
        [msg] = mailbox.messages
        assert mailbox.envelopes == [("nql@example.com", ["vdi-team@example.com", "oncall@example.com"])]
        assert msg["Subject"] == f"[TRIGGERED] {WHAT} (high)"
        assert msg["Message-ID"] == f"<{TRIG_KEY}@nql-flink>"
        plain = msg.get_body(("plain",)).get_content()
        assert "values           avg_latency = 404.7, sessions = 18\n" in plain
        assert "impact           devices = 18, users = 17\n" in plain
        assert "link             https://g.example/d/nql?tenant=acme&alert=b9d8ff09e1f3c2a4b5d6e7f8091a2b3c\n" in plain
        assert "<td>avg_latency = 404.7, sessions = 18</td>" in msg.get_body(("html",)).get_content()

        # Alertmanager shows it firing, with the fingerprint the webhook payload carried
        [held] = am.alerts(alertname="vdi_latency_by_pool")
        assert (held["labels"], held["startsAt"], held["status"]["state"]) == (LABELS, "2026-11-26T14:28:30.000Z",
                                                                               "active")
        assert held["fingerprint"] == sent["fingerprint"] == "3818336cb4981d6e"
        assert held["annotations"]["alert_id"] == TRIGGERED["alert_id"]

        # the recovery: a second run resumes after the committed offsets (nothing sent twice)
        kc.produce(kafka_bootstrap, topic, [(RECOVERED["alert_id"], RECOVERED)])
        assert main(args) == 0
        out = capsys.readouterr().out
        assert f"am  delivered  recovered {WHAT} at 2026-11-26T14:37:00.000Z key={REC_KEY}  " in out
        assert "1 alert(s) resolved" in out
        assert keys_of(hook.requests) == [TRIG_KEY, REC_KEY]
        assert [(r.json["status"], r.json["alerts"][0]["endsAt"]) for r in hook.requests] == [
            ("firing", "0001-01-01T00:00:00Z"), ("resolved", "2026-11-26T14:37:00.000Z")]
        assert [m["Message-ID"] for m in mailbox.messages] == [f"<{TRIG_KEY}@nql-flink>", f"<{REC_KEY}@nql-flink>"]
        assert mailbox.messages[1]["Subject"] == f"[RECOVERED] {WHAT} (high)"
        assert "values           avg_latency = 96.5, sessions = 18\n" in mailbox.messages[1].get_body(("plain",)).get_content()
        assert am.alerts(alertname="vdi_latency_by_pool") == []  # resolved: no longer among the active alerts
    finally:
        hook.stop()
        am.stop()
        mailbox.stop()


def _notifier(tmp_path, bootstrap, topic, receivers_path, monitor) -> Notifier:
    receivers, diags = read_receivers(str(receivers_path))
    checked = check_paths([str(monitor)])
    table, more = routes(checked.monitors, receivers, str(receivers_path))
    assert [d.as_tuple() for d in diags + more] == []
    return Notifier(Settings(bootstrap=bootstrap, topic=topic, name=f"t-{topic}"), receivers, table,
                    print_line=lambda *a, **k: None)


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        lines = r.read().decode().splitlines()
    return {name: float(v) for name, v in (line.rsplit(" ", 1) for line in lines if not line.startswith("#"))}


def test_a_webhook_down_then_back_gets_every_transition_and_holds_up_nobody(kafka_bootstrap, topic_name, tmp_path,
                                                                            env, mailbox):
    records = transitions(["Finance-Win11", "Sales-Win10"])
    topic = alert_topic(kafka_bootstrap, topic_name, records)
    port = free_port()  # nobody listens: the webhook refuses connections
    monitor = monitor_file(tmp_path, "hook", "mail")
    notifier = _notifier(tmp_path, kafka_bootstrap, topic, receivers_file(
        tmp_path, hook=f"http://127.0.0.1:{port}/hook", mail=mailbox), monitor)
    metrics_port = free_port()
    server = notifier.metrics.serve("127.0.0.1", metrics_port)
    runner = threading.Thread(target=notifier.run)
    runner.start()
    hook = None
    try:
        # the email receiver gets all four while the webhook refuses every attempt
        assert wait_until(lambda: mailbox.count() == 4, timeout=60, interval=0.05)
        assert wait_until(lambda: _metrics(metrics_port)['nql_notify_failed_attempts_total{receiver="hook"}'] >= 2,
                          timeout=30, interval=0.05)
        m = _metrics(metrics_port)
        assert (m['nql_notify_delivered_total{receiver="hook"}'], m['nql_notify_receiver_failing{receiver="hook"}'],
                m['nql_notify_delivered_total{receiver="mail"}'], m['nql_notify_receiver_failing{receiver="mail"}']) == (
            0, 1, 4, 0)
        # back, answering 500 twice first
        hook = Webhook(port=port, fail=[500, 500])
        assert wait_until(lambda: len(hook.accepted()) == 4, timeout=60, interval=0.05)
        assert _metrics(metrics_port)['nql_notify_receiver_failing{receiver="hook"}'] == 0
    finally:
        notifier.stop.set()
        runner.join(30)
        server.shutdown()
        if hook is not None:
            hook.stop()
    assert not runner.is_alive()
    assert [r.status for r in hook.requests] == [500, 500, 200, 200, 200, 200]
    bodies = one_body_per_key(hook.requests)
    # every transition once, in the topic's order per group, one key each
    def transition(body):  # status, group, the transition's time
        [a] = body["alerts"]
        return body["status"], a["labels"]["device_virtualization_desktop_pool"], a["startsAt" if a["status"] == "firing" else "endsAt"]

    delivered = [transition(r.json) for r in hook.accepted()]
    assert sorted(delivered) == sorted([
        ("firing", "Finance-Win11", "2026-11-26T14:10:00.000Z"), ("firing", "Sales-Win10", "2026-11-26T14:11:00.000Z"),
        ("resolved", "Finance-Win11", "2026-11-26T15:10:00.000Z"), ("resolved", "Sales-Win10", "2026-11-26T15:11:00.000Z")])
    assert len(bodies) == 4 and set(keys_of(hook.requests[:3])) == {keys_of(hook.requests)[0]}  # retried: one key
    assert {m["X-NQL-Idempotency-Key"] for m in mailbox.messages} == set(bodies)


def test_a_notifier_killed_mid_stream_loses_nothing_and_repeats_only_with_the_same_key(kafka_bootstrap, topic_name,
                                                                                       tmp_path, env, mailbox):
    records = transitions(["P1", "P2", "P3"])
    topic = alert_topic(kafka_bootstrap, topic_name, records)
    process: list[subprocess.Popen] = []

    def mail_keys() -> set[str]:
        with mailbox.lock:
            return {m["X-NQL-Idempotency-Key"] for m in mailbox.messages}

    def kill_on_third(n):  # delivered to the webhook, not yet committed: the worst moment
        if n == 3 and len(process) == 1:
            os.kill(process[0].pid, signal.SIGKILL)
            process[0].wait()

    hook = Webhook(hook=kill_on_third)
    try:
        monitor = monitor_file(tmp_path, "hook", "mail")
        args = notify_args(monitor, receivers_file(tmp_path, hook=hook.url, mail=mailbox), kafka_bootstrap, topic)
        cmd = [sys.executable, "-m", "nql_flink.translator.cli", *args]
        process.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ | ENV))
        first = process[0].communicate(timeout=120)[0].decode()
        assert process[0].returncode == -signal.SIGKILL, first
        # restarted; stopped with SIGTERM once everything is in: a clean stop
        process.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=os.environ | ENV))
        assert wait_until(lambda: len(set(keys_of(hook.accepted()))) == 6 and len(mail_keys()) == 6, timeout=60,
                          interval=0.05, check=lambda: process[1].poll() is None or pytest.fail(process[1].stdout.read()))
        process[1].send_signal(signal.SIGTERM)
        again = process[1].communicate(timeout=60)[0]
        assert process[1].returncode == 0, again
    finally:
        for p in process:
            if p.poll() is None:
                p.kill()
        hook.stop()
    bodies = one_body_per_key(hook.requests)
    assert len(bodies) == 6  # nothing lost
    keys = keys_of(hook.requests)
    assert keys[2] in keys[3:]  # the one delivered when it was killed came again, with its key
    assert len(keys) == len(set(keys)) + 1
    assert mail_keys() == set(bodies)  # the email receiver too: all, duplicates only with their key
    assert "SIGTERM: stopping (what is not delivered yet is not committed)" in again
    assert "hook  delivered  " in again and "Traceback" not in first + again


def test_bad_records_are_reported_with_their_reason_and_skipped(kafka_bootstrap, topic_name, tmp_path, env, mailbox,
                                                                capsys):
    hook = Webhook()
    try:
        other = {**TRIGGERED, "monitor": "not_in_the_files", "alert_id": "ffff"}
        topic = topic_name("alerts")
        kc.create_topics(kafka_bootstrap, [topic], partitions=1)
        kc.produce(kafka_bootstrap, topic, [b"{oops", json.dumps([TRIGGERED]), TRIGGERED,
                                            json.dumps({k: v for k, v in TRIGGERED.items() if k != "at"}),
                                            {**TRIGGERED, "status": "flapping"}, other, RECOVERED])
        monitor = monitor_file(tmp_path, "hook", "mail")
        args = notify_args(monitor, receivers_file(tmp_path, hook=hook.url, mail=mailbox), kafka_bootstrap, topic,
                           "--once")
        assert main(args) == 0
        out = capsys.readouterr().out
        reports = sorted(line.split("  ", 1)[1] for line in out.splitlines() if "skipped:" in line or "no monitor" in line)
        assert reports == [
            f"bad record {topic}[0]@0 skipped: not JSON (JSONDecodeError: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1))",
            f"bad record {topic}[0]@1 skipped: not a JSON object but list",
            f"bad record {topic}[0]@3 skipped: missing at",
            f"bad record {topic}[0]@4 skipped: status 'flapping' is not triggered or recovered",
            "no monitor file for acme/not_in_the_files: its alerts are not delivered"]
        assert "hook: 2 delivered, 0 failed attempts, 0 rejected, 4 bad records skipped" in out
        assert keys_of(hook.requests) == [TRIG_KEY, REC_KEY]
        assert [m["X-NQL-Idempotency-Key"] for m in mailbox.messages] == [TRIG_KEY, REC_KEY]
        # the bad records' offsets were committed: a second run has nothing to do or to say
        assert main(args) == 0
        out = capsys.readouterr().out
        assert "skipped:" not in out and "hook: 0 delivered" in out and len(hook.requests) == 2
    finally:
        hook.stop()


def test_a_grouped_notification_record_is_one_delivery_per_receiver(kafka_bootstrap, topic_name, tmp_path, env, capsys,
                                                                   mailbox):
    """A record of the notifications topic (docs/processing.md, "Grouping") with two groups to
    notify and one muted entry: one webhook call and one email with the two, keyed by both."""
    first, second = ({**TRIGGERED, "alert_id": f"{i:032x}", "group": {"device.virtualization.desktop_pool": p}}
                     for i, p in enumerate(("Finance-Win11", "Sales-Win10")))
    muted = {**RECOVERED, "group": {"device.virtualization.desktop_pool": "HR-Win11"}}
    record = {"key": "acme/vdi_latency_by_pool/2026-11-26T14:30:00.000Z", "tenant": "acme",
              "monitor": "vdi_latency_by_pool", "at": "2026-11-26T14:30:00.000Z", "notify": True,
              "alerts": [{"alert": a, "notify": n, "flapping": False, "muted_by": [] if n else ["db-upgrade"],
                          "settled": False, "repeat": 0} for a, n in ((first, True), (muted, False), (second, True))]}
    hook = Webhook()
    try:
        monitor = monitor_file(tmp_path, "hook", "mail")
        receivers = receivers_file(tmp_path, hook=hook.url, mail=mailbox)
        topic = alert_topic(kafka_bootstrap, topic_name, [json.dumps(record).encode()])
        assert main(notify_args(monitor, receivers, kafka_bootstrap, topic, "--once")) == 0
    finally:
        hook.stop()
    out = capsys.readouterr().out
    keys = [hashlib.sha256(json.dumps(["acme", "vdi_latency_by_pool", json.dumps(a["group"], separators=(",", ":")),
                                       "triggered", 1795703310000], separators=(",", ":")).encode()).hexdigest()[:32]
            for a in (first, second)]  # docs/notify.md's key, 14:28:30 as epoch ms
    key = hashlib.sha256(json.dumps(["notification", keys]).encode()).hexdigest()[:32]
    [req] = hook.requests
    assert (req.json["idempotencyKey"], [a["annotations"]["alert_id"] for a in req.json["alerts"]]) == (
        key, [first["alert_id"], second["alert_id"]])
    [msg] = mailbox.messages
    assert msg["X-NQL-Idempotency-Key"] == key and msg["Subject"].startswith("[TRIGGERED 2] acme/vdi_latency_by_pool")
    assert out.count(f"delivered  2 alerts of acme/vdi_latency_by_pool") == 2 and "HR-Win11" not in out
