"""How the alert state grows over a simulated week of churning groups, with and without
eviction (docs/guarantees.md, "Bounded state").

What runs: the alert state function itself (udfs/jvm AlertStates, as the generated job calls
it) on the embedded mini-cluster, fed a week of judged evaluations every 15 min from a file.
Churn: every day GROUPS_PER_DAY new groups (devices, pools, users...) appear, each is
evaluated for one day and then never again; one in OPEN_EVERY ends its day with an open
alert (its trigger holds on its last evaluations and it never recovers). Two runs:
`--evict-after 1d` (eviction) and 0 (never evicted: the state before this change).

How the state is measured: a group's state is live from its first 'state' row until its
'evicted' row (the function emits both: they are what the alert-state topic holds), read off
the function's output by event time at noon of each simulated day. This is the number of
entries of the function's keyed state (one state row and at most one timer per live group);
the metric `nqlLiveGroups` of the running job counts the same (per subtask since its start).
Bytes per group: Flink's BinaryRowData of the state row (8 bytes of null bits, 8 fields of
8 bytes, plus `triggered`/`recovering` and the 32-character alert id out of line when set,
rounded to 8) plus its key (the group's `tenant/monitor/group` string) and one timer (key,
name, time); the backend adds its own per-entry overhead (RocksDB: a few dozen bytes).

    .venv/bin/python benchmarks/state_growth.py [--groups-per-day 200] [--days 7]
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

T0 = datetime(2026, 11, 23)
EVERY = timedelta(minutes=15)
DAY = timedelta(days=1)
OPEN_EVERY = 20


def group(day: int, i: int) -> str:
    return f'{{"device.name":"D-{day:02d}-{i:05d}"}}'


def key(day: int, i: int) -> str:
    return "acme/churn/" + group(day, i)


def write_week(path: Path, days: int, per_day: int) -> int:
    """Judged rows in event-time order: the groups born on `day` are evaluated for one day."""
    n = 0
    with path.open("w") as f:
        for day in range(days):
            start = T0 + day * DAY
            steps = int(DAY / EVERY)
            for s in range(steps):
                t = start + (s + 1) * EVERY
                last = s >= steps - 4
                for i in range(per_day):
                    trig = last and i % OPEN_EVERY == 0
                    f.write(json.dumps({"tenant": "acme", "monitor": "churn", "group_json": group(day, i),
                                        "window_end": t.strftime("%Y-%m-%d %H:%M:%S.000"), "trig": trig,
                                        "rec": not trig, "for_ms": 0, "recover_for_ms": 0, "payload": "{}"}) + "\n")
                    n += 1
    return n


def run(t_env, path: Path, evict_after_ms: int, name: str) -> list[tuple]:
    from nql_flink.translator.flink.codegen import STATES_FUNCTION_CLASS

    t_env.execute_sql(f"""CREATE TEMPORARY TABLE {name}_in (tenant STRING, monitor STRING, group_json STRING,
        window_end TIMESTAMP(3), trig BOOLEAN, rec BOOLEAN, for_ms BIGINT, recover_for_ms BIGINT, payload STRING,
        nql_state_key AS CONCAT(tenant, '/', monitor, '/', group_json),
        every_ms AS CAST(900000 AS BIGINT), evict_after_ms AS CAST({evict_after_ms} AS BIGINT),
        window_time AS window_end - INTERVAL '0.001' SECOND,
        WATERMARK FOR window_time AS window_time - INTERVAL '0.001' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')""")
    t_env.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS sg_states AS '{STATES_FUNCTION_CLASS}' "
                      "LANGUAGE JAVA")
    sql = (f"SELECT nql_state_key, status, alert_id, `rowtime` FROM sg_states(input => TABLE {name}_in "
           f"PARTITION BY nql_state_key, on_time => DESCRIPTOR(window_time), uid => '{name}') WHERE nql_kind = 'state'")
    with t_env.execute_sql(sql).collect() as rows:
        return [tuple(r) for r in rows]


def live_per_day(rows: list[tuple], days: int) -> list[tuple[int, int]]:
    """(live groups, of which with an open alert) at noon of each simulated day (not at midnight,
    where a day's groups end and the previous day's are evicted at the same instant)."""
    born, gone, status = {}, {}, {}
    for k, st, _, t in rows:
        born.setdefault(k, t)
        if st == "evicted":
            gone[k] = t
        status.setdefault(k, []).append((t, st))
    out = []
    for day in range(1, days + 1):
        end = T0 + (day - 1) * DAY + DAY / 2
        live = [k for k, t in born.items() if t <= end and not (k in gone and gone[k] <= end)]
        open_ = [k for k in live if [st for t, st in status[k] if t <= end][-1] == "triggered"]
        out.append((len(live), len(open_)))
    return out


def bytes_per_group(k: str, open_alert: bool) -> int:
    fixed = 8 + 8 * 8
    out_of_line = (16 + 32 + 16) if open_alert else 0      # 'triggered' twice (status, shown), alert id
    key_bytes = len(k.encode())
    timer = key_bytes + len("evict") + 8
    return fixed + out_of_line + key_bytes + timer


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups-per-day", type=int, default=200)
    ap.add_argument("--days", type=int, default=7)
    args = ap.parse_args(argv)
    from measure import temporary_folder  # benchmarks/, the script's folder
    from nql_flink.deploy.embedded.runner import create_table_env

    t_env = create_table_env()
    with temporary_folder() as d:
        path = Path(d) / "judged.json"
        n = write_week(path, args.days, args.groups_per_day)
        print(f"{n} evaluations: {args.groups_per_day} new groups a day for {args.days} days, each evaluated every "
              f"15 min for one day; 1 in {OPEN_EVERY} ends with an open alert")
        with_eviction = live_per_day(run(t_env, path, 86_400_000, "evict"), args.days)
        without = live_per_day(run(t_env, path, 0, "never"), args.days)
    sample = key(0, 0)
    ok_b, open_b = bytes_per_group(sample, False), bytes_per_group(sample, True)
    print(f"state per group: ~{ok_b} B without an open alert, ~{open_b} B with one (key {len(sample)} B)")
    print(f"{'day':>3}  {'live (evict 1d)':>16}  {'open':>5}  {'live (never)':>13}  {'ratio':>6}  "
          f"{'KiB evict':>9}  {'KiB never':>9}")
    for day, ((live, open_), (never, never_open)) in enumerate(zip(with_eviction, without), start=1):
        kib = lambda lv, op: (op * open_b + (lv - op) * ok_b) / 1024  # noqa: E731
        print(f"{day:>3}  {live:>16}  {open_:>5}  {never:>13}  {live / never:>6.2f}  {kib(live, open_):>9.1f}  "
              f"{kib(never, never_open):>9.1f}")
    growth = [b - a for (a, _), (b, _) in zip(with_eviction, with_eviction[1:])]
    print(f"growth per day from day 2 to 3 on (evict 1d): {growth[1:]} groups (the day's open alerts: kept "
          f"until they recover); never evicted: +{without[-1][0] - without[-2][0]} a day")
    return 0


if __name__ == "__main__":
    sys.exit(main())
