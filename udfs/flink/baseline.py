"""Seasonal baseline maths for the Flink job: the baseline of one evaluation from the
evaluations of its group and slot on earlier days, vectorized with numpy (no PyFlink here).

The generated job computes it inside the alert-state UDAF (udfs/flink/alert_state.py,
`alert_transitions_seasonal`), which already receives each group's evaluations in event-time
order: per group it keeps one history per time-of-day slot and day type (packed float64
samples, see `unpack`); `judge_and_record` judges the evaluation against its slot's baseline
(computed once per slot and day, `slot_baseline`), then records it (`record`). So
Python sees aggregated rows only (one row per group and window end), in one Python operator,
and results depend on event time only (replays and backfills give the same baselines).

The rules (docs/seasonal.md): the samples of t's slot on the history_days local dates
before t's (t's own date excluded), non-missing, day-type baseline when usable, else all-days, else
learning. Its pure-Python twin is `window_baseline_row` (= udfs.baseline.baseline_row + the
spread floor); `score_and_record` fed evaluation by evaluation agrees with it and with the
whole-series `udfs.baseline.seasonal_scores` to 1e-9 (tests/udfs/test_baseline_flink.py).
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import numpy as np

from nql_flink.udfs.baseline.seasonal import MAD_SCALE, SeasonalParams, baseline_row, breach_of, floor_spread, time_keys_row

NAN = float("nan")


def window_baseline_row(history: Iterable[tuple[datetime, float]], at: datetime,
                        params: SeasonalParams) -> tuple[float, float, int, int]:
    """Pure-Python reference of the baseline of `at` from any history (samples at or after
    `at` are ignored): (centre, floored spread, n, days), centre NaN = learning."""
    c, s, n, days, _ = baseline_row(history, at, params)
    if c is None:
        return NAN, NAN, 0, 0
    return c, float(floor_spread(s, c, params)), n, days


# ----------------------------------------------------------------------------- incremental
# What the alert-state UDAF (udfs/flink/alert_state.py, SeasonalTransitions) keeps per group:
# one entry per (local time-of-day slot, day type) holding those samples in time order. An
# entry is bytes: a float64 layout version, then one (UTC ms, local day number, value)
# float64 triple per sample (exact: all are integers far below 2**53 but the value), so a
# Flink MapView reads and writes one entry at a time, no zone conversion is ever redone for
# history, and recording a sample appends 24 bytes (no unpacking and repacking of the
# entry). `score_and_record` gives the baseline of an evaluation from its earlier days
# (tested against the per-row reference `window_baseline_row`) and its entry's new
# contents. It runs once per evaluation, so it is written for small arrays and few numpy
# calls: the ends of an entry are read with struct, entries are cut by binary search only
# when they must be, the other day type is read only when the own one is not usable
# (weekly=auto falls back to all days), medians come from one sort each.

DAY_MS = 86_400_000
ENTRY_LAYOUT = 1.0                      # the entry's first float64; a new layout gets a new number
_HEADER = struct.Struct("<d")
_SAMPLE = struct.Struct("<3d")          # (UTC ms, local day, value)
_HEAD_SAMPLE = struct.Struct("<4d")     # header + first sample's (ms, day, value)
_NO_VALUES = np.empty(0)


def local_day_slot(at_ms: int, params: SeasonalParams) -> tuple[int, int]:
    """(local day number, local slot) of a UTC instant; day 0 = 1970-01-01, a Thursday."""
    if params.tz == "UTC":
        day = at_ms // DAY_MS
        return day, (at_ms - day * DAY_MS) // (int(params.slot_s) * 1000)
    _, day, slot, _ = time_keys_row(datetime.fromtimestamp(at_ms / 1000, timezone.utc), params)
    return day, slot


def weekend(day: int) -> int:
    """Day type of a local day number (1970-01-01 was a Thursday): 1 = Saturday or Sunday."""
    return int((day + 3) % 7 >= 5)


def day_and_key(at_ms: int, params: SeasonalParams) -> tuple[int, int]:
    """(local day number, MapView key of the evaluation's history: local slot and day type)."""
    day, slot = local_day_slot(at_ms, params)
    return day, 2 * slot + weekend(day)


def history_key(at_ms: int, params: SeasonalParams) -> int:
    """The MapView key of the evaluation's history: local slot and day type."""
    return day_and_key(at_ms, params)[1]


def other_key(key: int) -> int:
    """The same slot's other day type."""
    return key ^ 1


def unpack(blob: bytes | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTC ms, local day, value) columns of an entry, in time order (views, no copy)."""
    a = _samples(blob)
    return a[:, 0], a[:, 1], a[:, 2]


def _samples(blob: bytes | None) -> np.ndarray:
    """An entry as an (n, 3) array of samples; raises on an entry of another layout (state
    restored from an incompatible version: better stopped than silently misread)."""
    if not blob:
        return _NO_VALUES.reshape(0, 3)
    if _HEADER.unpack_from(blob)[0] != ENTRY_LAYOUT or len(blob) % 24 != 8:
        raise ValueError(f"seasonal history entry of unknown layout (header "
                         f"{_HEADER.unpack_from(blob)[0]!r}, {len(blob)} bytes); this version reads layout "
                         f"{ENTRY_LAYOUT}: restore state written by the same version, or start without it")
    return np.frombuffer(blob, dtype="<f8", offset=8).reshape(-1, 3)


def _usable_part(blob: bytes | None, first_day: int, at_day: int) -> tuple[np.ndarray, int]:
    """An entry's samples on local dates first_day <= day < at_day (entries hold no missing
    values: they are not recorded) -> (values, distinct days). Scalar tests avoid numpy
    calls where they can: an entry is usually all recent enough, and usually spans several days."""
    a = _samples(blob)
    n = len(a)
    if not n:
        return _NO_VALUES, 0
    _, _, day_first, _ = _HEAD_SAMPLE.unpack_from(blob)
    _, day_last, _ = _SAMPLE.unpack_from(blob, len(blob) - 24)
    hi = n if day_last < at_day else int(a[:, 1].searchsorted(at_day))
    lo = 0 if day_first >= first_day else int(a[:, 1].searchsorted(first_day))
    if lo >= hi:
        return _NO_VALUES, 0
    if lo:
        day_first = a[lo, 1]
    if hi < n:
        day_last = a[hi - 1, 1]
    if day_first == day_last:
        ndays = 1
    elif hi - lo == 2:
        ndays = 2
    else:
        d = a[lo:hi, 1]
        ndays = 1 + int(np.count_nonzero(d[1:] != d[:-1]))
    return a[lo:hi, 2], ndays


def _median_sorted(s: np.ndarray) -> float:
    n = s.size
    return (float(s[(n - 1) // 2]) + float(s[n // 2])) / 2


Baseline = tuple  # (centre, floored spread, n, distinct days); centre NaN = learning
LEARNING: Baseline = (NAN, NAN, 0, 0)


def slot_baseline(blob: bytes | None, other, at_day: int, params: SeasonalParams) -> Baseline:
    """Baseline (centre, floored spread, n, days) of the slot on local day `at_day`, from its
    own entry `blob` (its slot and day type) and, when needed, `other()` (the slot's other
    day type): the samples of the history_days local dates before at_day. It is the same
    for every evaluation of that slot on that day (the state UDAF computes it once)."""
    first_day = at_day - params.history_days
    own, own_days = _usable_part(blob, first_day, at_day)
    need, need_days = max(params.min_samples, 1), params.min_days
    chosen = None
    if params.weekly != "off" and own.size >= need and own_days >= need_days:
        chosen = own, own_days
    if chosen is None and params.weekly != "on":
        more, more_days = _usable_part(other(), first_day, at_day)  # disjoint dates
        if own.size + more.size >= need and own_days + more_days >= need_days:
            chosen = np.concatenate((own, more)), own_days + more_days
    if chosen is None:
        return LEARNING
    xs, ndays = chosen
    xs = np.sort(xs)
    c = _median_sorted(xs)
    dev = xs - c
    np.abs(dev, out=dev)
    dev.sort()
    return c, floor_spread(MAD_SCALE * _median_sorted(dev), c, params), int(xs.size), ndays


def record(blob: bytes | None, at_ms: int, at_day: int, value: float | None,
           params: SeasonalParams) -> bytes | None:
    """The entry with the evaluation recorded. An evaluation at or before the newest sample
    is not recorded (the state machine ignores it too), nor is a missing value (it would
    never be usable). Samples more than history_days + 2 days older than at_ms are dropped:
    every later evaluation looks back at most history_days local dates (+1 for the rest of
    the current date, +1 more for zone offsets and DST days)."""
    if value is None or value != value:
        return blob
    if not blob:
        return _HEADER.pack(ENTRY_LAYOUT) + _SAMPLE.pack(at_ms, at_day, value)
    if at_ms <= _SAMPLE.unpack_from(blob, len(blob) - 24)[0]:
        return blob
    oldest = at_ms - (params.history_days + 2) * DAY_MS
    if _HEAD_SAMPLE.unpack_from(blob)[1] < oldest:
        keep = 8 + 24 * int(_samples(blob)[:, 0].searchsorted(oldest))
        blob = blob[:8] + blob[keep:]
    return blob + _SAMPLE.pack(at_ms, at_day, value)


def score_and_record(blob: bytes | None, other, at_ms: int, value: float | None,
                     params: SeasonalParams) -> tuple[Baseline, bytes | None]:
    """The baseline of the evaluation at `at_ms` (slot_baseline of its local day) and its
    own entry with the evaluation recorded (record)."""
    at_day, _ = local_day_slot(at_ms, params)
    return slot_baseline(blob, other, at_day, params), record(blob, at_ms, at_day, value, params)


@dataclass(frozen=True)
class Judgement:
    """An evaluation against its baseline; centre NaN = learning (no breach)."""
    centre: float
    spread: float
    n: int
    days: int
    deviations: float | None
    breach: bool
    excess: float | None     # |deviation| / deviations: >= 1 outside the band

    @property
    def learning(self) -> bool:
        """No usable baseline for the evaluation's slot (centre NaN)."""
        return self.centre != self.centre


def seasonal_judgement(base: tuple[float, float, int, int], value: float | None, deviations: float | None,
                       params: SeasonalParams) -> Judgement:
    """Breach by `params.direction` of `value` against (centre, floored spread); `deviations`
    is the monitor-config parameter read with this evaluation (None: no breach)."""
    c, s, n, days = base
    if math.isnan(c) or value is None or deviations is None or math.isnan(value):
        return Judgement(c, s, n, days, deviations, False, None)
    dev = (float(value) - c) / s
    breach = bool(breach_of(dev, float(deviations), params.direction))
    excess = abs(dev) / deviations if deviations > 0 else 1e9
    return Judgement(c, s, n, days, deviations, breach, excess)


_CACHED = struct.Struct("<q2d2q")      # local day, then the Baseline of the slot on that day


def judge_and_record(entry: bytes | None, other, at_ms: int, at_day: int, value: float | None,
                     deviations: float | None, params: SeasonalParams,
                     cached: bytes | None = None) -> tuple[Judgement, bytes | None, bytes]:
    """One evaluation of a group, as the state UDAF and `nql-flink explain` both run it: its
    judgement against the baseline of its slot on its local day `at_day`, the entry with the
    evaluation recorded, and that baseline packed with its day (`cached`: give it back with
    the entry's next evaluation). A slot's baseline is fixed for the day (it reads earlier
    days only, and later evaluations add samples of their own day only), so an evaluation on
    the day of `cached` reuses it: slot_baseline runs once per slot and day, not per evaluation."""
    if cached is not None:
        day, *base = _CACHED.unpack(cached)
        if day != at_day:
            cached = None
    if cached is None:
        base = slot_baseline(entry, other, at_day, params)
        cached = _CACHED.pack(at_day, *base)
    return seasonal_judgement(tuple(base), value, deviations, params), record(entry, at_ms, at_day, value, params), cached


def slot_text(slot: int, params: SeasonalParams) -> str:
    start = slot * int(params.slot_s)
    return f"{start // 3600:02d}:{start % 3600 // 60:02d}"


def with_baseline(payload: str, j: Judgement, slot: int, params: SeasonalParams) -> str:
    """The evaluation's payload (JSON from SQL) with the baseline used and the excess, as the
    alert record carries them: baseline {centre, band, slot, history_size}, null while
    learning (docs/seasonal.md, "Alert records")."""
    out = json.loads(payload)
    if j.learning:
        out["baseline"] = None
    else:
        d = j.deviations
        band = None if d is None else [j.centre - d * j.spread, j.centre + d * j.spread]
        out["baseline"] = {"centre": j.centre, "band": band,
                           "slot": slot_text(slot, params), "history_size": j.n}
    out["excess"] = j.excess
    return json.dumps(out, separators=(",", ":"), allow_nan=False)
