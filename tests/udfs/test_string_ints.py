"""udfs/jvm StringInts: a number per string (a Dictionary's ids, a slice's group indices by
name). Checked without an engine:

- a string has one number, whatever instance puts or asks for it; strings of the same
  String.hashCode are distinct keys; `put` gives the number before (or ABSENT) and replaces it,
  `putIfAbsent` gives the number there and keeps it, or puts its own and gives ABSENT;
- 1,000 strings, past several growths of the table, each keep their number;
- under many puts of strings that share hashes (so that probing runs cross each other and wrap
  around the table), it agrees with a java.util.HashMap after every step."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;

public class StringIntsCheck {
    public static void main(String[] args) {
        StringInts s = new StringInts();
        System.out.println("put " + s.put("a", 1) + " " + s.put(new String("a"), 2) + " " + s.get(new String("a"))
                           + " " + s.size());
        // "Aa" and "BB" have the same String.hashCode
        System.out.println("same_hash " + s.putIfAbsent("Aa", 3) + " " + s.putIfAbsent("BB", 4) + " "
                           + s.putIfAbsent(new String("Aa"), 5) + " " + s.get("Aa") + " " + s.get("BB") + " "
                           + s.get("AaBB") + " " + s.size());
        StringInts p = new StringInts();
        boolean all = true;
        for (int i = 0; i < 1000; i++) {
            all &= p.putIfAbsent("d" + i, i) == StringInts.ABSENT;
        }
        for (int i = 0; i < 1000; i++) {
            all &= p.get("d" + i) == i;
        }
        System.out.println("grown " + p.size() + " " + all + " " + p.get("d1000"));

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
        StringInts m = new StringInts();
        Map<String, Integer> model = new HashMap<>();
        int steps = 0;
        for (; steps < 5000; steps++) {
            String k = new String(keys.get(random.nextInt(keys.size())));
            int v = random.nextInt(100);
            boolean agrees;
            if (random.nextBoolean()) {
                Integer before = model.put(k, v);
                agrees = m.put(k, v) == (before == null ? StringInts.ABSENT : before);
            } else {
                Integer before = model.putIfAbsent(k, v);
                agrees = m.putIfAbsent(k, v) == (before == null ? StringInts.ABSENT : before);
            }
            agrees &= m.size() == model.size();
            for (String key : keys) {
                Integer expected = model.get(key);
                agrees &= m.get(key) == (expected == null ? StringInts.ABSENT : expected);
            }
            if (!agrees) {
                System.out.println("differs at step " + steps + ": " + model);
                break;
            }
        }
        System.out.println("steps " + steps);
    }
}
"""


def test_a_number_per_string(tmp_path):
    lines = run_java_check(tmp_path, "StringIntsCheck", CHECK).splitlines()
    assert lines == [
        # a -> 1, then 2 (the number before: 1)
        "put -2147483648 1 2 1",
        # Aa -> 3, BB -> 4, Aa kept at 3; AaBB absent
        "same_hash -2147483648 -2147483648 3 3 4 -2147483648 3",
        "grown 1000 true -2147483648",
        "steps 5000",
    ]
