package dev.nqlflink.udfs;

import org.apache.flink.types.Row;

import static dev.nqlflink.udfs.WindowsFunction.toTimestamp;

import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One group's alert state machine (spec/monitors.md "Semantics"), exactly that of
 * udfs/alerting/state_machine.py: its state, one evaluation through it ({@link #step}) and
 * what the alert-state topic shows of it ({@link #show}).
 *
 * <p>Two functions run it: {@link AlertStates}, the job's alert state function (its state a
 * Flink row, {@link #of(Row)} / {@link #into(Row)}), and the windows function for the
 * pipelines it judges ({@link WindowsFunction}: each monitor's groups in one entry of its
 * tenant's state, {@link #read} / {@link #write}), so that an evaluation judged there never
 * becomes a row (docs/sharing.md, step 3).
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
    /** Its group's JSON as its entry codes it (read or written once): not coded again at each write. */
    private byte[] key;
    /**
     * What its entry holds of it, as last read or written ({@link #unchanged}): its fields then,
     * {@code last} as coded ({@link #FOLLOWS}: the window end the entry follows, of shape
     * {@code savedShape}); none ({@code saved} false) if made since the entry was read or
     * written. Fields of this object, not a copy of it: checking a monitor's groups at each
     * window touches one object per group, not two (with 100 tenants, memory the other
     * tenants' windows have pushed out of the cache).
     */
    private boolean saved;
    private String savedShape;
    private String savedStatus;
    private long savedLast;
    private long savedStreak;
    private String savedAlertId;
    private long savedTriggerAt;
    private String savedShown;
    private long savedShownSince;
    private long savedShownDue;

    /**
     * One evaluation at t (window end, ms) through the state machine; the 'alert' row of the
     * transition it causes (nql_kind, status, alert_id, at, since, due), or null. Mirrors
     * AlertState.step in udfs/alerting/state_machine.py line by line: trigger once the trigger
     * condition held at every evaluation for {@code for} (read at each evaluation), no
     * evaluation missing in between (consecutive evaluations exactly {@code every} apart),
     * recovery likewise, only a triggered group recovers, NULL counts as false.
     */
    Row step(long t, Boolean trig, Boolean rec, Long forMs, Long recoverForMs, long everyMs,
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
        long need = Math.max(ok ? orZero(forMs) : orZero(recoverForMs), 0);
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
    Row show(long t, Long forMs, Long recoverForMs) {
        boolean ok = OK.equals(status);
        String now;
        long since;
        long due = NONE;
        if (streak != NONE) {
            now = ok ? PENDING : RECOVERING;
            since = streak;
            due = streak + Math.max(ok ? orZero(forMs) : orZero(recoverForMs), 0);
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

    // ------------------------------------------------- the windows function's state entries
    /**
     * A monitor's groups of one tenant (group JSON -> state), from their state entry (null: none).
     * Coding 2: a version byte, the shape whose window end the entry follows (empty: none) and
     * that end ({@link #NONE}: none), the count, then per group its JSON, status (0 ok, 1
     * triggered), the times (NONE as itself; {@code last} {@link #FOLLOWS}: the end followed),
     * the alert id (empty: none) and what was shown (0 nothing, 1 ok, 2 pending, 3 triggered, 4
     * recovering). Coding 1 (written before): no shape nor end, every {@code last} as itself.
     *
     * <p>A group evaluated in the newest window of the shape that judges it has that window's
     * end as {@code last}: written as FOLLOWS, it reads as the shape's newest evaluated window
     * end when read ({@code endOf}), so that the entry need not be written again at each window
     * while nothing else of it changes ({@link #unchanged}). {@code endOf} gives NONE for a shape
     * it does not know (none since: the end written, which is what it was).
     */
    static Map<String, GroupAlert> read(byte[] data, java.util.function.ToLongFunction<String> endOf) {
        Map<String, GroupAlert> out = new LinkedHashMap<>();
        if (data == null) {
            return out;
        }
        Bytes.Reader in = new Bytes.Reader(data);
        byte coding = in.readByte();
        if (coding != CODING && coding != FIXED_LASTS) {
            throw new IllegalStateException("alert states written in another coding");
        }
        String shape = null;
        long followed = NONE;
        if (coding == CODING) {
            shape = in.readUTF();
            long written = in.readLong();
            if (shape.isEmpty()) {
                shape = null;
            } else {
                long now = endOf.applyAsLong(shape);
                followed = now == NONE ? written : now;
            }
        }
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            int at = in.position();
            String group = in.readUTF();
            GroupAlert g = new GroupAlert();
            g.key = in.from(at);
            g.status = in.readByte() == 0 ? OK : TRIGGERED;
            long last = in.readLong();
            g.last = last == FOLLOWS ? followed : last;
            g.streak = in.readLong();
            g.triggerAt = in.readLong();
            String id = in.readUTF();
            g.alertId = id.isEmpty() ? null : id;
            g.shown = SHOWN[in.readByte()];
            g.shownSince = in.readLong();
            g.shownDue = in.readLong();
            g.save(shape, followed);
            out.put(group, g);
        }
        return out;
    }

    /**
     * The groups' entry, following {@code end}, the newest evaluated window end of {@code shape}
     * (null, NONE: none): each group whose {@code last} it is has FOLLOWS there.
     */
    static byte[] write(Map<String, GroupAlert> groups, String shape, long end) {
        // each group's JSON coded once (kept with it), then written into an array of the exact
        // size: no growing, no final copy
        String followed = shape == null || end == NONE ? "" : shape;
        int size = 1 + Bytes.utfLength(followed) + 8 + 4;
        for (Map.Entry<String, GroupAlert> e : groups.entrySet()) {
            GroupAlert g = e.getValue();
            if (g.key == null) {
                g.key = Bytes.utf(e.getKey());
            }
            size += g.key.length + Bytes.utfLength(g.alertId == null ? "" : g.alertId) + FIXED;
        }
        Bytes.Writer out = new Bytes.Writer(size);
        out.writeByte(CODING);
        out.writeUTF(followed);
        out.writeLong(followed.isEmpty() ? NONE : end);
        out.writeInt(groups.size());
        String s = followed.isEmpty() ? null : shape;
        for (GroupAlert g : groups.values()) {
            out.write(g.key);
            out.writeByte(OK.equals(g.status) ? 0 : 1);
            out.writeLong(coded(g.last, s, end));
            out.writeLong(g.streak);
            out.writeLong(g.triggerAt);
            out.writeUTF(g.alertId == null ? "" : g.alertId);
            out.writeByte(shownCode(g.shown));
            out.writeLong(g.shownSince);
            out.writeLong(g.shownDue);
            g.save(s, end);
        }
        return out.toByteArray();
    }

    /** The shape an entry follows (null: none, or coding 1), without reading its groups. */
    static String followedShape(byte[] data) {
        if (data == null || data[0] != CODING) {
            return null;
        }
        Bytes.Reader in = new Bytes.Reader(data);
        in.readByte();
        String shape = in.readUTF();
        return shape.isEmpty() ? null : shape;
    }

    /**
     * Whether each group's entry, written following {@code end} of {@code shape}, would hold what
     * it holds now (so need not be written): no group added, and each group's fields as read or
     * last written, {@code last} coded the same (a group evaluated in both windows follows both).
     */
    static boolean unchanged(Map<String, GroupAlert> groups, String shape, long end) {
        for (GroupAlert g : groups.values()) {
            if (!g.unchanged(shape, end)) {
                return false;
            }
        }
        return true;
    }

    private boolean unchanged(String shape, long end) {
        long coded = coded(last, shape, end);
        return saved && coded == savedLast && (coded != FOLLOWS || shape.equals(savedShape))
                && sameButLast(savedStatus, savedStreak, savedAlertId, savedTriggerAt, savedShown, savedShownSince,
                               savedShownDue);
    }

    private void save(String shape, long end) {
        saved = true;
        savedStatus = status;
        savedLast = coded(last, shape, end);
        savedStreak = streak;
        savedAlertId = alertId;
        savedTriggerAt = triggerAt;
        savedShown = shown;
        savedShownSince = shownSince;
        savedShownDue = shownDue;
        savedShape = shape;
    }

    /** {@code last} as an entry following {@code end} of {@code shape} codes it. */
    private static long coded(long last, String shape, long end) {
        return shape != null && end != NONE && last == end ? FOLLOWS : last;
    }

    /** A group's bytes besides its JSON and alert id: status, three times, shown, two times. */
    private static final int FIXED = 1 + 3 * 8 + 1 + 2 * 8;
    /** The entries' coding; {@link #FIXED_LASTS}, the one before, is still read. */
    private static final byte CODING = 2;
    private static final byte FIXED_LASTS = 1;
    /** {@code last} in an entry: the end it follows (no time of an evaluation is this one). */
    private static final long FOLLOWS = Long.MIN_VALUE + 1;
    private static final String[] SHOWN = {null, OK, PENDING, TRIGGERED, RECOVERING};

    private static int shownCode(String shown) {
        for (int i = 1; i < SHOWN.length; i++) {
            if (SHOWN[i].equals(shown)) {
                return i;
            }
        }
        return 0;
    }

    private static long orZero(Long v) {
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
        return last == g.last && sameButLast(g.status, g.streak, g.alertId, g.triggerAt, g.shown, g.shownSince,
                                             g.shownDue);
    }

    /** Whether every field but {@code last} is the one given (another group's, or what its entry holds). */
    private boolean sameButLast(String status, long streak, String alertId, long triggerAt, String shown,
                                long shownSince, long shownDue) {
        return this.status.equals(status) && this.streak == streak && Objects.equals(this.alertId, alertId)
                && this.triggerAt == triggerAt && Objects.equals(this.shown, shown) && this.shownSince == shownSince
                && this.shownDue == shownDue;
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, last, streak, alertId, triggerAt, shown, shownSince, shownDue);
    }
}
