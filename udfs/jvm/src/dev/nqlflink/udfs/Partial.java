package dev.nqlflink.udfs;

import java.util.Arrays;

/**
 * The aggregates of one group in one slice (and, merged, in one window), with SQL's rules:
 * NULL inputs are skipped; SUM, AVG, MIN, MAX, LAST and percentiles of no value are NULL;
 * COUNT and COUNT DISTINCT of no value are 0. Percentiles interpolate linearly between the
 * closest ranks (Flink's PERCENTILE: position p * (n - 1)). LAST is the value of the row with
 * the greatest event time, the later added on a tie (records are added in
 * {@link ShapeState#FOLD_ORDER}, so that is the same whatever their arrival order).
 *
 * <p>Stored in Flink state as bytes ({@link #write}, {@link #read}): one encoding, versioned by
 * the spec that made it (a changed monitor gets a new pipeline and new state).
 */
final class Partial {
    private final WindowSpec spec;
    final long[] count;
    final double[] sum;
    final double[] value;
    final long[] time;
    final String[] text;
    /** Per aggregate, a percentile's values (null for the others). */
    final Doubles[] values;
    final StringSet[] sets;

    Partial(WindowSpec spec) {
        this(spec, null, null);
    }

    /**
     * An empty partial of {@code group}, its distinct sets sized for what the group had in the
     * newest slice of {@code previous}, the shape's running window (null: none).
     */
    Partial(WindowSpec spec, RunningWindow previous, String group) {
        this(spec, previous, group, true);
    }

    /** An empty partial to merge others into, its distinct counts set from elsewhere ({@link #distinct}): no sets. */
    static Partial merging(WindowSpec spec) {
        return new Partial(spec, null, null, false);
    }

    private Partial(WindowSpec spec, RunningWindow previous, String group, boolean withSets) {
        this.spec = spec;
        int n = spec.aggs.size();
        count = new long[n];
        sum = new double[n];
        value = new double[n];
        time = new long[n];
        Arrays.fill(time, Long.MIN_VALUE);
        text = new String[n];
        values = new Doubles[n];
        sets = new StringSet[n];
        for (int i = 0; i < n; i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            values[i] = kind == WindowSpec.Kind.PCT ? new Doubles() : null;
            sets[i] = kind != WindowSpec.Kind.DISTINCT || !withSets ? null
                     : new StringSet(previous == null ? 0 : previous.newest(group, i));
        }
    }

    /** Adds one row: numeric inputs n, string inputs s (either may be null), event time ts. */
    void add(Double[] n, String[] s, long ts) {
        for (int i = 0; i < spec.aggs.size(); i++) {
            WindowSpec.Agg a = spec.aggs.get(i);
            if (a.kind.stringInput()) {
                String v = s != null && a.input < s.length ? s[a.input] : null;
                if (v != null) {
                    addText(i, a.kind, v, ts);
                }
            } else {
                Double v = n != null && a.input < n.length ? n[a.input] : null;
                if (v != null) {
                    addNumber(i, a.kind, v, ts);
                }
            }
        }
    }

    private void addNumber(int i, WindowSpec.Kind kind, double v, long ts) {
        switch (kind) {
            case COUNT:
                count[i]++;
                break;
            case SUM:
            case AVG:
                count[i]++;
                sum[i] += v;
                break;
            case MIN:
                if (count[i]++ == 0 || v < value[i]) {
                    value[i] = v;
                }
                break;
            case MAX:
                if (count[i]++ == 0 || v > value[i]) {
                    value[i] = v;
                }
                break;
            case LAST:
                if (count[i]++ == 0 || ts >= time[i]) {
                    value[i] = v;
                    time[i] = ts;
                }
                break;
            case PCT:
                count[i]++;
                values[i].add(v);
                break;
            default:
                throw new IllegalStateException(kind + " on a number");
        }
    }

    private void addText(int i, WindowSpec.Kind kind, String v, long ts) {
        switch (kind) {
            case DISTINCT:
                sets[i].add(v);
                break;
            case SMIN:
                if (count[i]++ == 0 || v.compareTo(text[i]) < 0) {
                    text[i] = v;
                }
                break;
            case SMAX:
                if (count[i]++ == 0 || v.compareTo(text[i]) > 0) {
                    text[i] = v;
                }
                break;
            case SLAST:
                if (count[i]++ == 0 || ts >= time[i]) {
                    text[i] = v;
                    time[i] = ts;
                }
                break;
            default:
                throw new IllegalStateException(kind + " on a string");
        }
    }

    /**
     * Folds a later partial, as {@link #write} wrote it, into this one without building it:
     * its aggregates combined as SQL's over the union of both rows (a later one wins LAST on a tie),
     * its sets and values added here directly. Partials are merged in time order.
     */
    void mergeWritten(Bytes.Reader in) {
        for (int i = 0; i < spec.aggs.size(); i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            if (kind == WindowSpec.Kind.DISTINCT) {
                int k = in.readInt();
                StringSet set = sets[i];
                for (int j = 0; j < k; j++) {
                    set.add(in.readUTF());
                }
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
                    Doubles vs = values[i];
                    for (long j = 0; j < c; j++) {
                        vs.add(in.readDouble());
                    }
                    break;
                default: break;
            }
            mergeOne(i, kind, c, s, v, t, x);
        }
    }

    /**
     * Folds a later partial, held packed with the other groups of its slice ({@link Packed}, group
     * {@code g}), into this one as {@link #mergeWritten} folds its bytes, except its distinct sets
     * (a {@link RunningWindow} keeps those as counts).
     */
    void mergeFrom(Packed o, int g) {
        int n = spec.aggs.size();
        int base = g * n;
        for (int i = 0; i < n; i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            if (kind == WindowSpec.Kind.DISTINCT) {
                continue;
            }
            int at = base + i;
            long c = o.count[at];
            if (c == 0) {
                continue;
            }
            if (kind == WindowSpec.Kind.PCT) {
                values[i].addAll(o.values[at]);
            }
            mergeOne(i, kind, c, kind.summed() ? o.sum[at] : 0, kind.valued() ? o.value[at] : 0,
                     kind.timed() ? o.time[at] : Long.MIN_VALUE, kind.stringOutput() ? o.text[at] : null);
        }
    }

    /**
     * The partials of a slice's groups as a window holds them between evaluations: what a merge
     * reads of them ({@link #mergeFrom(Packed, int)}), without the distinct sets (a
     * {@link RunningWindow} counts those), each field of every group in one array, by group
     * index and aggregate. A window merges its held slices at every evaluation; a partial's
     * fields in arrays of their own were a cache miss each, for every group of every slice.
     * A group a slice does not have has counts of 0 there (nothing merged).
     */
    static final class Packed {
        /** The group indices it spans (a group at or past it is not in the slice). */
        final int width;
        final long[] count;
        /** Each null when no aggregate keeps that field. */
        final double[] sum;
        final double[] value;
        final long[] time;
        final String[] text;
        final Doubles[] values;

        /** The partials by group index ({@code parts[g]} null: the group is not in the slice). */
        Packed(WindowSpec spec, Partial[] parts) {
            int n = spec.aggs.size();
            int size = parts.length * n;
            width = parts.length;
            count = new long[size];
            double[] sums = null;
            double[] kept = null;
            long[] times = null;
            String[] texts = null;
            Doubles[] pct = null;
            for (int i = 0; i < n; i++) {
                WindowSpec.Kind kind = spec.aggs.get(i).kind;
                if (kind == WindowSpec.Kind.DISTINCT) {
                    continue;
                }
                sums = kind.summed() && sums == null ? new double[size] : sums;
                kept = kind.valued() && kept == null ? new double[size] : kept;
                times = kind.timed() && times == null ? new long[size] : times;
                texts = kind.stringOutput() && texts == null ? new String[size] : texts;
                pct = kind == WindowSpec.Kind.PCT && pct == null ? new Doubles[size] : pct;
                for (int g = 0; g < parts.length; g++) {
                    Partial p = parts[g];
                    if (p == null) {
                        continue;
                    }
                    int at = g * n + i;
                    count[at] = p.count[i];
                    if (kind.summed()) {
                        sums[at] = p.sum[i];
                    }
                    if (kind.valued()) {
                        kept[at] = p.value[i];
                    }
                    if (kind.timed()) {
                        times[at] = p.time[i];
                    }
                    if (kind.stringOutput()) {
                        texts[at] = p.text[i];
                    }
                    if (kind == WindowSpec.Kind.PCT) {
                        p.values[i].trim();
                        pct[at] = p.values[i];
                    }
                }
            }
            sum = sums;
            value = kept;
            time = times;
            text = texts;
            values = pct;
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

    /** Folds another partial's aggregate i (count c > 0, not DISTINCT; a percentile's values added by the caller). */
    private void mergeOne(int i, WindowSpec.Kind kind, long c, double s, double v, long t, String x) {
        switch (kind) {
            case COUNT:
            case PCT:
                break;
            case SUM:
            case AVG:
                sum[i] += s;
                break;
            case MIN:
            case MAX:
                if (count[i] == 0 || (kind == WindowSpec.Kind.MIN ? v < value[i] : v > value[i])) {
                    value[i] = v;
                }
                break;
            case LAST:
            case SLAST:
                if (count[i] == 0 || t >= time[i]) {
                    value[i] = v;
                    text[i] = x;
                    time[i] = t;
                }
                break;
            case SMIN:
            case SMAX:
                int cmp = count[i] == 0 ? 0 : x.compareTo(text[i]);
                if (count[i] == 0 || (kind == WindowSpec.Kind.SMIN ? cmp < 0 : cmp > 0)) {
                    text[i] = x;
                }
                break;
            default:
                throw new IllegalStateException(String.valueOf(kind));
        }
        count[i] += c;
    }

    /** Aggregate i (DISTINCT) as a count of {@code n} values counted elsewhere (a {@link RunningWindow}'s), not a set. */
    void distinct(int i, long n) {
        sets[i] = null;
        count[i] = n;
    }

    /** The window's results: numeric outputs (spec order) and string outputs. */
    Double[] numbers() {
        Double[] out = new Double[spec.numericOutputs];
        for (int i = 0; i < spec.aggs.size(); i++) {
            WindowSpec.Agg a = spec.aggs.get(i);
            if (a.kind.stringOutput()) {
                continue;
            }
            Double r;
            switch (a.kind) {
                case COUNT: r = (double) count[i]; break;
                case DISTINCT: r = (double) (sets[i] == null ? count[i] : sets[i].size()); break;
                case SUM: r = count[i] == 0 ? null : sum[i]; break;
                case AVG: r = count[i] == 0 ? null : sum[i] / count[i]; break;
                case MIN: case MAX: case LAST: r = count[i] == 0 ? null : value[i]; break;
                case PCT: r = percentile(values[i], a.fraction); break;
                default: throw new IllegalStateException(String.valueOf(a.kind));
            }
            out[a.output] = r;
        }
        return out;
    }

    String[] strings() {
        String[] out = new String[spec.stringOutputs];
        for (int i = 0; i < spec.aggs.size(); i++) {
            WindowSpec.Agg a = spec.aggs.get(i);
            if (a.kind.stringOutput()) {
                out[a.output] = count[i] == 0 ? null : text[i];
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

    /** About the bytes {@link #write} takes (distinct values of ~16 characters). */
    int sizeHint() {
        int n = 0;
        for (int i = 0; i < spec.aggs.size(); i++) {
            StringSet set = sets[i];
            Doubles vs = values[i];
            n += 20 + (set == null ? 0 : 18 * set.size()) + (vs == null ? 0 : 8 * vs.size());
        }
        return n;
    }

    /** The whole partial, its sets and percentile values included. */
    byte[] write() {
        Bytes.Writer out = new Bytes.Writer(64);
        write(out);
        return out.toByteArray();
    }

    /** {@link #write}, appended to {@code out}. */
    void write(Bytes.Writer out) {
        for (int i = 0; i < spec.aggs.size(); i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            if (kind == WindowSpec.Kind.DISTINCT) {
                StringSet set = sets[i];
                out.writeInt(set.size());
                for (String s : set) {
                    out.writeUTF(s);
                }
                continue;
            }
            out.writeLong(count[i]);
            if (count[i] == 0) {
                continue;
            }
            switch (kind) {
                case SUM: case AVG: out.writeDouble(sum[i]); break;
                case MIN: case MAX: out.writeDouble(value[i]); break;
                case LAST: out.writeDouble(value[i]); out.writeLong(time[i]); break;
                case SMIN: case SMAX: out.writeUTF(text[i]); break;
                case SLAST: out.writeUTF(text[i]); out.writeLong(time[i]); break;
                case PCT:
                    Doubles vs = values[i];
                    for (int j = 0; j < vs.size(); j++) {
                        out.writeDouble(vs.get(j));
                    }
                    break;
                default: break;
            }
        }
    }

    /** A partial from {@link #write} (null: empty). */
    static Partial read(WindowSpec spec, byte[] data) {
        Partial p = new Partial(spec);
        if (data != null) {
            p.mergeWritten(new Bytes.Reader(data));
        }
        return p;
    }
}
