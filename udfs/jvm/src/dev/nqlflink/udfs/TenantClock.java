package dev.nqlflink.udfs;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One tenant's event-time clock inside a {@link TenantWindows} call, kept in Flink state, shared
 * by all the shapes of the call ({@link Shapes}).
 *
 * <p>Each record moves the clock of its Kafka partition for this tenant ({@code tw}: the tenant's
 * newest event time on that partition minus the allowed out-of-orderness) and the table's
 * progress ({@code sw}: the watermark when the record was read; ticks bring it too). Where no
 * temporal join reorders the records before the windows function, it computes both itself, in
 * arrival order ({@link #admit}); else the records bring them, computed before the join, and
 * clock rows bring the same ahead of the records the join holds back, each waiting here until it
 * is safe ({@link #later}). The tenant's clock is the minimum over its active partitions, like
 * Flink's watermark over splits but per tenant: a partition that brought this tenant nothing
 * while the table progressed by {@code idle} stops holding it back.
 * It never stays more than {@code lag} behind the table's progress: a tenant silent or further
 * behind is dragged along, so its last windows are evaluated and its older records are late.
 *
 * <p>The progress that counts is the smaller of the table's and this operator's watermark.
 * The table's alone would run ahead of rows still buffered upstream (the inventory's temporal
 * join holds rows until its watermark passes them, while ticks take another path): dragging on
 * it made a lagging tenant's records late that had been read before the tick. The operator's
 * watermark guarantees that every row read before it has arrived (while the rows' input is
 * active: right after an idle topic the ticks' input can wake up first, docs/guarantees.md
 * "A burst after an idle topic"); the operator's alone would
 * move with the inventory or config topics while the event table is idle, and drag every
 * tenant past windows whose records are still to come.
 */
final class TenantClock {
    /**
     * The encoding of {@link #write}: 3 = layout 2 and the clock rows waiting per partition;
     * 2 = no newest evaluated window (per shape now, elsewhere), waiting windows per shape (read
     * as 3 without clock rows waiting). Layout 1 (one monitor per call) is never restored into
     * this: the windows' uid names the layout (translator/flink/codegen.py {@code WINDOWS_STATE}).
     */
    private static final byte LAYOUT = 3;
    private static final byte LAYOUT_WITHOUT_CLOCK_ROWS = 2;
    /** Clock rows waiting per partition, at most: a further one replaces the newest (it waits longer). */
    private static final int MAX_WAITING = 8;
    /** partition -> {clock, progress when it last brought a row}. */
    final TreeMap<Integer, long[]> splits = new TreeMap<>();
    long progress = Long.MIN_VALUE;
    /**
     * window end -> the shapes whose window ending there had its timer come before the tenant's
     * clock reached it. (Each shape's newest evaluated window is in {@link TenantWindows}' own
     * state, read only for the shapes a record counts in.)
     */
    final TreeMap<Long, TreeSet<String>> pending = new TreeMap<>();
    /**
     * partition -> clock rows not applied yet, oldest first: {clock, the watermark its record was
     * read at}. A clock row comes ahead of the records read before it that the inventory join
     * still holds (udfs/jvm PartitionClock); it applies once this operator's watermark is past the
     * watermark its record was read at (every record read before it has then left the join) and
     * at its clock. Both grow from one row to the next of a partition.
     */
    final TreeMap<Integer, ArrayDeque<long[]>> waiting = new TreeMap<>();

    void observe(int split, long clock, Long sourceWatermark) {
        if (sourceWatermark != null) {
            progress = Math.max(progress, sourceWatermark);
        }
        long[] s = splits.get(split);
        if (s == null) {
            splits.put(split, new long[] {clock, progress});
        } else {
            s[0] = Math.max(s[0], clock);
            s[1] = progress;
        }
    }

    /**
     * A record read by a function that keeps the clocks itself (the spec's {@code late}: no
     * temporal join before it, so the records come in each partition's arrival order, as {@link
     * PartitionClock} sees them): moves its partition's clock and returns why it cannot be used,
     * or null. {@code late}: the lateness or more older than the tenant's newest record on the
     * partition; {@code lag_exceeded}: the lag bound or more behind the table's watermark when it
     * was read ({@code watermark}, as {@link PartitionClock} has it: the source's, not the windows
     * operator's, which the inventory and the ticks hold back).
     */
    String admit(int split, long ts, long lateness, long lag, Long watermark) {
        long[] s = splits.get(split);
        // s[0]: the partition's newest record time minus the lateness (or a clock row's time)
        long newest = s == null || s[0] == Long.MIN_VALUE ? ts : Math.max(s[0] + lateness, ts);
        String reason = null;
        if (ts <= newest - lateness) {
            reason = "late";
        } else if (watermark != null && watermark > Long.MIN_VALUE + lag && ts <= watermark - lag) {
            reason = "lag_exceeded";
        }
        observe(split, newest - lateness, watermark);
        return reason;
    }

    /** A clock row of this partition: applied by {@link #now} once its watermark has come. */
    void later(int split, long clock, long readAt) {
        ArrayDeque<long[]> rows = waiting.computeIfAbsent(split, k -> new ArrayDeque<>());
        if (rows.size() >= MAX_WAITING) {
            rows.pollLast();
        }
        rows.addLast(new long[] {clock, readAt});
    }

    /** The clock rows whose watermark has come join their partitions' clocks. */
    private void apply(Long watermark) {
        if (watermark == null || waiting.isEmpty()) {
            return;
        }
        Iterator<Map.Entry<Integer, ArrayDeque<long[]>>> splitsWaiting = waiting.entrySet().iterator();
        while (splitsWaiting.hasNext()) {
            Map.Entry<Integer, ArrayDeque<long[]>> e = splitsWaiting.next();
            ArrayDeque<long[]> rows = e.getValue();
            while (!rows.isEmpty() && applies(rows.peekFirst(), watermark)) {
                long[] row = rows.pollFirst();
                observe(e.getKey(), row[0], row[1] == Long.MIN_VALUE ? null : row[1]);
            }
            if (rows.isEmpty()) {
                splitsWaiting.remove();
            }
        }
    }

    private static boolean applies(long[] row, long watermark) {
        return watermark >= row[0] && (row[1] == Long.MIN_VALUE || watermark > row[1]);
    }

    /** The watermark at which the first waiting clock row applies, or null: none waits. */
    Long nextApplied() {
        Long at = null;
        for (ArrayDeque<long[]> rows : waiting.values()) {
            long[] row = rows.peekFirst();
            long t = row[1] == Long.MIN_VALUE ? row[0] : Math.max(row[0], row[1] + 1);
            at = at == null ? t : Math.min(at, t);
        }
        return at;
    }

    void tick(long tableTime) {
        progress = Math.max(progress, tableTime);
    }

    void addPending(String shape, long end) {
        pending.computeIfAbsent(end, e -> new TreeSet<>()).add(shape);
    }

    void removePending(String shape, long end) {
        TreeSet<String> shapes = pending.get(end);
        if (shapes != null && shapes.remove(shape) && shapes.isEmpty()) {
            pending.remove(end);
        }
    }

    /** Whether a window of this shape ending before {@code end} waits: evaluated first. */
    boolean waitsBefore(String shape, long end) {
        for (TreeSet<String> shapes : pending.headMap(end).values()) {
            if (shapes.contains(shape)) {
                return true;
            }
        }
        return false;
    }

    /** The earliest waiting window end of this shape, or null. */
    Long firstPending(String shape) {
        for (Map.Entry<Long, TreeSet<String>> e : pending.entrySet()) {
            if (e.getValue().contains(shape)) {
                return e.getKey();
            }
        }
        return null;
    }

    /** The progress that counts: the table's, but not beyond this operator's watermark. */
    long effectiveProgress(Long watermark) {
        if (watermark == null || progress == Long.MIN_VALUE) {
            return Long.MIN_VALUE;
        }
        return Math.min(progress, watermark);
    }

    /** The tenant's event time: what it has complete (Long.MIN_VALUE: nothing yet). */
    long now(long idle, long lag, Long watermark) {
        apply(watermark);
        long at = effectiveProgress(watermark);
        long min = Long.MAX_VALUE;
        for (Map.Entry<Integer, long[]> e : splits.entrySet()) {
            long[] s = e.getValue();
            if (at == Long.MIN_VALUE || s[1] == Long.MIN_VALUE || at - s[1] <= idle) {
                min = Math.min(min, s[0]);
            }
        }
        long dragged = at == Long.MIN_VALUE ? Long.MIN_VALUE : at - lag;
        if (min == Long.MAX_VALUE) {
            return dragged;
        }
        return Math.max(min, dragged);
    }

    /**
     * The watermark at which a window due at {@code due} becomes due even with no more rows of
     * this tenant: when it is dragged there, or when a partition it waits for goes idle.
     */
    long wakeUp(long due, long idle, long lag) {
        long at = due + lag;
        for (long[] s : splits.values()) {
            if (s[0] < due && s[1] != Long.MIN_VALUE) {
                at = Math.min(at, s[1] + idle + 1);
            }
        }
        return at;
    }

    /** Its coding ({@link #LAYOUT}, DataOutputStream's), written after every row to see whether it changed. */
    byte[] write() {
        Bytes.Writer out = new Bytes.Writer(1 + 8 + 4 + 20 * splits.size() + 4 + 24 * pending.size() + 4
                                            + 24 * waiting.size());
        out.writeByte(LAYOUT);
        out.writeLong(progress);
        out.writeInt(splits.size());
        for (Map.Entry<Integer, long[]> e : splits.entrySet()) {
            out.writeInt(e.getKey());
            out.writeLong(e.getValue()[0]);
            out.writeLong(e.getValue()[1]);
        }
        out.writeInt(pending.size());
        for (Map.Entry<Long, TreeSet<String>> e : pending.entrySet()) {
            out.writeLong(e.getKey());
            out.writeInt(e.getValue().size());
            for (String shape : e.getValue()) {
                out.writeUTF(shape);
            }
        }
        out.writeInt(waiting.size());
        for (Map.Entry<Integer, ArrayDeque<long[]>> e : waiting.entrySet()) {
            out.writeInt(e.getKey());
            out.writeInt(e.getValue().size());
            for (long[] row : e.getValue()) {
                out.writeLong(row[0]);
                out.writeLong(row[1]);
            }
        }
        return out.toByteArray();
    }

    static TenantClock read(byte[] data) {
        TenantClock c = new TenantClock();
        if (data == null) {
            return c;
        }
        Bytes.Reader in = new Bytes.Reader(data);
        int version = in.readByte();
        if (version != LAYOUT && version != LAYOUT_WITHOUT_CLOCK_ROWS) {
            throw new IllegalStateException("tenant clock state of layout " + version + ", expected " + LAYOUT);
        }
        c.progress = in.readLong();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            c.splits.put(in.readInt(), new long[] {in.readLong(), in.readLong()});
        }
        int k = in.readInt();
        for (int i = 0; i < k; i++) {
            long end = in.readLong();
            int m = in.readInt();
            for (int j = 0; j < m; j++) {
                c.addPending(in.readUTF(), end);
            }
        }
        if (version == LAYOUT) {
            int w = in.readInt();
            for (int i = 0; i < w; i++) {
                int split = in.readInt();
                int m = in.readInt();
                for (int j = 0; j < m; j++) {
                    c.later(split, in.readLong(), in.readLong());
                }
            }
        }
        return c;
    }
}
