"""udfs/jvm RunningWindow.Cache: the tenants' running windows and strings kept between calls of
the windows function, bounded whatever the number of tenants and of values. Checked without an
engine:

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
        RunningWindow.Cache c = new RunningWindow.Cache();
        Map<String, String> a = c.strings("a");
        a.put("x", "x");
        System.out.println("same_map " + (c.strings("a") == a) + " " + c.strings("a").get("x"));

        // no windows: emptied once past 4,096
        a.clear();
        fill(a, 4095);
        System.out.print("bound " + c.strings("a").size());
        fill(a, 4097);
        System.out.println(" " + c.strings("a").size());

        // a window counting 2,000 values: kept up to 4 x 2,000 = 8,000
        c.put("a", "shape", holding(2000));
        fill(a, 8000);
        System.out.print("spare " + c.strings("a").size());
        fill(a, 8001);
        System.out.println(" " + c.strings("a").size());

        // 10,000 in all: "a" (1 tenant + 1 window) and 4,999 tenants of 1 window each; "t0" with a string
        c.strings("a").put("kept", "kept");
        for (int i = 0; i < 4999; i++) {
            c.put("t" + i, "shape", holding(1));
            if (i == 0) {
                c.strings("t0").put("y", "y");
            }
        }
        // "a" used now: the least recently used is "t0"
        System.out.println("full " + (c.get("a", "shape") != null) + " " + c.strings("a").get("kept"));
        c.put("new", "shape", holding(1));
        // "t0" went, with its strings; asked for again, it comes back empty and "t1" goes
        System.out.println("evicted " + (c.get("t0", "shape") != null) + " " + c.strings("t0").get("y") + " "
                           + (c.get("t1", "shape") != null) + " " + (c.get("t2", "shape") != null) + " "
                           + c.strings("a").get("kept"));
    }
}
"""


def test_the_cache_is_bounded_and_keeps_what_is_in_use(tmp_path):
    lines = run_java_check(tmp_path, "RunningCacheCheck", CHECK).splitlines()
    assert lines == [
        "same_map true x",
        "bound 4095 0",
        "spare 8000 0",
        "full true kept",
        # "new" makes the least recently used go ("t0"); "t0" asked for again makes "t1" go
        "evicted false null false true kept",
    ]
