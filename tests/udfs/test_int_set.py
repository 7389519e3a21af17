"""udfs/jvm IntSet: the distinct values of a group in a slice and a population's devices, as
ids of a tenant's Dictionary (a set), and a running window's counts of them or each value's
newest slice (a multiset: an id stays while its count is not 0; or a number per id). Checked
without an engine:

- an id is in the set once; a count reaching 0 removes the id, a count still above 0 keeps it;
  `put` gives the number before (or ABSENT) and `removeBelow` keeps the ids numbered at least
  its minimum; a set sized for fewer or more ids than it gets holds them all the same;
- under many adds and removals of ids that share their slot at every table size (found here by
  their hash: the first and the last slot, so that probing runs cross each other, wrap around
  the table, and removals move ids back), the multiset agrees with a java.util.HashMap of counts
  after every step, on its size, on membership of every id and on what toArray and the slots
  give;
- a Dictionary numbers strings from 0 in the order first seen, gives another instance of a
  string its id and its first instance, and holds strings of the same String.hashCode apart."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;

public class IntSetCheck {
    /** The slot of a table of 128 slots (and, by its top bits, of every smaller one) id goes to first. */
    static int home128(int id) {
        return (id * 0x9E3779B9) >>> 25;
    }

    public static void main(String[] args) {
        IntSet s = new IntSet();
        System.out.println("add " + s.add(7) + " " + s.add(7) + " " + s.add(0) + " " + s.size() + " "
                           + s.contains(7) + s.contains(0) + s.contains(8));
        IntSet c = IntSet.counted();
        c.count(new int[] {1, 2, 1}, 1);
        System.out.print("counted " + c.size());
        c.count(new int[] {1}, -1);
        System.out.print(" " + c.size() + c.contains(1));
        c.count(new int[] {1, 2}, -1);
        System.out.println(" " + c.size() + c.contains(1) + c.contains(2));
        IntSet n = IntSet.counted();
        System.out.print("put " + (n.put(5, 3) == IntSet.ABSENT) + " " + n.put(5, 4) + " " + n.put(6, 1) + " ");
        n.put(7, 9);
        n.removeBelow(4);
        System.out.println(n.size() + " " + n.contains(5) + n.contains(6) + n.contains(7));
        // sized for 3 (or for 0, or for more than it gets), 1,000 ids in all the same
        for (int expected : new int[] {3, 0, 5000}) {
            IntSet p = new IntSet(expected);
            boolean all = true;
            for (int i = 0; i < 1000; i++) {
                all &= p.add(3 * i) && !p.add(3 * i);
            }
            for (int i = 0; i < 1000; i++) {
                all &= p.contains(3 * i);
            }
            System.out.println("sized " + expected + " " + p.size() + " " + all + " " + p.contains(3000) + p.contains(1));
        }

        // 30 ids whose first slot is the first, 30 whose first slot is the last, at every size up to 128
        List<Integer> keys = new ArrayList<>();
        int first = 0;
        int last = 0;
        for (int id = 0; first < 30 || last < 30; id++) {
            if (home128(id) == 0 && first < 30) {
                keys.add(id);
                first++;
            } else if (home128(id) == 127 && last < 30) {
                keys.add(id);
                last++;
            }
        }
        Random random = new Random(15);
        IntSet m = IntSet.counted();
        Map<Integer, Integer> model = new HashMap<>();
        int steps = 0;
        for (; steps < 20000; steps++) {
            int k = keys.get(random.nextInt(keys.size()));
            int by = model.containsKey(k) && random.nextInt(3) > 0 ? -1 : 1;
            m.count(new int[] {k}, by);
            model.merge(k, by, (a, b) -> a + b == 0 ? null : a + b);
            Set<Integer> members = new HashSet<>();
            for (int j = 0; j < m.slots(); j++) {
                if (m.at(j) != IntSet.EMPTY) {
                    members.add(m.at(j));
                }
            }
            Set<Integer> listed = new HashSet<>();
            for (int v : m.toArray()) {
                listed.add(v);
            }
            boolean agrees = m.size() == model.size() && members.equals(model.keySet()) && listed.equals(model.keySet());
            for (int key : keys) {
                agrees &= m.contains(key) == model.containsKey(key);
            }
            if (!agrees) {
                System.out.println("differs at step " + steps + ": " + m + " " + model);
                break;
            }
        }
        System.out.println("steps " + steps);

        Dictionary d = new Dictionary();
        String x = "x";
        // "Aa" and "BB" have the same String.hashCode
        System.out.println("dictionary " + d.id(x) + " " + d.id("Aa") + " " + d.id("BB") + " " + d.id(new String("x"))
                           + " " + (d.string(d.id(new String("x"))) == x) + " " + d.string(2) + " " + d.size());
        for (int i = 0; i < 10000; i++) {
            d.id("s" + i);
        }
        System.out.println("grown " + d.size() + " " + d.id("s9999") + " " + d.string(3) + " " + d.id("Aa"));
    }
}
"""


def test_a_set_and_a_multiset_of_ids_and_a_dictionary(tmp_path):
    lines = run_java_check(tmp_path, "IntSetCheck", CHECK).splitlines()
    assert lines == [
        "add true false true 2 truetruefalse",
        # {1: 2, 2: 1} -> {1: 1, 2: 1} -> {}
        "counted 2 2true 0falsefalse",
        # 5 -> 3, then 4; 6 -> 1; 7 -> 9; below 4 goes: 6
        "put true 3 -2147483648 2 truefalsetrue",
        "sized 3 1000 true falsefalse",
        "sized 0 1000 true falsefalse",
        "sized 5000 1000 true falsefalse",
        "steps 20000",
        # x 0, Aa 1, BB 2, x again 0 (its first instance)
        "dictionary 0 1 2 0 true BB 3",
        # s0 .. s9999 are 3 .. 10002
        "grown 10003 10002 s0 1",
    ]
