"""The alert state machine of monitors.md "Semantics", as plain Python.

One `AlertState` per (tenant, monitor, group). Evaluations are fed in event-time order,
one per window end (HOP slide = `every`). `step()` returns the transition caused by this
evaluation (or None). Nothing here knows about Flink; `udfs.flink.alert_state` wraps it.

Rules (monitors.md):
- trigger at the first evaluation t such that trigger.when held at every evaluation from
  some t0 to t, with no evaluation missing in between (consecutive evaluation times differ
  by exactly `every`), and t - t0 >= for  (for = 0 -> triggers at t0);
- recovery mirrors it with recover.when / recover.for; only a triggered group recovers;
- with hysteresis, an evaluation where the active condition is false (values between the
  thresholds) breaks the running streak and keeps the state;
- default recover.when = NOT trigger.when is decided by the caller (SQL passes `rec`);
- a NULL (None) condition counts as false;
- `for` durations are read at each evaluation (they are data and may change);
- output only on transitions; the recovered record carries the trigger's alert_id;
- alert_id = sha256 over tenant, monitor, canonical group and trigger time (ms), hex[:32].
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Optional

_COMPACT = json.JSONEncoder(separators=(",", ":"))

OK = "ok"
TRIGGERED = "triggered"
RECOVERED = "recovered"


def alert_id(tenant: str, monitor: str, group_json: str, trigger_at_ms: int) -> str:
    """Deterministic id: same tenant/monitor/group/trigger time -> same id, across replays."""
    material = json.dumps([tenant, monitor, group_json, int(trigger_at_ms)],
                          ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Transition:
    status: str          # "triggered" | "recovered"
    alert_id: str
    at_ms: int           # evaluation time (window end) of the transition
    since_ms: int        # t0: first evaluation of the streak that caused it


@dataclass
class AlertState:
    status: str = OK
    last_t: Optional[int] = None        # time of the last evaluation seen
    streak_start: Optional[int] = None  # t0 of the current streak of the *active* condition
    alert_id: Optional[str] = None      # id of the open alert (status triggered)
    trigger_at: Optional[int] = None

    def to_json(self) -> str:
        # keys in sorted order, written out: this runs once per evaluation, and
        # dataclasses.asdict (a deep copy) cost ~4x the rest of the step
        return _COMPACT.encode({"alert_id": self.alert_id, "last_t": self.last_t, "status": self.status,
                                "streak_start": self.streak_start, "trigger_at": self.trigger_at})

    @classmethod
    def from_json(cls, text: Optional[str]) -> "AlertState":
        return cls(**json.loads(text)) if text else cls()

    def step(self, t: int, trig: Optional[bool], rec: Optional[bool], for_ms: Optional[int],
             recover_for_ms: Optional[int], every_ms: int, tenant: str, monitor: str,
             group_json: str) -> Optional[Transition]:
        """Apply the evaluation at time t (ms). Returns the transition, if any.

        Evaluations at or before the last one seen are ignored (duplicates / disorder must
        be removed upstream; this is a guard, not a sort)."""
        if self.last_t is not None and t <= self.last_t:
            return None
        if self.last_t is not None and t - self.last_t != every_ms:
            self.streak_start = None            # a missing evaluation breaks the streak
        self.last_t = t
        if self.status == OK:
            active, need = bool(trig), max(int(for_ms or 0), 0)
        else:
            active, need = bool(rec), max(int(recover_for_ms or 0), 0)
        if not active:
            self.streak_start = None
            return None
        if self.streak_start is None:
            self.streak_start = t
        if t - self.streak_start < need:
            return None
        since = self.streak_start
        self.streak_start = None
        if self.status == OK:
            self.status = TRIGGERED
            self.trigger_at = t
            self.alert_id = alert_id(tenant, monitor, group_json, t)
            return Transition(TRIGGERED, self.alert_id, t, since)
        closed = Transition(RECOVERED, self.alert_id, t, since)
        self.status, self.alert_id, self.trigger_at = OK, None, None
        return closed


def run_timeline(evaluations, every_ms, for_ms=0, recover_for_ms=0, tenant="t", monitor="m",
                 group_json="{}"):
    """Convenience for tests: evaluations = iterable of (t_ms, trig, rec)."""
    st, out = AlertState(), []
    for t, trig, rec in evaluations:
        tr = st.step(t, trig, rec, for_ms, recover_for_ms, every_ms, tenant, monitor, group_json)
        if tr is not None:
            out.append(tr)
    return out
