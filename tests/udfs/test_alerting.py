"""Hand-written timelines for the alert state machine (monitors.md "Semantics")."""
from __future__ import annotations

import dataclasses
import json

from nql_flink.udfs.alerting.state_machine import (AlertState, RECOVERED, TRIGGERED, alert_id,
                                         run_timeline)

S = 30_000          # every = 30 s
M = 60_000


def tl(*bits, rec=None, start=0, step=S):
    """Evaluations at start, start+step, ... ; bits: 1/0 for trigger.when; rec defaults to
    NOT trigger (monitors.md default recovery)."""
    rec = rec or [not b for b in bits]
    return [(start + i * step, bool(b), bool(r)) for i, (b, r) in enumerate(zip(bits, rec))]


def statuses(trs):
    return [(t.status, t.at_ms) for t in trs]


def test_for_zero_triggers_at_first_true_evaluation():
    out = run_timeline(tl(0, 0, 1, 1, 0), every_ms=S, for_ms=0)
    # t0 = 60 s is true -> triggered at t0; 120 s false -> recovered (default, for 0)
    assert statuses(out) == [(TRIGGERED, 2 * S), (RECOVERED, 4 * S)]
    assert out[0].alert_id == out[1].alert_id


def test_for_2min_every_30s_needs_five_true_evaluations():
    # true at 0,30,60,90,120 s: 120 - 0 >= 2 min -> triggers at 120 s (5th evaluation)
    out = run_timeline(tl(1, 1, 1, 1, 1, 1), every_ms=S, for_ms=2 * M)
    assert statuses(out) == [(TRIGGERED, 4 * S)]
    assert out[0].since_ms == 0
    # only four true evaluations: 90 - 0 < 2 min -> nothing
    assert run_timeline(tl(1, 1, 1, 1, 0), every_ms=S, for_ms=2 * M) == []


def test_gap_breaks_a_run():
    # true at 0, 30, 60, [90 missing], 120, 150, 180, 210, 240 -> the run restarts at 120 s
    evals = [(t, True, False) for t in (0, 30_000, 60_000, 120_000, 150_000, 180_000,
                                        210_000, 240_000)]
    out = run_timeline(evals, every_ms=S, for_ms=2 * M)
    assert statuses(out) == [(TRIGGERED, 240_000)]
    assert out[0].since_ms == 120_000


def test_false_evaluation_breaks_a_run():
    out = run_timeline(tl(1, 1, 1, 0, 1, 1, 1, 1, 1), every_ms=S, for_ms=2 * M)
    assert statuses(out) == [(TRIGGERED, 8 * S)]


def test_hysteresis_band_keeps_state():
    # latency series, trigger > 150, recover <= 120 ; values in (120, 150] keep the state
    lat = [100, 160, 140, 130, 125, 110, 140, 145, 160]
    evals = [(i * S, v > 150, v <= 120) for i, v in enumerate(lat)]
    out = run_timeline(evals, every_ms=S, for_ms=0)
    # 30 s: 160 -> triggered; 60..120 s in the band -> still triggered; 150 s: 110 -> recovered;
    # 180/210 s: band -> stays ok; 240 s: 160 -> triggered again (new alert id)
    assert statuses(out) == [(TRIGGERED, S), (RECOVERED, 5 * S), (TRIGGERED, 8 * S)]
    assert out[0].alert_id == out[1].alert_id != out[2].alert_id


def test_recover_for_needs_a_sustained_recovery():
    # triggered at 0; recover true at 30,60 (1 min < 2 min) then false, then true 120..240
    trig = [1, 0, 0, 0, 0, 0, 0, 0, 0]
    rec = [0, 1, 1, 0, 1, 1, 1, 1, 1]
    out = run_timeline(tl(*trig, rec=rec), every_ms=S, for_ms=0, recover_for_ms=2 * M)
    # recovery streak starts at 120 s; 240 - 120 >= 2 min -> recovered at 240 s
    assert statuses(out) == [(TRIGGERED, 0), (RECOVERED, 8 * S)]


def test_no_recovery_before_trigger():
    out = run_timeline(tl(0, 0, 0, 1, 0, rec=[1, 1, 1, 0, 1]), every_ms=S, for_ms=M)
    # trigger needs 60 s of truth: only one true evaluation -> never triggered, so the
    # recover condition being true never emits anything
    assert out == []


def test_flapping_does_not_trigger_with_for():
    out = run_timeline(tl(1, 0, 1, 0, 1, 0, 1, 0), every_ms=S, for_ms=M)
    assert out == []


def test_flapping_with_for_zero_emits_every_transition_once():
    out = run_timeline(tl(1, 0, 1, 0), every_ms=S, for_ms=0)
    assert [t.status for t in out] == [TRIGGERED, RECOVERED, TRIGGERED, RECOVERED]
    assert out[0].alert_id == out[1].alert_id
    assert out[2].alert_id == out[3].alert_id != out[0].alert_id


def test_null_conditions_count_as_false():
    evals = [(0, True, None), (S, None, None), (2 * S, None, True)]
    out = run_timeline(evals, every_ms=S, for_ms=0)
    assert statuses(out) == [(TRIGGERED, 0), (RECOVERED, 2 * S)]


def test_for_is_read_at_each_evaluation():
    st, out = AlertState(), []
    fors = [5 * M, 5 * M, M, M]          # config lowered to 1 min at 60 s
    for i, f in enumerate(fors):
        tr = st.step(i * S, True, False, f, 0, S, "t", "m", "{}")
        if tr:
            out.append(tr)
    assert statuses(out) == [(TRIGGERED, 2 * S)]      # 60 - 0 >= 1 min


def test_stale_or_duplicate_evaluations_are_ignored():
    evals = [(0, True, False), (S, False, True), (0, True, False), (S, True, False)]
    out = run_timeline(evals, every_ms=S, for_ms=0)
    assert statuses(out) == [(TRIGGERED, 0), (RECOVERED, S)]


def test_alert_id_is_deterministic_and_distinguishes_inputs():
    g = json.dumps({"device.virtualization.desktop_pool": "Finance-Win11"}, separators=(",", ":"))
    a = alert_id("acme", "vdi", g, 1000)
    assert a == alert_id("acme", "vdi", g, 1000) and len(a) == 32
    assert len({a, alert_id("globex", "vdi", g, 1000), alert_id("acme", "vdi2", g, 1000),
                alert_id("acme", "vdi", g, 2000), alert_id("acme", "vdi", "{}", 1000)}) == 5


def test_state_survives_serialisation():
    st = AlertState()
    st.step(0, True, False, 0, 0, S, "t", "m", "{}")
    again = AlertState.from_json(st.to_json())
    assert again == st
    tr = again.step(S, False, True, 0, 0, S, "t", "m", "{}")
    assert tr.status == RECOVERED and tr.alert_id == st.alert_id


def test_state_text_is_the_stored_format():
    """The state is Flink state (a savepoint holds this text): compact JSON, keys sorted,
    every field of AlertState written."""
    st = AlertState()
    st.step(0, True, False, 0, 0, S, "t", "m", "{}")
    assert st.to_json() == ('{"alert_id":"%s","last_t":0,"status":"triggered","streak_start":null,'
                            '"trigger_at":0}' % alert_id("t", "m", "{}", 0))
    assert sorted(json.loads(st.to_json())) == sorted(f.name for f in dataclasses.fields(AlertState))
