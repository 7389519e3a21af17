"""The parameters of a seasonal baseline, as plain Python: no numpy, pandas or PyFlink here.

The compiler builds them from a monitor's `detection:` (translator/flink/codegen.py,
`seasonal_detect_spec`) and writes `DetectSpec.text()` into the job; the alert-state UDAF
(udfs/flink/alert_state.py) parses that text back. Both sides import this module alone, so
compiling a seasonal monitor imports neither numpy nor pandas (tests/frontend/test_durations.py
checks it); the maths that use the parameters are udfs/baseline/seasonal.py and
udfs/flink/baseline.py. Durations arrive here as numbers of seconds: their text was read by
the compiler (translator/syntax/durations.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

DAY_S = 86400
DIRECTIONS = ("above", "below", "both")


@dataclass(frozen=True)
class SeasonalParams:
    deviations: float = 3.0
    direction: str = "both"
    history_s: float = 7 * DAY_S
    slot_s: float = 900.0
    tz: str = "UTC"
    weekly: str = "auto"          # auto | on | off
    min_samples: int = 4
    min_days: int = 2
    spread_floor: float = 1e-9     # absolute
    spread_floor_rel: float = 0.01  # fraction of |centre|

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}")
        if self.weekly not in ("auto", "on", "off"):
            raise ValueError("weekly must be auto|on|off")
        if self.slot_s <= 0 or DAY_S % self.slot_s:
            raise ValueError("slot must divide a day")
        if self.history_s <= 0:
            raise ValueError("history must be positive")

    @property
    def history_days(self) -> int:
        return max(1, math.ceil(self.history_s / DAY_S - 1e-12))

    def with_(self, **kw) -> "SeasonalParams":
        return replace(self, **kw)


@dataclass(frozen=True)
class DetectSpec:
    """What shapes a seasonal group's state and breach; compiled into the job (the
    sensitivity `deviations` is data: it comes with every evaluation)."""
    params: SeasonalParams
    default_recover: bool    # recover.when absent: recover when the trigger condition is false

    def text(self) -> str:
        p = self.params
        return "|".join(str(x) for x in (p.direction, int(p.slot_s), int(p.history_s), p.tz, p.weekly,
                                          p.min_samples, p.min_days, int(self.default_recover)))

    @staticmethod
    @lru_cache(maxsize=64)
    def parse(text: str) -> "DetectSpec":
        direction, slot_s, history_s, tz, weekly, min_samples, min_days, default_recover = text.split("|")
        return DetectSpec(SeasonalParams(direction=direction, slot_s=float(slot_s), history_s=float(history_s),
                                         tz=tz, weekly=weekly, min_samples=int(min_samples),
                                         min_days=int(min_days)), default_recover == "1")
