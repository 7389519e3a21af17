"""NAB scoring, re-implemented from the published rules (numenta/NAB v1.x).

Rules (see docs/seasonal.md for the prose version):

* Each file has anomaly windows ``[start, end]`` (timestamps that exist in the file).
* The first ``min(floor(0.15 * n), 0.15 * 5000)`` rows of a file are a probation period:
  they are neither true nor false positives, and a window whose rows all fall in it
  is not counted.
* A row is a detection when its anomaly score is ``>= threshold``.
* A detection inside a window of width ``w`` rows whose right edge is row ``r`` has the
  relative position ``x = -(r - i + 1) / w`` (``-1`` at the left edge, ``0`` just past
  the right edge) and earns ``tpWeight * sig(x) / sig(-1)`` where
  ``sig(x) = 2 / (1 + exp(5 x)) - 1`` (and ``-1`` for ``x > 3``).  Only the best
  (i.e. earliest) detection of a window counts.  A window with no detection costs
  ``-fnWeight``.
* A detection outside every window costs ``fpWeight * sig(x)`` where ``x`` is the
  distance in rows from the right edge of the preceding window divided by that
  window's ``width - 1``; with no preceding window it costs ``-fpWeight``.
* The threshold is chosen once per profile for the whole corpus, as the score value
  that maximises the corpus total (ties: the highest threshold).
* Normalised score = ``100 * (S - S_null) / (S_perfect - S_null)`` with
  ``S_perfect = tpWeight * number of windows`` and ``S_null`` the total of a detector
  that never fires.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

PROBATION_PERCENT = 0.15

DEFAULT_PROFILES: dict[str, dict[str, float]] = {
    "standard": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0},
}


def scaled_sigmoid(x: np.ndarray | float) -> np.ndarray:
    """``2 * sigmoid(-5 x) - 1``, clamped to -1 beyond ``x > 3`` (NAB's convention)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):
        val = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x > 3.0, -1.0, val)


MAX_TP = float(scaled_sigmoid(-1.0))


def probation_length(n_rows: int, probation_percent: float = PROBATION_PERCENT) -> float:
    return min(math.floor(probation_percent * n_rows), probation_percent * 5000)


def load_profiles(path: str | os.PathLike | None) -> dict[str, dict[str, float]]:
    if path is None or not os.path.exists(path):
        return {k: dict(v) for k, v in DEFAULT_PROFILES.items()}
    with open(path) as fh:
        raw = json.load(fh)
    return {name: dict(p["CostMatrix"]) for name, p in raw.items()}


def window_indices(timestamps: pd.Series | np.ndarray, windows: Iterable[tuple]) -> list[tuple[int, int]]:
    """Map ``[start, end]`` timestamp pairs to row index pairs; timestamps must exist."""
    ts = pd.to_datetime(pd.Series(timestamps)).to_numpy()
    out = []
    for start, end in windows:
        li = np.flatnonzero(ts == np.datetime64(pd.Timestamp(start)))
        ri = np.flatnonzero(ts == np.datetime64(pd.Timestamp(end)))
        if li.size == 0 or ri.size == 0:
            raise ValueError(f"window {start}..{end} does not match a timestamp of the file")
        # like NAB, the first row carrying the timestamp marks the edge
        out.append((int(li[0]), int(ri[0])))
    return out


@dataclass
class FileLayout:
    """Per-row scoring geometry of one file for one profile (independent of the detector)."""

    name: str
    n: int
    probation: float
    windows: list[tuple[int, int]]
    # per scorable row (after probation): weight if detected, window id (-1 = none)
    rows: np.ndarray = field(repr=False)          # indices of scorable rows
    weight: np.ndarray = field(repr=False)
    window_id: np.ndarray = field(repr=False)     # local window ids, -1 outside windows
    scored_windows: np.ndarray = field(repr=False)  # local ids of windows that are scored


def layout_file(name: str, n: int, windows: list[tuple[int, int]], cost: Mapping[str, float],
                probation_percent: float = PROBATION_PERCENT) -> FileLayout:
    tp, fp = cost["tpWeight"], cost["fpWeight"]
    idx = np.arange(n)
    wid = np.full(n, -1, dtype=np.int64)
    weight = np.empty(n, dtype=float)
    # outside-window weights: distance past the previous window's right edge
    prev_right = np.full(n, -1, dtype=np.int64)
    prev_width = np.zeros(n, dtype=float)
    for k, (l, r) in enumerate(windows):
        w = float(r - l + 1)
        wid[l:r + 1] = k
        weight[l:r + 1] = tp * scaled_sigmoid(-(r - idx[l:r + 1] + 1) / w) / MAX_TP
        nxt = windows[k + 1][0] if k + 1 < len(windows) else n
        prev_right[r + 1:nxt] = r
        prev_width[r + 1:nxt] = w
    outside = wid < 0
    no_prev = outside & (prev_right < 0)
    after = outside & (prev_right >= 0)
    weight[no_prev] = -1.0 * fp
    if after.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = np.abs(prev_right[after] - idx[after]) / (prev_width[after] - 1.0)
        weight[after] = scaled_sigmoid(pos) * fp
    prob = probation_length(n, probation_percent)
    keep = idx >= prob
    scored = np.unique(wid[keep & (wid >= 0)])
    return FileLayout(name, n, prob, list(windows), idx[keep], weight[keep], wid[keep], scored)


def score_file(layout: FileLayout, scores: np.ndarray, threshold: float, cost: Mapping[str, float]) -> dict:
    """Raw NAB score and counts of one file at ``threshold`` (detection = score >= threshold)."""
    s = np.asarray(scores, dtype=float)[layout.rows]
    det = s >= threshold
    in_win = layout.window_id >= 0
    fp_mask = det & ~in_win
    total = float(layout.weight[fp_mask].sum())
    for k in layout.scored_windows:
        m = det & (layout.window_id == k)
        total += float(max(-cost["fnWeight"], layout.weight[m].max())) if m.any() else -cost["fnWeight"]
    return {
        "score": total,
        "tp": int((det & in_win).sum()),
        "fp": int(fp_mask.sum()),
        "fn": int((~det & in_win).sum()),
        "tn": int((~det & ~in_win).sum()),
        "windows": int(len(layout.scored_windows)),
        "detected_windows": int(sum(bool((det & (layout.window_id == k)).any()) for k in layout.scored_windows)),
    }


def sweep_thresholds(layouts: list[FileLayout], scores: list[np.ndarray], cost: Mapping[str, float]):
    """Corpus total for every candidate threshold (each distinct score, plus 'never').

    Returns ``(thresholds, totals)`` with thresholds in descending order; the first
    entry is a threshold above every score (no detections)."""
    fn = cost["fnWeight"]
    all_s, all_w, all_win = [], [], []
    n_windows = 0
    for lay, sc in zip(layouts, scores):
        s = np.asarray(sc, dtype=float)[lay.rows]
        all_s.append(s)
        all_w.append(lay.weight)
        all_win.append(np.where(lay.window_id >= 0, lay.window_id + n_windows, -1))
        n_windows += len(lay.windows)
    s = np.concatenate(all_s)
    w = np.concatenate(all_w)
    win = np.concatenate(all_win)
    n_scored = sum(len(lay.scored_windows) for lay in layouts)
    base = -fn * n_scored
    order = np.argsort(-s, kind="stable")
    s, w, win = s[order], w[order], win[order]
    delta = np.where(win < 0, w, 0.0)
    inw = np.flatnonzero(win >= 0)
    if inw.size:
        df = pd.DataFrame({"win": win[inw], "w": w[inw]})
        cm = df.groupby("win")["w"].cummax().to_numpy()
        cm = np.maximum(cm, -fn)
        prev = df.assign(cm=cm).groupby("win")["cm"].shift(1).fillna(-fn).to_numpy()
        delta[inw] = cm - prev
    total = base + np.cumsum(delta)
    # a threshold equal to a score value detects every row with that score: evaluate at run ends
    last_of_run = np.r_[s[1:] != s[:-1], True] if s.size else np.zeros(0, bool)
    thresholds = np.r_[np.inf, s[last_of_run]]
    totals = np.r_[base, total[last_of_run]]
    return thresholds, totals


def optimise_threshold(layouts, scores, cost) -> tuple[float, float]:
    thresholds, totals = sweep_thresholds(layouts, scores, cost)
    best = int(np.argmax(totals))  # first maximum = highest threshold among ties
    return float(thresholds[best]), float(totals[best])


def normalise(raw: float, n_windows: int, null_raw: float, cost: Mapping[str, float]) -> float:
    perfect = n_windows * cost["tpWeight"]
    if perfect == null_raw:
        return float("nan")
    return 100.0 * (raw - null_raw) / (perfect - null_raw)


@dataclass
class Corpus:
    """The NAB corpus: file names (``category/file.csv``), timestamps and values, windows."""

    root: str
    names: list[str]
    frames: dict[str, pd.DataFrame]
    windows: dict[str, list[tuple[int, int]]]
    profiles: dict[str, dict[str, float]]
    n_labelled_windows: int

    @classmethod
    def load(cls, root: str, names: list[str] | None = None) -> "Corpus":
        with open(os.path.join(root, "labels", "combined_windows.json")) as fh:
            raw_windows = json.load(fh)
        profiles = load_profiles(os.path.join(root, "config", "profiles.json"))
        all_names = sorted(raw_windows)
        if names is not None:
            all_names = [n for n in all_names if n in set(names)]
        frames, windows = {}, {}
        for name in all_names:
            df = pd.read_csv(os.path.join(root, "data", name))
            df["timestamp"] = pd.to_datetime(df["timestamp"])
            frames[name] = df
            windows[name] = window_indices(df["timestamp"], raw_windows[name])
        n_lab = sum(len(raw_windows[n]) for n in all_names)
        return cls(root, all_names, frames, windows, profiles, n_lab)


def category(name: str) -> str:
    return name.split("/", 1)[0]


def score_corpus(corpus: Corpus, scores: Mapping[str, np.ndarray],
                 profiles: Iterable[str] | None = None,
                 thresholds: Mapping[str, float] | None = None) -> dict:
    """Score a detector's per-row anomaly scores on the corpus, NAB style.

    ``scores[name]`` is an array of per-row scores in [0, 1] aligned with the file.
    With ``thresholds`` None the threshold is optimised per profile over the corpus.
    Returns ``{profile: {"score", "raw", "threshold", "null_raw", "categories": {...},
    "files": {...}}}``."""
    out = {}
    for prof in (profiles or corpus.profiles):
        cost = corpus.profiles[prof]
        layouts = [layout_file(n, len(corpus.frames[n]), corpus.windows[n], cost) for n in corpus.names]
        sc = [np.asarray(scores[n], dtype=float) for n in corpus.names]
        if thresholds is None:
            thr, _ = optimise_threshold(layouts, sc, cost)
        else:
            thr = float(thresholds[prof])
        files = {lay.name: score_file(lay, s, thr, cost) for lay, s in zip(layouts, sc)}
        raw = sum(f["score"] for f in files.values())
        null_files = {lay.name: -cost["fnWeight"] * len(lay.scored_windows) for lay in layouts}
        null_raw = sum(null_files.values())
        cats: dict[str, dict] = {}
        for lay in layouts:
            c = cats.setdefault(category(lay.name), {"raw": 0.0, "null_raw": 0.0, "windows": 0, "files": 0})
            c["raw"] += files[lay.name]["score"]
            c["null_raw"] += null_files[lay.name]
            c["windows"] += len(lay.windows)
            c["files"] += 1
        for c in cats.values():
            c["score"] = normalise(c["raw"], c["windows"], c["null_raw"], cost)
        out[prof] = {
            "score": normalise(raw, corpus.n_labelled_windows, null_raw, cost),
            "raw": raw, "threshold": thr, "null_raw": null_raw,
            "categories": cats, "files": files,
        }
    return out
