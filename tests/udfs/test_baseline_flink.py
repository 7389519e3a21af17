"""The seasonal baseline as the state UDAF computes it (udfs/flink/baseline.py), without
Flink: evaluation by evaluation it agrees to 1e-9 with the pure-Python per-row reference
and with the whole-series maths of udfs.baseline.seasonal_scores, across DST in three
zones and all `weekly` modes."""

import math
import random
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from nql_flink.udfs.baseline import SeasonalParams, seasonal_scores
from nql_flink.udfs.baseline_params import DetectSpec
from nql_flink.udfs.flink import baseline as fb


def series(seed: int, days: int = 10, step_min: int = 20, nan_share: float = 0.05):
    rng = random.Random(seed)
    t0 = datetime(2026, 3, 25, tzinfo=timezone.utc)  # spans the Europe/Zurich spring-forward day
    ts, vs = [], []
    t = t0
    while t < t0 + timedelta(days=days):
        h = t.hour + t.minute / 60
        v = 10 + 5 * math.sin(h / 24 * 2 * math.pi) + rng.gauss(0, 1)
        ts.append(t)
        vs.append(float("nan") if rng.random() < nan_share else v)
        t += timedelta(minutes=step_min + rng.choice((0, 0, 1)))
    return ts, vs


PARAMS = [
    SeasonalParams(slot_s=3600, history_s=7 * 86400),
    SeasonalParams(slot_s=1800, history_s=3 * 86400, tz="Europe/Zurich", weekly="on", min_samples=3),
    SeasonalParams(slot_s=7200, history_s=1.5 * 86400, tz="America/New_York", weekly="off", min_days=1),
]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def replay(ts, vs, params):
    """What the state UDAF does per group: each evaluation scored, then recorded."""
    slots: dict[int, bytes] = {}
    out = []
    for t, v in zip(ts, vs):
        key = fb.history_key(_ms(t), params)
        base, slots[key] = fb.score_and_record(slots.get(key), lambda: slots.get(fb.other_key(key)), _ms(t),
                                               None if math.isnan(v) else v, params)
        out.append(base)
    return out, slots


def test_the_state_path_is_the_whole_series_maths_at_each_row():
    """score_and_record, evaluation by evaluation, against udfs.baseline.seasonal_scores (the
    vectorized whole-series maths the NAB detector uses)."""
    ts, vs = series(2, nan_share=0.0)
    params = SeasonalParams(slot_s=3600, history_s=7 * 86400)
    whole = seasonal_scores(pd.to_datetime(ts), vs, params)
    got, _ = replay(ts, vs, params)
    for i in range(100, len(ts), 7):
        c, s, n, days = got[i]
        assert same(c, whole.centre[i]) and same(s, whole.spread[i])
        if not math.isnan(c):
            assert (n, days) == (whole.n[i], whole.days[i])


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: f"{p.tz}-{p.weekly}-{int(p.slot_s)}")
def test_the_slot_history_kept_in_state_gives_the_per_row_maths_at_every_evaluation(params):
    """What the state UDAF does, evaluation by evaluation (one packed history per slot and
    day type, old days dropped), against the pure-Python per-row maths over the whole past."""
    ts, vs = series(4, days=10)
    got, slots = replay(ts, vs, params)
    checked = learning = 0
    for i in range(0, len(ts), 13):
        want = fb.window_baseline_row(list(zip(ts[:i], vs[:i])), ts[i], params)
        assert all(same(float(a), float(b)) for a, b in zip(got[i], want)), (ts[i], got[i], want)
        checked += 1
        learning += math.isnan(got[i][0])
    assert checked > 40 and 0 < learning < checked
    # the state stays bounded: a slot holds at most history_days + 2 days of its samples
    longest = max(len(fb.unpack(b)[0]) for b in slots.values())
    per_day = 86400 / (20 * 60) * params.slot_s / 86400 + 1
    assert longest <= (params.history_days + 2) * per_day + 1


def test_the_history_key_is_the_local_time_of_day_and_day_type():
    utc = SeasonalParams(slot_s=900)
    zurich = SeasonalParams(slot_s=3600, tz="Europe/Zurich")
    at = _ms(datetime(2026, 7, 1, 6, 50, tzinfo=timezone.utc))        # Wednesday, 08:50 in Zurich (CEST)
    assert fb.history_key(at, utc) == 2 * ((6 * 3600 + 45 * 60) // 900) == 2 * 27
    assert fb.history_key(at, zurich) == 2 * 8
    winter = _ms(datetime(2026, 12, 1, 6, 50, tzinfo=timezone.utc))   # Tuesday, 07:50 in Zurich (CET)
    assert fb.history_key(winter, zurich) == 2 * 7
    saturday = _ms(datetime(2026, 11, 28, 23, 30, tzinfo=timezone.utc))  # Sunday 00:30 in Zurich
    assert fb.history_key(saturday, utc) == 2 * 94 + 1 and fb.history_key(saturday, zurich) == 2 * 0 + 1
    assert fb.other_key(2 * 94 + 1) == 2 * 94


def test_judgement_breach_and_excess_by_hand():
    above = SeasonalParams(direction="above")
    base = (10.0, 2.0, 5, 3)                          # centre 10, floored spread 2
    j = fb.seasonal_judgement(base, 17.0, 3.0, above)  # (17 - 10) / 2 = 3.5 spreads > 3
    assert j.breach and j.excess == pytest.approx(3.5 / 3)
    assert not fb.seasonal_judgement(base, 16.0, 3.0, above).breach       # exactly 3 spreads: not above
    assert not fb.seasonal_judgement(base, 3.0, 3.0, above).breach        # below, direction above
    below = fb.seasonal_judgement(base, 3.0, 3.0, SeasonalParams(direction="below"))
    assert below.breach and below.excess == pytest.approx(3.5 / 3)
    assert fb.seasonal_judgement(base, 3.0, 2.0, SeasonalParams(direction="both")).excess == pytest.approx(1.75)
    learning = fb.seasonal_judgement((math.nan, math.nan, 0, 0), 99.0, 3.0, above)
    assert not learning.breach and learning.excess is None
    assert not fb.seasonal_judgement(base, None, 3.0, above).breach
    assert not fb.seasonal_judgement(base, 17.0, None, above).breach      # no sensitivity in the config


def test_a_transition_payload_carries_the_baseline_used_and_the_excess():
    import json

    params = SeasonalParams(slot_s=900, direction="above")
    j = fb.seasonal_judgement((10.0, 2.0, 12, 4), 17.0, 3.0, params)
    out = json.loads(fb.with_baseline('{"values":{"m":17.0},"baseline":null,"excess":null}', j, 27, params))
    assert out == {"values": {"m": 17.0}, "excess": pytest.approx(3.5 / 3),
                   "baseline": {"centre": 10.0, "band": [4.0, 16.0], "slot": "06:45", "history_size": 12}}
    learning = fb.seasonal_judgement((math.nan, math.nan, 0, 0), 17.0, 3.0, params)
    assert json.loads(fb.with_baseline('{"baseline":null}', learning, 27, params)) == {"baseline": None, "excess": None}


def test_the_compiled_spec_round_trips():
    p = SeasonalParams(direction="below", slot_s=900, history_s=14 * 86400, tz="Europe/Zurich", weekly="off",
                       min_samples=5, min_days=3)
    spec = DetectSpec(p, default_recover=False)
    assert spec.text() == "below|900|1209600|Europe/Zurich|off|5|3|0"
    assert DetectSpec.parse(spec.text()) == spec


def test_a_missing_value_is_scored_but_leaves_the_history_unchanged():
    params = SeasonalParams(slot_s=900, min_samples=1, min_days=1)
    day = 86_400_000
    _, blob = fb.score_and_record(None, lambda: None, 10 * day, 5.0, params)
    base, after = fb.score_and_record(blob, lambda: None, 11 * day, None, params)
    # one sample 5.0: centre 5, MAD 0, so the spread is the relative floor 1 % of 5 = 0.05
    assert after == blob and base[:3] == (5.0, pytest.approx(0.05), 1)
    assert fb.score_and_record(blob, lambda: None, 11 * day, float("nan"), params)[1] == blob
    assert len(fb.unpack(fb.score_and_record(blob, lambda: None, 11 * day, 7.0, params)[1])[0]) == 2


@pytest.mark.parametrize("direction", ["above", "below", "both"])
def test_the_per_evaluation_float_path_of_floor_and_breach_is_the_array_path(direction):
    """floor_spread and breach_of take plain floats without numpy on the UDAF's path; the
    answers are the vectorized ones (hand-picked values around each edge)."""
    import numpy as np

    from nql_flink.udfs.baseline.seasonal import breach_of, floor_spread

    params = SeasonalParams()
    for spread, centre in [(0.0, 0.0), (1e-9, 100.0), (3.0, -40.0), (50.0, 2.0)]:
        assert floor_spread(spread, centre, params) == float(floor_spread(np.array([spread]), np.array([centre]), params)[0])
    for dev in [-3.5, -3.0, 0.0, 2.9, 3.0, 3.1, float("nan")]:
        assert breach_of(dev, 3.0, direction) == bool(breach_of(np.array([dev]), 3.0, direction)[0])


def test_an_entry_is_a_layout_version_then_one_triple_per_sample():
    """Entries are Flink state: (layout 1.0, then UTC ms, local day, value per sample),
    little-endian float64; recording appends one triple; an entry of another layout (state of
    an incompatible version) is refused, not misread."""
    import struct
    params = SeasonalParams(slot_s=900, min_samples=1, min_days=1)
    day = 86_400_000
    _, blob = fb.score_and_record(None, lambda: None, 10 * day + 60_000, 5.0, params)
    _, blob = fb.score_and_record(blob, lambda: None, 11 * day + 60_000, 7.5, params)
    assert blob == struct.pack("<7d", 1.0, 10 * day + 60_000, 10, 5.0, 11 * day + 60_000, 11, 7.5)
    old_layout = struct.pack("<3d", 10 * day, 10, 5.0)          # columnar, no version
    with pytest.raises(ValueError, match="unknown layout"):
        fb.score_and_record(old_layout, lambda: None, 11 * day, 7.0, params)


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: f"{p.tz}-{p.weekly}-{int(p.slot_s)}")
def test_the_baseline_kept_for_the_day_is_the_one_computed_at_each_evaluation(params):
    """judge_and_record reuses a slot's baseline for the rest of its day; fed evaluation by
    evaluation (weekdays, weekends, missing values, zones) it judges every evaluation as
    score_and_record's baseline, computed afresh, does."""
    ts, vs = series(3, days=10)
    fresh, _ = replay(ts, vs, params)
    slots: dict[int, bytes] = {}
    cached: dict[int, bytes] = {}
    reused = 0
    for i, (t, v) in enumerate(zip(ts, vs)):
        day, key = fb.day_and_key(_ms(t), params)
        reused += key in cached and fb._CACHED.unpack(cached[key])[0] == day
        value = None if math.isnan(v) else v
        j, slots[key], cached[key] = fb.judge_and_record(slots.get(key), lambda: slots.get(fb.other_key(key)),
                                                         _ms(t), day, value, 3.0, params, cached.get(key))
        assert all(same(float(a), float(b)) for a, b in zip((j.centre, j.spread, j.n, j.days), fresh[i])), (t, j)
    assert reused > len(ts) // 4     # slots of 1-2 h, an evaluation every ~20 min
