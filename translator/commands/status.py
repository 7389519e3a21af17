"""`nql-flink status [--tenant T] [--monitor M] [--kafka HOST:PORT] [--json]`: what every group
of a running deployment is doing now, as the job believes it.

The job writes each change of a group's state to the compacted alert-state topic
(nql.alert_state, keyed tenant/monitor/group; docs/guarantees.md "State you can see"): this
command reads it from the beginning to its current end (read_committed), keeps the latest
value per key (a tombstone: an evicted group, not shown) and prints one line per group:
tenant, monitor, group, state, since, and for a pending or recovering group the time left
before it triggers / recovers if its condition keeps holding (due - the group's last
evaluation time `at`: event time, not the wall clock).
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from nql_flink.translator.commands.common import add_topic_arguments, kafka_address

COLUMNS = ("tenant", "monitor", "group", "state", "since", "left")
RUNS = ("pending", "recovering")


def add_arguments(parser):
    parser.add_argument("--tenant", help="only this tenant's groups")
    parser.add_argument("--monitor", help="only this monitor's groups")
    add_topic_arguments(parser, "nql.alert_state", "alert-state topic")
    parser.add_argument("--json", action="store_true", help="one JSON object per group and line (the topic's "
                        "value, with left_ms)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to reach the topic's end (default 30)")


def _ms(text: str | None) -> int | None:
    if not text:
        return None
    t = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1000)


def left_ms(state: dict) -> int | None:
    """Event time left before a pending group triggers (a recovering one recovers) if its
    condition keeps holding: due - at; None for the other states."""
    if state.get("state") not in RUNS:
        return None
    due, at = _ms(state.get("due")), _ms(state.get("at"))
    return None if due is None or at is None else max(due - at, 0)


def groups(latest: dict, tenant: str | None = None, monitor: str | None = None) -> list[dict]:
    """The live groups among the topic's latest values (key -> value bytes or None), filtered,
    sorted by tenant, monitor, group; each value with `left_ms`. A value that is not a state
    record (not JSON, no tenant) is skipped: the topic is the job's, but a hand-written record
    must not stop the command."""
    out = []
    for value in latest.values():
        if value is None:
            continue
        try:
            s = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(s, dict) or "tenant" not in s:
            continue
        if (tenant is None or s["tenant"] == tenant) and (monitor is None or s.get("monitor") == monitor):
            out.append(s | {"left_ms": left_ms(s)})
    return sorted(out, key=lambda s: (s["tenant"], s.get("monitor") or "", _group_text(s)))


def _group_text(s: dict) -> str:
    return json.dumps(s.get("group"), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _left_text(ms: int | None) -> str:
    if ms is None:
        return ""
    h, rest = divmod(ms // 1000, 3600)
    m, sec = divmod(rest, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{sec}s"


def table(rows: list[dict]) -> str:
    """Aligned columns, a header line first."""
    cells = [list(COLUMNS)] + [[s["tenant"], s.get("monitor") or "", _group_text(s), s.get("state") or "",
                                s.get("since") or "", _left_text(s["left_ms"])] for s in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def main(args) -> int:
    from nql_flink.deploy.kafka import client as kc

    bootstrap = kafka_address(args.kafka, args.command)
    if not bootstrap:
        return 2
    topic = args.topic_prefix + args.topic
    try:
        latest = kc.read_latest(bootstrap, topic, timeout=args.timeout)
    except RuntimeError as e:
        print(f"nql-flink status: {e}", file=sys.stderr)
        return 1
    rows = groups(latest, args.tenant, args.monitor)
    if args.json:
        for s in rows:
            print(json.dumps(s, ensure_ascii=False, sort_keys=True))
    else:
        print(table(rows))
    print(f"{len(rows)} group(s) in {topic}", file=sys.stderr)
    return 0
