"""One delivery attempt against real receivers on loopback, no Kafka: what is delivered, what is
retried (the receiver may come back or be fixed) and what is rejected (the same content would
be refused again)."""
from __future__ import annotations

import hashlib
import json

import pytest

from nql_flink.deploy.local_service import free_port
from nql_flink.deploy.notify.alert import idempotency_key, parse_alert
from nql_flink.deploy.notify.receivers import Receiver
from nql_flink.deploy.notify.senders import Outcome, attempt
from tests.notify.records import TRIGGERED
from tests.notify.servers import Alertmanager, Mailbox, Webhook

ALERT = [parse_alert(json.dumps(TRIGGERED).encode())]  # one delivery: one transition


@pytest.mark.parametrize("status, kind", [(200, "delivered"), (202, "delivered"), (400, "rejected"),
                                          (422, "rejected"), (401, "retry"), (404, "retry"), (429, "retry"),
                                          (500, "retry"), (503, "retry")])
def test_http_status_decides_between_retry_and_rejected(status, kind):
    hook = Webhook(fail=[status] if status != 200 else [])
    try:
        outcome = attempt(Receiver(name="hook", kind="webhook", url=hook.url, timeout_s=5), ALERT)
    finally:
        hook.stop()
    assert outcome.kind == kind and outcome.detail.startswith(f"HTTP {status}")


def test_nobody_listening_is_retried():
    outcome = attempt(Receiver(name="hook", kind="webhook", url=f"http://127.0.0.1:{free_port()}/", timeout_s=5), ALERT)
    assert outcome == Outcome("retry", "ConnectionRefusedError: [Errno 111] Connection refused")


def test_smtp_without_the_starttls_the_server_requires_is_retried(tmp_path):
    box = Mailbox("nql", "pw", tmp_path)
    try:
        mail = Receiver(name="mail", kind="email", host="127.0.0.1", port=box.port, tls="none", username="nql",
                        sender="nql@example.com", to=("team@example.com",), timeout_s=5, secret="pw")
        plain = attempt(mail, ALERT)
        tls = attempt(Receiver(**{**mail.__dict__, "tls": "starttls", "ca_file": str(box.cert)}), ALERT)
    finally:
        box.stop()
    assert plain == Outcome("retry", "SMTPNotSupportedError: SMTP AUTH extension not supported by server.")
    assert tls == Outcome("delivered", "SMTP accepted") and box.count() == 1


def test_a_grouped_notification_is_one_webhook_call_one_email_and_one_alertmanager_post(tmp_path):
    """Two groups of one monitor triggered in one grouping interval (docs/processing.md): each
    receiver gets them in one message, keyed by both transitions' keys; each alert keeps its own."""
    pools = ("Finance-Win11", "Sales-Win10")
    alerts = [parse_alert(json.dumps({**TRIGGERED, "alert_id": f"{i:032x}",
                                      "group": {"device.virtualization.desktop_pool": p}}).encode())
              for i, p in enumerate(pools)]
    keys = [idempotency_key(a) for a in alerts]  # each checked by hand in test_payloads
    key = hashlib.sha256(json.dumps(["notification", keys]).encode()).hexdigest()[:32]
    hook, box, am = Webhook(), Mailbox("nql", "pw", tmp_path), Alertmanager()
    try:
        outcomes = [attempt(Receiver(name="hook", kind="webhook", url=hook.url, timeout_s=5), alerts),
                    attempt(Receiver(name="mail", kind="email", host="127.0.0.1", port=box.port, tls="starttls",
                                     ca_file=str(box.cert), username="nql", secret="pw", sender="nql@example.com",
                                     to=("team@example.com",), timeout_s=5), alerts),
                    attempt(Receiver(name="am", kind="alertmanager", url=am.url, timeout_s=5), alerts)]
        held = sorted(a["labels"]["device_virtualization_desktop_pool"] for a in am.alerts(alertname="vdi_latency_by_pool"))
    finally:
        hook.stop(), box.stop(), am.stop()
    assert [o.kind for o in outcomes] == ["delivered"] * 3
    [req] = hook.requests
    body = req.json
    assert (body["status"], body["idempotencyKey"], req.headers["Idempotency-Key"]) == ("firing", key, key)
    assert [a["labels"]["device_virtualization_desktop_pool"] for a in body["alerts"]] == list(pools)
    assert body["commonLabels"] == {"alertname": "vdi_latency_by_pool", "tenant": "acme", "priority": "high"}
    assert "alert_id" not in body["commonAnnotations"] and body["commonAnnotations"]["status"] == "triggered"
    [msg] = box.messages
    assert msg["Subject"] == ("[TRIGGERED 2] acme/vdi_latency_by_pool [device.virtualization.desktop_pool=Finance-Win11], "
                              "[device.virtualization.desktop_pool=Sales-Win10]")
    assert (msg["Message-ID"], msg["X-NQL-Idempotency-Key"]) == (f"<{key}@nql-flink>", key)
    plain = msg.get_body(("plain",)).get_content()
    assert [line.split()[-1] for line in plain.splitlines() if line.startswith("idempotency key")] == keys
    assert held == sorted(pools)
