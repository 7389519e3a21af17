"""Change detection for the Flink job: one evaluation against the mean of its group's recent
evaluations (no PyFlink here; the state UDAF udfs.flink.alert_state.ChangeTransitions runs it).

The rules (docs/seasonal.md, "change"): the reference of an evaluation at t is the mean of the
group's non-missing values with t - history <= s < t; the spread is |mean|; the breach is the
value outside mean +- change x spread in `direction` (spread 0: any difference in that
direction); no reference = learning, not judged. The same maths as the whole-series
`change_scores` of tests/udfs/change_oracle.py (tested against it), fed one evaluation at a time.

A group's history is bytes: (UTC ms, value) float64 pairs, oldest first, trimmed to `history`
at every evaluation, so the state stays one window of history per group.
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from functools import lru_cache

_PAIR = struct.Struct("<2d")
DIRECTIONS = ("above", "below", "both")


@lru_cache(maxsize=64)
def change_spec(text: str) -> tuple[str, int, bool]:
    """`direction|history ms|default recover (0/1)`, as codegen.change_spec writes it."""
    direction, history, default_recover = text.split("|")
    if direction not in DIRECTIONS:
        raise ValueError(f"change spec {text!r}: direction must be one of {DIRECTIONS}")
    return direction, int(history), default_recover == "1"


@dataclass(frozen=True)
class ChangeJudgement:
    centre: float | None      # None: no reference (learning)
    n: int
    change: float | None
    breach: bool
    excess: float | None      # |relative| / change: >= 1 outside the band

    @property
    def learning(self) -> bool:
        return self.centre is None


def _breach(value: float, centre: float, spread: float, change: float, direction: str) -> bool:
    if spread > 0:
        d = (value - centre) / spread
        return d > change if direction == "above" else d < -change if direction == "below" else abs(d) > change
    return value > centre if direction == "above" else value < centre if direction == "below" else value != centre


def change_judge_and_record(history: bytes | None, at_ms: int, value: float | None, change: float | None,
                            direction: str, history_ms: int) -> tuple[ChangeJudgement, bytes]:
    """The evaluation at `at_ms` judged against the group's `history`, and the history with the
    evaluation recorded (missing values are not) and entries older than `history_ms` dropped."""
    pairs = [_PAIR.unpack_from(history, i) for i in range(0, len(history or b""), _PAIR.size)]
    ref = [v for t, v in pairs if at_ms - history_ms <= t < at_ms]
    centre = math.fsum(ref) / len(ref) if ref else None
    missing = value is None or math.isnan(value)
    if centre is None or missing or change is None:
        j = ChangeJudgement(centre, len(ref), change, False, None)
    else:
        spread = abs(centre)
        breach = _breach(float(value), centre, spread, float(change), direction)
        if spread > 0:
            excess = abs(float(value) - centre) / spread / change if change else math.inf
        else:
            excess = 1e9 if float(value) != centre else 0.0
        j = ChangeJudgement(centre, len(ref), change, breach, excess)
    kept = [(t, v) for t, v in pairs if t >= at_ms - history_ms]
    if not missing:
        kept.append((float(at_ms), float(value)))
    return j, b"".join(_PAIR.pack(t, v) for t, v in kept)


def with_change_baseline(payload: str, j: ChangeJudgement) -> str:
    """The evaluation's payload (JSON from SQL) with the baseline used and the excess, as the
    alert record carries them: baseline {centre, band, slot: null, history_size}, null while
    learning (docs/seasonal.md, "Alert records")."""
    out = json.loads(payload)
    if j.learning:
        out["baseline"] = None
    else:
        spread = abs(j.centre)
        band = None if j.change is None else [j.centre - j.change * spread, j.centre + j.change * spread]
        out["baseline"] = {"centre": j.centre, "band": band, "slot": None, "history_size": j.n}
    out["excess"] = j.excess if j.excess is None or math.isfinite(j.excess) else 1e9
    return json.dumps(out, separators=(",", ":"), allow_nan=False)
