"""udfs/jvm Decoded: state entries kept decoded between calls (the windows function's configs,
alert states and tenant clocks; the inventory's device versions). A decoded value stands for the
bytes it was read from and nothing else. Checked without an engine, by counting decodes:

- the same array (the heap backend's) and an equal copy (another backend's) are not decoded
  again; changed bytes, or none, are;
- a value put with the bytes written is what the next read of those bytes gets;
- beyond the capacity the least recently used key goes (and is decoded again), not one just read;
- `cached` (for entries written only through the cache) gives the value last read or put under a
  key without its bytes, nothing once the key is removed or evicted, nothing for an absent entry;
- an `entry` held by a caller (the windows function's per-shape monitor entries) stays live while
  its value is the one kept: a put of that same value (changed in place, written back) keeps it
  live with the new bytes; a put of another value, a read of other bytes, a removal or an
  eviction ends it."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

public class DecodedCheck {
    static int decodes = 0;

    static String read(byte[] b) {
        decodes++;
        return b == null ? "none" : new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    static void show(String step, Object value) {
        System.out.println(step + " " + value + " " + decodes);
    }

    public static void main(String[] args) {
        Decoded d = new Decoded(2);
        byte[] a = {'a'};
        show("first", d.get("k", a, DecodedCheck::read));
        show("same_array", d.get("k", a, DecodedCheck::read));
        show("equal_copy", d.get("k", a.clone(), DecodedCheck::read));
        show("changed", d.get("k", new byte[] {'b'}, DecodedCheck::read));
        show("none", d.get("k", null, DecodedCheck::read));
        show("none_again", d.get("k", null, DecodedCheck::read));
        byte[] w = {'w'};
        d.put("k", w, "as written");
        show("after_put", d.get("k", w, DecodedCheck::read));
        d.get("x", new byte[] {'x'}, DecodedCheck::read);
        d.get("k", w, DecodedCheck::read);                     // k used after x
        d.get("y", new byte[] {'y'}, DecodedCheck::read);      // a third key: x goes, not k
        show("kept", d.get("k", w, DecodedCheck::read));
        show("evicted", d.get("x", new byte[] {'x'}, DecodedCheck::read));
        d.remove("k");
        show("removed", d.get("k", w, DecodedCheck::read));
        Decoded c = new Decoded(2);
        show("cached_none", c.cached("t"));
        c.get("t", null, DecodedCheck::read);                  // an absent entry is not kept
        show("cached_absent", c.cached("t"));
        c.get("t", new byte[] {'t'}, DecodedCheck::read);
        show("cached_read", c.cached("t"));
        c.put("t", new byte[] {'u'}, "put");
        show("cached_put", c.cached("t"));
        c.get("p", new byte[] {'p'}, DecodedCheck::read);
        c.get("q", new byte[] {'q'}, DecodedCheck::read);      // t least recently used: it goes
        show("cached_evicted", c.cached("t"));
        c.remove("q");
        show("cached_removed", c.cached("q"));
        Decoded e = new Decoded(2);
        show("entry_none", e.entry("k"));
        StringBuilder v = new StringBuilder("v1");
        Decoded.Value held = e.put("k", new byte[] {1}, v);
        show("entry_put", held.live + " " + (e.entry("k") == held));
        v.append("+");                                          // changed in place, written back
        byte[] again = {2};
        show("same_value", (e.put("k", again, v) == held) + " " + held.live);
        show("same_value_bytes", e.get("k", again, DecodedCheck::read));
        e.put("k", new byte[] {3}, "other");
        show("other_value", held.live);
        Decoded.Value read = e.put("r", new byte[] {'r'}, "r");
        e.get("r", new byte[] {'s'}, DecodedCheck::read);       // other bytes: decoded again
        show("other_bytes", read.live);
        Decoded.Value gone = e.entry("r");
        e.remove("r");
        show("entry_removed", gone.live + " " + e.entry("r"));
        Decoded.Value old = e.entry("k");
        e.put("a", new byte[] {'a'}, "a");
        e.put("b", new byte[] {'b'}, "b");                      // k least recently used: it goes
        show("entry_evicted", old.live + " " + e.entry("k"));
    }
}
"""


def test_a_value_is_used_again_only_for_the_bytes_it_stands_for(tmp_path):
    lines = run_java_check(tmp_path, "DecodedCheck", CHECK).splitlines()
    # step, the value got, decodes so far (worked out from the class's contract above)
    assert lines == [
        "first a 1",
        "same_array a 1",
        "equal_copy a 1",
        "changed b 2",
        "none none 3",
        "none_again none 4",
        "after_put as written 4",
        "kept as written 6",
        "evicted x 7",
        "removed w 8",
        "cached_none null 8",
        "cached_absent null 9",
        "cached_read t 10",
        "cached_put put 10",
        "cached_evicted null 12",
        "cached_removed null 12",
        "entry_none null 12",
        "entry_put true true 12",
        "same_value true true 12",
        "same_value_bytes v1+ 12",
        "other_value false 12",
        "other_bytes false 13",
        "entry_removed false null 13",
        "entry_evicted false null 13",
    ]


EPOCH_CHECK = r"""
package dev.nqlflink.udfs;

public class DecodedEpochCheck {
    static Decoded d = new Decoded(2);
    static long seen = d.epoch();

    static void step(String name) {
        long now = d.epoch();
        System.out.println(name + " " + (now == seen ? "same" : "changed"));
        seen = now;
    }

    public static void main(String[] args) {
        byte[] a = {'a'};
        d.get("k", a, b -> "A");
        step("first_read");
        d.get("k", a, b -> "A2");
        step("same_array");
        d.get("k", a.clone(), b -> "A3");
        step("equal_copy");
        d.get("n", null, b -> "absent");
        step("absent_read");
        Object kept = d.cached("k");
        d.put("k", new byte[] {'b'}, kept);
        step("same_value_written_back");
        d.put("k", new byte[] {'c'}, "other");
        step("other_value");
        d.get("k", new byte[] {'d'}, b -> "D");
        step("other_bytes");
        d.remove("nothing");
        step("remove_absent");
        d.remove("k");
        step("removed");
        d.put("x", new byte[] {'x'}, "x");
        step("added");
        d.put("y", new byte[] {'y'}, "y");
        d.get("x", new byte[] {'x'}, b -> "x");
        seen = d.epoch();
        d.cached("y");
        d.entry("x");
        step("looked_up");
        d.put("z", new byte[] {'z'}, "z");                   // y least recently used: dropped
        step("dropped");
    }
}
"""


def test_the_epoch_moves_whenever_a_kept_value_stops_being_the_one_kept(tmp_path):
    """What the windows function's judging of a tenant's shape (per monitor: the config version in
    force, its bound conditions, the groups' alert states) relies on to be used again without
    reading an entry: `epoch()` is unchanged by reads of the kept bytes (the same array or an
    equal copy), by a read of an absent entry, by writing back the kept value itself and by
    lookups; it moves when a value is added, replaced (another value, other bytes), removed or
    dropped beyond the capacity."""
    lines = run_java_check(tmp_path, "DecodedEpochCheck", EPOCH_CHECK).splitlines()
    assert lines == [
        "first_read changed",
        "same_array same",
        "equal_copy same",
        "absent_read same",
        "same_value_written_back same",
        "other_value changed",
        "other_bytes changed",
        "remove_absent same",
        "removed changed",
        "added changed",
        "looked_up same",
        "dropped changed",
    ]
