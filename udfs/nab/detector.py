"""A NAB detector built from udfs.baseline: seasonal time-of-day score + robust rolling score.

Per row (causal: only earlier rows are used), with ONE parameter set for every file:

1. short-term robust score: |x - median| / spread over the previous ``window`` rows,
   spread = IQR/1.349, floored (see ``_spread_floor``);
2. seasonal score: |deviation| from ``udfs.baseline.seasonal_scores`` (time-of-day slot
   of ``slot``, ``history`` days, weekday aware) — only once the slot is out of learning;
3. both are also computed on a short rolling mean (``smooth`` rows) to catch level shifts;
4. the combined strength z is the short-term score, capped by the seasonal score where the
   seasonal baseline exists (a normal daily peak is unusual for the last hours but not
   for the time of day), mapped to [0, 1] with ``1 - exp(-z / scale)``;
5. alert suppression: within ``quiet`` rows after a score, a score only survives if it is
   higher than every score of those rows (one detection per episode, like an alert
   that stays triggered).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from udfs.baseline import SeasonalParams, seasonal_scores


@dataclass(frozen=True)
class DetectorParams:
    window: int = 288
    smooth: int = 6
    slot_s: float = 3600.0
    history_s: float = 7 * 86400.0
    min_days: int = 3
    floor_rel: float = 0.1
    scale: float = 10.0
    quiet: int = 150
    combine: str = "max"   # max | best | min | short | seasonal
    likelihood: bool = True
    lik_short: int = 1
    lik_long: int = 2000
    model_window: int = 1000


def _rolling_stats(x: pd.Series, window: int):
    prev = x.shift(1)
    minp = max(8, window // 4)
    r = prev.rolling(window, min_periods=minp)
    med = r.median()
    iqr = r.quantile(0.75) - r.quantile(0.25)
    return med.to_numpy(), (iqr / 1.349).to_numpy()


def _spread_floor(x: pd.Series, p: DetectorParams) -> np.ndarray:
    """Floor for spreads: a fraction of the long-run (expanding) std of earlier rows, so a
    locally flat stretch does not turn tiny wiggles into huge scores."""
    sd = x.shift(1).expanding(min_periods=8).std().to_numpy()
    return np.nan_to_num(p.floor_rel * sd, nan=np.inf) + 1e-9


def detect(ts, values, p: DetectorParams = DetectorParams()) -> np.ndarray:
    x = pd.Series(np.asarray(values, dtype=float))
    floor = _spread_floor(x, p)
    xs = x.rolling(p.smooth, min_periods=1).mean()
    zs = []
    for series in (x, xs):
        med, spr = _rolling_stats(series, p.window)
        spr = np.maximum(np.nan_to_num(spr, nan=0.0), floor)
        z_short = np.abs(series.to_numpy() - med) / spr
        sp = SeasonalParams(slot_s=p.slot_s, history_s=p.history_s, min_days=p.min_days, min_samples=3,
                            spread_floor=0.0, spread_floor_rel=0.0, deviations=3.0, direction="both")
        seas = seasonal_scores(ts, series.to_numpy(), sp)
        sspr = np.maximum(np.nan_to_num(seas["spread"].to_numpy(), nan=0.0), floor)
        z_seas = np.abs(series.to_numpy() - seas["centre"].to_numpy()) / sspr
        have = ~seas["learning"].to_numpy()
        if p.combine == "best":
            # per row, trust the model whose typical recent residual is smaller
            zs_hist = pd.Series(np.where(have, z_seas, np.nan)).shift(1).rolling(p.model_window, min_periods=50).median()
            zh_hist = pd.Series(z_short).shift(1).rolling(p.model_window, min_periods=50).median()
            use_seas = have & (zs_hist.to_numpy() < zh_hist.to_numpy())
            z = np.where(use_seas, z_seas, z_short)
        elif p.combine == "min":
            z = np.where(have, np.minimum(z_short, z_seas), z_short)
        elif p.combine == "max":
            z = np.where(have, np.maximum(z_short, z_seas), z_short)
        elif p.combine == "seasonal":
            z = np.where(have, z_seas, z_short)
        else:
            z = z_short
        zs.append(np.nan_to_num(z, nan=0.0, posinf=1e6))
    z = np.maximum(zs[0], zs[1])
    if p.likelihood:
        score = likelihood(z, p.lik_short, p.lik_long)
    else:
        score = 1.0 - np.exp(-z / p.scale)
    return suppress(score, p.quiet)


def suppress(score: np.ndarray, quiet: int) -> np.ndarray:
    """Keep a score only if it beats every score of the previous ``quiet`` rows."""
    s = pd.Series(score)
    prev_max = s.shift(1).rolling(quiet, min_periods=1).max().fillna(-1.0).to_numpy()
    return np.where(score > prev_max, score, 0.0)


def likelihood(z: np.ndarray, short: int, long: int) -> np.ndarray:
    """HTM-style anomaly likelihood: how unusual the recent mean of z is against the
    distribution of z over the longer past, mapped increasingly to [0, 1]."""
    zz = pd.Series(z)
    recent = zz.rolling(short, min_periods=1).mean()
    hist = zz.shift(short).rolling(long, min_periods=50)
    mu, sd = hist.mean(), hist.std()
    sd = np.maximum(sd.to_numpy(), 1e-3)
    t = (recent.to_numpy() - mu.to_numpy()) / sd
    t = np.nan_to_num(t, nan=0.0)
    # NAB's threshold sweep only depends on the ranking of scores, so any increasing map
    # of t to [0, 1] gives the same result; this one keeps resolution for large t.
    return 0.5 + 0.5 * t / (1.0 + np.abs(t))
