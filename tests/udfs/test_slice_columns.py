"""udfs/jvm ShapeState.Slice: a slice's groups held in one Partial by the order they came in, found
by scanning their names up to 8 groups and through an index beyond. What it must keep whatever
the layout: its bytes list the groups in the order of their names (the coding the state has
always had, read here with the JDK's DataInputStream), and each group's aggregates, written,
read back and merged by a RunningWindow with a later slice, are SQL's over that group's rows,
computed here from the rows alone (plain loops, no Partial). Checked by hand on two groups, and
on 3 to 40 groups added in a shuffled order."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.util.*;

public class SliceColumnsCheck {
    /** The ids of every slice and running window here (RunningWindow takes slices of its own dictionary only). */
    static final Dictionary DICT = new Dictionary();
    static final WindowSpec SPEC = WindowSpec.parseShape(
            "size=60000;slide=30000;aggs=avg:n0,min:n0,last:n0,count:n0,distinct:s0,smax:s0");

    /** One row: group, number (may be null), string, event time. */
    record Row(String group, Double n, String s, long ts) {}

    static ShapeState.Slice slice(List<Row> rows) {
        ShapeState.Slice slice = new ShapeState.Slice(SPEC, DICT);
        for (Row r : rows) {
            // a new String per row, as records read from their bytes without the tenant's strings
            slice.add(new String(r.group), null, new Double[] {r.n}, new String[] {r.s}, r.ts);
        }
        return slice;
    }

    /** The group names in a slice's bytes, in their order (DataInputStream's reading of them). */
    static List<String> namesInBytes(byte[] bytes) throws Exception {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        List<String> names = new ArrayList<>();
        int k = in.readInt();
        for (int i = 0; i < k; i++) {
            names.add(in.readUTF());
            in.skipBytes(in.readInt());
        }
        return names;
    }

    /** Per group: avg, min, last (greatest time, the later row on a tie), count, distinct, smax. */
    static Map<String, String> expected(List<Row> rows) {
        Map<String, List<Row>> by = new TreeMap<>();
        for (Row r : rows) {
            by.computeIfAbsent(r.group, g -> new ArrayList<>()).add(r);
        }
        Map<String, String> out = new TreeMap<>();
        by.forEach((g, rs) -> {
            double sum = 0;
            long count = 0;
            Double min = null;
            Double last = null;
            long lastTs = Long.MIN_VALUE;
            Set<String> distinct = new HashSet<>();
            String smax = null;
            for (Row r : rs) {
                if (r.n != null) {
                    sum += r.n;
                    count++;
                    min = min == null || r.n < min ? r.n : min;
                    if (last == null || r.ts >= lastTs) {
                        last = r.n;
                        lastTs = r.ts;
                    }
                }
                distinct.add(r.s);
                smax = smax == null || r.s.compareTo(smax) > 0 ? r.s : smax;
            }
            out.put(g, format(count == 0 ? null : sum / count, min, last, (double) count, (double) distinct.size(), smax));
        });
        return out;
    }

    static String format(Double avg, Double min, Double last, Double count, Double distinct, String smax) {
        return avg + " " + min + " " + last + " " + count + " " + distinct + " " + smax;
    }

    /** The window of the slices, each written and read back as the state holds it, per group. */
    static Map<String, String> window(List<List<Row>> slices) throws Exception {
        RunningWindow r = new RunningWindow(SPEC, 0, DICT);
        long end = 0;
        for (List<Row> rows : slices) {
            byte[] bytes = slice(rows).write();
            List<String> names = namesInBytes(bytes);
            List<String> sorted = new ArrayList<>(new TreeSet<>(names));
            if (!names.equals(sorted)) {
                throw new AssertionError("groups not in the order of their names: " + names);
            }
            end += 30000;
            r.add(end, ShapeState.Slice.read(SPEC, bytes, DICT));
        }
        ShapeState.Slice m = r.merged();
        Map<String, String> out = new TreeMap<>();
        for (int g = 0; g < m.size(); g++) {
            Double[] n = m.parts.numbers(g);
            out.put(m.name(g), format(n[0], n[1], n[2], n[3], n[4], m.parts.strings(g)[0]));
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        // by hand: b comes first; a's last is 3 (its latest row), its avg (1 + 3 + 5) / 3, its
        // distinct strings x and y; b has no number: avg, min and last NULL, count 0
        List<Row> one = List.of(new Row("b", null, "z", 5), new Row("a", 1.0, "x", 1), new Row("a", 5.0, "y", 2));
        List<Row> two = List.of(new Row("a", 3.0, "x", 30001));
        System.out.println("hand " + window(List.of(one, two)));
        Random random = new Random(7);
        int checked = 0;
        for (int round = 0; round < 300; round++) {
            int groups = 3 + random.nextInt(38);
            List<List<Row>> slices = new ArrayList<>();
            List<Row> all = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                List<Row> rows = new ArrayList<>();
                int count = random.nextInt(120);
                for (int i = 0; i < count; i++) {
                    String group = "{\"pool\":\"p" + random.nextInt(groups) + "\"}";
                    Double n = random.nextInt(5) == 0 ? null : (double) random.nextInt(1000);
                    rows.add(new Row(group, n, "d" + random.nextInt(30), s * 30000L + random.nextInt(30000)));
                }
                rows.sort(Comparator.comparingLong(Row::ts));   // a fold adds a slice's rows in time order
                slices.add(rows);
                all.addAll(rows);
            }
            Map<String, String> want = expected(all);
            Map<String, String> got = window(slices);
            if (!got.equals(want)) {
                throw new AssertionError("round " + round + " (" + groups + " groups): " + got + " against " + want);
            }
            checked++;
        }
        System.out.println("checked " + checked);
    }
}
"""


def test_a_slices_groups_in_columns_keep_their_bytes_order_and_aggregates(tmp_path):
    out = run_java_check(tmp_path, "SliceColumnsCheck", CHECK)
    assert out == "hand {a=3.0 1.0 3.0 3.0 2.0 y, b=null null null 0.0 1.0 z}\nchecked 300"
