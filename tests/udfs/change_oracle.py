"""`change` detection as a whole series: the independent oracle of udfs/flink/change.py.

The job runs udfs.flink.change (one evaluation at a time, its history as bytes, inside the
state UDAF); this is the same rule written another way (vectorized over a whole series, with
a per-row twin), so tests/udfs/test_baseline_change.py checks the job's code against it. It
was udfs/baseline/change.py, which no job ran.

Relative deviation from the rolling `history` average.

For a row at ``t`` the reference is the mean of the same group's non-missing values with
``t - history <= s < t``.  relative = (value - mean) / |mean|  (mean 0: 0 if value is 0,
else +-inf).  Breach when relative > change (above), < -change (below), |relative| >
change (both).  A row whose reference has fewer than ``min_samples`` values, or whose
group has been seen for less than ``min_coverage`` before t, is learning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import numpy as np
import pandas as pd

from nql_flink.udfs.baseline.seasonal import _to_utc_index, _utc_ns
from nql_flink.udfs.baseline_params import DIRECTIONS


@dataclass(frozen=True)
class ChangeParams:
    change: float = 1.0            # 100%
    direction: str = "both"
    history_s: float = 7 * 86400
    min_samples: int = 1
    min_coverage_s: float = 0.0

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}")


def _relative(v, mean):
    v = np.asarray(v, dtype=float)
    mean = np.asarray(mean, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (v - mean) / np.abs(mean)
    zero = mean == 0
    rel = np.where(zero & (v == 0), 0.0, rel)
    rel = np.where(zero & (v != 0), np.sign(v - mean) * np.inf, rel)
    return rel


def _breach(rel, p: ChangeParams):
    with np.errstate(invalid="ignore"):
        if p.direction == "above":
            b = rel > p.change
        elif p.direction == "below":
            b = rel < -p.change
        else:
            b = np.abs(rel) > p.change
    return b & ~np.isnan(rel)


def change_scores(ts, values, params: ChangeParams, groups=None) -> pd.DataFrame:
    """Vectorized, causal: each row against the mean of its group's previous `history`."""
    v = np.asarray(values, dtype=float)
    utc = _to_utc_index(ts).asi8
    g = np.zeros(len(v), dtype=np.int64) if groups is None else pd.factorize(pd.Series(groups).astype(str).to_numpy())[0]
    order = np.lexsort([utc, g])
    us, gs, vs = utc[order], g[order], v[order]
    h = np.int64(round(params.history_s * 1e9))
    n = len(v)
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]]) if n else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], n]
    for a, b in zip(starts, ends):
        t = us[a:b]
        lo[a:b] = a + np.searchsorted(t, t - h, side="left")
        hi[a:b] = a + np.searchsorted(t, t, side="left")
        first[a:b] = t[0]
    fin = np.isfinite(vs)
    csum = np.concatenate([[0.0], np.cumsum(np.where(fin, vs, 0.0))])
    ccnt = np.concatenate([[0], np.cumsum(fin)])
    cnt = ccnt[hi] - ccnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, (csum[hi] - csum[lo]) / np.maximum(cnt, 1), np.nan)
    learning = (cnt < max(1, params.min_samples)) | ((us - first) < params.min_coverage_s * 1e9) | ~fin
    rel = np.where(learning, np.nan, _relative(vs, mean))
    out = pd.DataFrame({"mean": mean, "n": cnt, "relative": rel, "breach": _breach(rel, params),
                        "learning": learning})
    return out.iloc[np.argsort(order)].reset_index(drop=True)


def change_score_row(history: Iterable[tuple[datetime, float]], at: datetime, value: float,
                     params: ChangeParams) -> dict:
    """Per-row twin of one row of ``change_scores`` (history: the group's samples)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    t = _utc_ns(at)
    h = int(round(params.history_s * 1e9))
    xs = []
    first = t
    for ts, val in history:
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=timezone.utc)
        u = _utc_ns(ts)
        first = min(first, u)
        if t - h <= u < t and val is not None and not math.isnan(val):
            xs.append(val)
    mean = math.fsum(xs) / len(xs) if xs else float("nan")
    learning = (len(xs) < max(1, params.min_samples) or (t - first) < params.min_coverage_s * 1e9
                or value is None or math.isnan(value))
    if learning:
        return {"mean": mean, "n": len(xs), "relative": float("nan"), "breach": False, "learning": True}
    rel = float(_relative(value, mean))
    return {"mean": mean, "n": len(xs), "relative": rel, "breach": bool(_breach(np.array(rel), params)),
            "learning": False}
