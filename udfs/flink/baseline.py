"""Flink entry point of the seasonal baseline: a pandas UDAF over a bounded OVER window.

Declared in generated SQL as
    CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS `seasonal_baseline__900__604800__UTC__auto__4__2`
      AS 'udfs.flink.baseline.seasonal_baseline__900__604800__UTC__auto__4__2' LANGUAGE PYTHON;
and used on the monitor's *evaluations* (one row per tenant, group and window end; never on
raw events) as

    seasonal_baseline__<slot_s>__<history_s>__<tz>__<weekly>__<min_samples>__<min_days>(window_end, metric)
      OVER (PARTITION BY tenant, group_json, slot ORDER BY window_time
            RANGE BETWEEN INTERVAL '<history_days + 1>' DAY PRECEDING AND CURRENT ROW)
      -> ARRAY<DOUBLE> [centre, spread (floored), n, days]   (centre NULL: learning)

Pandas UDAFs are allowed in bounded OVER windows (not in window-TVF aggregations; see
/work/shared/reference/flink.md §4). The rowtime OVER operator fires each row once the
watermark passes it, with the rows of its partition in the RANGE, so the result depends on
event time only (replays and backfills give the same baselines).

The window holds the current evaluation (the latest window_end) and the earlier
evaluations of the same group and slot from the last history_days + 1 days (a superset);
`window_baseline` keeps exactly the history of the maths in udfs/baseline/seasonal.py:
earlier samples (s < t) of t's slot, local date at most history_days before t's,
non-missing, day-type baseline when usable, else all-days, else learning. Its pure-Python
twin is `window_baseline_row` (= udfs.baseline.baseline_row + the spread floor); they agree
to 1e-9 (tests/udfs/test_baseline_flink.py).

The parameters are in the function's name, not SQL literal arguments: on Flink 2.3 a
literal argument of a pandas UDAF in an OVER window fails at plan translation
(`IndexOutOfBoundsException` in StreamExecPythonOverAggregate, probed), so the module
builds one UDAF per parameter set on first access (module __getattr__).
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Iterable

import numpy as np
import pandas as pd

from udfs.baseline.seasonal import MAD_SCALE, SeasonalParams, baseline_row, floor_spread, time_keys

NAN = float("nan")


def _robust(x: np.ndarray) -> tuple[float, float]:
    c = float(np.median(x))
    return c, float(MAD_SCALE * np.median(np.abs(x - c)))


DAY_NS = 86_400 * 10**9


def _utc_ns(ts) -> np.ndarray:
    """Timestamps (naive = UTC, any datetime64 unit, or tz-aware) -> int64 UTC nanoseconds.

    Arrow hands TIMESTAMP(3) over as datetime64[ms]; the maths' time_keys reads
    DatetimeIndex.asi8 as nanoseconds, so the unit is normalised here (on Flink, without
    this every row stayed learning)."""
    if isinstance(ts, (pd.Series, np.ndarray)) and np.asarray(ts).dtype.kind == "M":
        return np.asarray(ts).astype("datetime64[ns]").view(np.int64)
    idx = pd.DatetimeIndex(pd.to_datetime(ts))
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.as_unit("ns").asi8


def _keys(ns: np.ndarray, params: SeasonalParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(local day, slot, day type) per UTC instant: numpy arithmetic for UTC (the generated
    job's zone; 1970-01-01 was a Thursday), udfs.baseline.time_keys for any other zone."""
    if params.tz == "UTC":
        day = ns // DAY_NS
        slot = (ns - day * DAY_NS) // (int(params.slot_s) * 10**9)
        return day, slot, ((day + 3) % 7 >= 5).astype(np.int64)
    k = time_keys(pd.DatetimeIndex(ns.astype("datetime64[ns]")), params)
    return k["day"].to_numpy(), k["slot"].to_numpy(), k["daytype"].to_numpy()


def _baseline_ns(ns: np.ndarray, v: np.ndarray, at_ns: int, params: SeasonalParams) -> tuple[float, float, int, int]:
    if len(ns) == 0:
        return NAN, NAN, 0, 0
    day, slot, daytype = _keys(ns, params)
    at_day, at_slot, at_type = (int(x[0]) for x in _keys(np.array([at_ns], dtype=np.int64), params))
    ok = (ns < at_ns) & (slot == at_slot) & (day >= at_day - params.history_days) & np.isfinite(v)
    chosen = None
    for mask in (ok if params.weekly != "on" else None,
                 ok & (daytype == at_type) if params.weekly != "off" else None):
        if mask is None:
            continue
        n = int(mask.sum())
        if n >= params.min_samples:
            ndays = len(np.unique(day[mask]))
            if ndays >= params.min_days:
                chosen = (mask, n, ndays)
    if chosen is None:
        return NAN, NAN, 0, 0
    mask, n, ndays = chosen
    c, s = _robust(v[mask])
    return c, float(floor_spread(s, c, params)), n, ndays


def window_baseline(ts, values, at, params: SeasonalParams) -> tuple[float, float, int, int]:
    """Vectorized: the baseline of `at`'s slot from the samples (ts, values) before `at`
    (earlier samples of the same slot, local date at most history_days before at's,
    non-missing; day-type baseline when usable, else all days, else learning).

    Returns (centre, floored spread, n, distinct days); centre NaN = learning."""
    return _baseline_ns(_utc_ns(ts), np.asarray(values, dtype=float), int(_utc_ns([at])[0]), params)


def window_baseline_row(history: Iterable[tuple[datetime, float]], at: datetime,
                        params: SeasonalParams) -> tuple[float, float, int, int]:
    """Pure-Python twin of `window_baseline` (the history may include `at` itself)."""
    c, s, n, days, _ = baseline_row(history, at, params)
    if c is None:
        return NAN, NAN, 0, 0
    return c, max(s, params.spread_floor, params.spread_floor_rel * abs(c)), n, days


PREFIX = "seasonal_baseline__"


def function_name(params: SeasonalParams) -> str:
    """The module attribute (and SQL function name) of the UDAF for these parameters."""
    parts = (int(params.slot_s), int(params.history_s), params.tz, params.weekly, params.min_samples, params.min_days)
    return PREFIX + "__".join(str(p) for p in parts)


def params_of(name: str) -> SeasonalParams:
    slot_s, history_s, tz, weekly, min_samples, min_days = name[len(PREFIX):].split("__")
    return SeasonalParams(slot_s=float(slot_s), history_s=float(history_s), tz=tz, weekly=weekly,
                          min_samples=int(min_samples), min_days=int(min_days))


def seasonal_baseline_batch(window_end: pd.Series, metric: pd.Series, params: SeasonalParams) -> list:
    """The UDAF body: the window's rows in, [centre, spread, n, days] out (centre None: learning)."""
    if len(window_end) == 0:
        return [None, None, 0.0, 0.0]
    ns = _utc_ns(window_end)
    at = int(ns.max())  # the current row: the OVER window ends at it and no peer shares its time
    c, s, n, days = _baseline_ns(ns, np.asarray(metric, dtype=float), at, params)
    if math.isnan(c):
        return [None, None, 0.0, 0.0]
    return [c, s, float(n), float(days)]


def _udaf(params: SeasonalParams):
    from pyflink.table import DataTypes
    from pyflink.table.udf import udaf

    def seasonal_baseline(window_end: pd.Series, metric: pd.Series) -> list:
        return seasonal_baseline_batch(window_end, metric, params)

    return udaf(seasonal_baseline, result_type=DataTypes.ARRAY(DataTypes.DOUBLE()), func_type="pandas")


def __getattr__(name: str):
    """`udfs.flink.baseline.seasonal_baseline__<slot_s>__<history_s>__<tz>__<weekly>__<min_samples>__<min_days>`:
    PyFlink resolves a SQL function's Python path with getattr(module, name), so each
    parameter set is its own attribute, built on first use."""
    if name.startswith(PREFIX):
        f = globals()[name] = _udaf(params_of(name))
        return f
    raise AttributeError(name)
