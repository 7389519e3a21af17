package dev.nqlflink.udfs;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * One tenant's shape's last evaluated window, kept decoded between evaluations in the
 * {@link TenantWindows} instance (not in Flink state: it is rebuilt from the slices whenever
 * it is missing or does not match them), so that a window is the previous one plus its new
 * slices: each slice is decoded once when its first window is evaluated and subtracted once
 * when it is evicted, where merging every window from its slices decoded each slice once per
 * window holding it (size / slide times: 10 for 5 min every 30 s, 12 for 1 h every 5 min).
 *
 * <p>What is kept across evaluations is what cannot be recomputed cheaply: the distinct values
 * of each group and aggregate, as each value's newest held slice and how many values each held
 * slice is the newest of ({@link Seen}: evicting the oldest slice drops its count, no value is
 * subtracted), and the population's devices, as counts of the slices holding each (each held
 * slice keeps its devices, so that it is subtracted without reading its bytes).
 * Everything else (counts, sums, extremes, last values, percentile values) is folded from the
 * decoded slices in time order at each evaluation, the same operations in the same order as a
 * merge from the bytes, so results are bit for bit those of {@link ShapeState#window} without it.
 *
 * <p>Valid only while its slices cannot change: it holds slices ending at or before its
 * {@link #end}, which is the shape's newest evaluated window end; a record in such a slice is
 * late for the shape and never added to it ({@link ShapeState}).
 */
final class RunningWindow {
    final WindowSpec spec;
    /** What the ids it counts number: its slices' ({@link #add} takes no other's). */
    final Dictionary dict;
    /** The end of the window whose slices it holds (minus the evicted ones). */
    long end;
    /** Slice end -> the slice as held, in time order. */
    private final TreeMap<Long, Held> slices = new TreeMap<>();

    /**
     * A held slice: its groups' partials as the fold made them, without their distinct sets (seen
     * below: {@link Partial#hold}); where each held group is in them ({@code at}, by
     * {@link Group#index}; -1 or past its end: the group is not in the slice); its groups, in the
     * slice's order, with per aggregate how many distinct values each had ({@link #newest}); and
     * its population's devices, subtracted when it goes.
     */
    private static final class Held {
        final Partial parts;
        final int[] at;
        final Group[] members;
        final int[][] distinct;
        final int[] population;

        Held(Partial parts, int[] at, Group[] members, int[][] distinct, int[] population) {
            this.parts = parts;
            this.at = at;
            this.members = members;
            this.distinct = distinct;
            this.population = population;
        }
    }

    /**
     * One group's COUNT DISTINCT over the held slices: each value's newest held slice (by number,
     * end / slide) and, per held slice, how many values it is the newest of. A slice added later
     * than all held makes each of its values newest there; evicting the oldest slice leaves out
     * the values it was the newest of (they are in no other held slice): its count. Values left
     * out stay in the map until they outnumber the others (then dropped at once).
     */
    private static final class Seen {
        final IntSet newest = IntSet.counted();
        /** Per slice number modulo its length (more than the slices a window holds): its count. */
        final int[] values;
        /** The values in a held slice: the aggregate's result. */
        int live;

        Seen(int length) {
            values = new int[length];
        }

        /** A slice numbered {@code slice}, after every held one; {@code first}: the oldest held (or it). */
        void add(int slice, int first, IntSet in) {
            for (int j = 0; j < in.slots(); j++) {
                int v = in.at(j);
                if (v == IntSet.EMPTY) {
                    continue;
                }
                int old = newest.put(v, slice);
                if (old == IntSet.ABSENT || old < first) {
                    live++;
                } else {
                    values[Math.floorMod(old, values.length)]--;
                }
            }
            values[Math.floorMod(slice, values.length)] += in.size();
        }

        /** The oldest held slice, numbered {@code slice}, evicted; {@code first}: the oldest held after. */
        void removeOldest(int slice, int first) {
            int at = Math.floorMod(slice, values.length);
            live -= values[at];
            values[at] = 0;
            if (newest.size() > 2 * live + 64) {
                newest.removeBelow(first);
            }
        }
    }
    /** Group -> in how many held slices it is, and per aggregate the distinct values' counts. */
    private final TreeMap<String, Group> groups = new TreeMap<>();
    /** The indices of the groups held ({@link Group#index}): one freed is used again. */
    private final BitSet indices = new BitSet();
    /** Device -> in how many held slices it is (shapes with a population). */
    private final IntSet population;

    private static final class Group {
        final String name;
        /** Its position in each held slice's partials ({@link Held#parts}), which a merge reads slice by slice. */
        final int index;
        int slices;
        final Seen[] distinct;

        Group(WindowSpec spec, String name, int index) {
            this.name = name;
            this.index = index;
            distinct = new Seen[spec.aggs.size()];
            for (int i = 0; i < distinct.length; i++) {
                if (spec.aggs.get(i).kind == WindowSpec.Kind.DISTINCT) {
                    distinct[i] = new Seen((int) (spec.size / spec.slide) + 1);
                }
            }
        }
    }

    RunningWindow(WindowSpec spec, long end, Dictionary dict) {
        this.spec = spec;
        this.end = end;
        this.dict = dict;
        this.population = spec.population ? IntSet.counted() : null;
    }

    boolean isEmpty() {
        return slices.isEmpty();
    }

    /**
     * How many distinct values the group had in the newest held slice, per aggregate (null: not
     * there): what the group's sets in the next slice are sized for. Not to be changed.
     */
    int[] newest(String group) {
        Group g = groups.get(group);
        if (g == null || slices.isEmpty()) {
            return null;
        }
        Held held = slices.lastEntry().getValue();
        for (int k = 0; k < held.members.length; k++) {
            if (held.members[k] == g) {
                return held.distinct[k];
            }
        }
        return null;
    }

    /** How many values its counts hold: its groups' distinct values and its population's devices. */
    long values() {
        long n = population == null ? 0 : population.size();
        for (Group g : groups.values()) {
            for (Seen d : g.distinct) {
                n += d == null ? 0 : d.newest.size();
            }
        }
        return n;
    }

    /** The earliest held slice's end (Long.MAX_VALUE: none). */
    long first() {
        return slices.isEmpty() ? Long.MAX_VALUE : slices.firstKey();
    }

    /**
     * Adds a slice ending after every held one (its distinct sets become {@link Seen} here, the
     * rest of its partials is held as it is: {@link Partial#hold}). The slice is not used after.
     */
    void add(long sliceEnd, ShapeState.Slice slice) {
        if (!slices.isEmpty() && sliceEnd <= slices.lastKey()) {
            throw new IllegalStateException("a slice ending at " + sliceEnd + " added after " + slices.lastKey());
        }
        if (slice.dict != dict) {
            throw new IllegalStateException("a slice of another dictionary");
        }
        int number = number(sliceEnd);
        int first = slices.isEmpty() ? number : number(slices.firstKey());
        Partial parts = slice.parts;
        int n = slice.size();
        Group[] members = new Group[n];
        int[][] distinct = new int[n][];
        int width = 0;
        for (int k = 0; k < n; k++) {
            String name = slice.name(k);
            Group g = groups.get(name);
            if (g == null) {
                int index = indices.nextClearBit(0);
                indices.set(index);
                g = new Group(spec, name, index);
                groups.put(name, g);
            }
            distinct[k] = new int[g.distinct.length];
            for (int i = 0; i < g.distinct.length; i++) {
                if (g.distinct[i] != null) {
                    IntSet values = parts.set(k, i);
                    g.distinct[i].add(number, first, values);
                    distinct[k][i] = values.size();
                }
            }
            g.slices++;
            members[k] = g;
            width = Math.max(width, g.index + 1);
        }
        int[] at = new int[width];
        Arrays.fill(at, -1);
        for (int k = 0; k < n; k++) {
            at[members[k].index] = k;
        }
        int[] devices = null;
        if (population != null) {
            devices = slice.population.toArray();
            population.count(devices, 1);
        }
        parts.hold();
        slices.put(sliceEnd, new Held(parts, at, members, distinct, devices));
    }

    /** A slice's number: its end / slide (slice ends are multiples of the slide). */
    private int number(long sliceEnd) {
        return (int) (sliceEnd / spec.slide);
    }

    /**
     * Removes the oldest held slice (the only one a window leaves behind: {@link ShapeState#evict}),
     * if {@code sliceEnd} is held: what it added is subtracted.
     */
    void remove(long sliceEnd) {
        if (!slices.containsKey(sliceEnd)) {
            return;
        }
        if (sliceEnd != slices.firstKey()) {
            throw new IllegalStateException("slice " + sliceEnd + " removed before " + slices.firstKey());
        }
        Held held = slices.remove(sliceEnd);
        int after = slices.isEmpty() ? number(sliceEnd) + 1 : number(slices.firstKey());
        for (int k = 0; k < held.members.length; k++) {
            Group g = held.members[k];
            for (int i = 0; i < g.distinct.length; i++) {
                if (g.distinct[i] != null) {
                    g.distinct[i].removeOldest(number(sliceEnd), after);
                }
            }
            if (--g.slices == 0) {
                groups.remove(g.name);
                indices.clear(g.index);    // no held slice has it any more
            }
        }
        if (population != null) {
            population.count(held.population, -1);
        }
    }

    /**
     * The window as one slice: per group (in group order) its partial folded from the held
     * slices in time order, its distinct counts those seen, the population a view of the counts.
     */
    ShapeState.Slice merged() {
        ShapeState.Slice out = new ShapeState.Slice(spec, population, false, groups.size(), dict);
        Held[] held = slices.values().toArray(new Held[0]);
        for (Group g : groups.values()) {
            int to = out.append(g.name);
            for (int i = 0; i < g.distinct.length; i++) {
                if (g.distinct[i] != null) {
                    out.parts.distinct(to, i, g.distinct[i].live);
                }
            }
            for (Held slice : held) {
                int from = g.index < slice.at.length ? slice.at[g.index] : -1;
                if (from >= 0) {
                    out.parts.mergeFrom(slice.parts, from, to);
                }
            }
        }
        return out;
    }
}
