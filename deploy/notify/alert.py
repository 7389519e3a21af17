"""An alert record from the alert topic (spec/monitors.md, "The alert record") read and
checked, and what identifies its transition: the idempotency key, labels, fingerprint; and a
notification record of the processed topic (docs/processing.md) read as the alerts it says to
deliver.

Standard library only; no network. A record that is not an alert gives a reason, never an
exception (the notifier reports it and skips it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

STATUSES = ("triggered", "recovered")
REQUIRED = {"alert_id": str, "tenant": str, "monitor": str, "status": str, "at": str, "group": dict}
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z\Z")
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
FIXED_LABELS = ("alertname", "tenant", "priority")


@dataclass(frozen=True)
class Alert:
    """One transition as the record gives it; ``record`` is the whole decoded JSON object."""

    record: dict
    alert_id: str
    tenant: str
    monitor: str
    status: str  # triggered | recovered
    at: str      # the window end of the transition, as on the wire
    at_ms: int
    group: dict
    repeat: int = 0  # from the notifications topic: the n-th repeat of a triggered alert (its own key)

    @property
    def firing(self) -> bool:
        return self.status == "triggered"

    @property
    def route_key(self) -> tuple[str, str]:
        return self.tenant, self.monitor

    def get(self, field: str):
        return self.record.get(field)

    def group_text(self) -> str:
        """``[key=value, ...]`` as `nql-flink run` prints a group."""
        return "[" + ", ".join(f"{k}={label_value(v)}" for k, v in self.group.items()) + "]"


def parse_alert(value: bytes | None) -> Alert | str:
    """The record's bytes -> an Alert, or the reason it is not one."""
    record = _decode(value)
    return record if isinstance(record, str) else _alert(record)


def parse_deliveries(value: bytes | None) -> list[Alert] | str:
    """A record of the alert topic (its one alert) or of the notifications topic (the alerts
    it marks `notify: true`, in its order; a repeat with its count), or the reason it is
    neither."""
    record = _decode(value)
    if isinstance(record, str):
        return record
    if not isinstance(record.get("alerts"), list) or "notify" not in record:
        alert = _alert(record)
        return alert if isinstance(alert, str) else [alert]
    out = []
    for k, entry in enumerate(record["alerts"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("alert"), dict):
            return f"alerts[{k}] is not an entry with an alert"
        if entry.get("notify") is not True:
            continue
        alert = _alert(entry["alert"])
        if isinstance(alert, str):
            return f"alerts[{k}]: {alert}"
        repeat = entry.get("repeat", 0)
        out.append(dataclasses.replace(alert, repeat=repeat if isinstance(repeat, int) and repeat > 0 else 0))
    return out


def _decode(value: bytes | None) -> dict | str:
    if value is None:
        return "empty record (tombstone)"
    try:
        record = json.loads(value.decode("utf-8"))  # json.loads(bytes) would guess UTF-16 or 32
    except ValueError as exc:  # UnicodeDecodeError is one
        return f"not JSON ({exc.__class__.__name__}: {str(exc).splitlines()[0][:80]})"
    if not isinstance(record, dict):
        return f"not a JSON object but {type(record).__name__}"
    try:  # "\ud800" is valid JSON but no text: nothing built from it could be sent
        json.dumps(record, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return "a string escape that is not a character (a lone surrogate)"
    return record


def _alert(record: dict) -> Alert | str:
    missing = [k for k in REQUIRED if record.get(k) is None]
    if missing:
        return "missing " + ", ".join(missing)
    wrong = [f"{k} is {type(record[k]).__name__}" for k, t in REQUIRED.items() if not isinstance(record[k], t)]
    if wrong:
        return "wrong type: " + ", ".join(wrong)
    if record["status"] not in STATUSES:
        return f"status {record['status']!r} is not triggered or recovered"
    at_ms = iso_ms(record["at"])
    if at_ms is None:
        return f"at {record['at']!r} is not an ISO-8601 UTC time"
    return Alert(record, record["alert_id"], record["tenant"], record["monitor"], record["status"], record["at"],
                 at_ms, record["group"])


def iso_ms(text: str) -> int | None:
    """``2026-11-26T10:02:00.000Z`` -> epoch milliseconds; None if it is not that form."""
    if not ISO_MS.match(text):
        return None
    try:
        t = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    frac = text[20:-1] if "." in text else ""
    return int(t.timestamp()) * 1000 + int((frac + "000")[:3])


def ms_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def idempotency_key(alert: Alert) -> str:
    """The same for every delivery of one transition, different for any other transition:
    a hash of tenant, monitor, group (keys sorted), status and the transition's event time. A
    repeat (notifications topic) has its own: the hash of its transition's key and its count.
    (A settled state delivered late is its transition's: that transition was never delivered.)"""
    group = json.dumps(alert.group, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = json.dumps([alert.tenant, alert.monitor, group, alert.status, alert.at_ms], separators=(",", ":"),
                      ensure_ascii=False)
    key = hashlib.sha256(text.encode()).hexdigest()[:32]
    if alert.repeat:
        key = hashlib.sha256(json.dumps([key, "repeat", alert.repeat]).encode()).hexdigest()[:32]
    return key


def delivery_key(alerts) -> str:
    """The key of one delivery: one alert's own key; for the alerts of one grouped notification
    (docs/processing.md, "Grouping"), a hash of their keys in order, so that a redelivered
    notification has the same key and each alert in it still carries its own."""
    keys = [idempotency_key(a) for a in alerts]
    if len(keys) == 1:
        return keys[0]
    return hashlib.sha256(json.dumps(["notification", keys]).encode()).hexdigest()[:32]


def label_value(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def identity_labels(alert: Alert) -> dict[str, str]:
    """The labels that name the alert's group for Alertmanager: ``alertname`` = the monitor id,
    ``tenant``, and each group key as a label name (Alertmanager 0.25 allows
    [A-Za-z_][A-Za-z0-9_]*: other characters become ``_``; a name taken by a fixed label or
    an earlier key is prefixed ``group_``)."""
    labels = {"alertname": alert.monitor, "tenant": alert.tenant}
    for key, value in alert.group.items():
        name = re.sub(r"[^A-Za-z0-9_]", "_", key)
        if not LABEL_NAME.match(name):
            name = "_" + name
        while name in labels or name in FIXED_LABELS:
            name = "group_" + name
        labels[name] = label_value(value)
    return labels


def labels(alert: Alert) -> dict[str, str]:
    """identity_labels plus ``priority`` when the record has one (Alertmanager routes on labels)."""
    out = identity_labels(alert)
    if isinstance(alert.get("priority"), str):
        out["priority"] = alert.get("priority")
    return out


_FNV_OFFSET, _FNV_PRIME, _MASK = 14695981039346656037, 1099511628211, (1 << 64) - 1


def fingerprint(label_set: dict[str, str]) -> str:
    """Alertmanager's fingerprint of a label set (prometheus/common model.LabelsToSignature:
    FNV-1a 64 over the sorted names and values, each followed by the byte 0xff), 16 hex digits."""
    h = _FNV_OFFSET
    for name in sorted(label_set):
        for part in (name, label_set[name]):
            for byte in part.encode() + b"\xff":
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return f"{h:016x}"
