"""udfs/jvm StringSet: the distinct values of a group in a slice and a population's devices (a
set), and a running window's counts of them (a multiset: a string stays while its count is not
0). Checked without an engine:

- a string is in the set once, whatever instance adds it; strings of the same hash are distinct
  members; a count reaching 0 removes the string, a count still above 0 keeps it; a set sized
  for fewer or more strings than it gets holds them all the same;
- under many adds and removals of strings that share hashes (so that probing runs cross each
  other and wrap around the table, and removals move strings back), the multiset agrees with a
  java.util.HashMap of counts after every step, on its size, on membership of every string and
  on what iteration and toArray give."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;

public class StringSetCheck {
    public static void main(String[] args) {
        StringSet s = new StringSet();
        System.out.println("add " + s.add("a") + " " + s.add(new String("a")) + " " + s.size());
        // "Aa" and "BB" have the same String.hashCode
        System.out.println("same_hash " + s.add("Aa") + " " + s.add("BB") + " " + s.size() + " "
                           + s.contains("Aa") + s.contains("BB") + s.contains("AaBB"));
        StringSet c = StringSet.counted();
        c.count(new String[] {"x", "y", "x"}, 1);
        System.out.print("counted " + c.size());
        c.count(new String[] {"x"}, -1);
        System.out.print(" " + c.size() + c.contains("x"));
        c.count(new String[] {"x", "y"}, -1);
        System.out.println(" " + c.size() + c.contains("x") + c.contains("y"));
        // sized for 3 (or for 0, or for more than it gets), 1,000 strings in all the same
        for (int expected : new int[] {3, 0, 5000}) {
            StringSet p = new StringSet(expected);
            boolean all = true;
            for (int i = 0; i < 1000; i++) {
                all &= p.add("d" + i) && !p.add("d" + i);
            }
            for (int i = 0; i < 1000; i++) {
                all &= p.contains("d" + i);
            }
            System.out.println("sized " + expected + " " + p.size() + " " + all + " " + p.contains("d1000"));
        }

        // strings of 1..4 blocks of "Aa"/"BB" (30 strings in 4 hash classes) and 30 others
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            keys.add("device-" + i);
        }
        for (int n = 1; n <= 4; n++) {
            for (int bits = 0; bits < 1 << n; bits++) {
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < n; i++) {
                    b.append((bits >> i & 1) == 0 ? "Aa" : "BB");
                }
                keys.add(b.toString());
            }
        }
        Random random = new Random(15);
        StringSet m = StringSet.counted();
        Map<String, Integer> model = new HashMap<>();
        int steps = 0;
        for (; steps < 20000; steps++) {
            String k = keys.get(random.nextInt(keys.size()));
            int by = model.containsKey(k) && random.nextInt(3) > 0 ? -1 : 1;
            m.count(new String[] {new String(k)}, by);
            model.merge(k, by, (a, b) -> a + b == 0 ? null : a + b);
            Set<String> members = new HashSet<>();
            for (String v : m) {
                members.add(v);
            }
            boolean agrees = m.size() == model.size() && members.equals(model.keySet())
                             && new HashSet<>(Arrays.asList(m.toArray())).equals(model.keySet());
            for (String key : keys) {
                agrees &= m.contains(key) == model.containsKey(key);
            }
            if (!agrees) {
                System.out.println("differs at step " + steps + ": " + m + " " + model);
                break;
            }
        }
        System.out.println("steps " + steps);
    }
}
"""


def test_a_set_and_a_multiset_of_strings(tmp_path):
    lines = run_java_check(tmp_path, "StringSetCheck", CHECK).splitlines()
    assert lines == [
        "add true false 1",
        "same_hash true true 3 truetruefalse",
        # {x: 2, y: 1} -> {x: 1, y: 1} -> {}
        "counted 2 2true 0falsefalse",
        "sized 3 1000 true false",
        "sized 0 1000 true false",
        "sized 5000 1000 true false",
        "steps 20000",
    ]
