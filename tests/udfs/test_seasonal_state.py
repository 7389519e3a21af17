"""The seasonal monitor's state UDAF (udfs/flink/alert_state.py, SeasonalTransitions) driven
in plain Python, with hand-derived timelines: the baseline kept per slot, the breach, the
three-valued trigger/recover logic of the SQL it replaces, and the payload of a transition.

Setup: slot 1 h, weekly off, history 7 d, min 4 samples from 2 days, direction above,
deviations 3; evaluations every 15 min at 10:00, 10:15, 10:30, 10:45 (slot 10). The
baseline of a slot on a day comes from that slot on the previous days only.
Mon: 10, 10, 12, 12 -> learning (no earlier day).
Tue: 10, 10.2, 11, 10.1 -> learning (history Mon: 4 samples but 1 day).
Wed: history Mon + Tue = 10,10,10,10.1,10.2,11,12,12 (8 samples, 2 days), for every Wed
  evaluation of slot 10: median (10.1 + 10.2) / 2 = 10.15; |x - 10.15| sorted
  .05,.05,.15,.15,.15,.85,1.85,1.85 -> MAD .15, spread 1.4826 x .15 = 0.22239 (above the
  1 % floor 0.1015); band top 10.15 + 3 x 0.22239 = 10.817.
  10:00 value 10.0 and 10:15 value 10.5: inside -> no breach.
  10:30 value 11: (11 - 10.15) / 0.22239 = 3.82 > 3 -> breach.
  10:45 value 10.3: inside -> no breach.
"""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from nql_flink.udfs.baseline import SeasonalParams
from nql_flink.udfs.flink.alert_state import SeasonalTransitions
from nql_flink.udfs.baseline_params import DetectSpec

EVERY = 15 * 60_000
MON = [(datetime(2026, 11, 23, 10, m), v) for m, v in ((0, 10.0), (15, 10.0), (30, 12.0), (45, 12.0))]
TUE = [(datetime(2026, 11, 24, 10, m), v) for m, v in ((0, 10.0), (15, 10.2), (30, 11.0), (45, 10.1))]
WED = [(datetime(2026, 11, 25, 10, m), v) for m, v in ((0, 10.0), (15, 10.5), (30, 11.0), (45, 10.3))]
DAYS = MON + TUE + WED          # Wed 10:30 is index 10, Wed 10:45 index 11
PAYLOAD = json.dumps({"values": {"m": 0}, "baseline": None, "excess": None})


def spec(default_recover=True) -> str:
    return DetectSpec(SeasonalParams(direction="above", slot_s=3600, history_s=7 * 86400, weekly="off",
                                     min_samples=4, min_days=2), default_recover).text()


def run(evaluations, default_recover=True):
    """evaluations: (window_end, value, enabled, when_ok, rec); -> transitions (status, at, payload)."""
    f = SeasonalTransitions()
    acc = f.create_accumulator()
    for at, value, enabled, when_ok, rec in evaluations:
        f.accumulate(acc, at, when_ok, rec, 0, 0, EVERY, "acme", "m", "{}", PAYLOAD, enabled, value, 3.0,
                     spec(default_recover))
    return [(r[0], datetime.utcfromtimestamp(r[2] / 1000), json.loads(r[4])) for r in f.get_value(acc)]


def plain(days, **changes):
    """Enabled, trigger.when true, default recovery; `changes` maps an index to overrides."""
    rows = [[at, v, True, True, None] for at, v in days]
    for i, (enabled, when_ok, rec) in changes.items():
        rows[int(i)][2:] = [enabled, when_ok, rec]
    return [tuple(r) for r in rows]


def test_breach_at_1030_triggers_and_the_next_evaluation_recovers():
    out = run(plain(DAYS))
    assert [(s, at.strftime("%a %H:%M")) for s, at, _ in out] == [("triggered", "Wed 10:30"), ("recovered", "Wed 10:45")]
    base = out[0][2]["baseline"]
    spread = 1.4826 * 0.15
    assert base["centre"] == pytest.approx(10.15) and base["history_size"] == 8 and base["slot"] == "10:00"
    assert base["band"] == pytest.approx([10.15 - 3 * spread, 10.15 + 3 * spread])
    assert out[0][2]["excess"] == pytest.approx((11 - 10.15) / spread / 3)
    # the recovered record carries its own evaluation's baseline: the slot's, the same all Wednesday
    assert out[1][2]["baseline"] == base and out[1][2]["excess"] == pytest.approx((10.3 - 10.15) / spread / 3)


def test_today_does_not_count_as_a_day_of_history():
    """Tue 10:30 at 20 (far above every Monday value): Tuesday's baseline would have two days
    if Tuesday's own 10:00 and 10:15 counted; it has only Monday, so it is learning."""
    tue = TUE[:2] + [(TUE[2][0], 20.0)] + TUE[3:]
    assert run(plain(MON + tue)) == []


def test_a_disabled_monitor_or_a_null_trigger_condition_never_triggers():
    assert run(plain(DAYS, **{"10": (False, True, None)})) == []
    assert run(plain(DAYS, **{"10": (True, None, None)})) == []
    # trigger.when false at the breach: no alert either
    assert run(plain(DAYS, **{"10": (True, False, None)})) == []


def test_an_explicit_recover_condition_decides_the_recovery():
    rows = plain(DAYS, **{"11": (True, True, False)})
    rows.append((datetime(2026, 11, 25, 11, 0), 10.0, True, True, True))   # slot 11: learning, rec true
    out = run(rows, default_recover=False)
    assert [(s, at.strftime("%H:%M")) for s, at, _ in out] == [("triggered", "10:30"), ("recovered", "11:00")]
    assert out[1][2]["baseline"] is None      # slot 11 has no history yet


def test_a_disabled_monitor_keeps_an_open_alert_open():
    rows = plain(DAYS, **{"11": (False, True, None)})
    out = run(rows)
    assert [s for s, _, _ in out] == ["triggered"]


def test_the_entry_kept_in_the_accumulator_plus_the_mapview_is_the_whole_history():
    """The slot being filled travels in the accumulator and reaches the MapView when the slot
    changes: at any point the MapView with the current entry laid over it holds exactly the
    entries of a plain per-slot replay of score_and_record (weekdays and a weekend, slots
    changing every 4 evaluations, a missing value)."""
    import random
    from datetime import timedelta

    from nql_flink.udfs.flink.baseline import history_key, other_key, score_and_record

    params = DetectSpec.parse(spec()).params
    f = SeasonalTransitions()
    acc = f.create_accumulator()
    plain_slots: dict[int, bytes] = {}
    rng = random.Random(5)
    at = datetime(2026, 11, 19, 0, 0)          # Thursday: the run crosses a weekend
    for seq in range(1, 4 * 24 * 6):
        value = None if seq % 97 == 0 else 10 + rng.random()
        f.accumulate(acc, at, True, None, 0, 0, EVERY, "acme", "m", "{}", PAYLOAD, True, value, 3.0, spec())
        ms = int((at - datetime(1970, 1, 1)).total_seconds() * 1000)
        key = history_key(ms, params)
        _, plain_slots[key] = score_and_record(plain_slots.get(key), lambda: plain_slots.get(other_key(key)), ms,
                                               value, params)
        if seq % 50 == 0 or seq == 4 * 24 * 6 - 1:
            kept = {k: acc[5][k] for k in acc[5].keys()} | {acc[2]: acc[3]}
            assert kept == {k: v for k, v in plain_slots.items() if v is not None}
        at += timedelta(minutes=15)


def test_an_open_alert_does_not_recover_when_the_next_slot_is_still_learning():
    """Wed 10:45 at 12.0 instead of 10.3: (12 - 10.15) / 0.22239 = 8.3 > 3, still breaching.
    Wed 11:00 and 11:15 fall in slot 11, which has no history (learning): no baseline, so no
    judgement either way; the alert opened at 10:30 stays open (it recovered at 11:00 when
    learning counted as 'no breach')."""
    wed = WED[:3] + [(WED[3][0], 12.0), (datetime(2026, 11, 25, 11, 0), 10.0), (datetime(2026, 11, 25, 11, 15), 10.0)]
    out = run(plain(MON + TUE + wed))
    assert [(s, at.strftime("%a %H:%M")) for s, at, _ in out] == [("triggered", "Wed 10:30")]
