"""udfs/jvm Tenants: what the windows function keeps per tenant between calls (its running
windows, strings, decoded clock), bounded whatever the number of tenants and of values. Checked
without an engine:

- a tenant's clock is decoded once while its stored bytes are the same (an equal copy included),
  again when they differ; a spec change (clear) forgets it;

- a tenant's strings are one map while the tenant is kept: a string put there is found again;
- beyond 4,096 strings and 4 times the values its running windows count, they are emptied at the
  next fold's call (ids seen once do not pile up); within that bound they stay;
- beyond 10,000 windows and tenants the least recently used tenants go, with their windows and
  strings, never the tenant being served; a tenant used again is kept over older ones."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;

public class RunningCacheCheck {
    static final WindowSpec SPEC = WindowSpec.parseShape("size=60000;slide=30000;aggs=distinct:s0");

    /** A running window holding one slice of one group with `n` distinct values. */
    static RunningWindow holding(int n) {
        ShapeState.Slice slice = new ShapeState.Slice(SPEC);
        for (int i = 0; i < n; i++) {
            slice.add("{}", null, null, new String[] {"v" + i}, 0);
        }
        RunningWindow w = new RunningWindow(SPEC, 0);
        w.add(30000, slice);
        return w;
    }

    static void fill(Map<String, String> strings, int n) {
        for (int i = 0; i < n; i++) {
            String s = "s" + i;
            strings.put(s, s);
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

        Map<String, String> a = c.get("a").strings();
        a.put("x", "x");
        System.out.println("same_map " + (c.get("a").strings() == a) + " " + c.get("a").strings().get("x"));

        // no windows: emptied once past 4,096
        a.clear();
        fill(a, 4095);
        System.out.print("bound " + c.get("a").strings().size());
        fill(a, 4097);
        System.out.println(" " + c.get("a").strings().size());

        // a window counting 2,000 values: kept up to 4 x 2,000 = 8,000
        c.get("a").keepWindow("shape", holding(2000));
        fill(a, 8000);
        System.out.print("spare " + c.get("a").strings().size());
        fill(a, 8001);
        System.out.println(" " + c.get("a").strings().size());

        // 10,000 in all: "a" (1 tenant + 1 window) and 4,999 tenants of 1 window each; "t0" with a string
        c.get("a").strings().put("kept", "kept");
        for (int i = 0; i < 4999; i++) {
            c.get("t" + i).keepWindow("shape", holding(1));
            if (i == 0) {
                c.get("t0").strings().put("y", "y");
            }
        }
        // "a" used now: the least recently used is "t0"
        System.out.println("full " + (c.get("a").window("shape") != null) + " " + c.get("a").strings().get("kept"));
        c.get("new").keepWindow("shape", holding(1));
        // "t0" went, with its strings; asked for again, it comes back empty and "t1" goes
        System.out.println("evicted " + (c.get("t0").window("shape") != null) + " " + c.get("t0").strings().get("y") + " "
                           + (c.get("t1").window("shape") != null) + " " + (c.get("t2").window("shape") != null) + " "
                           + c.get("a").strings().get("kept"));
    }
}
"""


def test_the_cache_is_bounded_and_keeps_what_is_in_use(tmp_path):
    lines = run_java_check(tmp_path, "RunningCacheCheck", CHECK).splitlines()
    assert lines == [
        # decoded: the first bytes, the other bytes, the first bytes again after clear
        "clock true 3",
        "same_map true x",
        "bound 4095 0",
        "spare 8000 0",
        "full true kept",
        # "new" makes the least recently used go ("t0"); "t0" asked for again makes "t1" go
        "evicted false null false true kept",
    ]
