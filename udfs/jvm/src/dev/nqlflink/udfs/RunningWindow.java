package dev.nqlflink.udfs;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
 * <p>What is subtracted is what cannot be recomputed cheaply: the distinct values of each
 * group and aggregate and the population's devices, as counts of the slices holding each value;
 * each held slice keeps its values as arrays, so that it is subtracted without reading its bytes.
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
    /** The end of the window whose slices it holds (minus the evicted ones). */
    long end;
    /** Slice end -> the slice as held, in time order. */
    private final TreeMap<Long, Held> slices = new TreeMap<>();

    /**
     * A held slice: its groups' partials without their distinct sets (counted below), by group
     * index ({@link Group#index}; null: the group is not in the slice);
     * and what it added to the counts, subtracted when it goes: its groups, per group per
     * aggregate its distinct values, and its population's devices.
     */
    private static final class Held {
        final Partial[] parts;
        final Group[] members;
        final String[][][] values;
        final String[] population;

        Held(Partial[] parts, Group[] members, String[][][] values, String[] population) {
            this.parts = parts;
            this.members = members;
            this.values = values;
            this.population = population;
        }
    }
    /** Group -> in how many held slices it is, and per aggregate the distinct values' counts. */
    private final TreeMap<String, Group> groups = new TreeMap<>();
    /** The indices of the groups held ({@link Group#index}): one freed is used again. */
    private final BitSet indices = new BitSet();
    /** Device -> in how many held slices it is (shapes with a population). */
    private final StringSet population;

    private static final class Group {
        final String name;
        /** Its position in each held slice's partials ({@link Held#parts}), which a merge reads slice by slice. */
        final int index;
        int slices;
        final StringSet[] distinct;

        Group(WindowSpec spec, String name, int index) {
            this.name = name;
            this.index = index;
            distinct = new StringSet[spec.aggs.size()];
            for (int i = 0; i < distinct.length; i++) {
                if (spec.aggs.get(i).kind == WindowSpec.Kind.DISTINCT) {
                    distinct[i] = StringSet.counted();
                }
            }
        }
    }

    RunningWindow(WindowSpec spec, long end) {
        this.spec = spec;
        this.end = end;
        this.population = spec.population ? StringSet.counted() : null;
    }

    boolean isEmpty() {
        return slices.isEmpty();
    }

    /** The earliest held slice's end (Long.MAX_VALUE: none). */
    long first() {
        return slices.isEmpty() ? Long.MAX_VALUE : slices.firstKey();
    }

    /** Adds a slice (its distinct sets become counts here and its partials are compacted). */
    void add(long sliceEnd, ShapeState.Slice slice) {
        int n = slice.groups.size();
        Group[] members = new Group[n];
        String[][][] values = new String[n][][];
        int k = 0;
        int width = 0;
        for (Map.Entry<String, Partial> e : slice.groups.entrySet()) {
            Group g = groups.get(e.getKey());
            if (g == null) {
                int index = indices.nextClearBit(0);
                indices.set(index);
                g = new Group(spec, e.getKey(), index);
                groups.put(e.getKey(), g);
            }
            values[k] = new String[g.distinct.length][];
            for (int i = 0; i < g.distinct.length; i++) {
                if (g.distinct[i] != null) {
                    values[k][i] = e.getValue().sets.get(i).toArray();
                    g.distinct[i].count(values[k][i], 1);
                }
            }
            g.slices++;
            members[k] = g;
            width = Math.max(width, g.index + 1);
            k++;
        }
        Partial[] parts = new Partial[width];
        k = 0;
        for (Partial p : slice.groups.values()) {
            p.compact();
            parts[members[k++].index] = p;
        }
        String[] devices = null;
        if (population != null) {
            devices = slice.population.toArray();
            population.count(devices, 1);
        }
        slices.put(sliceEnd, new Held(parts, members, values, devices));
    }

    /** Removes a held slice: what it added is subtracted. */
    void remove(long sliceEnd) {
        Held held = slices.remove(sliceEnd);
        if (held == null) {
            return;
        }
        for (int k = 0; k < held.members.length; k++) {
            Group g = held.members[k];
            for (int i = 0; i < g.distinct.length; i++) {
                if (g.distinct[i] != null) {
                    g.distinct[i].count(held.values[k][i], -1);
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
     * slices in time order, its distinct sets and the population being views of the counts.
     */
    ShapeState.Slice merged() {
        ShapeState.Slice out = new ShapeState.Slice(spec, population);
        Held[] held = slices.values().toArray(new Held[0]);
        for (Map.Entry<String, Group> e : groups.entrySet()) {
            Group g = e.getValue();
            Partial p = new Partial(spec);
            for (int i = 0; i < g.distinct.length; i++) {
                if (g.distinct[i] != null) {
                    p.sets.set(i, g.distinct[i]);
                }
            }
            for (Held slice : held) {
                Partial part = g.index < slice.parts.length ? slice.parts[g.index] : null;
                if (part != null) {
                    p.mergeFrom(part);
                }
            }
            out.groups.put(e.getKey(), p);
        }
        return out;
    }

    /**
     * The running windows of one {@link TenantWindows} instance, by tenant and shape, the least
     * recently used tenants forgotten beyond {@link #LIMIT} windows in all (their next evaluation
     * merges from the state again): memory bounded whatever the number of tenants.
     */
    static final class Cache {
        /** The most windows kept, over all tenants. */
        static final int LIMIT = 10_000;
        /** The most strings kept per tenant ({@link #strings}). */
        static final int STRINGS = 1 << 16;
        private final Map<String, Map<String, String>> strings = new HashMap<>();
        private final LinkedHashMap<String, Map<String, RunningWindow>> tenants = new LinkedHashMap<>(16, 0.75f, true);
        private int size;

        RunningWindow get(String tenant, String shape) {
            Map<String, RunningWindow> shapes = tenants.get(tenant);
            return shapes == null ? null : shapes.get(shape);
        }

        void put(String tenant, String shape, RunningWindow w) {
            if (tenants.computeIfAbsent(tenant, t -> new HashMap<>()).put(shape, w) == null) {
                size++;
            }
            Iterator<Map.Entry<String, Map<String, RunningWindow>>> eldest = tenants.entrySet().iterator();
            while (size > LIMIT && tenants.size() > 1) {
                Map.Entry<String, Map<String, RunningWindow>> e = eldest.next();
                if (!e.getKey().equals(tenant)) {
                    size -= e.getValue().size();
                    strings.remove(e.getKey());
                    eldest.remove();
                }
            }
        }

        /**
         * The tenant's strings (devices, distinct values) as one instance each, for the records
         * its folds read ({@link ShapeState.Open#read(byte[], Map)}): a value read again is the
         * instance its running windows' counts and slices hold. Forgotten with the tenant, and
         * emptied beyond {@link #STRINGS} (it only saves comparisons).
         */
        Map<String, String> strings(String tenant) {
            Map<String, String> out = strings.computeIfAbsent(tenant, t -> new HashMap<>());
            if (out.size() > STRINGS) {
                out.clear();
            }
            return out;
        }

        void remove(String tenant, String shape) {
            Map<String, RunningWindow> shapes = tenants.get(tenant);
            if (shapes != null && shapes.remove(shape) != null) {
                size--;
            }
        }
    }
}
