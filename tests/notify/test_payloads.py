"""What the notifier sends, built without any network: the idempotency key, labels and
fingerprint, the webhook body and its signature, the Alertmanager alerts, the email; and the
reasons a record of the alert topic is not an alert. Expected values written by hand."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nql_flink.deploy.notify import payloads as P
from nql_flink.deploy.notify.alert import fingerprint, idempotency_key, identity_labels, labels, parse_alert
from nql_flink.deploy.notify.receivers import Receiver
from nql_flink.deploy.notify.senders import backoff
from tests.notify.records import RECOVERED, TRIGGERED

TRIG_KEY, REC_KEY = "815b0b6b65a56af84757cfc38f44ca63", "1c95bfc51b1328d611d74829dbf89567"
LABELS = {"alertname": "vdi_latency_by_pool", "tenant": "acme",
          "device_virtualization_desktop_pool": "Finance-Win11", "priority": "high"}


def alert(record: dict, **changes):
    return parse_alert(json.dumps({**record, **changes}).encode())


def test_the_idempotency_key_hashes_tenant_monitor_group_status_and_the_transition_time():
    at_ms = int(datetime(2026, 11, 26, 14, 28, 30, tzinfo=timezone.utc).timestamp() * 1000)
    text = ('["acme","vdi_latency_by_pool","{\\"device.virtualization.desktop_pool\\":\\"Finance-Win11\\"}",'
            f'"triggered",{at_ms}]')
    assert hashlib.sha256(text.encode()).hexdigest()[:32] == TRIG_KEY == idempotency_key(alert(TRIGGERED))
    assert idempotency_key(alert(RECOVERED)) == REC_KEY
    # the same transition, another delivery or another rendering of its record: the same key
    assert idempotency_key(alert(TRIGGERED, values={"avg_latency": 1.0}, alert_id="x", at="2026-11-26T14:28:30Z")) == TRIG_KEY
    two_keys = {"b": 1, "a": 2}
    assert (idempotency_key(alert(TRIGGERED, group=two_keys))
            == idempotency_key(alert(TRIGGERED, group=dict(reversed(two_keys.items())))))
    # any other transition: another key
    others = [alert(TRIGGERED, tenant="globex"), alert(TRIGGERED, monitor="other"),
              alert(TRIGGERED, group={"device.virtualization.desktop_pool": "Sales"}),
              alert(TRIGGERED, at="2026-11-26T14:28:30.001Z"), alert(TRIGGERED, status="recovered")]
    assert len({idempotency_key(a) for a in others} | {TRIG_KEY}) == 6


def test_labels_name_the_group_for_alertmanager_and_the_fingerprint_is_alertmanagers():
    assert labels(alert(TRIGGERED)) == LABELS
    # prometheus/common: FNV-1a 64; the empty label set is the offset basis
    assert fingerprint({}) == "cbf29ce484222325"
    assert fingerprint(LABELS) == "3818336cb4981d6e"  # what Alertmanager 0.25 shows (tests/kafka/test_notify.py)
    odd = alert(TRIGGERED, group={"1st": "a", "alertname": "b", "a.b": None, "a_b": 3, "x": True})
    assert identity_labels(odd) == {"alertname": "vdi_latency_by_pool", "tenant": "acme", "_1st": "a",
                                    "group_alertname": "b", "a_b": "null", "group_a_b": "3", "x": "true"}


def test_webhook_body_is_alertmanagers_version_4_with_the_key():
    link = "https://grafana.example/d/nql?tenant={tenant}&monitor={monitor}&alert={alert_id}&at={at}"
    body = P.webhook_body([alert(TRIGGERED)], "oncall", link=link, external_url="https://nql.example")
    annotations = {
        "summary": "VDI network latency by desktop pool triggered [device.virtualization.desktop_pool=Finance-Win11]: "
                   "avg_latency=404.7, sessions=18",
        "alert_id": "b9d8ff09e1f3c2a4b5d6e7f8091a2b3c", "status": "triggered", "at": "2026-11-26T14:28:30.000Z",
        "name": "VDI network latency by desktop pool", "condition": "avg_latency > 300ms and sessions >= 5",
        "priority": "high", "values": '{"avg_latency":404.7,"sessions":18}',
        "window": '{"start":"2026-11-26T14:23:30.000Z","end":"2026-11-26T14:28:30.000Z"}',
        "impact": '{"devices":18,"users":17}', "tags": "VDI,network"}
    assert body == {
        "version": "4", "groupKey": '{}:{alertname="vdi_latency_by_pool", tenant="acme"}', "truncatedAlerts": 0,
        "status": "firing", "receiver": "oncall", "groupLabels": {"alertname": "vdi_latency_by_pool", "tenant": "acme"},
        "commonLabels": LABELS, "commonAnnotations": annotations, "externalURL": "https://nql.example",
        "alerts": [{"status": "firing", "labels": LABELS, "annotations": annotations,
                    "startsAt": "2026-11-26T14:28:30.000Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "https://grafana.example/d/nql?tenant=acme&monitor=vdi_latency_by_pool"
                                    "&alert=b9d8ff09e1f3c2a4b5d6e7f8091a2b3c&at=2026-11-26T14%3A28%3A30.000Z",
                    "fingerprint": "3818336cb4981d6e"}],
        "idempotencyKey": TRIG_KEY}
    resolved = P.webhook_body([alert(RECOVERED)], "oncall")
    assert (resolved["status"], resolved["alerts"][0]["status"], resolved["idempotencyKey"]) == ("resolved", "resolved", REC_KEY)
    assert (resolved["alerts"][0]["startsAt"], resolved["alerts"][0]["endsAt"]) == ("0001-01-01T00:00:00Z",
                                                                                    "2026-11-26T14:37:00.000Z")
    assert resolved["alerts"][0]["annotations"]["alert_id"] == TRIGGERED["alert_id"]


def test_the_signature_is_the_hmac_sha256_of_the_exact_body():
    body = P.encode(P.webhook_body([alert(TRIGGERED)], "oncall"))
    assert P.signature("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert P.signature("s3cret", body) != P.signature("other", body)


def test_alertmanager_alerts_fire_until_hold_and_resolve_at_the_recovery():
    now = int(datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc).timestamp() * 1000)
    fired = P.alertmanager_alert(alert(TRIGGERED), link=None, now_ms=now, hold_ms=7 * 86_400_000)
    assert (fired["labels"], fired["startsAt"], fired["endsAt"], fired["generatorURL"]) == (
        LABELS, "2026-11-26T14:28:30.000Z", "2026-12-09T12:00:00.000Z", "")
    held = {"labels": {**LABELS, "priority": "critical"}, "startsAt": "2026-11-26T14:28:30.000Z",
            "generatorURL": "http://g"}
    ended = P.resolving(held, alert(RECOVERED), link=None)
    assert (ended["labels"], ended["startsAt"], ended["endsAt"], ended["generatorURL"]) == (
        {**LABELS, "priority": "critical"}, "2026-11-26T14:28:30.000Z", "2026-11-26T14:37:00.000Z", "http://g")
    assert ended["annotations"]["condition"] == "avg_latency <= 250ms"


def test_email_has_plain_text_and_html_with_values_impact_baseline_and_link():
    seasonal = alert(TRIGGERED, baseline={"centre": 120.5, "band": [80.0, 161.0], "slot": "14:15", "history_size": 28})
    msg = P.email_message([seasonal], sender="nql@example.com", to=["a@example.com", "b@example.com"],
                          link="https://g.example/{monitor}?alert={alert_id}", now_ms=0)
    assert msg["Subject"] == "[TRIGGERED] acme/vdi_latency_by_pool [device.virtualization.desktop_pool=Finance-Win11] (high)"
    assert (msg["From"], msg["To"]) == ("nql@example.com", "a@example.com, b@example.com")
    assert (msg["Message-ID"], msg["X-NQL-Idempotency-Key"]) == (f"<{TRIG_KEY}@nql-flink>", TRIG_KEY)
    plain, rich = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
    assert plain == (
        "monitor          acme/vdi_latency_by_pool (VDI network latency by desktop pool)\n"
        "status           triggered at 2026-11-26T14:28:30.000Z\n"
        "group            device.virtualization.desktop_pool = Finance-Win11\n"
        "values           avg_latency = 404.7, sessions = 18\n"
        "condition        avg_latency > 300ms and sessions >= 5\n"
        "window           2026-11-26T14:23:30.000Z to 2026-11-26T14:28:30.000Z\n"
        "baseline         centre = 120.5, band = [80.0, 161.0], slot = \"14:15\", history_size = 28\n"
        "impact           devices = 18, users = 17\n"
        "priority         high\n"
        "link             https://g.example/vdi_latency_by_pool?alert=b9d8ff09e1f3c2a4b5d6e7f8091a2b3c\n"
        "alert id         b9d8ff09e1f3c2a4b5d6e7f8091a2b3c\n"
        f"idempotency key  {TRIG_KEY}\n")
    assert '<th align="left">condition</th><td>avg_latency &gt; 300ms and sessions &gt;= 5</td>' in rich
    assert ('<th align="left">link</th><td><a href="https://g.example/vdi_latency_by_pool?alert=b9d8ff09e1f3c2a4b5d6e7f8091a2b3c">'
            in rich)
    assert '<th align="left">impact</th><td>devices = 18, users = 17</td>' in rich


@pytest.mark.parametrize("value, reason", [
    (b"{not json", "not JSON (JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    (b"\xff\xfe", "not JSON (UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte)"),
    (b"[1, 2]", "not a JSON object but list"),
    (b'{"tenant": "acme", "monitor": "m"}', "missing alert_id, status, at, group"),
    (json.dumps({**TRIGGERED, "group": ["x"]}).encode(), "wrong type: group is list"),
    (json.dumps({**TRIGGERED, "status": "pending"}).encode(), "status 'pending' is not triggered or recovered"),
    (json.dumps({**TRIGGERED, "at": "2026-11-26 14:28"}).encode(), "at '2026-11-26 14:28' is not an ISO-8601 UTC time"),
    (json.dumps({**TRIGGERED, "at": "2026-13-26T14:28:30.000Z"}).encode(),
     "at '2026-13-26T14:28:30.000Z' is not an ISO-8601 UTC time"),
    (None, "empty record (tombstone)"),
    (json.dumps({**TRIGGERED, "name": "\ud800"}).encode(), "a string escape that is not a character (a lone surrogate)"),
])
def test_a_record_that_is_not_an_alert_gives_its_reason(value, reason):
    assert parse_alert(value) == reason


def test_link_templates_name_known_fields_only():
    assert P.link_problem("https://x/{tenant}/{monitor}?a={alert_id}&s={status}&t={at}&k={key}") is None
    assert P.link_problem("https://x/{pool}") == "unknown field {pool} (fields: tenant, monitor, alert_id, status, at, key)"
    assert P.link_problem("https://x/{tenant!r}") == "{tenant} takes no format or conversion"
    assert P.link_problem("https://x/{tenant") == "expected '}' before end of string"


def test_backoff_doubles_from_initial_up_to_max():
    r = Receiver(name="r", kind="webhook", retry_initial_s=0.5, retry_max_s=3.0)
    assert [backoff(n, r) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64) | st.dictionaries(st.sampled_from(sorted(TRIGGERED)), JSON).map(lambda d: json.dumps(d).encode()))
def test_any_bytes_give_an_alert_or_a_reason(value):
    assert isinstance(parse_alert(value), str) or parse_alert(value).status in ("triggered", "recovered")


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({"group": st.dictionaries(st.text(max_size=6), JSON, max_size=3)},
                             optional={k: JSON for k in ("values", "window", "baseline", "impact", "priority", "name",
                                                         "tags", "condition")}))
def test_every_payload_builds_from_any_alert_with_the_required_fields(fields):
    a = alert(TRIGGERED, **fields) if "window" in fields else alert({k: v for k, v in TRIGGERED.items()
                                                                    if k not in ("values", "window")}, **fields)
    for status in ("triggered", "recovered"):
        x = alert(a.record, status=status)
        P.encode(P.webhook_body([x], "r", link="https://g/{key}"))
        P.encode([P.alertmanager_alert(x, link=None, now_ms=0, hold_ms=1)])
        P.email_message([x], sender="a@b", to=["c@d"], link="https://g/{monitor}", now_ms=0).as_bytes()
        assert fingerprint(labels(x)) == fingerprint(dict(labels(x)))
