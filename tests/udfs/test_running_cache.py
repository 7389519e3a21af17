"""udfs/jvm Tenants: what the windows function keeps per tenant between calls (its running
windows, dictionary of strings, decoded clock), bounded whatever the number of tenants and of
values. Checked without an engine:

- a tenant's clock is decoded once while its stored bytes are the same (an equal copy included),
  again when they differ; a spec change (clear) forgets it;

- a tenant's dictionary is one while the tenant is kept: a string numbered there keeps its id,
  and another instance of it gets the same id and instance;
- beyond 4,096 strings and 4 times the values its running windows count, the next fold's call
  replaces it with an empty one and drops the running windows (they hold its ids); within that
  bound it stays, and so do they;
- beyond 10,000 windows and tenants the least recently used tenants go, with their windows and
  dictionary, never the tenant being served; a tenant used again is kept over older ones."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;

public class RunningCacheCheck {
    /** The ids of every slice and running window here (RunningWindow takes slices of its own dictionary only). */
    static final Dictionary DICT = new Dictionary();
    static final WindowSpec SPEC = WindowSpec.parseShape("size=60000;slide=30000;aggs=distinct:s0");

    /** A running window holding one slice of one group with `n` distinct values. */
    static RunningWindow holding(int n) {
        ShapeState.Slice slice = new ShapeState.Slice(SPEC, DICT);
        for (int i = 0; i < n; i++) {
            slice.add("{}", null, null, new String[] {"v" + i}, 0);
        }
        RunningWindow w = new RunningWindow(SPEC, 0, DICT);
        w.add(30000, slice);
        return w;
    }

    static void fill(Dictionary d, int n) {
        for (int i = 0; i < n; i++) {
            d.id("s" + i);
        }
    }

    public static void main(String[] args) {
        Tenants c = new Tenants();
        int[] reads = {0};
        java.util.function.Function<byte[], TenantClock> read = b -> { reads[0]++; return TenantClock.read(b); };
        byte[] stored = TenantClock.read(null).write();
        TenantClock first = c.get(new String("a")).clock(stored, read);
        boolean same = c.get(new String("a")).clock(stored.clone(), read) == first;
        TenantClock later = TenantClock.read(null);
        later.tick(5000);
        c.get(new String("a")).clock(later.write(), read);
        c.clear();
        c.get("a").clock(stored, read);
        System.out.println("clock " + same + " " + reads[0]);

        Dictionary a = c.get("a").dictionary();
        int x = a.id("x");
        String other = new String("x");
        System.out.println("same_dictionary " + (c.get("a").trimmedDictionary() == a) + " " + x + " "
                           + a.id(other) + " " + (a.string(a.id(other)) == a.string(x)));

        // no windows: replaced once past 4,096 ("x" and s0 .. s4094: 4,096)
        fill(a, 4095);
        System.out.print("bound " + c.get("a").trimmedDictionary().size());
        fill(a, 4096);
        System.out.println(" " + c.get("a").trimmedDictionary().size() + " " + (c.get("a").dictionary() != a));

        // a window counting 2,000 values: kept up to 4 x 2,000 = 8,000, then dropped with it
        c.get("a").keepWindow("shape", holding(2000));
        Dictionary b = c.get("a").dictionary();
        fill(b, 8000);
        System.out.print("spare " + c.get("a").trimmedDictionary().size() + " " + (c.get("a").window("shape") != null));
        fill(b, 8001);
        System.out.println(" " + c.get("a").trimmedDictionary().size() + " " + (c.get("a").window("shape") != null));

        // 10,000 in all: "a" (1 tenant + 1 window) and 4,999 tenants of 1 window each; "t0" with a string
        c.get("a").keepWindow("shape", holding(1));
        c.get("a").dictionary().id("kept");
        for (int i = 0; i < 4999; i++) {
            c.get("t" + i).keepWindow("shape", holding(1));
            if (i == 0) {
                c.get("t0").dictionary().id("y");
            }
        }
        // "a" used now: the least recently used is "t0"
        System.out.println("full " + (c.get("a").window("shape") != null) + " " + c.get("a").dictionary().size());
        c.get("new").keepWindow("shape", holding(1));
        // "t0" went, with its dictionary; asked for again, it comes back empty and "t1" goes
        System.out.println("evicted " + (c.get("t0").window("shape") != null) + " " + c.get("t0").dictionary().size()
                           + " " + (c.get("t1").window("shape") != null) + " " + (c.get("t2").window("shape") != null)
                           + " " + c.get("a").dictionary().size());
    }
}
"""


def test_the_cache_is_bounded_and_keeps_what_is_in_use(tmp_path):
    lines = run_java_check(tmp_path, "RunningCacheCheck", CHECK).splitlines()
    assert lines == [
        # decoded: the first bytes, the other bytes, the first bytes again after clear
        "clock true 3",
        # "x" numbered 0; another instance of it: the same id and instance
        "same_dictionary true 0 0 true",
        # 4,096 kept, 4,097 replaced by an empty one
        "bound 4096 0 true",
        # 8,000 kept with the window; 8,001 replaced, the window dropped
        "spare 8000 true 0 false",
        "full true 1",
        # "new" makes the least recently used go ("t0"); "t0" asked for again makes "t1" go
        "evicted false 0 false true 1",
    ]
