"""Per-row twins of udfs/baseline/seasonal.py's vectorized scoring, in pure Python: the
oracle tests/udfs/test_baseline_seasonal.py checks ``seasonal_scores`` and ``score_batch``
against (to 1e-9). No job runs them; they were udfs/baseline/seasonal.py's."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Iterable

from nql_flink.udfs.baseline.seasonal import SeasonalParams, baseline_row


def score_row(value: float, centre: float | None, spread: float | None,
              params: SeasonalParams) -> tuple[float, bool, bool]:
    """Per-row twin of ``score_batch``: (deviation, breach, learning)."""
    if centre is None or value is None or math.isnan(centre) or math.isnan(value):
        return float("nan"), False, True
    s = max(spread, params.spread_floor, params.spread_floor_rel * abs(centre))
    dev = (value - centre) / s
    if params.direction == "above":
        b = dev > params.deviations
    elif params.direction == "below":
        b = dev < -params.deviations
    else:
        b = abs(dev) > params.deviations
    return dev, bool(b), False


def seasonal_score_row(history: Iterable[tuple[datetime, float]], at: datetime, value: float,
                       params: SeasonalParams) -> dict:
    """Per-row twin of one row of ``seasonal_scores``."""
    c, s, n, days, basis = baseline_row(history, at, params)
    dev, breach, learning = score_row(value, c, s, params)
    spread = None if c is None else max(s, params.spread_floor, params.spread_floor_rel * abs(c))
    return {"centre": c, "spread": spread, "n": n, "days": days, "deviation": dev,
            "breach": breach, "learning": learning, "basis": basis}
