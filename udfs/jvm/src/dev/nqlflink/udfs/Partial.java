package dev.nqlflink.udfs;

import java.util.Arrays;

/**
 * The aggregates of a slice's or a window's groups (one group: {@link #Partial(WindowSpec)}),
 * with SQL's rules: NULL inputs are skipped; SUM, AVG, MIN, MAX, LAST and percentiles of no value
 * are NULL; COUNT and COUNT DISTINCT of no value are 0. Percentiles interpolate linearly between
 * the closest ranks (Flink's PERCENTILE: position p * (n - 1)). LAST is the value of the row with
 * the greatest event time, the later added on a tie (records are added in
 * {@link ShapeState#FOLD_ORDER}, so that is the same whatever their arrival order).
 *
 * <p>Each field of every group is in one array, by group index and aggregate ({@code g * n + i}),
 * and only the fields some aggregate keeps have one: a tenant's slice is made anew every slide for
 * each shape, and a partial per group with seven arrays of its own was ten objects per group to
 * make, fill, pack for its running window and merge from, each a cache miss in a tenant's window
 * (issue 15, docs/flink-job-shape.md §7). A {@link RunningWindow} holds a slice's partials as the
 * fold made them, without their distinct sets ({@link #hold}).
 *
 * <p>Stored in Flink state as bytes, group by group ({@link #write(int, Bytes.Writer)},
 * {@link #mergeWritten(int, Bytes.Reader)}): one encoding, versioned by the spec that made it (a
 * changed monitor gets a new pipeline and new state).
 */
final class Partial {
    private final WindowSpec spec;
    /** Aggregates per group. */
    private final int n;
    /** Whether a group's COUNT DISTINCT keeps its values ({@link #sets}) or a count set from elsewhere. */
    private final boolean withSets;
    /** Groups held (indices 0 .. groups - 1). */
    private int groups;
    /** By group and aggregate ({@code g * n + i}); each but {@code count} null when no aggregate keeps that field. */
    long[] count;
    double[] sum;
    double[] value;
    long[] time;
    String[] text;
    /** A percentile's values. */
    Doubles[] values;
    /** A COUNT DISTINCT's values, ids of {@link #dict} (null once held by a running window: {@link #hold}). */
    IntSet[] sets;
    /** What the ids in {@link #sets} number. */
    final Dictionary dict;

    /** One empty group (index 0), as a {@link Regroup} window's. */
    Partial(WindowSpec spec) {
        this(spec, 1, true, new Dictionary());
        group(null);
    }

    /**
     * No group yet, room for {@code width}; {@code withSets}: COUNT DISTINCT keeps its values
     * (a slice's), or not (a window's, its distinct counts set from its running window: {@link #distinct}).
     */
    Partial(WindowSpec spec, int width, boolean withSets, Dictionary dict) {
        this.spec = spec;
        this.dict = dict;
        this.n = spec.aggs.size();
        this.withSets = withSets;
        int size = Math.max(1, width) * n;
        count = new long[size];
        for (WindowSpec.Agg a : spec.aggs) {
            WindowSpec.Kind kind = a.kind;
            sum = kind.summed() && sum == null ? new double[size] : sum;
            value = kind.valued() && value == null ? new double[size] : value;
            time = kind.timed() && time == null ? new long[size] : time;
            text = kind.stringOutput() && text == null ? new String[size] : text;
            values = kind == WindowSpec.Kind.PCT && values == null ? new Doubles[size] : values;
            sets = kind == WindowSpec.Kind.DISTINCT && withSets && sets == null ? new IntSet[size] : sets;
        }
    }

    /** Group g's values of aggregate i (a COUNT DISTINCT of a partial that keeps its sets). */
    IntSet set(int g, int i) {
        return sets[g * n + i];
    }

    /** How many groups it holds. */
    int groups() {
        return groups;
    }

    /**
     * A new empty group; its index. Its distinct sets are sized for what {@code sizes} says it had
     * before (per aggregate; null: nothing known).
     */
    int group(int[] sizes) {
        int g = groups++;
        int base = g * n;
        if (base + n > count.length) {
            grow(Math.max(2 * count.length, base + n));
        }
        for (int i = 0; i < n; i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            if (kind.timed()) {
                time[base + i] = Long.MIN_VALUE;
            }
            if (kind == WindowSpec.Kind.PCT) {
                values[base + i] = new Doubles();
            }
            if (kind == WindowSpec.Kind.DISTINCT && withSets) {
                sets[base + i] = new IntSet(sizes == null ? 0 : sizes[i]);
            }
        }
        return g;
    }

    private void grow(int size) {
        count = Arrays.copyOf(count, size);
        sum = sum == null ? null : Arrays.copyOf(sum, size);
        value = value == null ? null : Arrays.copyOf(value, size);
        time = time == null ? null : Arrays.copyOf(time, size);
        text = text == null ? null : Arrays.copyOf(text, size);
        values = values == null ? null : Arrays.copyOf(values, size);
        sets = sets == null ? null : Arrays.copyOf(sets, size);
    }

    /** Adds one row to group 0: numeric inputs n, string inputs s (either may be null), event time ts. */
    void add(Double[] n, String[] s, long ts) {
        add(0, n, s, ts);
    }

    /** Adds one row to group g. */
    void add(int g, Double[] n, String[] s, long ts) {
        add(g, n, s, null, ts);
    }

    /** Adds one row to group g, {@code ids} the ids of its string inputs in {@link #dict} (null: looked up here). */
    void add(int g, Double[] n, String[] s, int[] ids, long ts) {
        int base = g * this.n;
        for (int i = 0; i < this.n; i++) {
            WindowSpec.Agg a = spec.aggs.get(i);
            if (a.kind.stringInput()) {
                String v = s != null && a.input < s.length ? s[a.input] : null;
                if (v == null) {
                    continue;
                }
                if (a.kind == WindowSpec.Kind.DISTINCT) {
                    sets[base + i].add(ids != null ? ids[a.input] : dict.id(v));
                } else {
                    addText(base + i, a.kind, v, ts);
                }
            } else {
                Double v = n != null && a.input < n.length ? n[a.input] : null;
                if (v != null) {
                    addNumber(base + i, a.kind, v, ts);
                }
            }
        }
    }

    /** Adds a value to field {@code at} (group and aggregate). */
    private void addNumber(int at, WindowSpec.Kind kind, double v, long ts) {
        switch (kind) {
            case COUNT:
                count[at]++;
                break;
            case SUM:
            case AVG:
                count[at]++;
                sum[at] += v;
                break;
            case MIN:
                if (count[at]++ == 0 || v < value[at]) {
                    value[at] = v;
                }
                break;
            case MAX:
                if (count[at]++ == 0 || v > value[at]) {
                    value[at] = v;
                }
                break;
            case LAST:
                if (count[at]++ == 0 || ts >= time[at]) {
                    value[at] = v;
                    time[at] = ts;
                }
                break;
            case PCT:
                count[at]++;
                values[at].add(v);
                break;
            default:
                throw new IllegalStateException(kind + " on a number");
        }
    }

    private void addText(int at, WindowSpec.Kind kind, String v, long ts) {
        switch (kind) {
            case SMIN:
                if (count[at]++ == 0 || v.compareTo(text[at]) < 0) {
                    text[at] = v;
                }
                break;
            case SMAX:
                if (count[at]++ == 0 || v.compareTo(text[at]) > 0) {
                    text[at] = v;
                }
                break;
            case SLAST:
                if (count[at]++ == 0 || ts >= time[at]) {
                    text[at] = v;
                    time[at] = ts;
                }
                break;
            default:
                throw new IllegalStateException(kind + " on a string");
        }
    }

    /**
     * Folds a later partial, as {@link #write(int, Bytes.Writer)} wrote it, into group g without
     * building it: its aggregates combined as SQL's over the union of both rows (a later one wins
     * LAST on a tie), its sets and values added here directly. Partials are merged in time order.
     */
    void mergeWritten(int g, Bytes.Reader in) {
        int base = g * n;
        for (int i = 0; i < n; i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            int at = base + i;
            if (kind == WindowSpec.Kind.DISTINCT) {
                dict.read(in, in.readInt(), sets[at]);
                continue;
            }
            long c = in.readLong();
            if (c == 0) {
                continue;
            }
            double s = 0;
            double v = 0;
            long t = Long.MIN_VALUE;
            String x = null;
            switch (kind) {
                case SUM: case AVG: s = in.readDouble(); break;
                case MIN: case MAX: v = in.readDouble(); break;
                case LAST: v = in.readDouble(); t = in.readLong(); break;
                case SMIN: case SMAX: x = in.readUTF(); break;
                case SLAST: x = in.readUTF(); t = in.readLong(); break;
                case PCT:
                    Doubles vs = values[at];
                    for (long j = 0; j < c; j++) {
                        vs.add(in.readDouble());
                    }
                    break;
                default: break;
            }
            mergeOne(at, kind, c, s, v, t, x);
        }
    }

    /**
     * Folds group {@code og} of a later partial {@code o} into group g as {@link #mergeWritten}
     * folds its bytes, except its distinct sets (a {@link RunningWindow} keeps those as counts).
     */
    void mergeFrom(Partial o, int og, int g) {
        int base = g * n;
        int from = og * n;
        for (int i = 0; i < n; i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            if (kind == WindowSpec.Kind.DISTINCT) {
                continue;
            }
            long c = o.count[from + i];
            if (c == 0) {
                continue;
            }
            if (kind == WindowSpec.Kind.PCT) {
                values[base + i].addAll(o.values[from + i]);
            }
            mergeOne(base + i, kind, c, kind.summed() ? o.sum[from + i] : 0, kind.valued() ? o.value[from + i] : 0,
                     kind.timed() ? o.time[from + i] : Long.MIN_VALUE, kind.stringOutput() ? o.text[from + i] : null);
        }
    }

    /**
     * As a {@link RunningWindow} holds a slice's partials between evaluations: without the
     * distinct sets (it counts those), percentile values trimmed to their size.
     */
    void hold() {
        sets = null;
        if (values != null) {
            for (Doubles vs : values) {
                if (vs != null) {
                    vs.trim();
                }
            }
        }
    }

    /** Percentile values, unboxed: a growable double array. */
    static final class Doubles {
        private double[] values = new double[8];
        private int size;

        void add(double v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        void addAll(Doubles o) {
            if (size + o.size > values.length) {
                values = Arrays.copyOf(values, Math.max(size + o.size, size * 2));
            }
            System.arraycopy(o.values, 0, values, size, o.size);
            size += o.size;
        }

        int size() {
            return size;
        }

        double get(int i) {
            return values[i];
        }

        void trim() {
            values = Arrays.copyOf(values, size);
        }

    }

    /** Folds another partial's field {@code at} (count c > 0, not DISTINCT; a percentile's values added by the caller). */
    private void mergeOne(int at, WindowSpec.Kind kind, long c, double s, double v, long t, String x) {
        switch (kind) {
            case COUNT:
            case PCT:
                break;
            case SUM:
            case AVG:
                sum[at] += s;
                break;
            case MIN:
            case MAX:
                if (count[at] == 0 || (kind == WindowSpec.Kind.MIN ? v < value[at] : v > value[at])) {
                    value[at] = v;
                }
                break;
            case LAST:
                if (count[at] == 0 || t >= time[at]) {
                    value[at] = v;
                    time[at] = t;
                }
                break;
            case SLAST:
                if (count[at] == 0 || t >= time[at]) {
                    text[at] = x;
                    time[at] = t;
                }
                break;
            case SMIN:
            case SMAX:
                int cmp = count[at] == 0 ? 0 : x.compareTo(text[at]);
                if (count[at] == 0 || (kind == WindowSpec.Kind.SMIN ? cmp < 0 : cmp > 0)) {
                    text[at] = x;
                }
                break;
            default:
                throw new IllegalStateException(String.valueOf(kind));
        }
        count[at] += c;
    }

    /** Group g's aggregate i (DISTINCT) as a count of {@code n} values counted elsewhere (a {@link RunningWindow}'s), not a set. */
    void distinct(int g, int i, long n) {
        count[g * this.n + i] = n;
    }

    /** Group 0's results: numeric outputs (spec order). */
    Double[] numbers() {
        return numbers(0);
    }

    /** Group g's results: numeric outputs (spec order). */
    Double[] numbers(int g) {
        int base = g * n;
        Double[] out = new Double[spec.numericOutputs];
        for (int i = 0; i < n; i++) {
            WindowSpec.Agg a = spec.aggs.get(i);
            if (a.kind.stringOutput()) {
                continue;
            }
            int at = base + i;
            Double r;
            switch (a.kind) {
                case COUNT: r = (double) count[at]; break;
                case DISTINCT: r = (double) (sets == null ? count[at] : sets[at].size()); break;
                case SUM: r = count[at] == 0 ? null : sum[at]; break;
                case AVG: r = count[at] == 0 ? null : sum[at] / count[at]; break;
                case MIN: case MAX: case LAST: r = count[at] == 0 ? null : value[at]; break;
                case PCT: r = percentile(values[at], a.fraction); break;
                default: throw new IllegalStateException(String.valueOf(a.kind));
            }
            out[a.output] = r;
        }
        return out;
    }

    String[] strings() {
        return strings(0);
    }

    String[] strings(int g) {
        int base = g * n;
        String[] out = new String[spec.stringOutputs];
        for (int i = 0; i < n; i++) {
            WindowSpec.Agg a = spec.aggs.get(i);
            if (a.kind.stringOutput()) {
                out[a.output] = count[base + i] == 0 ? null : text[base + i];
            }
        }
        return out;
    }

    /** The percentile of the values, which it reorders (their order means nothing to a partial). */
    static Double percentile(Doubles xs, double p) {
        int n = xs.size();
        if (n == 0) {
            return null;
        }
        double[] v = xs.values;
        double pos = p * (n - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        double low = select(v, n, lo);
        if (lo == hi) {
            return low;
        }
        // v[lo + 1..n) hold the values ranked above lo: the least of them is ranked hi
        double high = v[hi];
        for (int i = hi + 1; i < n; i++) {
            if (Double.compare(v[i], high) < 0) {
                high = v[i];
            }
        }
        return low + (pos - lo) * (high - low);
    }

    /**
     * The value ranked {@code k} (from 0) among the first {@code n} of {@code v} in the order
     * Arrays.sort gives (Double.compare's: -0.0 before 0.0, NaN last), those reordered around it
     * (quickselect: lower-ranked values before k, higher after). A window's percentile needs two
     * ranks, not its values sorted.
     */
    static double select(double[] v, int n, int k) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            double a = v[lo];
            double b = v[(lo + hi) >>> 1];
            double c = v[hi];
            // the median of three (a window's values are runs in order: no worst case from them)
            double pivot = Double.compare(a, b) < 0
                    ? (Double.compare(b, c) < 0 ? b : Double.compare(a, c) < 0 ? c : a)
                    : (Double.compare(a, c) < 0 ? a : Double.compare(b, c) < 0 ? c : b);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (Double.compare(v[i], pivot) < 0) {
                    i++;
                }
                while (Double.compare(v[j], pivot) > 0) {
                    j--;
                }
                if (i <= j) {
                    double t = v[i];
                    v[i++] = v[j];
                    v[j--] = t;
                }
            }
            // lo..j at most the pivot, i..hi at least it, between them equal to it
            if (k <= j) {
                hi = j;
            } else if (k >= i) {
                lo = i;
            } else {
                return v[k];
            }
        }
        return v[k];
    }

    // ------------------------------------------------------------------------------ state --

    /** About the bytes group g's {@link #write(int, Bytes.Writer)} takes (distinct values of ~16 characters). */
    int sizeHint(int g) {
        int size = 0;
        for (int at = g * n; at < (g + 1) * n; at++) {
            IntSet set = sets == null ? null : sets[at];
            Doubles vs = values == null ? null : values[at];
            size += 20 + (set == null ? 0 : 18 * set.size()) + (vs == null ? 0 : 8 * vs.size());
        }
        return size;
    }

    /** Group 0, its sets and percentile values included. */
    byte[] write() {
        Bytes.Writer out = new Bytes.Writer(64);
        write(0, out);
        return out.toByteArray();
    }

    /** Group g, its sets and percentile values included, appended to {@code out}. */
    void write(int g, Bytes.Writer out) {
        int base = g * n;
        for (int i = 0; i < n; i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            int at = base + i;
            if (kind == WindowSpec.Kind.DISTINCT) {
                dict.write(sets[at], out);
                continue;
            }
            out.writeLong(count[at]);
            if (count[at] == 0) {
                continue;
            }
            switch (kind) {
                case SUM: case AVG: out.writeDouble(sum[at]); break;
                case MIN: case MAX: out.writeDouble(value[at]); break;
                case LAST: out.writeDouble(value[at]); out.writeLong(time[at]); break;
                case SMIN: case SMAX: out.writeUTF(text[at]); break;
                case SLAST: out.writeUTF(text[at]); out.writeLong(time[at]); break;
                case PCT:
                    Doubles vs = values[at];
                    for (int j = 0; j < vs.size(); j++) {
                        out.writeDouble(vs.get(j));
                    }
                    break;
                default: break;
            }
        }
    }

    /** A one-group partial from {@link #write()} (null: empty). */
    static Partial read(WindowSpec spec, byte[] data) {
        Partial p = new Partial(spec);
        if (data != null) {
            p.mergeWritten(0, new Bytes.Reader(data));
        }
        return p;
    }
}
