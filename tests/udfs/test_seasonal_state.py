"""The seasonal monitor's state UDAF (udfs/flink/alert_state.py, SeasonalTransitions) driven
in plain Python, with hand-derived timelines: the baseline kept per slot, the breach, the
three-valued trigger/recover logic of the SQL it replaces, and the payload of a transition.

Setup: slot 1 h, weekly off, history 7 d, min 4 samples from 2 days, direction above,
deviations 3; evaluations every 15 min at 10:00, 10:15, 10:30, 10:45 (slot 10).
Day 1 (Mon): 10, 10, 12, 12 -> learning (one day of history at most).
Day 2 (Tue) 10:00 value 10: history Mon only (4 samples, 1 day) -> learning.
  10:15 value 10.2: history [10,10,12,12,10], 2 days -> median 10, MAD 0 -> spread floor
        1 % x 10 = 0.1; (10.2 - 10) / 0.1 = 2 spreads -> no breach.
  10:30 value 11: history [10,10,12,12,10,10.2] -> median 10.1, |x - 10.1| = .1,.1,.1,.1,1.9,1.9
        -> MAD 0.1, spread 1.4826 x 0.1 = 0.14826; (11 - 10.1) / 0.14826 = 6.07 > 3 -> breach.
  10:45 value 10.1: median of [10,10,10,10.2,11,12,12] = 10.2 -> below the centre, no breach.
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from udfs.baseline import SeasonalParams
from udfs.flink.alert_state import SeasonalTransitions
from udfs.flink.baseline import DetectSpec

EVERY = 15 * 60_000
MON = [(datetime(2026, 11, 23, 10, m), v) for m, v in ((0, 10.0), (15, 10.0), (30, 12.0), (45, 12.0))]
TUE = [(datetime(2026, 11, 24, 10, m), v) for m, v in ((0, 10.0), (15, 10.2), (30, 11.0), (45, 10.1))]
PAYLOAD = json.dumps({"values": {"m": 0}, "baseline": None, "excess": None})


def spec(default_recover=True) -> str:
    return DetectSpec(SeasonalParams(direction="above", slot_s=3600, history_s=7 * 86400, weekly="off",
                                     min_samples=4, min_days=2), default_recover).text()


def run(evaluations, default_recover=True):
    """evaluations: (window_end, value, enabled, when_ok, rec); -> transitions (status, at, payload)."""
    f = SeasonalTransitions()
    acc = f.create_accumulator()
    for seq, (at, value, enabled, when_ok, rec) in enumerate(evaluations, 1):
        f.accumulate(acc, seq, at, when_ok, rec, 0, 0, EVERY, "acme", "m", "{}", PAYLOAD, enabled, value, 3.0,
                     spec(default_recover))
    return [(r[0], datetime.utcfromtimestamp(r[2] / 1000), json.loads(r[4])) for r in f.get_value(acc)]


def plain(days, **changes):
    """Enabled, trigger.when true, default recovery; `changes` maps an index to overrides."""
    rows = [[at, v, True, True, None] for at, v in days]
    for i, (enabled, when_ok, rec) in changes.items():
        rows[int(i)][2:] = [enabled, when_ok, rec]
    return [tuple(r) for r in rows]


def test_breach_at_1030_triggers_and_the_next_evaluation_recovers():
    out = run(plain(MON + TUE))
    assert [(s, at.strftime("%a %H:%M")) for s, at, _ in out] == [("triggered", "Tue 10:30"), ("recovered", "Tue 10:45")]
    base = out[0][2]["baseline"]
    spread = 1.4826 * 0.1
    assert base["centre"] == pytest.approx(10.1) and base["history_size"] == 6 and base["slot"] == "10:00"
    assert base["band"] == pytest.approx([10.1 - 3 * spread, 10.1 + 3 * spread])
    assert out[0][2]["excess"] == pytest.approx((11 - 10.1) / spread / 3)
    # the recovered record carries its own evaluation's baseline: 7 samples, centre 10.2
    assert out[1][2]["baseline"]["centre"] == pytest.approx(10.2) and out[1][2]["baseline"]["history_size"] == 7


def test_a_disabled_monitor_or_a_null_trigger_condition_never_triggers():
    assert run(plain(MON + TUE, **{"6": (False, True, None)})) == []
    assert run(plain(MON + TUE, **{"6": (True, None, None)})) == []
    # trigger.when false at the breach: no alert either
    assert run(plain(MON + TUE, **{"6": (True, False, None)})) == []


def test_an_explicit_recover_condition_decides_the_recovery():
    rows = plain(MON + TUE, **{"7": (True, True, False)})
    rows.append((datetime(2026, 11, 24, 11, 0), 10.0, True, True, True))   # slot 11: learning, rec true
    out = run(rows, default_recover=False)
    assert [(s, at.strftime("%H:%M")) for s, at, _ in out] == [("triggered", "10:30"), ("recovered", "11:00")]
    assert out[1][2]["baseline"] is None      # slot 11 has no history yet


def test_a_disabled_monitor_keeps_an_open_alert_open():
    rows = plain(MON + TUE, **{"7": (False, True, None)})
    out = run(rows)
    assert [s for s, _, _ in out] == ["triggered"]


def test_the_entry_kept_in_the_accumulator_plus_the_mapview_is_the_whole_history():
    """The slot being filled travels in the accumulator and reaches the MapView when the slot
    changes: at any point the MapView with the current entry laid over it holds exactly the
    entries of a plain per-slot replay of score_and_record (weekdays and a weekend, slots
    changing every 4 evaluations, a missing value)."""
    import random
    from datetime import timedelta

    from udfs.flink.baseline import history_key, other_key, score_and_record

    params = DetectSpec.parse(spec()).params
    f = SeasonalTransitions()
    acc = f.create_accumulator()
    plain_slots: dict[int, bytes] = {}
    rng = random.Random(5)
    at = datetime(2026, 11, 19, 0, 0)          # Thursday: the run crosses a weekend
    for seq in range(1, 4 * 24 * 6):
        value = None if seq % 97 == 0 else 10 + rng.random()
        f.accumulate(acc, seq, at, True, None, 0, 0, EVERY, "acme", "m", "{}", PAYLOAD, True, value, 3.0, spec())
        ms = int((at - datetime(1970, 1, 1)).total_seconds() * 1000)
        key = history_key(ms, params)
        _, plain_slots[key] = score_and_record(plain_slots.get(key), lambda: plain_slots.get(other_key(key)), ms,
                                               value, params)
        if seq % 50 == 0 or seq == 4 * 24 * 6 - 1:
            kept = {k: acc[4][k] for k in acc[4].keys()} | {acc[2]: acc[3]}
            assert kept == {k: v for k, v in plain_slots.items() if v is not None}
        at += timedelta(minutes=15)


def test_an_open_alert_does_not_recover_when_the_next_slot_is_still_learning():
    """Tue 10:45 at 12.0 instead of 10.1: history [10,10,12,12,10,10.2,11], median 10.2,
    |x - 10.2| sorted 0,.2,.2,.2,.8,1.8,1.8 -> MAD 0.2, spread 0.2965; (12 - 10.2) / 0.2965
    = 6.07 > 3: still breaching. Tue 11:00 and 11:15 fall in slot 11, which has no history
    (learning): no baseline, so no judgement either way; the alert opened at 10:30 stays
    open (it recovered at 11:00 before: learning counted as 'no breach')."""
    tue = TUE[:3] + [(TUE[3][0], 12.0), (datetime(2026, 11, 24, 11, 0), 10.0), (datetime(2026, 11, 24, 11, 15), 10.0)]
    out = run(plain(MON + tue))
    assert [(s, at.strftime("%a %H:%M")) for s, at, _ in out] == [("triggered", "Tue 10:30")]
