"""The notifier on the notifications topic (docs/processing.md): a notification record is
read as the alerts it marks to deliver, each with its transition's key (a repeat with its
own); a record of the alert topic still reads as its one alert. Expected values by hand."""
from __future__ import annotations

import hashlib
import json

from nql_flink.deploy.notify.alert import idempotency_key, parse_deliveries
from tests.notify.records import RECOVERED, TRIGGERED

TRIG_KEY = "815b0b6b65a56af84757cfc38f44ca63"


def entry(record: dict, notify: bool = True, repeat: int = 0, **flags) -> dict:
    return {"alert": record, "notify": notify, "flapping": False, "muted_by": [], "settled": False,
            "repeat": repeat, **flags}


def notification(*entries: dict) -> bytes:
    return json.dumps({"key": "acme/vdi_latency_by_pool/2026-11-26T14:30:00.000Z", "tenant": "acme",
                       "monitor": "vdi_latency_by_pool", "at": "2026-11-26T14:30:00.000Z",
                       "notify": any(e["notify"] for e in entries), "alerts": list(entries)}).encode()


def test_an_alert_topic_record_is_its_one_alert_with_its_key():
    (alert,) = parse_deliveries(json.dumps(TRIGGERED).encode())
    assert (alert.status, idempotency_key(alert)) == ("triggered", TRIG_KEY)


def test_a_notification_delivers_the_alerts_it_marks_in_order():
    value = notification(entry(TRIGGERED), entry(RECOVERED, notify=False, muted_by=["db-upgrade"]),
                         entry(TRIGGERED, notify=False, flapping=True))
    (alert,) = parse_deliveries(value)
    assert alert.record == TRIGGERED and idempotency_key(alert) == TRIG_KEY   # the same key as from the alert topic
    assert parse_deliveries(notification(entry(RECOVERED, notify=False))) == []


def test_a_settled_state_has_its_transitions_key_and_each_repeat_its_own():
    (settled,) = parse_deliveries(notification(entry(TRIGGERED, settled=True)))
    assert idempotency_key(settled) == TRIG_KEY          # never delivered before: its transition's key
    first, second = (parse_deliveries(notification(entry(TRIGGERED, repeat=n)))[0] for n in (1, 2))
    assert idempotency_key(first) == hashlib.sha256(json.dumps([TRIG_KEY, "repeat", 1]).encode()).hexdigest()[:32]
    assert len({TRIG_KEY, idempotency_key(first), idempotency_key(second)}) == 3


def test_a_bad_entry_makes_the_record_a_bad_record():
    assert parse_deliveries(notification(entry({"status": "triggered"}))) == "alerts[0]: missing alert_id, tenant, monitor, at, group"
    assert parse_deliveries(b'{"notify": true, "alerts": [3]}') == "alerts[0] is not an entry with an alert"
