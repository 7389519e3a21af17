"""The seasonal (time-of-day) baseline as plain numpy/pandas (no PyFlink here).

Vectorized entry points take pandas Series batches (the shape of a PyFlink pandas UDF);
each has a pure-Python per-row twin that must agree to 1e-9.
"""

from .seasonal import (
    SeasonalParams,
    baseline_row,
    robust_row,
    score_batch,
    score_row,
    seasonal_score_row,
    seasonal_scores,
    time_keys,
    time_keys_row,
)

__all__ = [
    "SeasonalParams", "baseline_row",
    "robust_row", "score_batch", "score_row",
    "seasonal_score_row", "seasonal_scores", "time_keys", "time_keys_row",
]
