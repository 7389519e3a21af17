"""Seasonal baseline maths on hand-made series; expected values computed by hand."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from tests.udfs.seasonal_oracle import score_row, seasonal_score_row
from nql_flink.udfs.baseline import SeasonalParams, robust_row, score_batch, seasonal_scores, time_keys, time_keys_row

MAD = 1.4826


def hourly(days, start="2024-01-01", tz=None):
    return pd.date_range(start, periods=24 * days, freq="h", tz=tz)


def test_step_hand_computed():
    # one sample per day at 10:00 UTC (daily slot), values 8, 10, 12 then 20
    ts = pd.to_datetime(["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-03 10:00", "2024-01-04 10:00"])
    p = SeasonalParams(slot_s=3600, history_s=7 * 86400, min_samples=3, min_days=3, deviations=3)
    r = seasonal_scores(ts, [8.0, 10.0, 12.0, 20.0], p)
    assert r["learning"].tolist() == [True, True, True, False]
    # median 10, MAD = median(2, 0, 2) = 2 -> spread 2 * 1.4826
    assert r["centre"].iloc[3] == 10.0
    assert r["spread"].iloc[3] == pytest.approx(2 * MAD)
    assert r["deviation"].iloc[3] == pytest.approx(10 / (2 * MAD))  # 3.3725...
    assert bool(r["breach"].iloc[3])
    # same history, value 18: (18-10)/2.9652 = 2.698 < 3 -> no breach
    r2 = seasonal_scores(ts, [8.0, 10.0, 12.0, 18.0], p)
    assert r2["deviation"].iloc[3] == pytest.approx(8 / (2 * MAD))
    assert not bool(r2["breach"].iloc[3])


def test_direction():
    ts = pd.to_datetime(["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-03 10:00", "2024-01-04 10:00"])
    base = dict(slot_s=3600, min_samples=3, min_days=3, deviations=3)
    for direction, up, down in (("above", True, False), ("below", False, True), ("both", True, True)):
        p = SeasonalParams(direction=direction, **base)
        assert bool(seasonal_scores(ts, [8, 10, 12, 20.0], p)["breach"].iloc[3]) is up
        assert bool(seasonal_scores(ts, [8, 10, 12, 0.0], p)["breach"].iloc[3]) is down
        assert seasonal_scores(ts, [8, 10, 12, 0.0], p)["deviation"].iloc[3] == pytest.approx(-10 / (2 * MAD))


def test_spike_flat_line_and_spread_floor():
    # flat 100 with +-0.001 wiggle for 5 days, hourly; 1% relative floor -> spread >= 1
    ts = hourly(6)
    rng = np.random.default_rng(0)
    v = 100 + rng.uniform(-0.001, 0.001, len(ts))
    v[-5] = 103.5  # a spike of 3.5 spreads of the floor -> breach
    p = SeasonalParams(slot_s=3600, min_samples=2, min_days=2, deviations=3)
    r = seasonal_scores(ts, v, p)
    live = ~r["learning"]
    assert live.sum() > 24 * 3
    assert (r.loc[live, "spread"] >= 0.999).all()
    assert r.index[r["breach"]].tolist() == [len(ts) - 5]
    assert r["deviation"].iloc[-5] == pytest.approx(3.5, abs=0.01)
    # without the floor the wiggle alone would breach
    r0 = seasonal_scores(ts, np.where(np.arange(len(v)) == len(v) - 5, 100.0, v),
                         p.with_(spread_floor_rel=0.0))
    assert r0["breach"].sum() > 0
    # an exactly constant series (MAD 0, centre 0) falls back on the absolute floor
    rz = seasonal_scores(ts, np.zeros(len(ts)), p)
    assert not rz["breach"].any()
    assert (rz.loc[~rz["learning"], "deviation"] == 0).all()


def test_learning_until_enough_history():
    ts = hourly(5)
    p = SeasonalParams(slot_s=3600, min_samples=3, min_days=3)
    r = seasonal_scores(ts, np.ones(len(ts)), p)
    # one sample per hour-slot and day: usable from the 4th day on (3 earlier days)
    assert r["learning"].iloc[: 24 * 3].all()
    assert not r["learning"].iloc[24 * 3:].any()
    assert not r.loc[r["learning"], "breach"].any()
    assert r.loc[r["learning"], "deviation"].isna().all()


def test_daily_sine_peak_is_normal_but_same_size_at_night_is_not():
    ts = pd.date_range("2024-03-04", periods=96 * 10, freq="15min", tz="UTC")  # 10 days, Mon start
    hour = (ts.hour + ts.minute / 60).to_numpy()
    rng = np.random.default_rng(42)
    v = 50 + 20 * np.sin(2 * np.pi * (hour - 8) / 24) + rng.normal(0, 1.0, len(ts))  # peak at 14:00
    night = np.flatnonzero((ts.day == 13) & (ts.hour == 3) & (ts.minute == 0))[0]
    v[night] = 70.0  # the usual peak height, at 03:00
    p = SeasonalParams(slot_s=3600, history_s=7 * 86400, deviations=4, weekly="off")
    r = seasonal_scores(ts, v, p)
    peaks = np.flatnonzero((ts.hour == 14) & ~r["learning"].to_numpy())
    assert len(peaks) >= 20
    assert not r["breach"].iloc[peaks].any()          # the normal daily peak never alerts
    assert bool(r["breach"].iloc[night])               # equal value at an unusual hour does
    assert r["deviation"].iloc[night] > 8
    # the anomaly is no larger than normal peaks: only the time of day separates them
    assert v[night] <= v[peaks].max()


def test_weekday_weekend_awareness():
    ts = hourly(7 * 3, start="2024-01-01")  # Monday
    weekend = ts.dayofweek >= 5
    v = np.where(weekend, 10.0, 100.0)
    p = SeasonalParams(slot_s=3600, min_samples=2, min_days=2, history_s=14 * 86400)
    r = seasonal_scores(ts, v, p)
    sat3 = (ts.dayofweek == 5) & (ts >= "2024-01-15")
    assert (r.loc[sat3, "basis"] == "daytype").all()
    assert (r.loc[sat3, "centre"] == 10.0).all()
    assert not r["breach"].iloc[24 * 7:].any()
    # without the split, weekend values look like a drop against the all-days median
    r_off = seasonal_scores(ts, v, p.with_(weekly="off"))
    assert r_off.loc[sat3, "breach"].all()


@pytest.mark.parametrize("day, skipped, doubled", [("2024-03-31", True, False), ("2024-10-27", False, True)])
def test_dst_europe_zurich(day, skipped, doubled):
    tz = "Europe/Zurich"
    ts = pd.date_range(pd.Timestamp(day) - pd.Timedelta(days=6), pd.Timestamp(day) + pd.Timedelta(days=6),
                       freq="h", tz="UTC")
    local_hour = ts.tz_convert(tz).hour
    v = 10.0 * local_hour  # a pattern that follows the wall clock
    p = SeasonalParams(slot_s=3600, tz=tz, min_samples=3, min_days=3, deviations=3)
    keys = time_keys(ts, p)
    on_day = keys["day"] == (pd.Timestamp(day) - pd.Timestamp("1970-01-01")).days
    slots = keys.loc[on_day, "slot"].tolist()
    if skipped:
        assert 2 not in slots and len(slots) == 23     # 02:00-03:00 does not exist
    if doubled:
        assert slots.count(2) == 2 and len(slots) == 25  # 02:00-03:00 happens twice
    r = seasonal_scores(ts, v, p)
    assert not r["breach"].any()
    assert (r.loc[~r["learning"], "deviation"] == 0).all()
    # the same data baselined on UTC slots breaks across the change
    r_utc = seasonal_scores(ts, v, p.with_(tz="UTC"))
    assert r_utc["breach"].any()
    # per-row keys agree with the vectorized ones
    for t, (_, row) in zip(ts[::7], keys.iloc[::7].iterrows()):
        assert time_keys_row(t.to_pydatetime(), p) == (row.utc_ns, row.day, row.slot, row.daytype)


def test_missing_data_is_ignored():
    ts = hourly(6)
    rng = np.random.default_rng(3)
    v = rng.normal(10, 1, len(ts))
    v_missing = v.copy()
    v_missing[30:40] = np.nan
    p = SeasonalParams(slot_s=3600, min_samples=2, min_days=2)
    r_full = seasonal_scores(ts, v, p)
    r_nan = seasonal_scores(ts, v_missing, p)
    assert r_nan["learning"].iloc[30:40].all() and not r_nan["breach"].iloc[30:40].any()
    # dropping rows entirely (a gap) gives the same numbers as NaN rows
    keep = ~np.isnan(v_missing)
    r_gap = seasonal_scores(ts[keep], v_missing[keep], p)
    pd.testing.assert_frame_equal(r_gap.reset_index(drop=True), r_nan[keep].reset_index(drop=True))
    # after the hole the slots that lost a day still have enough history or are learning
    assert r_nan["n"].iloc[24 * 4 + 30] == r_full["n"].iloc[24 * 4 + 30] - 1


def test_score_batch_matches_score_row():
    rng = np.random.default_rng(5)
    v = rng.normal(0, 10, 500)
    c = rng.normal(0, 10, 500)
    s = np.abs(rng.normal(0, 3, 500))
    s[::7] = 0.0
    c[::11] = np.nan
    for direction in ("above", "below", "both"):
        p = SeasonalParams(direction=direction, spread_floor=0.5, spread_floor_rel=0.05)
        b = score_batch(pd.Series(v), pd.Series(c), pd.Series(s), p)
        for i in range(len(v)):
            dev, breach, learning = score_row(v[i], None if np.isnan(c[i]) else c[i], s[i], p)
            assert learning == b["learning"].iloc[i]
            assert breach == b["breach"].iloc[i]
            if not learning:
                assert abs(dev - b["deviation"].iloc[i]) <= 1e-9


def test_robust_row():
    assert robust_row([1, 2, 3, 4, 100]) == (3, MAD * 1)
    assert robust_row([1.0, 3.0]) == (2.0, MAD * 1.0)


def _check_agreement(ts, v, groups, p):
    r = seasonal_scores(ts, v, p, groups=groups)
    py = [t.to_pydatetime() for t in ts]
    for i in range(len(ts)):
        hist = [(py[j], v[j]) for j in range(len(ts)) if groups[j] == groups[i]]
        o = seasonal_score_row(hist, py[i], v[i], p)
        a = r.iloc[i]
        assert o["learning"] == a.learning and o["basis"] == a.basis, i
        assert o["breach"] == a.breach
        if not o["learning"]:
            assert o["n"] == a.n and o["days"] == a.days
            assert abs(o["centre"] - a.centre) <= 1e-9 * max(1, abs(a.centre))
            assert abs(o["deviation"] - a.deviation) <= 1e-9 * max(1, abs(a.deviation))


def test_vectorized_and_per_row_agree_across_dst():
    rng = np.random.default_rng(11)
    ts = pd.date_range("2024-10-20", "2024-11-02", freq="41min", tz="UTC")
    ts = ts[rng.random(len(ts)) > 0.15]
    v = 5 * np.sin(np.arange(len(ts)) / 9) + rng.normal(0, 1, len(ts))
    v[rng.random(len(v)) < 0.05] = np.nan
    groups = rng.integers(0, 3, len(ts))
    for weekly in ("auto", "off", "on"):
        p = SeasonalParams(tz="Europe/Zurich", slot_s=3600, history_s=4 * 86400, min_samples=3,
                           min_days=2, weekly=weekly, deviations=2)
        _check_agreement(ts, v, groups, p)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6 * 24 * 4), st.floats(-1e3, 1e3, allow_nan=False)),
                min_size=1, max_size=60),
       st.sampled_from(["UTC", "Europe/Zurich", "America/New_York"]),
       st.sampled_from([900, 3600, 4 * 3600]))
def test_agreement_property(samples, tz, slot):
    ts = pd.to_datetime([pd.Timestamp("2024-03-28", tz="UTC") + pd.Timedelta(minutes=15 * k) for k, _ in samples])
    v = np.array([x for _, x in samples])
    groups = np.array([k % 2 for k, _ in samples])
    p = SeasonalParams(tz=tz, slot_s=slot, history_s=2 * 86400, min_samples=1, min_days=1)
    _check_agreement(ts, v, groups, p)


def test_params_are_checked():
    with pytest.raises(ValueError):
        SeasonalParams(slot_s=7 * 60 + 1)
    with pytest.raises(ValueError):
        SeasonalParams(direction="sideways")


def test_the_history_is_the_slot_on_earlier_dates_only():
    """Mon 10:00 = 10, Tue 10:00 = 20, Tue 10:30 = 30 (1-h slots, one sample from one day is
    enough). Tue 10:00 and Tue 10:30 both see Monday's 10 alone: Tuesday's own 10:00 is not
    history for 10:30 (it would make the centre median(10, 20) = 15). Monday is learning."""
    p = SeasonalParams(slot_s=3600, weekly="off", min_samples=1, min_days=1, direction="above")
    ts = pd.to_datetime(["2026-11-23 10:00", "2026-11-24 10:00", "2026-11-24 10:30"])
    vs = [10.0, 20.0, 30.0]
    out = seasonal_scores(ts, vs, p)
    assert out["learning"].tolist() == [True, False, False]
    assert out["centre"].tolist()[1:] == [10.0, 10.0] and out["n"].tolist() == [0, 1, 1]
    rows = [seasonal_score_row(list(zip(ts[:i].to_pydatetime(), vs[:i])), ts[i].to_pydatetime(), vs[i], p)
            for i in range(3)]
    assert [r["centre"] for r in rows] == [None, 10.0, 10.0]
