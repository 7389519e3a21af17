package dev.nqlflink.udfs;

import org.apache.flink.table.api.dataview.ListView;
import org.apache.flink.table.api.dataview.MapView;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The windows' state of one tenant in a {@link TenantWindows} call, for all its shapes.
 *
 * <p>A record is written once, whatever the number of shapes it counts in: appended to
 * {@code open}, the tenant's records not yet folded, with what it is for each shape (its group,
 * the population only, or nothing: {@link Open}). When a window is due (the tenant's clock has
 * passed its end), the open records are folded in one pass, in event-time order (ties by their
 * bytes: the same order whatever order they arrived in, so a slice's float sums are the same
 * bits on every replay and on any interleaving of partitions), into one entry per
 * shape and complete slice ({@code slices}: {@code shape|slice} -> every group's whole
 * {@link Partial}, its distinct values and percentile values included, {@link Slice}; a
 * population window's slices hold its devices, {@link Shapes#populations}); a record leaves {@code open} once every slice holding it is
 * complete. A record that comes after its slice was folded (later than the lateness, but not
 * late for a shape whose window holding it is still to come) is added at the next fold, after the
 * folded ones. So a record costs
 * one append and a share of a fold per window end, not a state access per shape, value and slice
 * (issue 15, docs/flink-job-shape.md §7).
 *
 * <ul>
 *   <li>{@code open}: the records not folded yet ({@link Open#write});
 *   <li>{@code slices}: {@code shape|slice} -> {@link Slice#write} (ids hold neither ':' nor '|',
 *       {@link Shapes});
 *   <li>{@code buckets}: the starts of the tenant's time buckets (the GCD of the shapes' slides)
 *       that have had a record: the first record of a bucket registers the timers of the windows
 *       holding it, for every shape;
 *   <li>{@code fired}: {@code shape} -> window_time (end - 1) of its newest evaluated window: the
 *       shape's records at or before it are late; for a population window also
 *       {@code pop-...|n} -> its device count at that window ({@link #population}).
 * </ul>
 */
final class ShapeState {
    final ListView<byte[]> open;
    final MapView<String, byte[]> slices;
    final MapView<Long, Boolean> buckets;
    final MapView<String, Long> fired;
    /** What the instance keeps of the tenant (not state): its shapes' last evaluated windows, decoded, and strings. */
    final Tenants.Tenant kept;
    /**
     * The slices the last {@link #fold} of this call wrote, decoded: the windows evaluated right
     * after it take them from here instead of reading their bytes back (not state; one call's).
     */
    private final Map<String, Slice> fresh = new HashMap<>();

    ShapeState(ListView<byte[]> open, MapView<String, byte[]> slices, MapView<Long, Boolean> buckets,
               MapView<String, Long> fired, Tenants.Tenant kept) {
        this.open = open;
        this.slices = slices;
        this.buckets = buckets;
        this.fired = fired;
        this.kept = kept;
    }

    /** window_time of the shape's newest evaluated window (Long.MIN_VALUE: none yet). */
    long fired(String shape) throws Exception {
        Long t = fired.get(shape);
        return t == null ? Long.MIN_VALUE : t;
    }

    /** The end of the shape's newest evaluated window (Long.MIN_VALUE: none yet). */
    long evaluatedEnd(String shape) throws Exception {
        long t = fired(shape);
        return t == Long.MIN_VALUE ? Long.MIN_VALUE : t + 1;
    }

    static String sliceKey(String shape, long slice) {
        return shape + "|" + slice;
    }

    // ---------------------------------------------------------------------- open records --

    /** What a record is for each shape, by shape index: its group, the population only, or nothing. */
    static final int NOTHING = -1;
    static final int POPULATION_ONLY = -2;
    /**
     * Waiting for the device's inventory version ({@link InventoryWindows}): PENDING, the group is
     * the version's; PENDING - 1 - i, the group is the record's own distinct value i if the
     * version passes the shape's inventory filter. Resolved at the record's first fold.
     */
    static final int PENDING = -3;

    /** Resolves a record's {@link #PENDING} shapes (its {@code member} and {@code groups}), once. */
    interface Resolver {
        void resolve(Open r) throws Exception;
    }

    /**
     * One record as kept in {@code open}: its time, the earliest end of a slice holding it that is
     * not folded yet ({@code next}: the slices of its shapes ending before are folded), device
     * and inputs, and per shape index either an index into its distinct group values,
     * {@link #POPULATION_ONLY} or {@link #NOTHING} (no group and no population, or late for the
     * shape when it came), or {@link #PENDING}; {@code pending}: the record waits for its
     * device's inventory version. Time and {@code next} lead the bytes, so a fold reads only them
     * of a record with nothing due.
     */
    static final class Open {
        final long ts;
        final long next;
        final String device;
        final Double[] n;
        final String[] s;
        final int[] member;
        final List<String> groups;
        /**
         * As read by a fold ({@link #read}): the ids of {@code device} (-1: none) and of the string
         * inputs (-1 for NULL) in the tenant's {@link Dictionary}; otherwise -1 and null.
         */
        int deviceId = -1;
        int[] ids;
        boolean pending;
        /** While folded: whether it was resolved there, and the next slice end it waits for then. */
        boolean resolved;
        long later = Long.MAX_VALUE;

        Open(long ts, long next, String device, Double[] n, String[] s, int[] member, List<String> groups) {
            this(ts, next, device, n, s, member, groups, false);
        }

        Open(long ts, long next, String device, Double[] n, String[] s, int[] member, List<String> groups,
             boolean pending) {
            this.ts = ts;
            this.next = next;
            this.device = device;
            this.n = n;
            this.s = s;
            this.member = member;
            this.groups = groups;
            this.pending = pending;
        }

        String group(int shape) {
            int m = shape < member.length ? member[shape] : NOTHING;
            return m >= 0 ? groups.get(m) : null;
        }

        boolean counts(int shape) {
            return shape < member.length && member[shape] != NOTHING;
        }

        byte[] write() {
            // sized for what it holds (ids and groups of ASCII): not grown and copied on the way
            int size = 64 + 2 * member.length + 9 * (n == null ? 0 : n.length) + (device == null ? 0 : device.length());
            if (s != null) {
                for (String v : s) {
                    size += 3 + (v == null ? 0 : v.length());
                }
            }
            for (String g : groups) {
                size += 2 + g.length();
            }
            Bytes.Writer out = new Bytes.Writer(size);
            out.writeLong(ts);
            out.writeLong(next);
            writeNullable(out, device);
            out.writeInt(n == null ? -1 : n.length);
            if (n != null) {
                for (Double d : n) {
                    out.writeBoolean(d != null);
                    if (d != null) {
                        out.writeDouble(d);
                    }
                }
            }
            out.writeInt(s == null ? -1 : s.length);
            if (s != null) {
                for (String v : s) {
                    writeNullable(out, v);
                }
            }
            out.writeInt(groups.size());
            for (String g : groups) {
                out.writeUTF(g);
            }
            out.writeInt(member.length);
            for (int m : member) {
                out.writeShort(m);
            }
            out.writeBoolean(pending);
            return out.toByteArray();
        }

        /**
         * A record from {@link #write}, its device, string inputs and groups taken from (or put
         * in) the tenant's {@code dict}: one String per value, so that a slice's groups are found
         * by identity, and the ids its distinct sets hold ({@link IntSet}).
         */
        static Open read(byte[] data, Dictionary dict) {
            Bytes.Reader in = new Bytes.Reader(data);
            long ts = in.readLong();
            long next = in.readLong();
            String device = readNullable(in);
            int deviceId = device == null ? -1 : dict.id(device);
            device = device == null ? null : dict.string(deviceId);
            int nn = in.readInt();
            Double[] n = nn < 0 ? null : new Double[nn];
            for (int i = 0; i < nn; i++) {
                n[i] = in.readBoolean() ? in.readDouble() : null;
            }
            int ns = in.readInt();
            String[] s = ns < 0 ? null : new String[ns];
            int[] ids = ns < 0 ? null : new int[ns];
            for (int i = 0; i < ns; i++) {
                String v = readNullable(in);
                ids[i] = v == null ? -1 : dict.id(v);
                s[i] = v == null ? null : dict.string(ids[i]);
            }
            int ng = in.readInt();
            List<String> groups = new ArrayList<>(ng);
            for (int i = 0; i < ng; i++) {
                groups.add(dict.string(dict.id(in.readUTF())));
            }
            int[] member = new int[in.readInt()];
            for (int i = 0; i < member.length; i++) {
                member[i] = in.readShort();
            }
            // (a record written before the pending flag, by TenantWindows' state=4, has none)
            Open r = new Open(ts, next, device, n, s, member, groups, in.available() > 0 && in.readBoolean());
            r.deviceId = deviceId;
            r.ids = ids;
            return r;
        }

        /** This record under another spec: shape i of the old one is shape at[i] of the new one (-1: gone). */
        Open remap(int[] at, int shapes) {
            int[] m = new int[shapes];
            Arrays.fill(m, NOTHING);
            for (int i = 0; i < member.length && i < at.length; i++) {
                if (at[i] >= 0) {
                    m[at[i]] = member[i];
                }
            }
            return new Open(ts, next, device, n, s, m, groups, pending);
        }
    }

    private static void writeNullable(Bytes.Writer out, String v) {
        out.writeBoolean(v != null);
        if (v != null) {
            out.writeUTF(v);
        }
    }

    private static String readNullable(Bytes.Reader in) {
        return in.readBoolean() ? in.readUTF() : null;
    }

    // ---------------------------------------------------------------------------- slices --

    /**
     * One shape's slice (or, merged by its {@link RunningWindow}, window): every group's whole
     * partial, in one {@link Partial} by the group's index here (the order the groups came in;
     * their names by {@link #name}), and the devices of its population.
     */
    static final class Slice {
        final WindowSpec spec;
        final Partial parts;
        /** Group name -> its index in {@link #parts}, once a lookup finds more than {@link #SCANNED} groups (else scanned). */
        private StringInts index;
        private String[] names;
        /** Ids of {@link #dict}. */
        final IntSet population;
        /** What the ids in its sets number. */
        final Dictionary dict;
        /** The shape's running window, if any: its newest slice sizes this one's sets (not state). */
        RunningWindow previous;

        /** Up to this many groups, a group is found by scanning the names (most slices of a tenant have a few). */
        private static final int SCANNED = 8;

        Slice(WindowSpec spec, Dictionary dict) {
            this(spec, spec.population ? new IntSet() : null, true, SCANNED, dict);
        }

        /**
         * An empty slice with room for {@code width} groups; {@code withSets}: its groups' COUNT
         * DISTINCT keep their values (a window merged by a {@link RunningWindow} has their counts
         * instead: {@link Partial#distinct}).
         */
        Slice(WindowSpec spec, IntSet population, boolean withSets, int width, Dictionary dict) {
            this.spec = spec;
            this.population = population;
            this.dict = dict;
            this.parts = new Partial(spec, width, withSets, dict);
            this.names = new String[Math.max(1, width)];
        }

        /** How many groups it has. */
        int size() {
            return parts.groups();
        }

        /** The name of group g. */
        String name(int g) {
            return names[g];
        }

        /** The index of the group named {@code name}, added (empty) if it is not there. */
        int group(String name) {
            int g = find(name);
            return g >= 0 ? g : append(name);
        }

        /** The index of the group named {@code name}, or -1. */
        private int find(String name) {
            int k = size();
            if (index == null && k > SCANNED) {
                // built where groups are looked up only (a fold's slice; a merged window appends)
                index = new StringInts();
                for (int g = 0; g < k; g++) {
                    index.put(names[g], g);
                }
            }
            if (index != null) {
                int g = index.get(name);
                return g == StringInts.ABSENT ? -1 : g;
            }
            for (int g = 0; g < k; g++) {
                if (names[g] == name) {   // mostly: a record's groups are its dictionary's instances (Open#read)
                    return g;
                }
            }
            for (int g = 0; g < k; g++) {
                if (names[g].equals(name)) {
                    return g;
                }
            }
            return -1;
        }

        /** A new empty group named {@code name} (not there yet); its index. */
        int append(String name) {
            int g = parts.group(previous == null || parts.sets == null ? null : previous.newest(name));
            if (g == names.length) {
                names = Arrays.copyOf(names, 2 * g);
            }
            names[g] = name;
            if (index != null) {
                index.put(name, g);
            }
            return g;
        }

        /** One record: its group's partial if {@code group} is not NULL, its device to the population. */
        void add(String group, String device, Double[] n, String[] s, long ts) {
            add(group, device == null ? -1 : dict.id(device), n, s, null, ts);
        }

        /** One record as a fold reads it ({@link Open#read}): its device's and inputs' ids in {@link #dict}. */
        void add(String group, int device, Double[] n, String[] s, int[] ids, long ts) {
            if (group != null) {
                parts.add(group(group), n, s, ids, ts);
            }
            if (population != null && device >= 0) {
                population.add(device);
            }
        }

        /** The group indices in the order of their names. */
        int[] sorted() {
            return NameOrder.of(names, size());
        }

        /** Its bytes: the groups in the order of their names, each with its partial's length. */
        byte[] write() {
            Bytes.Writer out = new Bytes.Writer(sizeHint());
            out.writeInt(size());
            for (int g : sorted()) {
                out.writeUTF(names[g]);
                int at = out.position();
                out.writeInt(0);   // the partial's length, once written
                parts.write(g, out);
                out.putInt(at, out.position() - at - 4);
            }
            if (population == null) {
                out.writeInt(-1);
            } else {
                dict.write(population, out);
            }
            return out.toByteArray();
        }

        /** About the bytes {@link #write} takes (ids of ~16 characters): a buffer grown rarely, not from 256. */
        private int sizeHint() {
            int n = 64 + (population == null ? 0 : 18 * population.size());
            for (int g = 0; g < size(); g++) {
                n += 6 + names[g].length() + parts.sizeHint(g);
            }
            return n;
        }

        static Slice read(WindowSpec spec, byte[] data, Dictionary dict) {
            Slice slice = new Slice(spec, dict);
            if (data != null) {
                slice.mergeWritten(data);
            }
            return slice;
        }

        /**
         * Folds a later slice, as {@link #write} wrote it, into this one: each group's partial
         * merged from the bytes directly ({@link Partial#mergeWritten}), no copy built.
         */
        void mergeWritten(byte[] data) {
            Bytes.Reader in = new Bytes.Reader(data);
            int k = in.readInt();
            for (int i = 0; i < k; i++) {
                String group = in.readUTF();
                in.readInt();   // the partial's length
                parts.mergeWritten(group(group), in);
            }
            dict.read(in, in.readInt(), population);
        }
    }

    /**
     * The order records are folded in: event time, then the rest of their bytes after time and
     * {@code next} (device, inputs, groups: two records tied on all of it add the same values).
     * Floating-point sums depend on the order of their terms; arrival order within the lateness
     * must not change an alert's bytes (spec/monitors.md), so it is not the order used.
     */
    static final java.util.Comparator<byte[]> FOLD_ORDER = (a, b) -> {
        int byTime = Long.compare(Bytes.longAt(a, 0), Bytes.longAt(b, 0));
        return byTime != 0 ? byTime : Arrays.compareUnsigned(a, 16, a.length, b, 16, b.length);
    };

    /** How many records a fold takes through all shapes at a time ({@link #fold}). */
    private static final int BLOCK = 256;

    /**
     * Folds each open record into the slice entries of the shapes whose slice holding it ends at
     * or before {@code end} (complete: the tenant's clock has passed it), in {@link #FOLD_ORDER},
     * each added to its slice as it would have been alone; a record stays open while a shape's slice
     * holding it (a longer slide) is still to come. Returns the earliest slice end the records
     * left open wait for (Long.MAX_VALUE: none).
     */
    long fold(Shapes spec, long end, Resolver resolver) throws Exception {
        Iterable<byte[]> all = open.get();
        long due = Long.MAX_VALUE;
        if (all == null) {
            return due;
        }
        List<byte[]> ordered = new ArrayList<>();
        List<byte[]> keep = new ArrayList<>();
        for (byte[] data : all) {
            long waits = Bytes.longAt(data, 8);   // Open.next
            if (waits > end) {
                keep.add(data);
                due = Math.min(due, waits);
            } else {
                ordered.add(data);
            }
        }
        // the records with something due only; mostly in order already (the inventory join
        // emits by time): TimSort's best case
        ordered.sort(FOLD_ORDER);
        if (ordered.isEmpty()) {
            return due;
        }
        Map<String, Slice> folded = new LinkedHashMap<>();
        // the slice each shape's last record went to: records come in time order, so mostly the same
        Slice[] last = new Slice[spec.all.size()];
        long[] lastEnd = new long[last.length];
        Open[] block = new Open[Math.min(BLOCK, ordered.size())];
        Dictionary dict = kept.trimmedDictionary();
        for (int from = 0; from < ordered.size(); from += BLOCK) {
            int size = Math.min(BLOCK, ordered.size() - from);
            for (int k = 0; k < size; k++) {
                Open r = Open.read(ordered.get(from + k), dict);
                if (r.pending) {
                    resolver.resolve(r);
                    r.resolved = true;
                }
                block[k] = r;
            }
            // a block of records shape by shape: each shape's sets stay in the cache for the block,
            // and the block's records too for all shapes (record by record, every record went to
            // 100 shapes' sets in turn: memory-bound). A partial still takes its records in order.
            for (Shapes.Shape shape : spec.all) {
                int i = shape.index;
                for (int k = 0; k < size; k++) {
                    Open r = block[k];
                    if (!r.counts(i)) {
                        continue;
                    }
                    long sliceEnd = shape.spec.sliceEnd(r.ts);
                    if (sliceEnd < r.next) {
                        continue;   // folded at an earlier end
                    }
                    if (sliceEnd > end) {
                        r.later = Math.min(r.later, sliceEnd);
                        continue;
                    }
                    Slice slice = last[i];
                    if (slice == null || lastEnd[i] != sliceEnd) {
                        String key = sliceKey(shape.id, sliceEnd);
                        slice = folded.get(key);
                        if (slice == null) {
                            slice = Slice.read(shape.spec, slices.get(key), dict);
                            slice.previous = kept.window(shape.id);
                            folded.put(key, slice);
                        }
                        last[i] = slice;
                        lastEnd[i] = sliceEnd;
                    }
                    slice.add(r.group(i), r.deviceId, r.n, r.s, r.ids, r.ts);
                }
            }
            for (int k = 0; k < size; k++) {
                Open r = block[k];
                if (r.later != Long.MAX_VALUE) {
                    byte[] later = r.resolved ? r.write() : ordered.get(from + k).clone();
                    Bytes.putLong(later, 8, r.later);
                    keep.add(later);
                    due = Math.min(due, r.later);
                }
            }
        }
        for (Map.Entry<String, Slice> e : folded.entrySet()) {
            slices.put(e.getKey(), e.getValue().write());
            fresh.put(e.getKey(), e.getValue());
        }
        open.clear();
        if (!keep.isEmpty()) {
            open.addAll(keep);
        }
        return due;
    }

    // --------------------------------------------------------------------------- windows --

    /** One window of one shape being evaluated: its groups' partials and its population. */
    static final class Window {
        final Shapes.Shape shape;
        final long start;
        final long end;
        final Slice merged;

        Window(Shapes.Shape shape, long end, Slice merged) {
            this.shape = shape;
            this.start = end - shape.spec.size;
            this.end = end;
            this.merged = merged;
        }
    }

    /**
     * The window of a shape ending at {@code end}, or null if none of its slices holds anything
     * (the open records before {@code end} folded first): the shape's previous window
     * ({@link RunningWindow}) with the slices since added, or, when there is none that matches
     * the state (after a restore, an upgrade, a skipped window), built from all its slices.
     */
    Window window(Shapes.Shape shape, long end) throws Exception {
        WindowSpec spec = shape.spec;
        RunningWindow r = kept.window(shape.id);
        Dictionary dict = kept.dictionary();
        if (r == null || r.spec != spec || r.dict != dict || r.end != fired(shape.id) + 1 || r.end >= end
                || r.first() <= end - spec.size) {
            r = new RunningWindow(spec, end - spec.size, dict);
            kept.keepWindow(shape.id, r);
        }
        for (long slice = Math.max(r.end, end - spec.size) + spec.slide; slice <= end; slice += spec.slide) {
            String key = sliceKey(shape.id, slice);
            Slice folded = fresh.remove(key);
            if (folded != null && folded.dict == dict) {
                r.add(slice, folded);
                continue;
            }
            byte[] stored = slices.get(key);
            if (stored != null) {
                r.add(slice, Slice.read(spec, stored, dict));
            }
        }
        r.end = end;
        if (r.isEmpty()) {
            kept.dropWindow(shape.id);
            return null;
        }
        return new Window(shape, end, r.merged());
    }

    /** Key in {@code fired} of a population window's device count at its newest evaluated end. */
    private static String countKey(String population) {
        return population + "|n";
    }

    /**
     * The number of devices in the population window's window ending at {@code end}, for a shape
     * of that window evaluating its own: evaluated once per end, at the first shape asking (its
     * first slice then evicted, its count kept for the others at the same end). A shape asking for
     * an end older than that (it cannot be, unless it was added to the spec in between) gets the
     * count of what the window still holds.
     */
    long population(Shapes.Shape population, long end) throws Exception {
        long fired = fired(population.id);
        if (end - 1 == fired) {
            Long n = this.fired.get(countKey(population.id));
            if (n != null) {
                return n;
            }
        }
        Window w = window(population, end);
        long n = w == null ? 0 : w.merged.population.size();
        if (end - 1 > fired) {
            this.fired.put(population.id, end - 1);
            this.fired.put(countKey(population.id), n);
            if (w != null) {
                evict(w);
            }
        }
        return n;
    }

    /**
     * The population window's window ending at {@code end} passed without its count (no row
     * carries it): what {@link #population} would leave in the state but the count, which is
     * dropped (a shape asking at this end after all computes it from what the window still
     * holds, as one added since does), and its running window, rebuilt from the slices when a
     * count is next asked for. Its first slice goes: no later window holds it.
     */
    void passPopulation(Shapes.Shape population, long end) throws Exception {
        if (end - 1 <= fired(population.id)) {
            return;
        }
        fired.put(population.id, end - 1);
        fired.remove(countKey(population.id));
        kept.dropWindow(population.id);
        removeSlice(population.id, end - population.spec.size + population.spec.slide);
    }

    /** Removes the slice no later window of the window's shape needs: its first. */
    void evict(Window w) throws Exception {
        long first = w.start + w.shape.spec.slide;
        RunningWindow r = kept.window(w.shape.id);
        if (r != null) {
            r.remove(first);
        }
        removeSlice(w.shape.id, first);
    }

    /** A slice's entry removed, and its decoded copy of this call. */
    private void removeSlice(String shape, long sliceEnd) throws Exception {
        String key = sliceKey(shape, sliceEnd);
        fresh.remove(key);
        slices.remove(key);
    }

    /** Whether the tenant has had a record in the bucket (its windows' timers are set). */
    boolean hasBucket(long bucket) throws Exception {
        return buckets.contains(bucket);
    }

    /** The bucket's first record: noted (its windows' timers are being set). */
    void addBucket(long bucket) throws Exception {
        buckets.put(bucket, Boolean.TRUE);
        kept.bucketAdded(bucket);
    }

    /**
     * Forgets the buckets at or before {@code before}: their timers are past. Buckets are
     * consecutive numbers and a window forgets about one: those from the lowest one kept
     * ({@link Tenants.Tenant#oldestBucket}, a bound kept between calls) to {@code before}
     * are removed by number; the map is read only when that bound is unknown (after a restore, or
     * once the tenant's windows are forgotten) or far behind.
     */
    void forgetBuckets(long before) throws Exception {
        long oldest = kept.oldestBucket();
        if (oldest > before) {
            return;
        }
        if (oldest != Long.MIN_VALUE && before - oldest < BY_NUMBER) {
            for (long b = oldest; b <= before; b++) {
                buckets.remove(b);
            }
        } else {
            List<Long> old = new ArrayList<>();
            for (Long b : buckets.keys()) {
                if (b <= before) {
                    old.add(b);
                }
            }
            for (Long b : old) {
                buckets.remove(b);
            }
        }
        kept.oldestBucket(before + 1);
    }

    /** At most this many buckets are removed by number ({@link #forgetBuckets}); more: by reading them. */
    private static final int BY_NUMBER = 64;

    /**
     * Drops every entry of these shapes (gone from the spec, or changed under the same id), and
     * renumbers the open records' shapes from the old spec's order ({@code oldIds}) to the new
     * one's: a shape added back later starts empty. Once per tenant and spec change.
     */
    void drop(Set<String> shapes, List<String> oldIds, Shapes spec) throws Exception {
        List<String> keys = new ArrayList<>();
        for (String key : slices.keys()) {
            if (shapes.contains(key.substring(0, key.indexOf('|')))) {
                keys.add(key);
            }
        }
        for (String key : keys) {
            slices.remove(key);
        }
        for (String shape : shapes) {
            fired.remove(shape);
            fired.remove(countKey(shape));
            kept.dropWindow(shape);
        }
        int[] at = new int[oldIds.size()];
        Map<String, Integer> index = new HashMap<>();
        for (Shapes.Shape s : spec.all) {
            index.put(s.id, s.index);
        }
        boolean same = oldIds.size() == spec.all.size();
        for (int i = 0; i < at.length; i++) {
            String id = oldIds.get(i);
            Integer j = shapes.contains(id) ? null : index.get(id);
            at[i] = j == null ? -1 : j;
            same &= at[i] == i;
        }
        Iterable<byte[]> all = open.get();
        if (same || all == null) {
            return;
        }
        List<byte[]> remapped = new ArrayList<>();
        Dictionary dict = kept.dictionary();
        for (byte[] data : all) {
            remapped.add(Open.read(data, dict).remap(at, spec.all.size()).write());
        }
        open.clear();
        if (!remapped.isEmpty()) {
            open.addAll(remapped);
        }
    }
}
