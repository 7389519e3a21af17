"""A NAB detector built on udfs.baseline: the seasonal time-of-day baseline, scored on a
short rolling mean, normalised per series against its own recent scores.

Per row (causal: only the row and earlier rows are used), ONE parameter set for every file:

1. **Smooth.** Score the rolling mean of the last ``smooth`` samples, not the raw value:
   single-sample noise (tweets, CPU) stops ranking above real level shifts.
2. **Seasonal deviation (the product's algorithm).** ``|deviation|`` from
   ``udfs.baseline.seasonal_scores`` on the smoothed series: time-of-day slot ``slot_s``,
   ``history_s`` of history, weekday/weekend aware.  While the slot is still learning
   (the first ``min_days`` days), a short-term robust score stands in:
   ``|x - median| / (IQR/1.349)`` over the previous ``short_s`` seconds (time-based).
   Both spreads are floored at ``floor_rel`` x the expanding std of earlier raw rows.
3. **Per-series normalisation (likelihood step).** ``t = z / q`` where ``q`` is the
   ``norm_q`` quantile of z over the previous ``norm_window`` rows: "how much stronger
   than this series' usual top 1 %".  This makes one operating threshold meaningful
   across series of very different noise; it plays the role of HTM's anomaly likelihood
   (which compares a short average of the raw score with its own long history).
   The score is ``t / (1 + t)`` in [0, 1).
4. **Spatial anomaly (as NAB's HTM detector does).** A raw value beyond every earlier
   value by more than ``spatial_tol`` x the range seen so far scores ``1 + excess/range``
   (above every non-spatial score, and larger excesses rank higher).
5. **Suppression (refractory period).** A score survives only if it exceeds
   ``(1 + margin)`` x every score of the previous ``quiet`` rows; otherwise it is 0.
   One detection per episode, like an alert that stays triggered, and a slowly rising
   episode does not fire on every step.
6. **Squash into [0, 1].** Steps 3-5 give scores in [0, inf) (spatial ones above 1);
   NAB's detector runner requires [0, 1]. ``1 - 1/(1 + s)`` is increasing, so every
   threshold on the raw scores has one on the squashed scores that detects the same rows,
   and NAB's threshold sweep gives the same score: non-spatial scores land in [0, 0.5),
   spatial ones in [0.5, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nql_flink.udfs.baseline import SeasonalParams, seasonal_scores


@dataclass(frozen=True)
class DetectorParams:
    smooth: int = 12                  # rows in the rolling mean that is scored
    slot_s: float = 3600.0            # seasonal slot
    history_s: float = 7 * 86400.0    # seasonal history
    min_days: int = 3                 # seasonal: distinct days before a slot is usable
    weekly: str = "auto"              # seasonal weekday/weekend split
    short_s: float = 86400.0          # short-term robust baseline while the slot learns
    floor_rel: float = 0.1            # spread floor, x expanding std of the raw series
    norm_q: float = 0.99              # per-series normaliser: quantile of past z ...
    norm_window: int = 3000           # ... over this many previous rows
    spatial_tol: float = 0.05         # new extreme beyond range x tol
    quiet: int = 75                   # refractory rows
    margin: float = 0.1               # a score must beat the refractory max by 10 %


def _spread_floor(x: pd.Series, p: DetectorParams) -> np.ndarray:
    """Floor for spreads: a fraction of the long-run (expanding) std of earlier rows, so a
    locally flat stretch does not turn tiny wiggles into huge scores."""
    sd = x.shift(1).expanding(min_periods=8).std().to_numpy()
    return np.nan_to_num(p.floor_rel * sd, nan=np.inf) + 1e-9


def _short_term(ts: pd.DatetimeIndex, xs: np.ndarray, floor: np.ndarray, p: DetectorParams) -> np.ndarray:
    """|x - median| / (IQR/1.349) over the previous ``short_s`` seconds (time-based window).
    Timestamps that go backwards are clamped (the window needs a monotonic clock)."""
    idx = pd.DatetimeIndex(pd.Series(ts).cummax())
    r = pd.Series(xs, index=idx).shift(1).rolling(pd.Timedelta(seconds=p.short_s), min_periods=8)
    med = r.median().to_numpy()
    spr = ((r.quantile(0.75) - r.quantile(0.25)) / 1.349).to_numpy()
    spr = np.maximum(np.nan_to_num(spr, nan=0.0), floor)
    return np.abs(xs - med) / spr


def raw_strength(ts, values, p: DetectorParams = DetectorParams()) -> np.ndarray:
    """Steps 1-2: the unnormalised strength z >= 0 of every row (0 while nothing is known)."""
    ts = pd.DatetimeIndex(pd.to_datetime(pd.Series(ts)))
    x = pd.Series(np.asarray(values, dtype=float))
    floor = _spread_floor(x, p)
    xs = x.rolling(p.smooth, min_periods=1).mean().to_numpy()
    sp = SeasonalParams(slot_s=p.slot_s, history_s=p.history_s, min_days=p.min_days, min_samples=3,
                        weekly=p.weekly, spread_floor=0.0, spread_floor_rel=0.0, deviations=3.0,
                        direction="both")
    seas = seasonal_scores(ts, xs, sp)
    sspr = np.maximum(np.nan_to_num(seas["spread"].to_numpy(), nan=0.0), floor)
    z_seas = np.abs(xs - seas["centre"].to_numpy()) / sspr
    have = ~seas["learning"].to_numpy()
    z = np.where(have, z_seas, _short_term(ts, xs, floor, p))
    return np.nan_to_num(z, nan=0.0, posinf=1e6)


def normalise(z: np.ndarray, q: float, window: int, min_periods: int = 50) -> np.ndarray:
    """t = z / (q-quantile of the previous ``window`` z): strength relative to the series'
    own recent top scores (0 until ``min_periods`` rows are known)."""
    ref = pd.Series(z).shift(1).rolling(window, min_periods=min_periods).quantile(q).to_numpy()
    return np.nan_to_num(z / np.maximum(ref, 1e-6), nan=0.0)


def spatial_excess(values) -> np.ndarray:
    """How far each value lies beyond every earlier value, in units of the earlier range
    (<= 0 inside the range, NaN until the range is non-empty)."""
    x = pd.Series(np.asarray(values, dtype=float))
    hi, lo = x.shift(1).cummax().to_numpy(), x.shift(1).cummin().to_numpy()
    rng = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rng > 0, np.maximum(x.to_numpy() - hi, lo - x.to_numpy()) / rng, np.nan)


def suppress(score: np.ndarray, quiet: int, margin: float = 0.0) -> np.ndarray:
    """Keep a score only if it beats (1 + margin) x every score of the previous ``quiet`` rows."""
    prev_max = pd.Series(score).shift(1).rolling(quiet, min_periods=1).max().fillna(-1.0).to_numpy()
    return np.where(score > prev_max * (1.0 + margin), score, 0.0)


def unbounded_scores(ts, values, p: DetectorParams = DetectorParams()) -> np.ndarray:
    """Steps 1-5: per-row scores in [0, inf), spatial anomalies above 1."""
    t = normalise(raw_strength(ts, values, p), p.norm_q, p.norm_window)
    score = t / (1.0 + t)
    ex = spatial_excess(values)
    spatial = np.nan_to_num(ex, nan=-1.0) > p.spatial_tol
    score = np.where(spatial, 1.0 + np.nan_to_num(ex, nan=0.0), score)
    return suppress(score, p.quiet, p.margin)


def squash(score: np.ndarray) -> np.ndarray:
    """Step 6: [0, inf) -> [0, 1), increasing (0 stays 0). Written as 1 - 1/(1 + s) so
    that each rounded step is monotone and the order of the floats is kept."""
    return 1.0 - 1.0 / (1.0 + np.asarray(score, dtype=float))


def detect(ts, values, p: DetectorParams = DetectorParams()) -> np.ndarray:
    """Per-row anomaly scores in [0, 1] for one series (NAB sweeps the operating threshold)."""
    return squash(unbounded_scores(ts, values, p))


def likelihood(z: np.ndarray, short: int, long: int) -> np.ndarray:
    """The earlier HTM-style likelihood (Gaussian tail of a short mean of z against the
    mean/std of z over ``long`` earlier rows), kept for comparison; see docs/seasonal.md."""
    zz = pd.Series(z)
    recent = zz.rolling(short, min_periods=1).mean()
    hist = zz.shift(short).rolling(long, min_periods=50)
    mu, sd = hist.mean(), hist.std()
    sd = np.maximum(sd.to_numpy(), 1e-3)
    t = np.nan_to_num((recent.to_numpy() - mu.to_numpy()) / sd, nan=0.0)
    return 0.5 + 0.5 * t / (1.0 + np.abs(t))
