"""The windows function keeping its tenants' clocks itself (the spec's `late=`: no temporal join
before it, so records come in each Kafka partition's arrival order, udfs/jvm TenantClock.admit),
on the engine: which records it rejects, with which reason and line, and that the others are
counted as before. The rules are docs/flink-job-shape.md's dead-letter table:
  late: the lateness or more older than its tenant's newest record on its partition;
  lag_exceeded: the lag bound or more behind the table's watermark when it is read (the
  source's, which each record brings as `nql_sw`, as the generated job's rows do).

Lateness 10 s, lag bound 1 min, windows of 1 min every 30 s, one shape counting records per
tenant. One partition, read in file order, the watermark emitted per record (1 s behind the
newest time), so what each record sees is fixed:
  acme 10:00:00, 10:00:20             newest 10:00:20
  acme 10:00:05                       15 s older than 10:00:20: late
  acme 10:00:12                        8 s older: counted
  acme 10:00:10                       exactly 10 s older: late
  globex 10:00:30 ... 10:05:00        every 30 s: the watermark reaches 10:04:59
  acme 10:03:00                       10:03:00 <= 10:04:59 - 1 min: lag_exceeded
  acme 10:04:30                       within the bound: counted (its windows end after
                                      10:04:59 - 1 min, where acme was dragged)
  globex 10:00:15                     15 s older than globex's newest (10:05:00): late, although
                                      acme's newest is older (tenants' clocks are their own)
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

pytestmark = pytest.mark.flink

SPEC = ("lag=60000;idle=60000;late=10000 | s_count (acme: n@m_n; globex: n@m_n): size=60000;slide=30000;pop=0;"
        "aggs=count:n0")


def line(tenant: str, hms: str, note: str = "") -> str:
    return json.dumps({"tenant": tenant, "ts": f"2026-11-26 {hms}.000", "note": note})


GLOBEX = [line("globex", (datetime(2026, 11, 26, 10, 0, 30) + timedelta(seconds=30 * i)).strftime("%H:%M:%S"))
          for i in range(10)]
LINES = ([line("acme", "10:00:00"), line("acme", "10:00:20"), line("acme", "10:00:05", "late"),
          line("acme", "10:00:12"), line("acme", "10:00:10", "late at exactly the lateness")]
         + GLOBEX + [line("acme", "10:03:00", "lagging"), line("acme", "10:04:30"),
                     line("globex", "10:00:15", "late for globex")])
REJECTED = sorted([("late", LINES[2]), ("late", LINES[4]), ("lag_exceeded", LINES[15]), ("late", LINES[17])])


def expected_counts() -> dict[tuple[str, str], int]:
    """(tenant, window end) -> records counted: every line not rejected, in both its windows."""
    rejected = {text for _, text in REJECTED}
    out: dict[tuple[str, str], int] = {}
    for text in LINES:
        if text in rejected:
            continue
        r = json.loads(text)
        ts = datetime.strptime(r["ts"], "%Y-%m-%d %H:%M:%S.000")
        first = ts.replace(second=ts.second // 30 * 30) + timedelta(seconds=30)
        for end in (first, first + timedelta(seconds=30)):
            key = (r["tenant"], end.strftime("%Y-%m-%d %H:%M:%S"))
            out[key] = out.get(key, 0) + 1
    return out


@pytest.fixture(scope="module")
def rows(flink_env, tmp_path_factory):
    from nql_flink.translator.flink.codegen import LATE_HINT_FUNCTION_CLASS, WINDOWS_FUNCTION_CLASS

    d = tmp_path_factory.mktemp("windows-clock")
    (d / "lines.json").write_text("".join(x + "\n" for x in LINES))
    t = flink_env
    t.execute_sql(f"""CREATE TEMPORARY TABLE wc_src (line STRING,
        ts AS TO_TIMESTAMP(JSON_VALUE(line, '$.ts')), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{d / "lines.json"}', 'format' = 'raw',
              'scan.watermark.emit.strategy' = 'on-event')""")
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS wc_windows AS '{WINDOWS_FUNCTION_CLASS}' "
                  "LANGUAGE JAVA")
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS wc_hint AS '{LATE_HINT_FUNCTION_CLASS}' "
                  "LANGUAGE JAVA")
    # as the generated job's rows: the line only where the source's hint says it may be rejected
    t.execute_sql("""CREATE TEMPORARY VIEW wc_input AS
        SELECT JSON_VALUE(line, '$.tenant') AS tenant, ts, FALSE AS nql_tick, 0 AS nql_split,
               CURRENT_WATERMARK(ts) AS nql_sw,
               CASE WHEN wc_hint(JSON_VALUE(line, '$.tenant'), 0, ts, CAST(10000 AS BIGINT), CURRENT_WATERMARK(ts),
                                 CAST(60000 AS BIGINT)) THEN CAST(line AS BYTES) END AS nql_line, ARRAY['{}'] AS nql_group, CAST(NULL AS ARRAY<BOOLEAN>) AS nql_keep,
               CAST(NULL AS STRING) AS nql_device, FALSE AS nql_unknown, ARRAY[CAST(1 AS DOUBLE)] AS nql_n,
               CAST(NULL AS ARRAY<STRING>) AS nql_s
        FROM wc_src""")
    result = t.execute_sql(f"""
        SELECT nql_kind, tenant, CAST(window_end AS STRING), nv, reject_reason, CAST(nql_line AS STRING),
               CAST(late_ts AS STRING)
        FROM wc_windows(input => TABLE wc_input PARTITION BY tenant, on_time => DESCRIPTOR(ts),
                        spec => '{SPEC}', uid => 'wc-test')""")
    with result.collect() as out:
        got = [tuple(r) for r in out]
    with t.execute_sql("SELECT CAST(nql_line AS STRING) FROM wc_input WHERE nql_line IS NOT NULL").collect() as out:
        carried = sorted(r[0] for r in out)
    return got, carried


def test_late_and_lagging_records_are_rejected_with_their_reason_and_line(rows):
    rows, carried = rows
    # the hint carried the line of every record the function rejects, and only of those
    assert carried == sorted(text for _, text in REJECTED)
    got = sorted((reason, text) for kind, _, _, _, reason, text, _ in rows if kind == "reject")
    assert got == REJECTED
    # each with its time, for the summary a dead letter holds when no line came (after a restart)
    times = sorted(ts[:19] for kind, *_, ts in rows if kind == "reject")
    assert times == sorted(json.loads(text)["ts"][:19] for _, text in REJECTED)


def test_the_other_records_are_counted_in_their_windows(rows):
    rows, _ = rows
    got = {(tenant, end[:19]): int(nv[0]) for kind, tenant, end, nv, _, _, _ in rows if kind == "eval"}
    assert got == expected_counts()
    assert not [r for r in rows if r[0] == "late"]   # none came after its window was evaluated
