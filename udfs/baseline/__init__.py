"""The seasonal (time-of-day) baseline as plain numpy/pandas (no PyFlink here).

Vectorized entry points take pandas Series batches; their pure-Python per-row twins, which
must agree to 1e-9, are test oracles (tests/udfs/seasonal_oracle.py).
"""

from .seasonal import (
    SeasonalParams,
    baseline_row,
    robust_row,
    score_batch,
    seasonal_scores,
    time_keys,
    time_keys_row,
)

__all__ = [
    "SeasonalParams", "baseline_row",
    "robust_row", "score_batch",
    "seasonal_scores", "time_keys", "time_keys_row",
]
