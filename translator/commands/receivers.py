"""`nql-flink receivers up|show|down`: local receivers on loopback for the receivers of a
receivers file, to see the notifier deliver (README, "Run it on Kafka locally"): an SMTP server
(aiosmtpd) and a webhook receiver keeping each email and call as a file under --dir, and
Prometheus Alertmanager from the OS packages (deploy/notify/local_receivers.py).

`up` checks the file as `notify` does (diagnostics with code and line; the secrets' variables
must be set: the webhook checks signatures with them) and starts nothing on a problem. Exit 0
done, 1 a problem (said), 2 usage.
"""

from __future__ import annotations

import email
import email.policy
import json
import sys
from pathlib import Path

DEFAULT_DIR = "build/receivers"


def add_arguments(parser):
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="start an SMTP server, a webhook receiver and Alertmanager on the loopback "
                                   "addresses of a receivers file")
    up.add_argument("--receivers", required=True, metavar="FILE", help="the receivers file (docs/notify.md)")
    show = sub.add_parser("show", help="what the local receivers got: emails, webhook calls, Alertmanager's alerts")
    show.add_argument("--json", action="store_true", help="one JSON object per thing received")
    sub.add_parser("down", help="stop the local receivers (what they received stays in --dir)")
    for p in (up, show, sub.choices["down"]):
        p.add_argument("--dir", default=DEFAULT_DIR, help="their state and what they received (default %(default)s)")


def main(args) -> int:
    from nql_flink.deploy.notify.local_receivers import LocalReceiversError

    try:
        return {"up": _up, "show": _show, "down": _down}[args.action](args)
    except (LocalReceiversError, OSError) as exc:
        print(f"nql-flink receivers: {exc}", file=sys.stderr)
        return 1


def _say(text: str) -> None:
    print(text, flush=True)


def _up(args) -> int:
    from nql_flink.deploy.notify.local_receivers import LocalReceivers, plan
    from nql_flink.deploy.notify.receivers import read_receivers
    from nql_flink.translator.diagnostics.render import render_all_text

    state_dir = Path(args.dir)
    running = LocalReceivers.load(state_dir)
    if running is not None and running.running():
        _say(f"already running (inbox pid {running.inbox_pid}, receivers of {running.receivers_file}); "
             f"`nql-flink receivers down --dir {args.dir}` stops them")
        return 0
    receivers, diags = read_receivers(args.receivers)
    if diags:
        print(render_all_text(diags), file=sys.stderr)
    if any(d.is_error for d in diags):
        print("nql-flink receivers: nothing started: fix the errors above", file=sys.stderr)
        return 1
    planned, problems = plan(receivers)
    if not planned:
        problems.append(f"{args.receivers} defines no receiver")
    if problems:
        for p in problems:
            print(f"nql-flink receivers: {p}", file=sys.stderr)
        print("nql-flink receivers: nothing started", file=sys.stderr)
        return 1
    _say(f"starting the receivers of {args.receivers} on loopback ...")
    LocalReceivers.start(state_dir, args.receivers, planned, say=_say)
    _say(f"running; `nql-flink receivers show --dir {args.dir}` prints what they got, "
         f"`nql-flink receivers down --dir {args.dir}` stops them")
    return 0


def _down(args) -> int:
    from nql_flink.deploy.notify.local_receivers import LocalReceivers

    state = LocalReceivers.load(Path(args.dir))
    if state is None:
        _say(f"no local receivers in {args.dir}: nothing to stop")
        return 0
    left = state.stop()
    if left:
        print(f"nql-flink receivers: pids {left} did not end", file=sys.stderr)
        return 1
    _say(f"stopped; what they received stays in {args.dir}/")
    return 0


def _show(args) -> int:
    from nql_flink.deploy.notify.local_receivers import LocalReceivers

    state = LocalReceivers.load(Path(args.dir))
    if state is None:
        print(f"nql-flink receivers: no local receivers in {args.dir}: `nql-flink receivers up --receivers FILE` "
              "starts them", file=sys.stderr)
        return 1
    if not state.running():
        _say(f"(the local receivers of {args.dir} are not running: what they received before)")
    for r in state.receivers:
        rows = list(received(r))
        if args.json:
            for row in rows:
                _say(json.dumps(row, sort_keys=True))
            continue
        _say(f"{r['name']} ({r['kind']}, {r['address']}):")
        if r["kind"] == "alertmanager":
            open_ = [row for row in rows if row["what"] == "alert"]
            _say(f"  {len(open_)} alert(s) in Alertmanager (GET /api/v2/alerts; a resolved one is no longer listed)"
                 if not any("error" in row for row in rows) else "  Alertmanager not reachable")
        else:
            _say(f"  {len(rows)} {'email(s)' if r['kind'] == 'email' else 'call(s)'} in {r['folder']}/")
        for row in rows:
            _say("    " + row["line"])
    return 0


def received(r: dict):
    """What one local receiver got, as dicts with a printable ``line``: its emails, its calls, or
    Alertmanager's open alerts and then its own notifications."""
    from nql_flink.deploy.notify.local_receivers import alerts_at

    folder = Path(r["folder"])
    if r["kind"] == "alertmanager":
        try:
            held = alerts_at(r["address"])
        except (OSError, ValueError) as exc:
            yield {"receiver": r["name"], "what": "alert", "error": str(exc),
                   "line": f"not reachable: {type(exc).__name__}: {exc}"}
            held = []
        for a in held:
            yield {"receiver": r["name"], "what": "alert", "state": a["status"]["state"], "labels": a["labels"],
                   "startsAt": a["startsAt"], "endsAt": a["endsAt"], "fingerprint": a["fingerprint"],
                   "line": f"{a['status']['state']}  {_labels(a['labels'])}  startsAt {a['startsAt']}  "
                           f"endsAt {a['endsAt']}"}
    for f in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        key = msg["X-NQL-Idempotency-Key"]
        yield {"receiver": r["name"], "what": "email", "file": f.name, "subject": msg["Subject"], "key": key,
               "to": msg["To"], "line": f"{f.name}  {msg['Subject']}  to {msg['To']}  key={key}"}
    for f in sorted(folder.glob("*.json")):
        call = json.loads(f.read_text())
        body = call["body"] if isinstance(call["body"], dict) else {}
        alerts = body.get("alerts") or [{}]
        if r["kind"] == "alertmanager":  # Alertmanager's own notification (its webhook payload)
            yield {"receiver": r["name"], "what": "notification", "file": f.name, "status": body.get("status"),
                   "alerts": [(a.get("status"), a.get("labels")) for a in alerts],
                   "line": f"{f.name}  Alertmanager notified: " + "; ".join(
                       f"{a.get('status')} {_labels(a.get('labels') or {})}" for a in alerts)}
            continue
        a = alerts[0]
        ann = a.get("annotations") or {}
        key = call["headers"].get("Idempotency-Key")
        yield {"receiver": r["name"], "what": "call", "file": f.name, "status": body.get("status"),
               "transition": ann.get("status"), "at": ann.get("at"), "labels": a.get("labels"), "key": key,
               "signature": call["signature"], "http_status": call["status"],
               "line": f"{f.name}  {body.get('status')} ({ann.get('status')} at {ann.get('at')})  "
                       f"{_labels(a.get('labels') or {})}  key={key}  signature {call['signature']}"}


def _labels(labels: dict) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in labels.items()) + "}"
