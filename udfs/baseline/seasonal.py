"""Time-of-day (seasonal) baseline and deviation score, in plain numpy/pandas.

Model (the contract pinned by tests/udfs/test_baseline_seasonal.py):

* Time of day is read on the wall clock of the tenant's IANA zone (``zoneinfo``), so
  09:00 stays 09:00 across DST changes.  ``slot`` cuts the day into buckets
  (``floor(seconds_since_local_midnight / slot)``); on the fall-back day the repeated
  hour lands in the same slots twice, on the spring-forward day the skipped hour's
  slots simply get no sample.
* The history of an evaluation at ``t`` is every sample of the same group and slot on
  the ``history_days`` local dates before t's local date (``history`` rounded up to
  whole days); t's own date does not count, so the baseline of a slot is fixed for the
  whole day (the same time of day on previous days, not the minutes just before, which
  would pull the baseline towards a running incident and let a young baseline count
  today as one of its days).  Local dates never go backwards, so this is DST-safe and the
  window is the same set for the vectorized and per-row path.
* Weekday/weekend awareness: samples also carry a day type (Mon-Fri = 0, Sat-Sun = 1).
  The day-type-specific baseline is used when it is *usable*; otherwise the
  all-days baseline of the slot; otherwise the group is ``learning`` at that slot.
  Usable = at least ``min_samples`` samples coming from at least ``min_days`` distinct
  local dates.  ``weekly="off"`` disables the day-type split, ``"on"`` forces it (no
  fallback).
* centre = median, spread = max(1.4826 * MAD, spread_floor, spread_floor_rel * |centre|)
  so flat series do not alert on noise.
* deviation = (value - centre) / spread (signed, in spreads); breach when
  deviation > deviations (above), < -deviations (below), |deviation| > deviations (both).
  A learning row has deviation NaN and never breaches.

``seasonal_scores`` computes it vectorized (pandas batches, causal: every row is scored
against its own predecessors; the NAB detector uses it); ``baseline_row`` is the pure-Python
baseline of one row (the job's udfs/flink/baseline.py is tested against it).
``score_batch`` scores values against a baseline computed elsewhere. Their per-row twins,
``seasonal_score_row`` and ``score_row``, are test oracles (tests/udfs/seasonal_oracle.py).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from nql_flink.udfs.baseline_params import DAY_S, SeasonalParams

MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data


# ---------------------------------------------------------------------------------------
# time keys
# ---------------------------------------------------------------------------------------

def _to_utc_index(ts) -> pd.DatetimeIndex:
    idx = pd.DatetimeIndex(pd.to_datetime(ts))
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def time_keys(ts, params: SeasonalParams) -> pd.DataFrame:
    """Vectorized: slot, day type, local day number and UTC ns of each timestamp.

    Naive timestamps are taken as UTC instants."""
    utc = _to_utc_index(ts)
    local = utc.tz_convert(params.tz)
    wall_ns = local.tz_localize(None).asi8  # local wall clock as if it were UTC
    day = np.floor_divide(wall_ns, DAY_S * 10**9)
    sec_of_day = (wall_ns - day * DAY_S * 10**9) // 10**9
    slot = (sec_of_day // int(params.slot_s)).astype(np.int64)
    daytype = (local.dayofweek.to_numpy() >= 5).astype(np.int64)
    return pd.DataFrame({"utc_ns": utc.asi8, "day": day.astype(np.int64), "slot": slot, "daytype": daytype})


def time_keys_row(ts: datetime, params: SeasonalParams) -> tuple[int, int, int, int]:
    """Per-row: (utc_ns, local day number, slot, day type) using zoneinfo."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    local = ts.astimezone(ZoneInfo(params.tz))
    wall = local.replace(tzinfo=None)
    epoch = datetime(1970, 1, 1)
    day = (wall.date() - epoch.date()).days
    sec = wall.hour * 3600 + wall.minute * 60 + wall.second
    utc_ns = _utc_ns(ts)
    return utc_ns, day, int(sec // int(params.slot_s)), int(local.weekday() >= 5)


def _utc_ns(ts: datetime) -> int:
    delta = ts.astimezone(timezone.utc).replace(tzinfo=None) - datetime(1970, 1, 1)
    return (delta.days * DAY_S + delta.seconds) * 10**9 + delta.microseconds * 1000


# ---------------------------------------------------------------------------------------
# scoring against a given baseline
# ---------------------------------------------------------------------------------------

def floor_spread(spread, centre, params: SeasonalParams):
    """The spread with its floors (absolute and relative to the centre); arrays or floats
    (a float pair, finite, is the per-evaluation path of the Flink UDAF: no numpy call)."""
    if type(spread) is float and type(centre) is float and spread == spread and centre == centre:
        return max(spread, params.spread_floor, params.spread_floor_rel * abs(centre))
    return np.maximum(np.maximum(spread, params.spread_floor), params.spread_floor_rel * np.abs(centre))


def breach_of(deviation, deviations: float, direction: str):
    """Deviation(s) outside the band in `direction`; NaN is no breach. Arrays or a float."""
    if type(deviation) is float:
        if deviation != deviation:
            return False
        return (deviation > deviations if direction == "above" else deviation < -deviations
                if direction == "below" else abs(deviation) > deviations)
    dev = np.asarray(deviation, dtype=float)
    with np.errstate(invalid="ignore"):
        if direction == "above":
            out = dev > deviations
        elif direction == "below":
            out = dev < -deviations
        else:
            out = np.abs(dev) > deviations
    return out & ~np.isnan(dev)


def score_batch(value: pd.Series, centre: pd.Series, spread: pd.Series,
                params: SeasonalParams) -> pd.DataFrame:
    """Vectorized scoring of values against (centre, raw spread); NaN centre = learning.

    This is the body of a scalar pandas UDF: columns in, same-length frame out."""
    v = np.asarray(value, dtype=float)
    c = np.asarray(centre, dtype=float)
    s = floor_spread(np.asarray(spread, dtype=float), c, params)
    learning = np.isnan(c) | np.isnan(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = np.where(learning, np.nan, (v - c) / s)
    return pd.DataFrame({"deviation": dev, "breach": breach_of(dev, params.deviations, params.direction),
                         "learning": learning})


# ---------------------------------------------------------------------------------------
# robust statistics
# ---------------------------------------------------------------------------------------

def median_row(xs: Sequence[float]) -> float:
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return float("nan")
    m = n // 2
    return float(s[m]) if n % 2 else (s[m - 1] + s[m]) / 2.0


def robust_row(xs: Sequence[float]) -> tuple[float, float]:
    """(median, 1.4826 * MAD) of a list, pure Python."""
    c = median_row(xs)
    return c, MAD_SCALE * median_row([abs(x - c) for x in xs])


def _window_matrix(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Rows = windows values[lo:hi], NaN-padded on the right."""
    length = hi - lo
    width = int(length.max()) if length.size else 0
    if width == 0:
        return np.full((len(lo), 1), np.nan)
    j = np.arange(width)
    idx = lo[:, None] + j[None, :]
    valid = j[None, :] < length[:, None]
    m = np.where(valid, values[np.minimum(idx, len(values) - 1)], np.nan)
    return m


def _rolling_robust(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, chunk: int = 4096):
    """median and scaled MAD of values[lo:hi] for each row (NaN where empty)."""
    n = len(lo)
    centre = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        m = _window_matrix(values, lo[a:b], hi[a:b])
        ok = (hi[a:b] - lo[a:b]) > 0
        if not ok.any():
            continue
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                c = np.nanmedian(m, axis=1)
                d = np.nanmedian(np.abs(m - c[:, None]), axis=1)
        centre[a:b] = np.where(ok, c, np.nan)
        spread[a:b] = np.where(ok, MAD_SCALE * d, np.nan)
    return centre, spread


# ---------------------------------------------------------------------------------------
# causal evaluation of whole series (vectorized)
# ---------------------------------------------------------------------------------------

def _keyed_history(keys: pd.DataFrame, values: np.ndarray, key_cols: list[str], params: SeasonalParams):
    """For each row: centre, raw spread, n and distinct days of its history in the key."""
    n = len(values)
    order = np.lexsort([keys["utc_ns"].to_numpy()] + [keys[c].to_numpy() for c in reversed(key_cols)])
    k = keys.iloc[order]
    v = values[order]
    day = k["day"].to_numpy()
    keyarr = np.zeros(n, dtype=np.int64)
    if key_cols:
        newkey = np.zeros(n, dtype=bool)
        if n:
            newkey[0] = True
        for c in key_cols:
            a = k[c].to_numpy()
            newkey[1:] |= a[1:] != a[:-1]
        keyarr = np.cumsum(newkey) - 1
    # composite sort value so one searchsorted handles all keys: key * big + day
    big = np.int64(1) << 40
    comp_day = keyarr * big + day
    # history = same key, local day in [day(t) - D, day(t)): within a key rows are in time
    # order, so local days ascend and both ends are binary searches on (key, day)
    lo = np.searchsorted(comp_day, comp_day - params.history_days, side="left")
    hi = np.searchsorted(comp_day, comp_day, side="left")
    # NaN values are missing data: drop them from history by computing over a compacted array
    finite = np.isfinite(v)
    cnt = np.concatenate([[0], np.cumsum(finite)])
    if not finite.all():
        comp_idx = np.flatnonzero(finite)
        vv = v[comp_idx]
        lo_c, hi_c = cnt[lo], cnt[hi]
    else:
        vv, lo_c, hi_c = v, lo, hi
    centre, spread = _rolling_robust(vv, lo_c, hi_c)
    nsamp = hi_c - lo_c
    # distinct days among finite history samples
    dayf = day[finite] if not finite.all() else day
    keyf = keyarr[finite] if not finite.all() else keyarr
    newday = np.ones(len(dayf), dtype=np.int64)
    if len(dayf) > 1:
        newday[1:] = ((dayf[1:] != dayf[:-1]) | (keyf[1:] != keyf[:-1])).astype(np.int64)
    C = np.concatenate([[0], np.cumsum(newday)])
    distinct = np.where(nsamp > 0, C[hi_c] - C[np.minimum(lo_c + 1, hi_c)] + 1, 0)
    out = np.empty((n, 4))
    out[order, 0] = centre
    out[order, 1] = spread
    out[order, 2] = nsamp
    out[order, 3] = distinct
    return out


def seasonal_scores(ts, values, params: SeasonalParams, groups=None) -> pd.DataFrame:
    """Score every row against the seasonal baseline built from its predecessors.

    ``ts``: timestamps (naive = UTC), ``values``: floats (NaN = missing),
    ``groups``: optional group keys (one baseline per group).
    Returns a frame aligned with the input: centre, spread (floored), n, days,
    deviation, breach, learning, basis ('daytype' | 'all' | 'none')."""
    v = np.asarray(values, dtype=float)
    keys = time_keys(ts, params)
    if groups is not None:
        keys["group"] = pd.factorize(pd.Series(groups).astype(str).to_numpy())[0]
    else:
        keys["group"] = 0
    base_cols = ["group", "slot"]
    res_all = _keyed_history(keys, v, base_cols, params) if params.weekly != "on" else None
    res_dt = _keyed_history(keys, v, ["group", "daytype", "slot"], params) if params.weekly != "off" else None

    def usable(r):
        return (r[:, 2] >= params.min_samples) & (r[:, 3] >= params.min_days)

    n = len(v)
    centre = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    nsamp = np.zeros(n)
    days = np.zeros(n)
    basis = np.full(n, "none", dtype=object)
    for r, name in ((res_all, "all"), (res_dt, "daytype")):  # later wins
        if r is None:
            continue
        u = usable(r)
        centre[u], spread[u], nsamp[u], days[u] = r[u, 0], r[u, 1], r[u, 2], r[u, 3]
        basis[u] = name
    scored = score_batch(v, centre, spread, params)
    spread_f = np.where(np.isnan(centre), np.nan, floor_spread(spread, centre, params))
    return pd.DataFrame({
        "centre": centre, "spread": spread_f, "n": nsamp.astype(np.int64), "days": days.astype(np.int64),
        "deviation": scored["deviation"].to_numpy(), "breach": scored["breach"].to_numpy(),
        "learning": scored["learning"].to_numpy(), "basis": basis,
    })


# ---------------------------------------------------------------------------------------
# per-row path (pure Python)
# ---------------------------------------------------------------------------------------

def baseline_row(history: Iterable[tuple[datetime, float]], at: datetime,
                 params: SeasonalParams) -> tuple[float | None, float | None, int, int, str]:
    """Baseline of the slot of ``at`` from history samples on the local dates before ``at``'s.

    Returns (centre, raw spread, n, distinct days, basis); centre None = learning."""
    _, day_t, slot_t, dt_t = time_keys_row(at, params)
    both, same_dt = [], []
    for ts, val in history:
        if val is None or (isinstance(val, float) and math.isnan(val)):
            continue
        _, d, s, dt = time_keys_row(ts, params)
        if s != slot_t or not day_t - params.history_days <= d < day_t:
            continue
        both.append((d, val))
        if dt == dt_t:
            same_dt.append((d, val))
    chosen = None
    for name, rows in (("all", both if params.weekly != "on" else None),
                       ("daytype", same_dt if params.weekly != "off" else None)):
        if rows is None:
            continue
        ndays = len({d for d, _ in rows})
        if len(rows) >= params.min_samples and ndays >= params.min_days:
            chosen = (name, rows, ndays)
    if chosen is None:
        return None, None, 0, 0, "none"
    name, rows, ndays = chosen
    c, s = robust_row([x for _, x in rows])
    return c, s, len(rows), ndays, name
