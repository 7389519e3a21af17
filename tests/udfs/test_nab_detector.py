"""NAB detector: causality, the seasonal component, spatial anomalies, suppression, corpus score."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nql_flink.udfs.nab.detector import (
    DetectorParams, detect, normalise, raw_strength, spatial_excess, squash, suppress, unbounded_scores,
)


def _daily(n_days=10, step_min=5, seed=0):
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-03-04", periods=n_days * 24 * 60 // step_min, freq=f"{step_min}min")
    hours = ts.hour + ts.minute / 60
    v = 10 + 5 * np.sin(2 * np.pi * (np.asarray(hours) - 6) / 24) + rng.normal(0, 0.3, len(ts))
    return ts, v


def test_detector_is_causal():
    ts, v = _daily()
    v[2000:2010] += 4
    full = detect(ts, v)
    for k in (900, 2005, 2500):
        assert np.allclose(detect(ts[:k], v[:k]), full[:k])


def test_off_peak_level_shift_is_the_top_detection_and_daily_peak_is_not():
    ts, v = _daily()
    # the daily peak (15 at 12:00) is normal; 15 at 03:00 on day 8 is not, though inside the range
    night = np.flatnonzero((ts.day == 11) & (ts.hour == 3))[:24]
    v[night] = 15.0
    s = detect(ts, v)
    after = np.arange(len(s)) >= 4 * 288          # the seasonal baseline is usable
    top = int(np.argmax(np.where(after, s, 0)))
    assert night[0] <= top <= night[-1]
    peaks = np.flatnonzero(after & (ts.hour == 12) & (ts.day != 11))
    assert s[peaks].max() < s[top]


def test_seasonal_strength_is_small_for_normal_days():
    ts, v = _daily()
    z = raw_strength(ts, v)
    assert np.median(z[5 * 288:]) < 2.0


def test_spatial_excess_and_override():
    assert np.allclose(spatial_excess([0, 10, 5, 11, -10])[2:], [-0.5, 0.1, 10 / 11])
    ts, v = _daily()
    v[2500] = 40.0   # far above every earlier value
    s = detect(ts, v)
    raw = unbounded_scores(ts, v)
    assert raw[2500] > 1.0 and raw[2500] == raw[288:].max()   # (the first rows set the range: NAB's probation)
    s = detect(ts, v)   # squashed: spatial anomalies in [0.5, 1)
    assert 0.5 < s[2500] < 1.0 and s[2500] == s[288:].max()


def test_squash_keeps_the_order_within_0_and_1():
    # 1 - 1/(1 + s): 0 -> 0, 1 -> 1/2, 3 -> 3/4, the largest score seen on NAB (1011.7) -> 1 - 1/1012.7
    out = squash(np.array([0.0, 0.25, 1.0, 3.0, 1011.7]))
    assert list(out) == pytest.approx([0.0, 0.2, 0.5, 0.75, 1 - 1 / 1012.7])
    assert (np.diff(out) > 0).all()
    ts, v = _daily()
    v[2500] = 40.0
    s = detect(ts, v)
    assert ((s >= 0) & (s <= 1)).all()


def test_suppression_keeps_one_detection_per_rising_episode():
    s = np.array([0.1, 0.5, 0.52, 0.54, 0.9, 0.2, 0.1])
    out = suppress(s, quiet=3, margin=0.1)
    assert list(np.flatnonzero(out)) == [0, 1, 4]
    # after the refractory window a repeat may fire again
    assert suppress(np.array([0.5, 0, 0, 0, 0.5]), quiet=3)[4] == 0.5


def test_normalise_is_relative_to_the_series_own_top_quantile():
    z = np.r_[np.ones(100), 5.0]
    t = normalise(z, 0.99, 1000)
    assert t[-1] == pytest.approx(5.0) and t[0] == 0.0
    # scaling a series does not change its normalised score
    assert np.allclose(normalise(7 * z, 0.99, 1000), t)


NAB = Path(os.environ.get("NAB_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "nab"))


@pytest.mark.skipif(not (NAB / "labels" / "combined_windows.json").exists(), reason="NAB data not present")
def test_corpus_score_meets_goal_and_squashing_keeps_it(tmp_path):
    from nql_flink.udfs.nab.runner import DETECTOR_NAME, detect_corpus, write_results
    from nql_flink.udfs.nab.scorer import Corpus, score_corpus
    corpus = Corpus.load(str(NAB))
    unbounded = detect_corpus(corpus, DetectorParams(), detector=unbounded_scores)
    assert max(s.max() for s in unbounded.values()) > 1.0      # what NAB's runner would refuse
    squashed = {n: squash(s) for n, s in unbounded.items()}    # = detect(), without running it twice
    before, after = score_corpus(corpus, unbounded), score_corpus(corpus, squashed)
    for p in before:
        assert after[p]["score"] == before[p]["score"], p
        assert after[p]["threshold"] == squash(before[p]["threshold"]), p
    # the README's figures (docs/seasonal.md): 65.4 / 59.2 / 69.7
    assert round(after["standard"]["score"], 1) == 65.4
    assert round(after["reward_low_FP_rate"]["score"], 1) == 59.2
    assert round(after["reward_low_FN_rate"]["score"], 1) == 69.7
    # NAB-format result files score the same when read back
    write_results(corpus, squashed, str(tmp_path))
    read = {n: pd.read_csv(tmp_path / DETECTOR_NAME / n.split("/")[0] / f"{DETECTOR_NAME}_{n.split('/')[1]}")
            for n in corpus.names}
    assert all(list(f.columns) == ["timestamp", "value", "anomaly_score", "label"] for f in read.values())
    again = score_corpus(corpus, {n: f["anomaly_score"].to_numpy() for n, f in read.items()})
    assert again["standard"]["score"] == after["standard"]["score"]
    # label = 1 inside the windows: NAB's 116 windows, each labelled on its rows
    assert sum(int(f["label"].sum()) for f in read.values()) == sum(
        r - l + 1 for n in corpus.names for l, r in corpus.windows[n])


def test_results_files_have_nab_layout(tmp_path):
    from nql_flink.udfs.nab.runner import write_results
    from nql_flink.udfs.nab.scorer import Corpus
    (tmp_path / "data" / "catX").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    (tmp_path / "data" / "catX" / "tiny.csv").write_text(
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2.5\n2024-01-01 00:10:00,3\n"
        "2024-01-01 00:15:00,4\n")
    (tmp_path / "labels" / "combined_windows.json").write_text(
        '{"catX/tiny.csv": [["2024-01-01 00:05:00.000000", "2024-01-01 00:10:00.000000"]]}')
    corpus = Corpus.load(str(tmp_path))
    [path] = write_results(corpus, {"catX/tiny.csv": np.array([0.0, 0.5, 0.25, 1.0])}, str(tmp_path / "results"), "mine")
    assert path == str(tmp_path / "results" / "mine" / "catX" / "mine_tiny.csv")
    assert Path(path).read_text() == (
        "timestamp,value,anomaly_score,label\n"
        "2024-01-01 00:00:00,1.0,0.0,0\n"
        "2024-01-01 00:05:00,2.5,0.5,1\n"
        "2024-01-01 00:10:00,3.0,0.25,1\n"
        "2024-01-01 00:15:00,4.0,1.0,0\n")
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        write_results(corpus, {"catX/tiny.csv": np.array([0.0, 1.5, 0.0, 0.0])}, str(tmp_path / "bad"))
