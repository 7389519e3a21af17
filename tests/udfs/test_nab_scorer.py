"""NAB scorer: hand-computed single files, perfect/null detectors, and the real corpus."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nql_flink.udfs.nab.scorer import (
    DEFAULT_PROFILES, Corpus, layout_file, optimise_threshold, score_corpus, score_file, scaled_sigmoid,
)

STD = DEFAULT_PROFILES["standard"]


def sig(x):  # independent of the implementation: 2 * sigmoid(-5x) - 1
    return -1.0 if x > 3 else 2 / (1 + math.exp(5 * x)) - 1


def test_scaled_sigmoid_points():
    assert float(scaled_sigmoid(-1.0)) == pytest.approx(0.98661, abs=1e-5)
    assert float(scaled_sigmoid(-0.5)) == pytest.approx(0.84828, abs=1e-5)
    assert float(scaled_sigmoid(0.0)) == 0.0
    assert float(scaled_sigmoid(1.0)) == pytest.approx(-0.98661, abs=1e-5)
    assert float(scaled_sigmoid(3.5)) == -1.0


def test_single_file_hand_computed():
    # 100 rows, probation floor(15) rows, one window rows 50..59 (width 10)
    lay = layout_file("f", 100, [(50, 59)], STD)
    assert lay.probation == 15
    s = np.zeros(100)
    s[[5, 20, 52, 55, 70]] = 1.0  # 5: probation (ignored); 20: FP before any window
    res = score_file(lay, s, 0.5, STD)
    tp = sig(-(59 - 52 + 1) / 10) / sig(-1)          # first detection in window counts
    fp_before = -0.11
    fp_after = 0.11 * sig((70 - 59) / (10 - 1))
    assert res["score"] == pytest.approx(tp + fp_before + fp_after)
    assert res["fp"] == 2 and res["tp"] == 2
    # window start detection scores exactly tpWeight
    s2 = np.zeros(100); s2[50] = 1
    assert score_file(lay, s2, 0.5, STD)["score"] == pytest.approx(1.0)
    # nothing: -fnWeight
    assert score_file(lay, np.zeros(100), 0.5, STD)["score"] == -1.0
    # a window fully inside probation is not scored
    lay_p = layout_file("g", 100, [(2, 8)], STD)
    assert score_file(lay_p, np.zeros(100), 0.5, STD)["score"] == 0.0


def test_threshold_sweep_picks_best_threshold():
    lay = layout_file("f", 100, [(50, 59)], STD)
    s = np.zeros(100)
    s[50] = 0.9   # TP at window start
    s[80] = 0.95  # FP after window: costs 0.11 * sig((80-59)/9) ~= -0.11
    thr, total = optimise_threshold([lay], [s], STD)
    assert thr == 0.9 and total == pytest.approx(1.0 + 0.11 * sig(21 / 9))
    # the sweep agrees with scoring the file at the chosen threshold
    assert score_file(lay, s, thr, STD)["score"] == pytest.approx(total)


def _synthetic_corpus(tmp_path: Path) -> Corpus:
    import json
    rng = np.random.default_rng(0)
    (tmp_path / "data" / "catA").mkdir(parents=True)
    (tmp_path / "data" / "catB").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    windows = {}
    for i, (cat, n, nw) in enumerate([("catA", 1000, 2), ("catA", 500, 1), ("catB", 800, 0), ("catB", 1200, 3)]):
        ts = pd.date_range("2024-01-01", periods=n, freq="5min")
        pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"), "value": rng.normal(size=n)}).to_csv(
            tmp_path / "data" / cat / f"f{i}.csv", index=False)
        w = []
        for k in range(nw):
            a = int(n * (0.3 + 0.2 * k))
            w.append([str(ts[a]) + ".000000", str(ts[a + n // 20]) + ".000000"])
        windows[f"{cat}/f{i}.csv"] = w
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return Corpus.load(str(tmp_path))


def test_perfect_and_null_detectors_on_synthetic_corpus(tmp_path):
    c = _synthetic_corpus(tmp_path)
    null = {n: np.full(len(c.frames[n]), 0.5) for n in c.names}
    perfect = {}
    for n in c.names:
        s = np.zeros(len(c.frames[n]))
        for left, _ in c.windows[n]:
            s[left] = 1.0  # detect at every window start, nothing else
        perfect[n] = s
    for name, res in score_corpus(c, null).items():
        assert res["score"] == pytest.approx(0.0), name
    for name, res in score_corpus(c, perfect).items():
        assert res["score"] == pytest.approx(100.0), name
        assert res["categories"]["catA"]["score"] == pytest.approx(100.0)
    # detecting at window ends is worth sig(-1/w)/sig(-1) per window
    late = {}
    expected = 0.0
    for n in c.names:
        s = np.zeros(len(c.frames[n]))
        for l, r in c.windows[n]:
            s[r] = 1.0
            expected += sig(-1 / (r - l + 1)) / sig(-1)
        late[n] = s
    res = score_corpus(c, late, profiles=["standard"])["standard"]
    assert res["raw"] == pytest.approx(expected)
    assert res["score"] == pytest.approx(100 * (expected + 6) / 12)


NAB = Path(os.environ.get("NAB_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "nab"))
needs_nab = pytest.mark.skipif(not (NAB / "labels" / "combined_windows.json").exists(), reason="NAB data not present")


@needs_nab
def test_real_corpus_perfect_null_and_windowed_gaussian():
    from tests.udfs.nab_gaussian import windowed_gaussian
    c = Corpus.load(str(NAB))
    assert len(c.names) == 58 and c.n_labelled_windows == 116
    perfect = {}
    for n in c.names:
        s = np.zeros(len(c.frames[n]))
        for left, _ in c.windows[n]:
            s[left] = 1.0
        perfect[n] = s
    null = {n: np.full(len(c.frames[n]), 0.5) for n in c.names}
    for res in score_corpus(c, perfect).values():
        assert res["score"] == pytest.approx(100.0)
    for p, res in score_corpus(c, null).items():
        assert res["score"] == pytest.approx(0.0)
        assert res["null_raw"] == -116 * c.profiles[p]["fnWeight"]
    # our own windowed-Gaussian: published 39.6 / 20.9 / 47.4
    wg = score_corpus(c, {n: windowed_gaussian(c.frames[n]["value"]) for n in c.names})
    assert wg["standard"]["score"] == pytest.approx(39.6, abs=1.5)
    assert wg["reward_low_FN_rate"]["score"] == pytest.approx(47.4, abs=1.5)
    assert wg["reward_low_FP_rate"]["score"] == pytest.approx(20.9, abs=3.5)
