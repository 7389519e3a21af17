"""One delivery attempt against real receivers on loopback, no Kafka: what is delivered, what is
retried (the receiver may come back or be fixed) and what is rejected (the same content would
be refused again)."""
from __future__ import annotations

import json

import pytest

from nql_flink.deploy.local_service import free_port
from nql_flink.deploy.notify.alert import parse_alert
from nql_flink.deploy.notify.receivers import Receiver
from nql_flink.deploy.notify.senders import Outcome, attempt
from tests.notify.records import TRIGGERED
from tests.notify.servers import Mailbox, Webhook

ALERT = parse_alert(json.dumps(TRIGGERED).encode())


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
