"""udfs/jvm RunningWindow: a window's COUNT DISTINCT per group kept across evaluations as each
value's newest held slice and a count per slice (slices added in time order, the oldest evicted
after each evaluation, as ShapeState does), against the union of the window's slices' sets
computed here from scratch. Checked without an engine on 2,000 evaluations of random slices:
values repeating across slices and going stale (enough to make the running window drop them),
groups leaving and coming back, empty slices (not added), windows with gaps; and by hand on
three slices."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;

public class RunningDistinctCheck {
    // windows of 4 slices of 30 s
    /** The ids of every slice and running window here (RunningWindow takes slices of its own dictionary only). */
    static final Dictionary DICT = new Dictionary();
    static final WindowSpec SPEC = WindowSpec.parseShape("size=120000;slide=30000;aggs=distinct:s0");
    static final long SLIDE = 30000, SIZE = 120000;

    static ShapeState.Slice slice(Map<String, Set<String>> groups) {
        ShapeState.Slice s = new ShapeState.Slice(SPEC, DICT);
        groups.forEach((g, values) -> values.forEach(v -> s.add(g, null, null, new String[] {v}, 0)));
        return s;
    }

    /** An evaluation as ShapeState.window and evict do it: the window's distinct count per group. */
    static Map<String, Long> evaluate(RunningWindow r, TreeMap<Long, Map<String, Set<String>>> slices, long end) {
        for (long e = Math.max(r.end, end - SIZE) + SLIDE; e <= end; e += SLIDE) {
            if (slices.containsKey(e)) {
                r.add(e, slice(slices.get(e)));
            }
        }
        r.end = end;
        Map<String, Long> out = new TreeMap<>();
        if (!r.isEmpty()) {
            ShapeState.Slice m = r.merged();
            for (int g = 0; g < m.size(); g++) {
                out.put(m.name(g), m.parts.numbers(g)[0].longValue());
            }
        }
        r.remove(end - SIZE + SLIDE);
        return out;
    }

    /** From scratch: the union of the sets of the slices in (end - size, end], per group. */
    static Map<String, Long> expected(TreeMap<Long, Map<String, Set<String>>> slices, long end) {
        Map<String, Set<String>> union = new TreeMap<>();
        slices.subMap(end - SIZE, false, end, true).values().forEach(
            groups -> groups.forEach((g, values) -> union.computeIfAbsent(g, k -> new HashSet<>()).addAll(values)));
        Map<String, Long> out = new TreeMap<>();
        union.forEach((g, values) -> out.put(g, (long) values.size()));
        return out;
    }

    static Map<String, Set<String>> of(String group, String... values) {
        return new HashMap<>(Map.of(group, new HashSet<>(Arrays.asList(values))));
    }

    public static void main(String[] args) {
        // by hand: {a b} {b c} {c d}, windows of 4 slices, one evaluation per slice
        TreeMap<Long, Map<String, Set<String>>> hand = new TreeMap<>();
        hand.put(30000L, of("g", "a", "b"));
        hand.put(60000L, of("g", "b", "c"));
        hand.put(90000L, of("g", "c", "d"));
        RunningWindow h = new RunningWindow(SPEC, 0, DICT);
        StringBuilder line = new StringBuilder("hand");
        for (long end = 30000; end <= 180000; end += SLIDE) {
            line.append(' ').append(evaluate(h, hand, end).getOrDefault("g", 0L));
        }
        System.out.println(line);

        Random random = new Random(15);
        TreeMap<Long, Map<String, Set<String>>> slices = new TreeMap<>();
        RunningWindow r = new RunningWindow(SPEC, 0, DICT);
        int checked = 0;
        long end = 0;
        for (int step = 0; step < 2000; step++) {
            end += SLIDE * (random.nextInt(10) == 0 ? 1 + random.nextInt(6) : 1);   // now and then a gap
            if (random.nextInt(8) > 0) {
                Map<String, Set<String>> groups = new HashMap<>();
                for (String g : new String[] {"g1", "g2", "g3"}) {
                    if (random.nextInt(4) > 0) {
                        Set<String> values = new HashSet<>();
                        int pool = g.equals("g1") ? 20 : 500;   // g1 repeats, g2 and g3 go stale
                        for (int i = random.nextInt(60); i > 0; i--) {
                            values.add("v" + random.nextInt(pool));
                        }
                        groups.put(g, values);
                    }
                }
                slices.put(end, groups);
            }
            // built afresh when it holds a slice the window left behind, as ShapeState.window
            // does (after a gap), and now and then at random (after a restore)
            if (r.first() <= end - SIZE || random.nextInt(50) == 0) {
                r = new RunningWindow(SPEC, end - SIZE, DICT);
            }
            Map<String, Long> got = evaluate(r, slices, end);
            Map<String, Long> want = expected(slices, end);
            want.values().removeIf(n -> n == 0);
            got.values().removeIf(n -> n == 0);
            if (!got.equals(want)) {
                System.out.println("differs at " + end + ": " + got + " vs " + want);
                return;
            }
            checked++;
        }
        System.out.println("checked " + checked);
    }
}
"""


def test_a_running_windows_distinct_counts_are_the_union_of_its_slices(tmp_path):
    lines = run_java_check(tmp_path, "RunningDistinctCheck", CHECK).splitlines()
    # windows ending at 30..180 s hold {a b}, {a b c}, {a b c d}, {a b c d}, {b c d}, {c d}
    assert lines == ["hand 2 3 4 4 3 2", "checked 2000"]
