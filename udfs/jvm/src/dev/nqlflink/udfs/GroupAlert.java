package dev.nqlflink.udfs;

import org.apache.flink.types.Row;

import static dev.nqlflink.udfs.WindowsFunction.toTimestamp;

import java.time.LocalDateTime;
import java.util.Objects;

/**
 * One group's alert state machine (spec/monitors.md "Semantics"), exactly that of
 * udfs/alerting/state_machine.py: its state, one evaluation through it ({@link #step}) and
 * what the alert-state topic shows of it ({@link #show}).
 *
 * <p>Two functions run it: {@link AlertStates}, the job's alert state function (its state a
 * Flink row, {@link #of(Row)} / {@link #into(Row)}), and the windows function for the
 * pipelines it judges ({@link WindowsFunction}: each monitor's groups in one entry of its
 * tenant's state, held in columns by {@link GroupAlerts}, an evaluation loading its group's
 * state into an instance of this class and storing it back), so that an evaluation judged there
 * never becomes a row (docs/sharing.md, step 3).
 */
final class GroupAlert {
    static final String OK = "ok";
    static final String PENDING = "pending";
    static final String TRIGGERED = "triggered";
    static final String RECOVERING = "recovering";
    static final String RECOVERED = "recovered";
    static final String EVICTED = "evicted";
    /** An absent time (no time of an evaluation is this one). */
    static final long NONE = Long.MIN_VALUE;

    String status = OK;
    /** The last evaluation's time (window end, ms). */
    long last = NONE;
    /** The first evaluation of the run going on (the condition held at every one since). */
    long streak = NONE;
    String alertId;
    long triggerAt = NONE;
    /** What the alert-state topic last showed: status, since, due. */
    String shown;
    long shownSince = NONE;
    long shownDue = NONE;
    /**
     * One evaluation at t (window end, ms) through the state machine; the 'alert' row of the
     * transition it causes (nql_kind, status, alert_id, at, since, due), or null. Mirrors
     * AlertState.step in udfs/alerting/state_machine.py line by line: trigger once the trigger
     * condition held at every evaluation for {@code for} (read at each evaluation), no
     * evaluation missing in between (consecutive evaluations exactly {@code every} apart),
     * recovery likewise, only a triggered group recovers, NULL counts as false.
     */
    Row step(long t, Boolean trig, Boolean rec, long forMs, long recoverForMs, long everyMs,
             String tenant, String monitor, String group) {
        if (last != NONE && t <= last) {
            return null;            // a guard against duplicates, not a sort
        }
        if (last != NONE && t - last != everyMs) {
            streak = NONE;          // a missing evaluation breaks the run
        }
        last = t;
        boolean ok = OK.equals(status);
        boolean active = Boolean.TRUE.equals(ok ? trig : rec);
        long need = Math.max(ok ? forMs : recoverForMs, 0);
        if (!active) {
            streak = NONE;
            return null;
        }
        if (streak == NONE) {
            streak = t;
        }
        long since = streak;
        if (t - since < need) {
            return null;
        }
        streak = NONE;
        if (ok) {
            status = TRIGGERED;
            triggerAt = t;
            alertId = AlertStates.alertId(tenant, monitor, group, t);
            return Row.of("alert", TRIGGERED, alertId, toTimestamp(t), toTimestamp(since), null);
        }
        Row closed = Row.of("alert", RECOVERED, alertId, toTimestamp(t), toTimestamp(since), null);
        status = OK;
        alertId = null;
        triggerAt = NONE;
        return closed;
    }

    /**
     * The group's visible state after the evaluation at t, as a 'state' row (nql_kind, status,
     * alert_id, at, since, due) when it is news: a different status, since or due than the last
     * one shown, or a run going on. The `for` values are this evaluation's.
     */
    Row show(long t, long forMs, long recoverForMs) {
        boolean ok = OK.equals(status);
        String now;
        long since;
        long due = NONE;
        if (streak != NONE) {
            now = ok ? PENDING : RECOVERING;
            since = streak;
            due = streak + Math.max(ok ? forMs : recoverForMs, 0);
        } else if (ok) {
            now = OK;
            since = OK.equals(shown) ? shownSince : t;
        } else {
            now = TRIGGERED;
            since = triggerAt;
        }
        boolean news = !now.equals(shown) || since != shownSince || due != shownDue || streak != NONE;
        if (!news) {
            return null;
        }
        shown = now;
        shownSince = since;
        shownDue = due;
        return Row.of("state", now, ok ? null : alertId, toTimestamp(t), orNull(since), orNull(due));
    }

    /**
     * Whether an evaluation whose condition (the one {@link #step} reads) does not hold changes
     * nothing but the time of a group in this state: no run going on, so {@link #step} only sets
     * {@code last}; and the topic shows the state the group is in (ok, or triggered since its
     * trigger, nothing due), so {@link #show} has no news. The windows function then writes the
     * time only ({@link GroupAlerts#steady}).
     */
    static boolean steady(boolean ok, long streak, String shown, long shownSince, long shownDue, long triggerAt) {
        if (streak != NONE || shownDue != NONE) {
            return false;
        }
        return ok ? OK.equals(shown) : TRIGGERED.equals(shown) && shownSince == triggerAt;
    }

    /** Whether the group has an open alert or a run going on (not evicted then, or later). */
    boolean quiet() {
        return OK.equals(status) && streak == NONE;
    }

    // ---------------------------------------------------------------- AlertStates' state row
    /** The state of AlertStates' row ({@link AlertStates#STATE_TYPE}; status NULL: a new group). */
    static GroupAlert of(Row s) {
        GroupAlert g = new GroupAlert();
        g.status = s.getField("status") == null ? OK : s.getFieldAs("status");
        g.last = orNone(s.getFieldAs("last_t"));
        g.streak = orNone(s.getFieldAs("streak"));
        g.alertId = s.getFieldAs("alert_id");
        g.triggerAt = orNone(s.getFieldAs("trigger_at"));
        g.shown = s.getFieldAs("shown");
        g.shownSince = orNone(s.getFieldAs("shown_since"));
        g.shownDue = orNone(s.getFieldAs("shown_due"));
        return g;
    }

    /** This state into AlertStates' row (its eviction fields untouched). */
    void into(Row s) {
        s.setField("status", status);
        s.setField("last_t", orNullLong(last));
        s.setField("streak", orNullLong(streak));
        s.setField("alert_id", alertId);
        s.setField("trigger_at", orNullLong(triggerAt));
        s.setField("shown", shown);
        s.setField("shown_since", orNullLong(shownSince));
        s.setField("shown_due", orNullLong(shownDue));
    }

    /** A config's {@code for} or {@code recover for} (NULL: 0, the state machine's reading). */
    static long orZero(Long v) {
        return v == null ? 0 : v;
    }

    private static long orNone(Long v) {
        return v == null ? NONE : v;
    }

    private static Long orNullLong(long v) {
        return v == NONE ? null : v;
    }

    private static LocalDateTime orNull(long t) {
        return t == NONE ? null : toTimestamp(t);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof GroupAlert)) {
            return false;
        }
        GroupAlert g = (GroupAlert) o;
        return last == g.last && status.equals(g.status) && streak == g.streak && Objects.equals(alertId, g.alertId)
                && triggerAt == g.triggerAt && Objects.equals(shown, g.shown) && shownSince == g.shownSince
                && shownDue == g.shownDue;
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, last, streak, alertId, triggerAt, shown, shownSince, shownDue);
    }
}
