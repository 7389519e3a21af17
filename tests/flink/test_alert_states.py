"""The alert state machine in Java (udfs/jvm AlertStates) on the engine, against the Python
one (udfs/alerting/state_machine.py) as the independent oracle, and its state rows and
eviction against hand-derived expectations.

Judged rows (one per group and evaluation, every 60 s from 10:00) go through the function as
the generated job calls it (views/monitor_alert_states.sql.j2: `every` and the eviction time,
10 min, in each row).
Each group is one hand-written timeline; a clock group evaluated every minute to 10:40 moves
the watermark. Evaluations are (minute, trig, rec, for_ms, recover_for_ms).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.flink

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
EVERY = 60_000
EVICT = 600_000
NASTY = 'a"b\\c\n\t\r\b\f\x01\x1f\x7f é 😀 \u2028 /'
M = 60_000

TIMELINES = {
    # for 2 min, default recovery (rec = NOT trig), recover.for 0
    "for": [(0, True, False, 2 * M, 0), (1, True, False, 2 * M, 0), (2, True, False, 2 * M, 0),
            (3, True, False, 2 * M, 0), (4, False, True, 2 * M, 0)],
    # hysteresis: between the thresholds (trig and rec false) breaks the recovery run
    "hysteresis": [(0, True, False, 0, M), (1, False, False, 0, M), (2, False, True, 0, M),
                   (3, False, False, 0, M), (4, False, True, 0, M), (5, False, True, 0, M)],
    # a missing evaluation (10:02) breaks the run: it starts again at 10:03
    "missing": [(0, True, False, 2 * M, 0), (1, True, False, 2 * M, 0), (3, True, False, 2 * M, 0),
                (4, True, False, 2 * M, 0), (5, True, False, 2 * M, 0)],
    # `for` is read at each evaluation: 3 min, then 1 min at 10:02 -> triggers then, since 10:00
    "for_changes": [(0, True, False, 3 * M, 0), (1, True, False, 3 * M, 0), (2, True, False, M, 0)],
    # NULL conditions count as false
    "null": [(0, None, None, 0, 0), (1, True, None, 0, 0), (2, False, None, 0, 0), (3, False, True, 0, 0)],
    # eviction: ok, silent past 10 min (evicted), back at 10:20 and triggers
    "evicted_ok": [(0, False, True, 0, 0), (20, True, False, 0, 0)],
    # an open alert silent for 25 min is kept and recovers with its alert id
    "open_alert": [(0, True, False, 0, 0), (25, False, True, 0, 0)],
    # a pending run of a group silent 14 min: not evicted at 10:11 (its next evaluation could
    # still be on its way), broken by the gap; a new run from 10:15 triggers at 10:20
    "pending": [(0, True, False, 5 * M, 0), (1, True, False, 5 * M, 0)] + [(m, True, False, 5 * M, 0) for m in range(15, 21)],
    # a pending run of a group silent 30 min: evicted one more delay after 10:10 (before 10:30);
    # back at 10:30 it triggers at once (for 0)
    "pending_gone": [(0, True, False, 5 * M, 0), (30, True, False, 0, 0)],
    "clock": [(m, False, True, 0, 0) for m in range(41)],
}


def ms(minute: int) -> int:
    return int((T0 + timedelta(minutes=minute)).timestamp() * 1000)


def ts(minute: int) -> str:
    return (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M:%S.000")


def tenant_of(name: str) -> str:
    return NASTY if name == "for" else "acme"


def group_of(name: str) -> str:
    # the group JSON of "for" holds the nasty text too: the alert id hashes it as a JSON string
    return json.dumps({"g": name + (NASTY if name == "for" else "")}, ensure_ascii=False, separators=(",", ":"))


def oracle(name: str) -> list[tuple]:
    from nql_flink.udfs.alerting.state_machine import AlertState

    st, out = AlertState(), []
    for minute, trig, rec, for_ms, recover_for_ms in TIMELINES[name]:
        tr = st.step(ms(minute), trig, rec, for_ms, recover_for_ms, EVERY, tenant_of(name), "mon", group_of(name))
        if tr is not None:
            out.append((tr.status, tr.alert_id, tr.at_ms, tr.since_ms))
    return out


@pytest.fixture(scope="module")
def rows(flink_env, tmp_path_factory):
    from nql_flink.translator.flink.codegen import STATES_FUNCTION_CLASS

    d = tmp_path_factory.mktemp("alert-states")
    evaluations = sorted((ms(e[0]), name, e) for name, timeline in TIMELINES.items() for e in timeline)
    lines = [json.dumps({"tenant": tenant_of(name), "monitor": "mon", "group_json": group_of(name),
                         "window_end": ts(minute), "trig": trig, "rec": rec, "for_ms": f, "recover_for_ms": rf,
                         "payload": f"{name}@{minute}"})
             for _, name, (minute, trig, rec, f, rf) in evaluations]
    (d / "judged.json").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    t = flink_env
    t.execute_sql(f"""CREATE TEMPORARY TABLE as_judged (tenant STRING, monitor STRING, group_json STRING,
        window_end TIMESTAMP(3), trig BOOLEAN, rec BOOLEAN, for_ms BIGINT, recover_for_ms BIGINT, payload STRING,
        nql_state_key AS CONCAT(tenant, '/', monitor, '/', group_json),
        every_ms AS CAST({EVERY} AS BIGINT), evict_after_ms AS CAST({EVICT} AS BIGINT),
        window_time AS window_end - INTERVAL '0.001' SECOND,
        WATERMARK FOR window_time AS window_time - INTERVAL '0.001' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{d / "judged.json"}', 'format' = 'json')""")
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS as_states AS '{STATES_FUNCTION_CLASS}' LANGUAGE JAVA")
    t.execute_sql(f"""CREATE TEMPORARY VIEW as_out AS SELECT * FROM as_states(input => TABLE as_judged
        PARTITION BY nql_state_key, on_time => DESCRIPTOR(window_time), uid => 'test-alerts')""")
    columns = ", ".join(f"`{c}`" for c in ("nql_state_key", "tenant", "group_json", "nql_kind", "status", "alert_id",
                                           "at", "since", "due", "payload"))
    with t.execute_sql(f"SELECT {columns} FROM as_out").collect() as results:
        out = [tuple(r) for r in results]
    by_group: dict[str, list[tuple]] = {}
    for key, *rest in out:
        name = next(n for n in TIMELINES if key == f"{tenant_of(n)}/mon/{group_of(n)}")
        by_group.setdefault(name, []).append(tuple(rest))
    return by_group


def _ms(value) -> int | None:
    return None if value is None else int(value.replace(tzinfo=timezone.utc).timestamp() * 1000)


def alerts(rows) -> list[tuple]:
    return [(status, alert_id, _ms(at), _ms(since)) for _, _, kind, status, alert_id, at, since, _, _ in rows
            if kind == "alert"]


def states(rows) -> list[tuple]:
    """(status, since minute, due minute, at minute) of the 'state' rows."""
    minute = lambda v: None if v is None else (_ms(v) - ms(0)) // M  # noqa: E731
    return [(status, minute(since), minute(due), minute(at)) for _, _, kind, status, _, at, since, due, _ in rows
            if kind == "state"]


@pytest.mark.parametrize("name", [n for n in TIMELINES if n != "clock"])
def test_transitions_equal_the_python_state_machine(rows, name):
    expected = oracle(name)
    assert expected, "every timeline has a transition"
    assert alerts(rows[name]) == expected


def test_alert_id_hashes_the_json_text_python_writes(rows):
    """The nasty tenant and group (quote, backslash, control characters, DEL, non-ASCII, an
    emoji, U+2028): the id is sha256 of the JSON text json.dumps(ensure_ascii=False) writes,
    computed here by hand."""
    import hashlib

    def string(text: str) -> str:
        for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r"),
                             ("\b", "\\b"), ("\f", "\\f"), ("\x01", "\\u0001"), ("\x1f", "\\u001f")):
            text = text.replace(raw, escaped)
        return '"' + text + '"'

    text = f'[{string(NASTY)},"mon",{string(group_of("for"))},{ms(2)}]'
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    triggered = [r for r in rows["for"] if r[2] == "alert" and r[3] == "triggered"]
    assert [r[4] for r in triggered] == [expected]
    assert triggered[0][0] == NASTY and triggered[0][-1] == "for@2"      # tenant and payload carried


def test_state_rows(rows):
    """Every change of state, and each evaluation of a run (its `at` moves): by hand. A group
    ok again after its recovery is evicted 10 min after its last evaluation (the clock group
    moves the watermark to 10:40; the end of the input evicts nothing)."""
    assert states(rows["for"]) == [("pending", 0, 2, 0), ("pending", 0, 2, 1), ("triggered", 2, None, 2),
                                   ("ok", 4, None, 4), ("evicted", None, None, 4)]
    assert states(rows["hysteresis"]) == [("triggered", 0, None, 0), ("recovering", 2, 3, 2),
                                          ("triggered", 0, None, 3), ("recovering", 4, 5, 4), ("ok", 5, None, 5),
                                          ("evicted", None, None, 5)]
    assert states(rows["clock"]) == [("ok", 0, None, 0)]


def test_a_silent_group_without_an_open_alert_is_evicted(rows):
    # evaluated at 10:00, evicted when the watermark passes 10:10 (a tombstone: no tenant, no
    # value), a fresh state at 10:20
    assert states(rows["evicted_ok"]) == [("ok", 0, None, 0), ("evicted", None, None, 0), ("triggered", 20, None, 20)]
    evicted = [r for r in rows["evicted_ok"] if r[3] == "evicted"]
    assert evicted[0][0] is None
    # a pending run is kept when its eviction time comes (10:11): back at 10:15, the silence
    # broke the run, and the run from 10:15 is a new one
    assert states(rows["pending"]) == [("pending", 0, 5, 0), ("pending", 0, 5, 1),
                                       *[("pending", 15, 20, m) for m in range(15, 20)], ("triggered", 20, None, 20)]
    # silent for good: evicted a whole delay (10 min) after its eviction time, a fresh state at 10:30
    assert states(rows["pending_gone"]) == [("pending", 0, 5, 0), ("evicted", None, None, 0),
                                            ("triggered", 30, None, 30)]


def test_an_open_alert_is_kept_and_recovers_with_its_id(rows):
    from nql_flink.udfs.alerting.state_machine import alert_id

    opened = alert_id("acme", "mon", group_of("open_alert"), ms(0))
    assert alerts(rows["open_alert"]) == [("triggered", opened, ms(0), ms(0)), ("recovered", opened, ms(25), ms(25))]
    assert states(rows["open_alert"]) == [("triggered", 0, None, 0), ("ok", 25, None, 25), ("evicted", None, None, 25)]


def test_the_uid_names_the_state_layout_of_the_java_function():
    """The generated uid hashes codegen.ALERT_STATES_LAYOUT (savepoint upgrades restore by
    uid, deploy/plan.py): it must be the Java state row, so that a change of the row type
    changes the uid instead of misreading old state."""
    import re
    from pathlib import Path

    from nql_flink.translator.flink.codegen import ALERT_STATES_LAYOUT

    java = (Path(__file__).resolve().parents[2] / "udfs/jvm/src/dev/nqlflink/udfs/AlertStates.java").read_text()
    declared = re.search(r'STATE_TYPE =\s*"([^"]*)"\s*\+\s*"([^"]*)"', java)
    assert ALERT_STATES_LAYOUT.startswith(declared.group(1) + declared.group(2) + " by ")


# ------------------------------------------------------------------------ the whole job
def test_eviction_in_the_generated_job(flink_env, tmp_path):
    """`nql-flink run`'s job (the Kafka scenario monitor, tests/kafka/scenario.py: windows of
    1 min every 30 s, acme threshold 300 ms, for 1 min, default recovery) with --evict-after
    2min and --max-tenant-lag 1min, on files: a group is evicted 2 min + 1 min + 30 s (one
    slide) after its last evaluation (codegen.eviction_delay). Samples S(i) = 10:00:00 + 30 s i,
    two devices per pool:
      Finance 500 ms at S(0..3), silent, 100 ms at S(16..21): triggered at 10:01:30 (scenario);
        last evaluation 10:02:30 (the window [10:01:30, 10:02:30) holds S(3)); silent 6 min with
        its alert open: kept; back at 10:08:30 ([10:07:30, 10:08:30) holds S(16), 100 ms):
        recovered then, with the alert id of 10:01:30.
      Sales 250 ms at S(0..9), then silent: ok from its first window, 10:00:30; last
        evaluation 10:05:30; evicted when event time has passed 10:09:00 (S(19) moves the
        watermark to 10:09:20) and moved once more (S(20), AlertStates.onTimer): a tombstone
        after Sales' last state. (Its evaluations from 10:04:30 on come only with S(16), after
        the watermark jumped to 10:07:50: without the margin and the extra advance, Sales was
        evicted before them, and its later evaluations made it ok again.)
    On files the tombstone may not come: the windows function's watermark is also the
    inventory's (it looks the devices up itself), and a bounded run can hand it the inventory
    after every record, so that all evaluations reach the alert states before one jump of the
    watermark, and the end of the input evicts nothing (AlertStates). What holds either way is
    that Sales is never evicted before its last evaluation. The tombstone of a live job is
    tests/kafka/test_alert_state.py's."""
    from nql_flink.deploy.embedded.runner import run_job
    from tests.kafka import scenario as sc
    from tests.kafka.test_end_to_end import EVENTS, INVENTORY, compile_scenario, config_lines
    from nql_flink.udfs.alerting.state_machine import alert_id

    compiled = compile_scenario(evict_after_ms=120_000, max_tenant_lag_ms=60_000)
    latency = {"c-1": 500, "c-2": 500, "c-3": 250, "c-4": 250}
    events = []
    for i in list(range(10)) + list(range(16, 22)):
        for uid, pool in sc.POOLS.items():
            finance = pool.startswith("Finance")
            if finance and 4 <= i < 16 or not finance and i >= 10:
                continue
            events.append(json.dumps(sc.event("acme", uid, sc.S(i), 100 if finance and i >= 16 else latency[uid])))
    files = sc.write_inputs(tmp_path / "in", {EVENTS: events, INVENTORY: sc.inventory(("acme",))})
    cfg = tmp_path / "config.jsonl"
    cfg.write_text("".join(ln + "\n" for ln in config_lines(compiled)), encoding="utf-8")
    sources = {compiled.job.source_tables[t]: f for t, f in files.items()}
    sources[compiled.job.source_tables["monitor_config"]] = str(cfg)
    result = run_job(compiled.job, sources, str(tmp_path / "alerts.jsonl"), t_env=flink_env)

    fin_group = '{"device.virtualization.desktop_pool":"Finance-Win11"}'
    opened = alert_id("acme", "kafka_latency", fin_group, int(datetime(2026, 11, 26, 10, 1, 30, tzinfo=timezone.utc)
                                                             .timestamp() * 1000))
    assert sorted((a["status"], a["at"], a["alert_id"]) for a in map(json.loads, result.alerts)) == [
        ("recovered", "2026-11-26T10:08:30.000Z", opened), ("triggered", "2026-11-26T10:01:30.000Z", opened)]

    from pathlib import Path

    # one part file per sink subtask; a group's records are all in one, in order (its key's subtask)
    parts = sorted(p for p in Path(result.output_dir, "sink_alert_state").rglob("*") if p.is_file() and
                   not p.name.startswith("."))
    records = [json.loads(ln) for part in parts for ln in part.read_text(encoding="utf-8").splitlines()]
    shown = [(r["key"].split("/")[-1].split('"')[-2],
              None if r["value"] is None else (json.loads(r["value"])["state"], json.loads(r["value"])["since"][11:19]))
             for r in records]
    assert [s for s in shown if s[0] == "Sales-Win10"] in (
        [("Sales-Win10", ("ok", "10:00:30"))], [("Sales-Win10", ("ok", "10:00:30")), ("Sales-Win10", None)])
    assert [s for s in shown if s[0] == "Finance-Win11"] == [
        ("Finance-Win11", ("pending", "10:00:30")), ("Finance-Win11", ("pending", "10:00:30")),
        ("Finance-Win11", ("triggered", "10:01:30")), ("Finance-Win11", ("ok", "10:08:30"))]
