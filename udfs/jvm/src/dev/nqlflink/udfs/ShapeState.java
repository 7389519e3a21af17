package dev.nqlflink.udfs;

import org.apache.flink.table.api.dataview.MapView;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The windows' state of one tenant in a {@link TenantWindows} call, every shape's in the same
 * maps, each key starting with its shape's id (ids hold neither ':' nor '|', {@link Shapes}):
 *
 * <ul>
 *   <li>{@code parts}: {@code shape|slice|group} -> the fixed-size part of the group's
 *       {@link Partial} in that slice (counts, sums, extremes, last values; a percentile's count),
 *       read and written back per record of the group;
 *   <li>{@code slices}: {@code shape|slice} -> the groups of that slice, one a line (empty: the
 *       slice holds population only);
 *   <li>{@code items}: {@link #itemKey} -> one entry per distinct value (COUNT DISTINCT), per
 *       percentile value (keyed by its rank of arrival in the slice and group, the value being the
 *       entry's) and per device of the population, written once when new;
 *   <li>{@code fired}: {@code shape} -> window_time (end - 1) of its newest evaluated window:
 *       the shape's records at or before it are late.
 * </ul>
 *
 * A record thus costs a lookup per distinct aggregate of the shapes it has a group in, whatever
 * the sizes of the sets (issue 15, docs/flink-job-shape.md §7), and nothing for the shapes whose
 * group is NULL (but the population's item of the shapes that count it). A window's sets are
 * gathered when it is evaluated, in one pass over the tenant's items for all the shapes
 * evaluated at that time ({@link #gatherItems}).
 */
final class ShapeState {
    /** The aggregate index of the population's items (the tenant's distinct devices). */
    static final int POPULATION = -1;

    final MapView<String, byte[]> parts;
    final MapView<String, String> slices;
    final MapView<String, Double> items;
    final MapView<String, Long> fired;

    ShapeState(MapView<String, byte[]> parts, MapView<String, String> slices, MapView<String, Double> items,
               MapView<String, Long> fired) {
        this.parts = parts;
        this.slices = slices;
        this.items = items;
        this.fired = fired;
    }

    /** window_time of the shape's newest evaluated window (Long.MIN_VALUE: none yet). */
    long fired(String shape) throws Exception {
        Long t = fired.get(shape);
        return t == null ? Long.MIN_VALUE : t;
    }

    /**
     * Adds one record to its slice of a shape: its group's partial and items if {@code group} is
     * not NULL, its device to the population if the shape counts it. Returns whether the slice
     * is new (its windows' timers are then due to be registered).
     */
    boolean add(Shapes.Shape shape, long ts, String group, String device, Double[] n, String[] s) throws Exception {
        WindowSpec spec = shape.spec;
        long slice = spec.sliceEnd(ts);
        String sliceKey = shape.id + "|" + slice;
        String groups = slices.get(sliceKey);
        String listed = groups == null ? "" : groups;
        if (group != null) {
            String key = sliceKey + "|" + group;
            byte[] old = parts.get(key);
            if (old == null) {
                listed = listed.isEmpty() ? group : listed + "\n" + group;
            }
            Partial p = Partial.readFixed(spec, old);
            for (int i = 0; i < spec.aggs.size(); i++) {
                WindowSpec.Agg a = spec.aggs.get(i);
                if (a.kind == WindowSpec.Kind.DISTINCT) {
                    String v = s != null && a.input < s.length ? s[a.input] : null;
                    if (v != null) {
                        putOnce(itemKey(shape.id, slice, i, group, v));
                    }
                } else if (a.kind == WindowSpec.Kind.PCT) {
                    Double v = n != null && a.input < n.length ? n[a.input] : null;
                    if (v != null) {
                        // the k-th value of this percentile in this slice and group (k: its count so far)
                        items.put(itemKey(shape.id, slice, i, group, Long.toString(p.count[i])), v);
                    }
                }
            }
            p.add(n, s, ts);
            parts.put(key, p.writeFixed());
        }
        if (spec.population && device != null) {
            putOnce(itemKey(shape.id, slice, POPULATION, "", device));
        }
        if (groups == null || !listed.equals(groups)) {
            slices.put(sliceKey, listed);
        }
        return groups == null;
    }

    private void putOnce(String item) throws Exception {
        if (!items.contains(item)) {
            items.put(item, 0.0);
        }
    }

    /**
     * The key of one value in {@code items}: {@code shape:slice:aggregate:length of group:group value}
     * (aggregate -1: the population, group empty). The group's length makes the key readable
     * back whatever characters the group and the value hold.
     */
    static String itemKey(String shape, long slice, int agg, String group, String value) {
        return shape + ":" + slice + ":" + agg + ":" + group.length() + ":" + group + value;
    }

    /** One window of one shape being evaluated: its groups' partials, then their sets. */
    static final class Window {
        final Shapes.Shape shape;
        final long start;
        final long end;
        /** Slices no later window of the shape needs: those ending at or before it. */
        final long evict;
        final TreeMap<String, Partial> groups = new TreeMap<>();
        final Set<String> population;

        Window(Shapes.Shape shape, long end) {
            this.shape = shape;
            this.start = end - shape.spec.size;
            this.end = end;
            this.evict = end + shape.spec.slide - shape.spec.size;
            this.population = shape.spec.population ? new HashSet<>() : null;
        }
    }

    /**
     * The window of a shape ending at {@code end}, its partials merged across its slices (their
     * sets still empty: {@link #gatherItems}), or null if none of its slices holds anything.
     */
    Window window(Shapes.Shape shape, long end) throws Exception {
        Window w = new Window(shape, end);
        boolean any = false;
        for (long slice = w.start + shape.spec.slide; slice <= end; slice += shape.spec.slide) {
            String sliceKey = shape.id + "|" + slice;
            String listed = slices.get(sliceKey);
            if (listed == null) {
                continue;
            }
            any = true;
            if (!listed.isEmpty()) {
                for (String group : listed.split("\n", -1)) {
                    Partial p = Partial.readFixed(shape.spec, parts.get(sliceKey + "|" + group));
                    w.groups.computeIfAbsent(group, g -> new Partial(shape.spec)).merge(p);
                }
            }
        }
        return any ? w : null;
    }

    /**
     * The distinct values, percentile values and devices of the windows (shape id -> window), in
     * one pass over the tenant's items; the items of the slices they evict are dropped in the
     * same pass. Values are merged across slices as sets: one seen in several slices counts once.
     */
    void gatherItems(Map<String, Window> windows) throws Exception {
        List<String> dropped = new ArrayList<>();
        for (Map.Entry<String, Double> e : items.entries()) {
            String key = e.getKey();
            int a = key.indexOf(':');
            Window w = windows.get(key.substring(0, a));
            if (w == null) {
                continue;
            }
            int b = key.indexOf(':', a + 1);
            long slice = Long.parseLong(key.substring(a + 1, b));
            if (slice <= w.evict) {
                dropped.add(key);
            }
            if (slice <= w.start || slice > w.end) {
                continue;
            }
            int c = key.indexOf(':', b + 1);
            int agg = Integer.parseInt(key.substring(b + 1, c));
            int d = key.indexOf(':', c + 1);
            int value = d + 1 + Integer.parseInt(key.substring(c + 1, d));
            if (agg == POPULATION) {
                if (w.population != null) {
                    w.population.add(key.substring(value));
                }
                continue;
            }
            Partial p = w.groups.get(key.substring(d + 1, value));
            if (p == null) {
                continue;
            }
            if (w.shape.spec.aggs.get(agg).kind == WindowSpec.Kind.DISTINCT) {
                p.sets.get(agg).add(key.substring(value));
            } else {
                p.values.get(agg).add(e.getValue());
            }
        }
        for (String key : dropped) {
            items.remove(key);
        }
    }

    /** Removes the slices (and their partials) the windows evict, once no window needs them. */
    void evict(Map<String, Window> windows) throws Exception {
        List<String> done = new ArrayList<>();
        for (String key : slices.keys()) {
            int bar = key.indexOf('|');
            Window w = windows.get(key.substring(0, bar));
            if (w != null && Long.parseLong(key.substring(bar + 1)) <= w.evict) {
                done.add(key);
            }
        }
        for (String key : done) {
            removeSlice(key);
        }
    }

    private void removeSlice(String sliceKey) throws Exception {
        String listed = slices.get(sliceKey);
        if (listed != null && !listed.isEmpty()) {
            for (String group : listed.split("\n", -1)) {
                parts.remove(sliceKey + "|" + group);
            }
        }
        slices.remove(sliceKey);
    }

    /**
     * Drops every entry of these shapes (gone from the spec, or changed under the same id): a
     * shape added back later starts empty. One pass over each map: once per tenant and spec change.
     */
    void drop(Set<String> shapes) throws Exception {
        removeKeys(slices, shapes, '|');
        removeKeys(parts, shapes, '|');
        removeKeys(items, shapes, ':');
        for (String shape : shapes) {
            fired.remove(shape);
        }
    }

    private static void removeKeys(MapView<String, ?> map, Set<String> shapes, char separator) throws Exception {
        List<String> keys = new ArrayList<>();
        for (String key : map.keys()) {
            if (shapes.contains(key.substring(0, key.indexOf(separator)))) {
                keys.add(key);
            }
        }
        for (String key : keys) {
            map.remove(key);
        }
    }
}
