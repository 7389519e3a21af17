package dev.nqlflink.udfs;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The aggregates of one group in one slice (and, merged, in one window), with SQL's rules:
 * NULL inputs are skipped; SUM, AVG, MIN, MAX, LAST and percentiles of no value are NULL;
 * COUNT and COUNT DISTINCT of no value are 0. Percentiles interpolate linearly between the
 * closest ranks (Flink's PERCENTILE: position p * (n - 1)). LAST is the value of the row with
 * the greatest event time, the later arrival on a tie.
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
    final List<List<Double>> values;
    final List<Set<String>> sets;

    Partial(WindowSpec spec) {
        this.spec = spec;
        int n = spec.aggs.size();
        count = new long[n];
        sum = new double[n];
        value = new double[n];
        time = new long[n];
        Arrays.fill(time, Long.MIN_VALUE);
        text = new String[n];
        values = new ArrayList<>(n);
        sets = new ArrayList<>(n);
        for (WindowSpec.Agg a : spec.aggs) {
            values.add(a.kind == WindowSpec.Kind.PCT ? new ArrayList<>() : null);
            sets.add(a.kind == WindowSpec.Kind.DISTINCT ? new HashSet<>() : null);
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
                values.get(i).add(v);
                break;
            default:
                throw new IllegalStateException(kind + " on a number");
        }
    }

    private void addText(int i, WindowSpec.Kind kind, String v, long ts) {
        switch (kind) {
            case DISTINCT:
                sets.get(i).add(v);
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

    /** Folds a later slice's partial of the same group into this one (slices in time order). */
    void merge(Partial o) {
        for (int i = 0; i < spec.aggs.size(); i++) {
            WindowSpec.Kind kind = spec.aggs.get(i).kind;
            if (o.count[i] == 0 && kind != WindowSpec.Kind.DISTINCT) {
                continue;
            }
            switch (kind) {
                case COUNT:
                    count[i] += o.count[i];
                    break;
                case SUM:
                case AVG:
                    count[i] += o.count[i];
                    sum[i] += o.sum[i];
                    break;
                case MIN:
                case MAX:
                    boolean better = kind == WindowSpec.Kind.MIN ? o.value[i] < value[i] : o.value[i] > value[i];
                    if (count[i] == 0 || better) {
                        value[i] = o.value[i];
                    }
                    count[i] += o.count[i];
                    break;
                case LAST:
                case SLAST:
                    if (count[i] == 0 || o.time[i] >= time[i]) {
                        value[i] = o.value[i];
                        text[i] = o.text[i];
                        time[i] = o.time[i];
                    }
                    count[i] += o.count[i];
                    break;
                case PCT:
                    values.get(i).addAll(o.values.get(i));
                    count[i] += o.count[i];
                    break;
                case DISTINCT:
                    sets.get(i).addAll(o.sets.get(i));
                    break;
                case SMIN:
                case SMAX:
                    int c = count[i] == 0 ? 0 : o.text[i].compareTo(text[i]);
                    if (count[i] == 0 || (kind == WindowSpec.Kind.SMIN ? c < 0 : c > 0)) {
                        text[i] = o.text[i];
                    }
                    count[i] += o.count[i];
                    break;
                default:
                    throw new IllegalStateException(String.valueOf(kind));
            }
        }
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
                case DISTINCT: r = (double) sets.get(i).size(); break;
                case SUM: r = count[i] == 0 ? null : sum[i]; break;
                case AVG: r = count[i] == 0 ? null : sum[i] / count[i]; break;
                case MIN: case MAX: case LAST: r = count[i] == 0 ? null : value[i]; break;
                case PCT: r = percentile(values.get(i), a.fraction); break;
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

    static Double percentile(List<Double> xs, double p) {
        if (xs.isEmpty()) {
            return null;
        }
        List<Double> v = new ArrayList<>(xs);
        Collections.sort(v);
        double pos = p * (v.size() - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        if (lo == hi) {
            return v.get(lo);
        }
        return v.get(lo) + (pos - lo) * (v.get(hi) - v.get(lo));
    }

    // ------------------------------------------------------------------------------ state --

    /** The whole partial, its sets and percentile values included ({@link Regroup}'s state). */
    byte[] write() {
        return write(true);
    }

    static Partial read(WindowSpec spec, byte[] data) {
        return read(spec, data, true);
    }

    /**
     * The fixed-size part only, for {@link TenantWindows}' per-record state: the counts, sums,
     * extremes and last values, but not the members of DISTINCT sets nor the values of
     * percentiles (for a percentile, its count only). Those are kept one state entry per value
     * by the windows function and gathered when a window is evaluated, so that adding a record
     * costs the same whatever the sizes of its slice's sets.
     */
    byte[] writeFixed() {
        return write(false);
    }

    /** A partial from {@link #writeFixed}: its DISTINCT sets and percentile values empty. */
    static Partial readFixed(WindowSpec spec, byte[] data) {
        return read(spec, data, false);
    }

    private byte[] write(boolean whole) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            for (int i = 0; i < spec.aggs.size(); i++) {
                WindowSpec.Kind kind = spec.aggs.get(i).kind;
                if (kind == WindowSpec.Kind.DISTINCT) {
                    if (whole) {
                        Set<String> set = sets.get(i);
                        out.writeInt(set.size());
                        for (String s : set) {
                            out.writeUTF(s);
                        }
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
                        if (whole) {
                            for (double d : values.get(i)) {
                                out.writeDouble(d);
                            }
                        }
                        break;
                    default: break;
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Partial read(WindowSpec spec, byte[] data, boolean whole) {
        Partial p = new Partial(spec);
        if (data == null) {
            return p;
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            for (int i = 0; i < spec.aggs.size(); i++) {
                WindowSpec.Kind kind = spec.aggs.get(i).kind;
                if (kind == WindowSpec.Kind.DISTINCT) {
                    if (whole) {
                        int k = in.readInt();
                        Set<String> set = p.sets.get(i);
                        for (int j = 0; j < k; j++) {
                            set.add(in.readUTF());
                        }
                    }
                    continue;
                }
                long c = in.readLong();
                p.count[i] = c;
                if (c == 0) {
                    continue;
                }
                switch (kind) {
                    case SUM: case AVG: p.sum[i] = in.readDouble(); break;
                    case MIN: case MAX: p.value[i] = in.readDouble(); break;
                    case LAST: p.value[i] = in.readDouble(); p.time[i] = in.readLong(); break;
                    case SMIN: case SMAX: p.text[i] = in.readUTF(); break;
                    case SLAST: p.text[i] = in.readUTF(); p.time[i] = in.readLong(); break;
                    case PCT:
                        if (whole) {
                            List<Double> vs = p.values.get(i);
                            for (long j = 0; j < c; j++) {
                                vs.add(in.readDouble());
                            }
                        }
                        break;
                    default: break;
                }
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
