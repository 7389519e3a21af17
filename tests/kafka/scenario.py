"""Small inputs for the end-to-end Kafka tests, and how to run them both ways.

One monitor id, `kafka_latency`, for two tenants with the SAME device uids, names and pools
(only `tenant` tells them apart); different thresholds per tenant (config params):

  acme:   avg_latency > 300ms and sessions >= 2, for 1min   (trigger_1 = 300)
  globex: avg_latency > 200ms and sessions >= 2, for 1min   (trigger_1 = 200)
  both:   session.vdi_events during past 1min, every 30s, by desktop pool; default recovery.

Samples S(i) = 10:00:00 + 30 s * i (2026-11-26), i = 0..11, one per device:
  acme   c-1, c-2 Finance: 500 for i < 6, then 100     -> triggered 10:01:30 (streak from the
                                                         10:00:30 window, for 1 min), recovered
                                                         10:03:30 (window [10:02:30, 10:03:30):
                                                         (500+100)/2 = 300, not > 300)
  acme   c-3, c-4 Sales:   250                          -> below 300: nothing
  globex c-1, c-2 Finance: 150                          -> below 200: nothing
  globex c-3, c-4 Sales:   250                          -> triggered 10:01:30, never recovers
If the tenants mixed, Finance would average (500+150)/2 = 325 in the first windows: globex
(> 200) would alert on Finance and acme's values would not be 500 with 2 sessions.

Tenant initech (threshold change while the job runs; same devices again), trigger_1 = 300,
then a config version with trigger_1 = 200 from T1 = 10:03:30 (`updated_at`):
  initech c-1, c-2 Finance: 500 for i <= 5, 250 for 6 <= i <= 9, 150 for i >= 10
  initech c-3, c-4 Sales:   100
  -> triggered 10:01:30 (as above). Window 10:03:30 = [10:02:30, 10:03:30): (500+250)/2 = 375,
     still config v1 (window time 10:03:29.999 < T1): true. From window 10:04:00 on (window
     time >= T1) the threshold is 200: 250 > 200 stays true until window 10:05:30 =
     [10:04:30, 10:05:30): (250+150)/2 = 200, not > 200 -> recovered 10:05:30.
     With v1 only it would recover at 10:04:00 ([10:03:00, 10:04:00): 250, not > 300).

The expected alert timeline is not written here: it is what `nql-flink run` (the embedded
runner on files) gives for the same records; the tests compare Kafka's result to it and
check the facts above on it.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nql_flink.deploy.kafka.telemetry import flush_records

HERE = Path(__file__).resolve().parent
MONITORS = HERE / "monitors"
BASE = datetime(2026, 11, 26, 10, 0, 0, tzinfo=timezone.utc)
POOLS = {"c-1": "Finance-Win11", "c-2": "Finance-Win11", "c-3": "Sales-Win10", "c-4": "Sales-Win10"}


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def S(i: int) -> datetime:
    return BASE + timedelta(seconds=30 * i)


def event(tenant: str, uid: str, t: datetime, latency) -> dict:
    return {"tenant": tenant, "start_time": iso(t - timedelta(seconds=30)), "end_time": iso(t),
            "device": {"collector": {"uid": uid}, "name": uid.upper()}, "user": {"name": f"{tenant}-u{uid[-1]}"},
            "network_latency": latency, "event_type": "sample"}


def device(tenant: str, uid: str) -> dict:
    return {"tenant": tenant, "collector": {"uid": uid}, "name": uid.upper(), "hardware": {"type": "virtual"},
            "virtualization": {"desktop_pool": POOLS[uid], "environment": "Citrix-EU"},
            "last_seen": "2026-11-26T09:00:00.000Z"}


T1 = "2026-11-26T10:03:30.000Z"


def latency(tenant: str, uid: str, i: int) -> int:
    if tenant == "initech":
        return 100 if POOLS[uid].startswith("Sales") else 500 if i <= 5 else 250 if i <= 9 else 150
    if POOLS[uid].startswith("Sales"):
        return 250
    if tenant == "globex":
        return 150
    return 500 if i < 6 else 100


def events(samples=range(12), tenants=("acme", "globex")) -> list[dict]:
    return [event(tn, uid, S(i), latency(tn, uid, i)) for i in samples for tn in tenants for uid in POOLS]


def inventory(tenants=("acme", "globex")) -> list[str]:
    return [json.dumps(device(tn, uid)) for tn in tenants for uid in POOLS]


# Bad records, one per reason of the dead-letter branch; `late` is 3 min behind (lateness 10 s).
# Lines are text, but for not_utf8's: bytes (a user name with a byte 0xFF).
def bad_events() -> dict[str, str | bytes]:
    ok = event("acme", "c-1", S(3), 500)
    out: dict[str, str | bytes] = {"not_json": "this is {not json"}
    out["not_utf8"] = json.dumps({**ok, "user": {"name": "X"}}).encode().replace(b'"X"', b'"acme-u\xff1"')
    out["missing_tenant"] = json.dumps({k: v for k, v in ok.items() if k != "tenant"})
    out["missing_event_time"] = json.dumps({k: v for k, v in ok.items() if k != "end_time"})
    out["bad_event_time"] = json.dumps({**ok, "end_time": "yesterday"})
    out["bad_type:network_latency"] = json.dumps({**ok, "network_latency": "fast"})
    out["late"] = json.dumps(event("acme", "c-3", S(2), 900))
    return out


def bad_device(tenant: str) -> str:
    """An inventory record without collector.uid: dead-lettered as missing_key:collector.uid,
    which also tells a test that the job has read the inventory topic up to there."""
    return json.dumps({"tenant": tenant, "name": "NO-UID", "last_seen": "2026-11-26T09:00:00.000Z"})


def config_v2(records: list[dict], tenant: str = "initech") -> dict:
    """The new version of `tenant`'s config: trigger_1 = 200 from T1."""
    [old] = [r for r in records if r["tenant"] == tenant]
    return {**old, "updated_at": T1, "params": {**old["params"], "trigger_1": 200.0},
            "trigger_condition": old["trigger_condition"].replace("300ms", "200ms"),
            "recover_condition": old["recover_condition"].replace("300ms", "200ms")}


def event_lines(*, bad: bool = True, tenants=("acme", "globex"), samples=range(12)) -> list[str | bytes]:
    """Events in time order; the bad records in the middle (the late one after S(8))."""
    lines = []
    b = bad_events()
    for i in samples:
        lines += [json.dumps(e) for e in events([i], tenants)]
        if bad and i == 4:
            lines += [b[k] for k in b if k != "late"]
        if bad and i == 8:
            lines.append(b["late"])
    return lines


def nudge_line(at: datetime) -> str:
    """A record of a tenant no monitor reads: it moves the event table's watermark and nothing
    else (not dead-lettered, in no window)."""
    return json.dumps(event("nobody", "c-1", at, 100))


class Nudger:
    """Nudges at `start`, then one second later each time: for a test that waits for a
    result. After the event topic was idle, the operator watermark of the windows function
    can reach a value through the ticks' input before the records' input wakes up; what those
    records make due then fires only at the next watermark advance (docs/guarantees.md, "A
    burst after an idle topic"), so a test whose input has ended nudges while it waits."""

    def __init__(self, send, start: datetime):
        self.send, self.at = send, start

    def __call__(self) -> None:
        self.send([nudge_line(self.at)])
        self.at += timedelta(seconds=1)


def flush_lines(table: str) -> list[str]:
    return [value.decode() for _, value in flush_records(table)]


def as_bytes(line: str | bytes) -> bytes:
    return line if isinstance(line, bytes) else line.encode()


def dead_line(line: str | bytes) -> str:
    """The `line` of a record's dead letter: the record as Flink decodes it (U+FFFD in
    place of a byte that is not UTF-8)."""
    return as_bytes(line).decode("utf-8", "replace")


def write_inputs(directory: Path, tables: dict[str, list[str | bytes]]) -> dict[str, str]:
    """{catalog table: lines} -> {catalog table: file}."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for table, lines in tables.items():
        f = directory / f"{table}.jsonl"
        f.write_bytes(b"".join(as_bytes(ln) + b"\n" for ln in lines))
        out[table] = str(f)
    return out


def run_embedded(t_env, compiled, files: dict[str, str], config_lines: list[str], out: Path):
    """What `nql-flink run` does (translator/commands/run.py), on the session's shared
    TableEnvironment: the generated statements on bounded files. -> (alerts, dead letters)."""
    from nql_flink.deploy.embedded.runner import run_job

    cfg = out.parent / (out.name + ".config.jsonl")
    cfg.write_text("".join(ln + "\n" for ln in config_lines), encoding="utf-8")
    # a file of a table none of the job's monitors reads is left out
    sources = {compiled.job.source_tables[t]: f for t, f in files.items() if t in compiled.job.source_tables}
    sources[compiled.job.source_tables["monitor_config"]] = str(cfg)
    r = run_job(compiled.job, sources, str(out), t_env=t_env)
    return sorted(r.alerts), sorted(r.dead_letters)


def timeline(alerts: list[str]) -> list[tuple]:
    rows = [json.loads(a) for a in alerts]
    return sorted((a["tenant"], json.dumps(a["group"], sort_keys=True), a["status"], a["at"]) for a in rows)
