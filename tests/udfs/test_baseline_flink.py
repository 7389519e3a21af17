"""The Flink wrapper of the seasonal baseline (udfs/flink/baseline.py), without Flink:
its vectorized body and its pure-Python twin agree to 1e-9, and both agree with the
whole-series maths of udfs.baseline.seasonal_scores."""

import math
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from udfs.baseline import SeasonalParams, seasonal_scores
from udfs.flink import baseline as fb


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


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: f"{p.tz}-{p.weekly}-{int(p.slot_s)}")
def test_vectorized_and_per_row_agree_to_1e_9(params):
    ts, vs = series(1)
    naive = pd.Series(pd.to_datetime([t.replace(tzinfo=None) for t in ts]))
    checked = learning = 0
    for i in range(0, len(ts), 7):
        at = ts[i]
        # the OVER window as Flink hands it over: a superset, current row included, any order
        lo = max(0, i - 400)
        idx = list(range(lo, i + 1))
        random.Random(i).shuffle(idx)
        vec = fb.window_baseline(naive.iloc[idx], np.array(vs)[idx], naive.iloc[i], params)
        row = fb.window_baseline_row([(ts[j], vs[j]) for j in idx], at, params)
        assert all(same(float(a), float(b)) for a, b in zip(vec, row)), (at, vec, row)
        checked += 1
        learning += math.isnan(vec[0])
    assert checked > 50 and 0 < learning < checked


def test_the_window_baseline_is_the_whole_series_maths_at_each_row():
    ts, vs = series(2, nan_share=0.0)
    params = SeasonalParams(slot_s=3600, history_s=7 * 86400)
    whole = seasonal_scores(pd.to_datetime(ts), vs, params)
    naive = pd.Series(pd.to_datetime([t.replace(tzinfo=None) for t in ts]))
    for i in range(100, len(ts), 37):
        c, s, n, days = fb.window_baseline(naive.iloc[: i + 1], np.array(vs[: i + 1]), naive.iloc[i], params)
        assert same(c, whole.centre[i]) and same(s, whole.spread[i])
        if not math.isnan(c):
            assert (n, days) == (whole.n[i], whole.days[i])


def test_udaf_body_reads_arrow_millisecond_timestamps_like_nanoseconds():
    """Flink's Arrow batches carry TIMESTAMP(3) as datetime64[ms]; the maths reads .asi8 as ns."""
    ts, vs = series(3, days=5)
    naive = pd.Series(pd.to_datetime([t.replace(tzinfo=None) for t in ts]))
    params = SeasonalParams(slot_s=3600, history_s=7 * 86400)
    window = naive.iloc[-200:]
    ns = fb.seasonal_baseline_batch(window.astype("datetime64[ns]"), pd.Series(vs[-200:]), params)
    ms = fb.seasonal_baseline_batch(window.astype("datetime64[ms]"), pd.Series(vs[-200:]), params)
    assert ns == ms and ns[0] is not None
    assert fb.seasonal_baseline_batch(window.iloc[:1].astype("datetime64[ms]"), pd.Series(vs[:1]), params) == \
        [None, None, 0.0, 0.0]


def test_parameters_travel_in_the_function_name():
    p = SeasonalParams(slot_s=900, history_s=14 * 86400, tz="Europe/Zurich", weekly="off", min_samples=5, min_days=3)
    name = fb.function_name(p)
    assert name == "seasonal_baseline__900__1209600__Europe/Zurich__off__5__3"
    back = fb.params_of(name)
    assert (back.slot_s, back.history_s, back.tz, back.weekly, back.min_samples, back.min_days) == \
        (900, 14 * 86400, "Europe/Zurich", "off", 5, 3)
    udaf = getattr(fb, name)  # how PyFlink resolves 'udfs.flink.baseline.<name>'
    assert udaf is getattr(fb, name)
    with pytest.raises(AttributeError):
        getattr(fb, "no_such_function")
