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


def window_baseline(ts, values, at, params: SeasonalParams) -> tuple[float, float, int, int]:
    """Vectorized: the baseline of `at`'s slot from the samples (ts, values) before `at`.

    Returns (centre, floored spread, n, distinct days); centre NaN = learning."""
    if len(ts) == 0:
        return NAN, NAN, 0, 0
    # time_keys reads DatetimeIndex.asi8 as nanoseconds: Arrow hands TIMESTAMP(3) over as
    # datetime64[ms], so normalise the unit first (seen on Flink: every row stayed learning)
    keys = time_keys(pd.DatetimeIndex(pd.to_datetime(ts)).as_unit("ns"), params)
    at_keys = time_keys(pd.DatetimeIndex([pd.Timestamp(at)]).as_unit("ns"), params).iloc[0]
    v = np.asarray(values, dtype=float)
    ok = ((keys["utc_ns"].to_numpy() < at_keys["utc_ns"]) & (keys["slot"].to_numpy() == at_keys["slot"])
          & (keys["day"].to_numpy() >= at_keys["day"] - params.history_days) & np.isfinite(v))
    day = keys["day"].to_numpy()
    same_type = keys["daytype"].to_numpy() == at_keys["daytype"]
    chosen = None
    for name, mask in (("all", ok if params.weekly != "on" else None),
                       ("daytype", ok & same_type if params.weekly != "off" else None)):
        if mask is None:
            continue
        n, ndays = int(mask.sum()), len(np.unique(day[mask]))
        if n >= params.min_samples and ndays >= params.min_days:
            chosen = (mask, n, ndays)
    if chosen is None:
        return NAN, NAN, 0, 0
    mask, n, ndays = chosen
    c, s = _robust(v[mask])
    return c, float(floor_spread(s, c, params)), n, ndays


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
    ts = pd.DatetimeIndex(pd.to_datetime(window_end)).as_unit("ns")
    at = ts.max()  # the current row: the OVER window ends at it and no peer shares its time
    c, s, n, days = window_baseline(ts, metric, at, params)
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
