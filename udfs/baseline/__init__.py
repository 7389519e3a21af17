"""Seasonal (time-of-day) and change baselines as plain numpy/pandas (no PyFlink here).

Vectorized entry points take pandas Series batches (the shape of a PyFlink pandas UDF);
each has a pure-Python per-row twin that must agree to 1e-9.
"""

from .change import ChangeParams, change_score_row, change_scores
from .seasonal import (
    SeasonalParams,
    baseline_row,
    parse_duration_s,
    parse_percent,
    robust_row,
    score_batch,
    score_row,
    seasonal_score_row,
    seasonal_scores,
    time_keys,
    time_keys_row,
)

__all__ = [
    "ChangeParams", "change_score_row", "change_scores", "SeasonalParams", "baseline_row",
    "parse_duration_s", "parse_percent", "robust_row", "score_batch", "score_row",
    "seasonal_score_row", "seasonal_scores", "time_keys", "time_keys_row",
]
