package dev.nqlflink.udfs;

import java.util.Arrays;
import java.util.function.ToLongFunction;

/**
 * The alert states of one monitor's groups, as the windows function keeps them for the monitors
 * it judges ({@link WindowsFunction}: one entry of the tenant's state per monitor, decoded once,
 * {@link Decoded}): each field of {@link GroupAlert} in an array of its own, by slot (a group's
 * position, in the order the groups came), and an index from group to slot.
 *
 * <p>Why columns: a window of a tenant evaluates each of its monitors on each of its groups, and
 * with many tenants the window finds their states out of the CPU's caches (the other tenants'
 * windows ran in between). As a map of {@link GroupAlert} objects each evaluation touched a map
 * entry and a state object of its own; here a monitor's groups share a few arrays, a few cache
 * lines for all of them (issue 15, docs/flink-job-shape.md §7, session 54). An evaluation
 * {@link #load loads} a slot into a {@link GroupAlert}, steps it and {@link #store stores} it back,
 * unless it changes only the group's time ({@link #steady}, most evaluations: session 55).
 *
 * <p>The entry's coding is the windows function's coding 2, unchanged (a monitor's groups in
 * their order, each one's time of its last evaluation written as "follows" when it is the newest
 * window end of the shape the entry follows; coding 1, before it, is still read), so a savepoint
 * taken before the columns reads back.
 */
final class GroupAlerts {
    private static final long NONE = GroupAlert.NONE;
    private static final byte CODING = 2;
    private static final byte FIXED_LASTS = 1;
    private static final long FOLLOWS = Long.MIN_VALUE + 1;
    /** What the topic showed, by its code in the entry (0: nothing yet). */
    private static final String[] SHOWN = {null, GroupAlert.OK, GroupAlert.PENDING, GroupAlert.TRIGGERED,
                                           GroupAlert.RECOVERING};
    /** The bytes of a group's entry besides its key and alert id. */
    private static final int FIXED = 1 + 3 * 8 + 1 + 2 * 8;

    private int size;
    private String[] names;
    /** Each group's key as coded in the entry (made once). */
    private byte[][] keys;
    /** 0: ok, 1: triggered. */
    private byte[] status;
    private byte[] shown;
    private long[] last;
    private long[] streak;
    private long[] triggerAt;
    private long[] shownSince;
    private long[] shownDue;
    private String[] alertId;
    /** Open addressing from a group's hash to its slot + 1 (0: empty); a power of two long. */
    private int[] index;

    /**
     * What the entry holds as last read or written: each group's time as coded there and the
     * shape it followed; {@code changed}: a group added, removed, or changed in anything but its
     * time since ({@link #unchanged}).
     */
    private long[] savedLast;
    private String savedShape;
    private boolean changed;

    GroupAlerts() {
        this(4);
    }

    private GroupAlerts(int capacity) {
        names = new String[capacity];
        keys = new byte[capacity][];
        status = new byte[capacity];
        shown = new byte[capacity];
        last = new long[capacity];
        streak = new long[capacity];
        triggerAt = new long[capacity];
        shownSince = new long[capacity];
        shownDue = new long[capacity];
        alertId = new String[capacity];
        savedLast = new long[capacity];
        // at most half full: the least power of two holding twice the capacity
        index = new int[Integer.highestOneBit(2 * capacity - 1) << 1];
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    String name(int slot) {
        return names[slot];
    }

    /**
     * The group's slot (-1: not here). A group found equal but not the same instance keeps the
     * one asked with from then on: a window asks with its own group's instance, the same from
     * window to window, so the next lookups compare references instead of reading a decoded copy.
     */
    int find(String group) {
        int mask = index.length - 1;
        for (int i = group.hashCode() & mask; ; i = (i + 1) & mask) {
            int at = index[i] - 1;
            if (at < 0) {
                return -1;
            }
            String name = names[at];
            if (name == group) {
                return at;
            }
            if (name.equals(group)) {
                names[at] = group;
                return at;
            }
        }
    }

    /** A new group (not here yet), in the state of a group never evaluated: its slot. */
    int add(String group) {
        if (size == names.length) {
            grow(size * 2);
        }
        int slot = size++;
        names[slot] = group;
        keys[slot] = null;
        status[slot] = 0;
        shown[slot] = 0;
        last[slot] = NONE;
        streak[slot] = NONE;
        triggerAt[slot] = NONE;
        shownSince[slot] = NONE;
        shownDue[slot] = NONE;
        alertId[slot] = null;
        changed = true;
        if (size * 2 > index.length) {
            reindex(index.length * 2);
        } else {
            put(slot);
        }
        return slot;
    }

    /** The slot's state into {@code g} (all its fields). */
    void load(int slot, GroupAlert g) {
        g.status = status[slot] == 0 ? GroupAlert.OK : GroupAlert.TRIGGERED;
        g.last = last[slot];
        g.streak = streak[slot];
        g.triggerAt = triggerAt[slot];
        g.alertId = alertId[slot];
        g.shown = SHOWN[shown[slot]];
        g.shownSince = shownSince[slot];
        g.shownDue = shownDue[slot];
    }

    /** {@code g}'s state into the slot. */
    void store(int slot, GroupAlert g) {
        byte s = GroupAlert.OK.equals(g.status) ? (byte) 0 : (byte) 1;
        byte sh = shownCode(g.shown);
        if (s != status[slot] || sh != shown[slot] || g.streak != streak[slot] || g.triggerAt != triggerAt[slot]
                || g.shownSince != shownSince[slot] || g.shownDue != shownDue[slot]
                || !java.util.Objects.equals(g.alertId, alertId[slot])) {
            changed = true;
            status[slot] = s;
            shown[slot] = sh;
            streak[slot] = g.streak;
            triggerAt[slot] = g.triggerAt;
            shownSince[slot] = g.shownSince;
            shownDue[slot] = g.shownDue;
            alertId[slot] = g.alertId;
        }
        last[slot] = g.last;
    }

    /** Whether the group has no open alert. */
    boolean ok(int slot) {
        return status[slot] == 0;
    }

    /**
     * Whether an evaluation whose condition does not hold changes nothing but the group's time
     * ({@link GroupAlert#steady}, read from the slot): then {@link #evaluated} does that without
     * loading the group's state.
     */
    boolean steady(int slot) {
        return GroupAlert.steady(status[slot] == 0, streak[slot], SHOWN[shown[slot]], shownSince[slot],
                                 shownDue[slot], triggerAt[slot]);
    }

    /** A {@link #steady} group evaluated at {@code t}: its time, unless it was evaluated at or after it (a duplicate). */
    void evaluated(int slot, long t) {
        if (t > last[slot]) {
            last[slot] = t;
        }
    }

    /** The time of the group's last evaluation. */
    long last(int slot) {
        return last[slot];
    }

    /** Removes the groups whose {@code gone[slot]} is set, the others kept in their order. */
    void remove(boolean[] gone) {
        int to = 0;
        for (int from = 0; from < size; from++) {
            if (gone[from]) {
                continue;
            }
            if (to != from) {
                names[to] = names[from];
                keys[to] = keys[from];
                status[to] = status[from];
                shown[to] = shown[from];
                last[to] = last[from];
                streak[to] = streak[from];
                triggerAt[to] = triggerAt[from];
                shownSince[to] = shownSince[from];
                shownDue[to] = shownDue[from];
                alertId[to] = alertId[from];
            }
            to++;
        }
        if (to != size) {
            Arrays.fill(names, to, size, null);
            Arrays.fill(keys, to, size, null);
            Arrays.fill(alertId, to, size, null);
            size = to;
            changed = true;
            reindex(index.length);
        }
    }

    private void grow(int capacity) {
        names = Arrays.copyOf(names, capacity);
        keys = Arrays.copyOf(keys, capacity);
        status = Arrays.copyOf(status, capacity);
        shown = Arrays.copyOf(shown, capacity);
        last = Arrays.copyOf(last, capacity);
        streak = Arrays.copyOf(streak, capacity);
        triggerAt = Arrays.copyOf(triggerAt, capacity);
        shownSince = Arrays.copyOf(shownSince, capacity);
        shownDue = Arrays.copyOf(shownDue, capacity);
        alertId = Arrays.copyOf(alertId, capacity);
        savedLast = Arrays.copyOf(savedLast, capacity);
    }

    private void reindex(int length) {
        index = new int[length];
        for (int slot = 0; slot < size; slot++) {
            put(slot);
        }
    }

    private void put(int slot) {
        int mask = index.length - 1;
        int i = names[slot].hashCode() & mask;
        while (index[i] != 0) {
            i = (i + 1) & mask;
        }
        index[i] = slot + 1;
    }

    // ------------------------------------------------------------------------ the entry --

    /**
     * The entry's groups ({@code data} null: none). Coding 2: a version byte, the shape whose
     * window end the entry follows (empty: none) and that end ({@link GroupAlert#NONE}: none), the
     * count, then per group its JSON, status (0 ok, 1 triggered), the times of its last evaluation,
     * its run's start and its alert's trigger (NONE as itself; the last evaluation's
     * {@link #FOLLOWS}: the end followed), the alert id (empty: none), what the topic showed (0
     * nothing, 1 ok, 2 pending, 3 triggered, 4 recovering) and that since and due. Coding 1 (written
     * before): no shape nor end, every time as itself.
     *
     * <p>A time coded "follows" reads as the newest window end of the shape the entry follows
     * ({@code endOf}; {@link GroupAlert#NONE} when the shape is not known: the end written), so
     * that the entry need not be written again at each window while nothing else of it changes
     * ({@link #unchanged}).
     */
    static GroupAlerts read(byte[] data, ToLongFunction<String> endOf) {
        if (data == null) {
            return new GroupAlerts();
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
        GroupAlerts out = new GroupAlerts(Math.max(4, n));
        for (int i = 0; i < n; i++) {
            int at = in.position();
            int slot = out.add(in.readUTF());
            out.keys[slot] = in.from(at);
            out.status[slot] = in.readByte() == 0 ? (byte) 0 : (byte) 1;
            long last = in.readLong();
            out.last[slot] = last == FOLLOWS ? followed : last;
            out.streak[slot] = in.readLong();
            out.triggerAt[slot] = in.readLong();
            String id = in.readUTF();
            out.alertId[slot] = id.isEmpty() ? null : id;
            out.shown[slot] = in.readByte();
            out.shownSince[slot] = in.readLong();
            out.shownDue[slot] = in.readLong();
        }
        out.saved(shape, followed);
        return out;
    }

    /**
     * The entry of these groups following the shape's window ending at {@code end} (shape null or
     * end {@link GroupAlert#NONE}: following none): a group last evaluated at that end is coded
     * "follows", so that the entry stays the same from window to window while its groups only
     * follow them ({@link #unchanged}).
     */
    byte[] write(String shape, long end) {
        // each group's key coded once (kept), then written into an array of the exact size
        String followed = shape == null || end == NONE ? "" : shape;
        int bytes = 1 + Bytes.utfLength(followed) + 8 + 4;
        for (int slot = 0; slot < size; slot++) {
            if (keys[slot] == null) {
                keys[slot] = Bytes.utf(names[slot]);
            }
            bytes += keys[slot].length + Bytes.utfLength(alertId[slot] == null ? "" : alertId[slot]) + FIXED;
        }
        Bytes.Writer out = new Bytes.Writer(bytes);
        out.writeByte(CODING);
        out.writeUTF(followed);
        out.writeLong(followed.isEmpty() ? NONE : end);
        out.writeInt(size);
        String s = followed.isEmpty() ? null : shape;
        for (int slot = 0; slot < size; slot++) {
            out.write(keys[slot]);
            out.writeByte(status[slot]);
            out.writeLong(coded(last[slot], s, end));
            out.writeLong(streak[slot]);
            out.writeLong(triggerAt[slot]);
            out.writeUTF(alertId[slot] == null ? "" : alertId[slot]);
            out.writeByte(shown[slot]);
            out.writeLong(shownSince[slot]);
            out.writeLong(shownDue[slot]);
        }
        saved(s, end);
        return out.toByteArray();
    }

    /**
     * Whether the entry as last read or written holds these groups for the shape's window ending
     * at {@code end}: none added, removed or changed but in its time, and each one's time coded the
     * same (a group evaluated in this window and in the one the entry followed: "follows" both).
     */
    boolean unchanged(String shape, long end) {
        if (changed) {
            return false;
        }
        for (int slot = 0; slot < size; slot++) {
            long coded = coded(last[slot], shape, end);
            if (coded != savedLast[slot] || (coded == FOLLOWS && !shape.equals(savedShape))) {
                return false;
            }
        }
        return true;
    }

    /** The shape an entry follows (null: none, or the coding before (1)). */
    static String followedShape(byte[] data) {
        if (data == null || data[0] != CODING) {
            return null;
        }
        Bytes.Reader in = new Bytes.Reader(data);
        in.readByte();
        String shape = in.readUTF();
        return shape.isEmpty() ? null : shape;
    }

    private void saved(String shape, long end) {
        for (int slot = 0; slot < size; slot++) {
            savedLast[slot] = coded(last[slot], shape, end);
        }
        savedShape = shape;
        changed = false;
    }

    private static long coded(long last, String shape, long end) {
        return shape != null && end != NONE && last == end ? FOLLOWS : last;
    }

    private static byte shownCode(String shown) {
        for (int i = 1; i < SHOWN.length; i++) {
            if (SHOWN[i].equals(shown)) {
                return (byte) i;
            }
        }
        return 0;
    }
}
