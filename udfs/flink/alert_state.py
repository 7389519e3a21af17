"""Flink entry points of the alert state machine of seasonal and change monitors (threshold
monitors run it in Java: udfs/jvm AlertStates, docs/flink-job-shape.md §2).

The base class AlertTransitions wraps udfs.alerting.state_machine as a general Python UDAF in a
plain GROUP BY (tenant, monitor, group_json) over evaluations that arrive in event-time order
per group (the windows function emits each tenant's windows in order); the seasonal and change
UDAFs below extend it with their baseline state:

    alert_transitions_<kind>(window_end, trig, rec, for_ms, recover_for_ms, every_ms,
                             tenant, monitor, group_json, payload, ...)

window_end TIMESTAMP(3) evaluation time, UTC wall clock (no LTZ, no session time zone)
      -> ARRAY<ROW<status STRING, alert_id STRING, at_ms BIGINT, since_ms BIGINT, payload STRING>>

Why the value is an ARRAY that is *drained* by get_value: PyFlink's Python group
aggregate processes a whole bundle of rows per key and emits ONE result per key per bundle
(pyflink/fn_execution/table/aggregate_*.py: get_value() before, accumulate all rows,
get_value() after, get_accumulators(), store). If the value were "the last transition",
two transitions in one bundle (replays, catch-up) would collapse into one. So the
accumulator keeps the transitions not yet reported, and get_value() returns them and
clears them; the cleared accumulator is what gets stored. The pre-bundle get_value() then
always returns [] and the post-bundle one returns exactly this bundle's transitions, so an
update is emitted iff there are new transitions. Downstream: TO_CHANGELOG + UNNEST.
"""
from __future__ import annotations

import calendar
import datetime
import json

from pyflink.table import AggregateFunction, DataTypes, Row
from pyflink.table.data_view import MapView
from pyflink.table.udf import udaf

from nql_flink.udfs.alerting.state_machine import AlertState
from nql_flink.udfs.baseline_params import DetectSpec
from nql_flink.udfs.flink.baseline import day_and_key, judge_and_record, other_key, with_baseline
from nql_flink.udfs.flink.change import change_judge_and_record, change_spec, with_change_baseline

TRANSITION_TYPE = DataTypes.ROW([
    DataTypes.FIELD("status", DataTypes.STRING()),
    DataTypes.FIELD("alert_id", DataTypes.STRING()),
    DataTypes.FIELD("at_ms", DataTypes.BIGINT()),
    DataTypes.FIELD("since_ms", DataTypes.BIGINT()),
    DataTypes.FIELD("payload", DataTypes.STRING()),
])
RESULT_TYPE = DataTypes.ARRAY(TRANSITION_TYPE)
# acc = [state_json, pending_json]; both plain strings so the state coder is trivial.
ACC_TYPE = DataTypes.ARRAY(DataTypes.STRING())


def to_epoch_ms(value) -> int:
    """TIMESTAMP(3) arrives as a naive datetime (UTC wall clock); ints pass through."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return (calendar.timegm(value.timetuple()) * 1000) + value.microsecond // 1000
    return int(value)


class AlertTransitions(AggregateFunction):

    def create_accumulator(self):
        return [AlertState().to_json(), "[]"]

    def accumulate(self, acc, window_end, trig, rec, for_ms, recover_for_ms, every_ms,
                   tenant, monitor, group_json, payload):
        if window_end is None:
            return
        self._step(acc, to_epoch_ms(window_end), trig, rec, for_ms, recover_for_ms, every_ms,
                   tenant, monitor, group_json, lambda: payload)

    @staticmethod
    def _step(acc, at_ms, trig, rec, for_ms, recover_for_ms, every_ms, tenant, monitor, group_json,
              payload_of) -> None:
        """One evaluation through the state machine; a transition is queued with its payload
        (payload_of is called only then: most evaluations cause none)."""
        st = AlertState.from_json(acc[0])
        tr = st.step(at_ms, trig, rec, for_ms, recover_for_ms, int(every_ms), tenant, monitor, group_json)
        acc[0] = st.to_json()
        if tr is not None:
            pending = json.loads(acc[1])
            pending.append([tr.status, tr.alert_id, tr.at_ms, tr.since_ms, payload_of()])
            acc[1] = json.dumps(pending, separators=(",", ":"))

    def get_value(self, acc):
        pending = json.loads(acc[1])
        acc[1] = "[]"          # drain: see module docstring
        return [Row(*p) for p in pending]

    def get_result_type(self):
        return RESULT_TYPE

    def get_accumulator_type(self):
        return ACC_TYPE



# ----------------------------------------------------------------------------- seasonal
SEASONAL_ACC_TYPE = DataTypes.ROW([
    DataTypes.FIELD("state", DataTypes.STRING()),
    DataTypes.FIELD("pending", DataTypes.STRING()),
    DataTypes.FIELD("current_key", DataTypes.BIGINT()),     # the history key being filled (-1: none)
    DataTypes.FIELD("current", DataTypes.BYTES()),          # its entry, not yet in `history`
    DataTypes.FIELD("baseline", DataTypes.BYTES()),         # the current slot's baseline and its day
    DataTypes.FIELD("history", DataTypes.MAP_VIEW(DataTypes.BIGINT(), DataTypes.BYTES())),
])


def _entry(view, key: int):
    """A history entry; Flink's state-backed MapView answers None for a missing key, the
    plain MapView (outside Flink) raises KeyError."""
    try:
        return view.get(key)
    except KeyError:
        return None


class SeasonalTransitions(AlertTransitions):
    """The state machine of a `detection: seasonal` monitor, with the group's baseline kept
    beside it (docs/seasonal.md, "On Flink"):

        alert_transitions_seasonal(window_end, when_ok, rec, for_ms, recover_for_ms,
            every_ms, tenant, monitor, group_json, payload, enabled, metric_value, deviations, spec)

    Per evaluation: the baseline of its slot from the group's evaluations on earlier days
    (one entry per slot and day type, so only those samples are read and written; the
    baseline is fixed for the day, so it is computed at the slot's first evaluation of the
    day and kept in the accumulator, `baseline`), the breach
    (udfs.flink.baseline.seasonal_judgement), trig = breach AND when_ok, rec = NOT trig unless the
    monitor has a recover.when (`spec`, see udfs.baseline_params.DetectSpec), both NULL
    while the monitor is disabled, in SQL's three-valued logic; while the evaluation's slot
    is learning, trig is NULL too (no baseline: neither a breach nor its absence is known,
    so an open alert stays open; an explicit recover.when still applies); then the threshold monitors'
    state machine. A transition's payload gets the baseline used and the excess
    (|deviation| / deviations), from which the alert record derives the priority.

    The entry being filled (the current slot: `slot / every` evaluations in a row use it)
    travels in the accumulator (`current_key`, `current`), which PyFlink reads and writes
    once per key and bundle; it goes to the MapView `history` only when the slot changes.
    So the MapView (a state request per read and write) is touched once per slot, not once
    per evaluation."""

    def create_accumulator(self):
        return Row(AlertState().to_json(), "[]", -1, None, None, MapView())

    def accumulate(self, acc, window_end, when_ok, rec, for_ms, recover_for_ms, every_ms,
                   tenant, monitor, group_json, payload, enabled, metric_value, deviations, spec):
        if window_end is None:
            return
        d = DetectSpec.parse(spec)
        at_ms = to_epoch_ms(window_end)
        day, key = day_and_key(at_ms, d.params)
        history = acc[5]
        if key != acc[2]:
            if acc[2] >= 0 and acc[3] is not None:
                history[acc[2]] = acc[3]
            acc[2], acc[3], acc[4] = key, _entry(history, key), None
        j, acc[3], acc[4] = judge_and_record(acc[3], lambda: _entry(history, other_key(key)), at_ms, day,
                                             metric_value, deviations, d.params, acc[4])
        trig = (j.breach and when_ok) if enabled is not False and not j.learning else None
        if enabled is False:
            rec = None
        elif d.default_recover:
            rec = None if trig is None else not trig   # a learning slot does not close an alert
        self._step(acc, at_ms, trig, rec, for_ms, recover_for_ms, every_ms, tenant, monitor, group_json,
                   lambda: with_baseline(payload, j, key // 2, d.params))

    def get_accumulator_type(self):
        return SEASONAL_ACC_TYPE


alert_transitions_seasonal = udaf(SeasonalTransitions(), result_type=RESULT_TYPE,
                                  accumulator_type=SEASONAL_ACC_TYPE)


# ----------------------------------------------------------------------------- change
CHANGE_ACC_TYPE = DataTypes.ROW([
    DataTypes.FIELD("state", DataTypes.STRING()),
    DataTypes.FIELD("pending", DataTypes.STRING()),
    DataTypes.FIELD("history", DataTypes.BYTES()),          # (UTC ms, value) float64 pairs, oldest first
])


class ChangeTransitions(AlertTransitions):
    """The state machine of a `detection: change` monitor, with the group's recent evaluations
    kept beside it (udfs.flink.change):

        alert_transitions_change(window_end, when_ok, rec, for_ms, recover_for_ms, every_ms,
            tenant, monitor, group_json, payload, enabled, metric_value, change, spec)

    Per evaluation: the reference is the mean of the group's non-missing values in
    [t - history, t); the breach of the relative change; trig = breach AND when_ok, rec = NOT
    trig unless the monitor has a recover.when (`spec`: direction|history ms|default recover),
    both NULL while disabled; an evaluation without reference is not judged (trig NULL: an
    open alert stays open). A transition's payload gets the baseline and the excess."""

    def create_accumulator(self):
        return Row(AlertState().to_json(), "[]", b"")

    def accumulate(self, acc, window_end, when_ok, rec, for_ms, recover_for_ms, every_ms,
                   tenant, monitor, group_json, payload, enabled, metric_value, change, spec):
        if window_end is None:
            return
        direction, history_ms, default_recover = change_spec(spec)
        at_ms = to_epoch_ms(window_end)
        j, acc[2] = change_judge_and_record(acc[2], at_ms, metric_value, change, direction, history_ms)
        trig = (j.breach and when_ok) if enabled is not False and not j.learning else None
        if enabled is False:
            rec = None
        elif default_recover:
            rec = None if trig is None else not trig   # no reference: an open alert stays open
        self._step(acc, at_ms, trig, rec, for_ms, recover_for_ms, every_ms, tenant, monitor, group_json,
                   lambda: with_change_baseline(payload, j))

    def get_accumulator_type(self):
        return CHANGE_ACC_TYPE


alert_transitions_change = udaf(ChangeTransitions(), result_type=RESULT_TYPE, accumulator_type=CHANGE_ACC_TYPE)
