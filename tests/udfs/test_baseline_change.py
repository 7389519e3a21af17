"""`change` detection: relative deviation from the rolling history mean (hand-computed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.udfs.change_oracle import ChangeParams, change_score_row, change_scores


def test_change_hand_computed():
    ts = pd.date_range("2024-01-01", periods=5, freq="10min")
    v = [10.0, 20.0, 30.0, 50.0, 5.0]
    p = ChangeParams(change=1.0, history_s=1800)  # change: 100%, history: 30min
    r = change_scores(ts, v, p)
    assert r["learning"].tolist() == [True, False, False, False, False]
    # row 1: mean(10) -> +100% (not > 100%);  row 2: mean(10, 20) = 15 -> +100%;
    # row 3: mean(10, 20, 30) = 20 -> +150% breach;  row 4: window [t-30min, t) = 20, 30, 50 -> mean 33.3
    assert r["mean"].tolist()[1:] == pytest.approx([10, 15, 20, 100 / 3])
    assert r["relative"].tolist()[1:] == pytest.approx([1.0, 1.0, 1.5, (5 - 100 / 3) / (100 / 3)])
    assert r["breach"].tolist() == [False, False, False, True, False]
    below = change_scores(ts, v, ChangeParams(change=0.8, direction="below", history_s=1800))
    assert below["breach"].tolist() == [False, False, False, False, True]


def test_change_zero_mean_and_missing():
    ts = pd.date_range("2024-01-01", periods=4, freq="h")
    r = change_scores(ts, [0.0, 0.0, np.nan, 1.0], ChangeParams(change=1.0, history_s=7200))
    assert r["relative"].iloc[1] == 0.0 and not r["breach"].iloc[1]
    assert r["learning"].iloc[2]
    assert r["relative"].iloc[3] == np.inf and r["breach"].iloc[3]


def test_change_vectorized_matches_per_row():
    rng = np.random.default_rng(2)
    ts = pd.date_range("2024-01-01", periods=400, freq="7min", tz="UTC")
    ts = ts[rng.random(len(ts)) > 0.2]
    v = rng.gamma(2.0, 10.0, len(ts))
    v[rng.random(len(v)) < 0.05] = np.nan
    groups = rng.integers(0, 3, len(ts))
    for direction in ("above", "below", "both"):
        p = ChangeParams(change=0.5, direction=direction, history_s=3 * 3600, min_samples=3, min_coverage_s=3600)
        r = change_scores(ts, v, p, groups=groups)
        py = [t.to_pydatetime() for t in ts]
        for i in range(len(ts)):
            hist = [(py[j], v[j]) for j in range(len(ts)) if groups[j] == groups[i]]
            o = change_score_row(hist, py[i], v[i], p)
            assert o["learning"] == r["learning"].iloc[i]
            assert o["breach"] == r["breach"].iloc[i]
            if not o["learning"]:
                assert abs(o["relative"] - r["relative"].iloc[i]) <= 1e-9


@pytest.mark.parametrize("direction", ["both", "above", "below"])
def test_flink_state_one_evaluation_at_a_time_matches_the_whole_series(direction):
    """nql_flink.udfs.flink.change (what the state UDAF runs, one evaluation at a time with its history
    as bytes) against the vectorized change_scores on the same series."""
    from nql_flink.udfs.flink.change import change_judge_and_record

    rng = np.random.default_rng(5)
    ts = pd.date_range("2024-01-01", periods=300, freq="5min", tz="UTC")
    ts = ts[rng.random(len(ts)) > 0.15]                       # missing evaluations
    v = rng.gamma(2.0, 10.0, len(ts))
    v[rng.random(len(v)) < 0.05] = np.nan                     # missing values
    v[40:44] = 0.0                                            # a zero mean
    params = ChangeParams(change=0.5, direction=direction, history_s=3600)
    whole = change_scores(ts, v, params)
    history = None
    for i, (t, value) in enumerate(zip(ts, v)):
        at_ms = int(t.value // 1_000_000)
        j, history = change_judge_and_record(history, at_ms, None if np.isnan(value) else float(value), 0.5,
                                             direction, 3_600_000)
        row = whole.iloc[i]
        assert j.breach == bool(row["breach"]), i
        if not row["learning"]:
            assert j.centre == pytest.approx(row["mean"]) and j.n == row["n"], i
        elif not np.isnan(value):
            assert j.learning, i
