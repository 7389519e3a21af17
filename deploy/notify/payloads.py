"""What each kind of receiver is sent for one delivery (one transition, or the transitions of
one grouped notification, all of one monitor), built without any network:
the webhook body (Alertmanager's webhook payload, version 4) and its signature, the
alerts posted to Alertmanager's API v2, the email (plain text + HTML). docs/notify.md.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from string import Formatter
from urllib.parse import quote

from nql_flink.deploy.notify.alert import Alert, delivery_key, fingerprint, idempotency_key, label_value, labels, ms_iso

GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's "not set" for startsAt / endsAt
LINK_FIELDS = ("tenant", "monitor", "alert_id", "status", "at", "key")
SIGNATURE_HEADER = "X-NQL-Signature"   # sha256=<hex HMAC-SHA256 of the body>
KEY_HEADER = "Idempotency-Key"


def link_problem(template: str) -> str | None:
    """Why a link template cannot be rendered, or None: only {field} names of LINK_FIELDS."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError as exc:
        return str(exc)
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in LINK_FIELDS:
            return f"unknown field {{{field}}} (fields: {', '.join(LINK_FIELDS)})"
        if spec or conversion:
            return f"{{{field}}} takes no format or conversion"
    return None


def render_link(template: str | None, alert: Alert) -> str:
    if not template:
        return ""
    values = {"tenant": alert.tenant, "monitor": alert.monitor, "alert_id": alert.alert_id, "status": alert.status,
              "at": alert.at, "key": idempotency_key(alert)}
    return template.format(**{k: quote(v, safe="") for k, v in values.items()})


def _number(v) -> str:
    return f"{v:g}" if isinstance(v, float) else label_value(v)


def values_text(values) -> str:
    return ", ".join(f"{k}={_number(v)}" for k, v in values.items()) if isinstance(values, dict) else ""


def annotations(alert: Alert) -> dict[str, str]:
    """The record's content as Alertmanager annotations (all strings; JSON text for objects)."""
    rec = alert.record
    out = {"summary": f"{rec.get('name') or alert.monitor} {alert.status} {alert.group_text()}"
                      + (f": {values_text(rec.get('values'))}" if rec.get("values") else ""),
           "alert_id": alert.alert_id, "status": alert.status, "at": alert.at}
    for field in ("name", "condition", "priority"):
        if isinstance(rec.get(field), str):
            out[field] = rec[field]
    for field in ("values", "window", "baseline", "impact"):
        if rec.get(field) is not None:
            out[field] = json.dumps(rec[field], separators=(",", ":"), ensure_ascii=False)
    if isinstance(rec.get("tags"), list) and rec["tags"]:
        out["tags"] = ",".join(map(str, rec["tags"]))
    return out


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    """The entries every map has with the same value (Alertmanager's commonLabels)."""
    return {k: v for k, v in maps[0].items() if all(m.get(k) == v for m in maps[1:])}


def webhook_body(alerts: Sequence[Alert], receiver: str, *, link: str | None = None, external_url: str = "") -> dict:
    """Alertmanager's webhook payload (version 4) with these alerts (one, or a grouped
    notification's), and ``idempotencyKey`` (alert.delivery_key). ``status`` is firing when any
    alert is; ``commonLabels`` and ``commonAnnotations`` are what all alerts share, as
    Alertmanager computes them. A recovered record does not say when its alert started:
    ``startsAt`` is then Go's zero time, as Alertmanager writes an unset time; the ``alert_id``
    annotation links the two."""
    labs, anns = [labels(a) for a in alerts], [annotations(a) for a in alerts]
    group_labels = {"alertname": alerts[0].monitor, "tenant": alerts[0].tenant}
    return {
        "version": "4",
        "groupKey": "{}:{" + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(group_labels.items())) + "}",
        "truncatedAlerts": 0,
        "status": "firing" if any(a.firing for a in alerts) else "resolved",
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": _common(labs),
        "commonAnnotations": _common(anns),
        "externalURL": external_url,
        "alerts": [{"status": "firing" if a.firing else "resolved", "labels": lab, "annotations": ann,
                    "startsAt": a.at if a.firing else GO_ZERO_TIME,
                    "endsAt": GO_ZERO_TIME if a.firing else a.at,
                    "generatorURL": render_link(link, a), "fingerprint": fingerprint(lab)}
                   for a, lab, ann in zip(alerts, labs, anns)],
        "idempotencyKey": delivery_key(alerts),
    }


def encode(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alertmanager_alert(alert: Alert, *, link: str | None, now_ms: int, hold_ms: int) -> dict:
    """One alert of a POST to /api/v2/alerts. Triggered: firing from ``at``, ``endsAt`` =
    now + hold (Alertmanager ends an alert without endsAt after its resolve_timeout; we post
    once, not every evaluation). Recovered: ``endsAt`` = ``at`` (resolve_alerts first looks up
    the firing alert, whose labels may carry another priority)."""
    return {"labels": labels(alert), "annotations": annotations(alert),
            "startsAt": alert.at, "endsAt": ms_iso(now_ms + hold_ms) if alert.firing else alert.at,
            "generatorURL": render_link(link, alert)}


def resolving(open_alert: dict, alert: Alert, *, link: str | None) -> dict:
    """An alert Alertmanager holds (as GET /api/v2/alerts gives it), ended at ``alert.at``:
    same labels and start, the recovered record's annotations."""
    return {"labels": open_alert["labels"], "annotations": annotations(alert), "startsAt": open_alert["startsAt"],
            "endsAt": alert.at, "generatorURL": render_link(link, alert) or open_alert.get("generatorURL", "")}


def _rows(alert: Alert, link: str) -> list[tuple[str, str]]:
    rec = alert.record
    rows = [("monitor", f"{alert.tenant}/{alert.monitor}" + (f" ({rec['name']})" if rec.get("name") else "")),
            ("status", f"{alert.status} at {alert.at}"),
            ("group", ", ".join(f"{k} = {label_value(v)}" for k, v in alert.group.items()) or "(all)")]
    if isinstance(rec.get("values"), dict):
        rows.append(("values", ", ".join(f"{k} = {_number(v)}" for k, v in rec["values"].items())))
    if rec.get("condition"):
        rows.append(("condition", str(rec["condition"])))
    if isinstance(rec.get("window"), dict):
        rows.append(("window", f"{rec['window'].get('start')} to {rec['window'].get('end')}"))
    if isinstance(rec.get("baseline"), dict):
        rows.append(("baseline", ", ".join(f"{k} = {json.dumps(v)}" for k, v in rec["baseline"].items())))
    if isinstance(rec.get("impact"), dict):
        rows.append(("impact", ", ".join(f"{k} = {json.dumps(v)}" for k, v in rec["impact"].items())))
    if rec.get("priority"):
        rows.append(("priority", str(rec["priority"])))
    if link:
        rows.append(("link", link))
    rows += [("alert id", alert.alert_id), ("idempotency key", idempotency_key(alert))]
    return rows


def email_message(alerts: Sequence[Alert], *, sender: str, to: list[str], link: str | None, now_ms: int) -> EmailMessage:
    """multipart/alternative: plain text and HTML with the same rows, one block per alert (one,
    or a grouped notification's). Message-ID is derived from the delivery's key, so a
    redelivered email is recognisable (and the key is in the X-NQL-Idempotency-Key header);
    each block names its alert's own key."""
    key = delivery_key(alerts)
    blocks = [_rows(a, render_link(link, a)) for a in alerts]
    first = alerts[0]
    msg = EmailMessage()
    if len(alerts) == 1:
        priority = f" ({first.get('priority')})" if first.get("priority") else ""
        subject = f"[{first.status.upper()}] {first.tenant}/{first.monitor} {first.group_text()}{priority}"
    else:
        counts = {s: sum(a.status == s for a in alerts) for s in ("triggered", "recovered")}
        subject = (f"[{', '.join(f'{s.upper()} {n}' for s, n in counts.items() if n)}] {first.tenant}/{first.monitor} "
                   + ", ".join(a.group_text() for a in alerts))
    msg["Subject"] = " ".join(subject.splitlines())  # a group value's line break would make it two headers
    msg["From"], msg["To"] = sender, ", ".join(to)
    msg["Date"] = formatdate(now_ms / 1000, usegmt=True)
    msg["Message-ID"] = f"<{key}@nql-flink>"
    msg["X-NQL-Idempotency-Key"] = key
    width = max(len(k) for rows in blocks for k, _ in rows)
    msg.set_content("\n\n".join("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows) for rows in blocks) + "\n")
    tables = "".join("<table>" + "".join(
        f"<tr><th align=\"left\">{html.escape(k)}</th><td>"
        + (f"<a href=\"{html.escape(v)}\">{html.escape(v)}</a>" if k == "link" else html.escape(v))
        + "</td></tr>" for k, v in rows) + "</table>" for rows in blocks)
    msg.add_alternative(f"<html><body>{tables}</body></html>\n", subtype="html")
    return msg
