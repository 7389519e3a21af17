"""One delivery attempt (one transition, or a grouped notification's) to one receiver: HTTP (webhook, Alertmanager API v2)
with urllib, email with smtplib. An attempt never raises: it returns what happened.

  delivered  the receiver accepted it (HTTP 2xx, SMTP accepted the message)
  retry      worth trying again: refused or reset connection, timeout, HTTP 5xx / 408 / 429 and
             any status that a change of the receiver's configuration fixes (401, 403, 404),
             SMTP 4xx and authentication failures
  rejected   the receiver refused this very content (HTTP 400, 413, 415, 422; SMTP 5xx on the
             message): sending it again would be refused again
"""

from __future__ import annotations

import http.client
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from nql_flink.deploy.notify import payloads as P
from nql_flink.deploy.notify.alert import Alert, delivery_key, identity_labels
from nql_flink.deploy.notify.receivers import Receiver

REJECTED_HTTP = (400, 413, 415, 422)


@dataclass(frozen=True)
class Outcome:
    kind: str  # delivered | retry | rejected
    detail: str


def attempt(receiver: Receiver, alerts: Sequence[Alert]) -> Outcome:
    """One delivery of these alerts (one transition, or a grouped notification's) as one
    message: one webhook call, one email, one POST to Alertmanager."""
    try:
        return SENDERS[receiver.kind](receiver, alerts)
    except (OSError, http.client.HTTPException, smtplib.SMTPException, ValueError) as exc:  # network, TLS, protocol
        return Outcome("retry", _reason(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    text = str(exc).strip() or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:200]


def _http(method: str, url: str, receiver: Receiver, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes] | Outcome:
    """The response's status and body, or the Outcome of a failed request."""
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": "application/json", "User-Agent": "nql-flink-notify",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=receiver.timeout_s) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        detail = f"HTTP {exc.code} {exc.reason}: {exc.read()[:200].decode('utf-8', 'replace').strip()}".rstrip(": ")
        return Outcome("rejected" if exc.code in REJECTED_HTTP else "retry", detail)


def send_webhook(receiver: Receiver, alerts: Sequence[Alert]) -> Outcome:
    body = P.encode(P.webhook_body(alerts, receiver.name, link=receiver.link, external_url=receiver.external_url))
    headers = {P.KEY_HEADER: delivery_key(alerts)}
    if receiver.secret is not None:
        headers[P.SIGNATURE_HEADER] = P.signature(receiver.secret, body)
    got = _http("POST", receiver.url, receiver, body, headers)
    return got if isinstance(got, Outcome) else Outcome("delivered", f"HTTP {got[0]}")


def _api(receiver: Receiver) -> str:
    return receiver.url.rstrip("/") + "/api/v2/alerts"


def send_alertmanager(receiver: Receiver, alerts: Sequence[Alert]) -> Outcome:
    """One POST of every alert. Triggered: the firing alert. Recovered: the open alerts of its
    alert id (found by its group's labels and the alert_id annotation) posted again with
    endsAt, so they resolve whatever priority label they were opened with; none open (resolved
    already, Alertmanager restarted): the recovered alert with its own labels, resolved."""
    now_ms = int(time.time() * 1000)
    posted, resolved = [], 0
    for alert in alerts:
        mine = [P.alertmanager_alert(alert, link=receiver.link, now_ms=now_ms, hold_ms=receiver.hold_ms)]
        if not alert.firing:
            query = urllib.parse.urlencode([("filter", f"{k}={json.dumps(v, ensure_ascii=False)}")
                                            for k, v in identity_labels(alert).items()] + [("silenced", "true")])
            got = _http("GET", _api(receiver) + "?" + query, receiver)
            if isinstance(got, Outcome):
                return got
            open_alerts = [a for a in json.loads(got[1]) if a.get("annotations", {}).get("alert_id") == alert.alert_id]
            mine = [P.resolving(a, alert, link=receiver.link) for a in open_alerts] or mine
            resolved += len(mine)
        posted += mine
    got = _http("POST", _api(receiver), receiver, P.encode(posted))
    if isinstance(got, Outcome):
        return got
    return Outcome("delivered", f"HTTP {got[0]}" + (f", {resolved} alert(s) resolved" if resolved else ""))


def send_email(receiver: Receiver, alerts: Sequence[Alert]) -> Outcome:
    msg = P.email_message(alerts, sender=receiver.sender, to=list(receiver.to), link=receiver.link,
                          now_ms=int(time.time() * 1000))
    context = ssl.create_default_context(cafile=receiver.ca_file) if receiver.tls != "none" else None
    smtp_class = smtplib.SMTP_SSL if receiver.tls == "ssl" else smtplib.SMTP
    kwargs = {"context": context} if receiver.tls == "ssl" else {}
    try:
        with smtp_class(receiver.host, receiver.port, timeout=receiver.timeout_s, **kwargs) as smtp:
            if receiver.tls == "starttls":
                smtp.starttls(context=context)
            if receiver.username:
                smtp.login(receiver.username, receiver.secret or "")
            refused = smtp.send_message(msg, from_addr=receiver.sender, to_addrs=list(receiver.to))
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused) as exc:
        code = getattr(exc, "smtp_code", None) or min((c for c, _ in getattr(exc, "recipients", {}).values()), default=0)
        return Outcome("rejected" if 500 <= code < 600 else "retry", _reason(exc))
    detail = "accepted" + (f" (refused: {', '.join(sorted(refused))})" if refused else "")
    return Outcome("delivered", f"SMTP {detail}")


SENDERS = {"webhook": send_webhook, "alertmanager": send_alertmanager, "email": send_email}


def backoff(attempts: int, receiver: Receiver) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: initial x 2^(n-1), at most max."""
    return min(receiver.retry_initial_s * 2 ** (attempts - 1), receiver.retry_max_s)

