"""Windowed Gaussian reference detector (the NAB baseline that scores 39.6), vectorized.

Behaviour as documented by NAB: the score of a row is ``1 - Q(|x - mean| / std)`` where
mean/std (population) are taken over the previous rows, at most 6400 of them; once the
window is full the statistics are refreshed only every 100 rows.  Used to validate our
scorer against a published number, not as our detector.
"""

from __future__ import annotations

import math

import numpy as np

_erfc = np.frompyfunc(math.erfc, 1, 1)


def windowed_gaussian(values, window: int = 6400, step: int = 100) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    n = len(x)
    i = np.arange(n)
    # statistics window [lo, hi) used to score row i
    hi = np.where(i < window, i, window + ((i - window) // step) * step)
    lo = np.where(i < window, 0, hi - window)
    shift = x[0] if n else 0.0
    c1 = np.concatenate([[0.0], np.cumsum(x - shift)])
    c2 = np.concatenate([[0.0], np.cumsum((x - shift) ** 2)])
    cnt = np.maximum(hi - lo, 1)
    mean = (c1[hi] - c1[lo]) / cnt
    var = np.maximum((c2[hi] - c2[lo]) / cnt - mean ** 2, 0.0)
    std = np.sqrt(var)
    std = np.where(std == 0.0, 1e-6, std)
    z = np.abs((x - shift) - mean) / std
    score = 1.0 - 0.5 * _erfc(z / math.sqrt(2)).astype(float)
    score[hi == 0] = 0.0
    return score
