"""udfs/jvm ShapeState.forgetBuckets: a tenant's time buckets (a bucket's first record sets its
windows' timers) are dropped once their timers are past, and a window does not read the bucket
map to find there is nothing to drop. Checked without an engine, on the tenant's state views:

- the buckets at or before the bound go, the later ones stay;
- a bound of the buckets kept is held between calls (Tenants: what an instance keeps per tenant) and the buckets from it
  to the bound are removed by number: an older bucket added after a call is still dropped by the
  next, and so are buckets far behind the bound (the map read then);
- a new function instance (a restore: an empty cache) reads the buckets again and drops the old
  ones it finds there."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import java.util.*;
import org.apache.flink.table.api.dataview.ListView;
import org.apache.flink.table.api.dataview.MapView;

public class ForgetBucketsCheck {
    static ShapeState state(MapView<Long, Boolean> buckets, Tenants cache) {
        return new ShapeState(new ListView<>(), new MapView<>(), buckets, new MapView<>(), cache.get("acme"));
    }

    static void show(String step, MapView<Long, Boolean> buckets) throws Exception {
        System.out.println(step + " " + new TreeSet<Long>((Collection<Long>) toList(buckets.keys())));
    }

    static List<Long> toList(Iterable<Long> keys) {
        List<Long> out = new ArrayList<>();
        keys.forEach(out::add);
        return out;
    }

    public static void main(String[] args) throws Exception {
        MapView<Long, Boolean> buckets = new MapView<>();
        Tenants cache = new Tenants();
        ShapeState s = state(buckets, cache);
        for (long b = 1; b <= 5; b++) {
            s.addBucket(b);
        }
        s.forgetBuckets(2);
        show("forgot_to_2", buckets);
        s.forgetBuckets(2);
        show("again", buckets);
        s.addBucket(0);                 // older than every kept one
        s.forgetBuckets(2);
        show("older_added", buckets);
        s.addBucket(6);
        s.forgetBuckets(4);
        show("forgot_to_4", buckets);
        // a restore: the same state, a new instance's empty cache
        buckets.put(1L, Boolean.TRUE);
        ShapeState restored = state(buckets, new Tenants());
        restored.forgetBuckets(4);
        show("restored", buckets);
        restored.forgetBuckets(6);
        show("all_past", buckets);
        restored.addBucket(9);
        restored.forgetBuckets(8);
        show("after_empty", buckets);
        restored.addBucket(100);
        restored.addBucket(300);
        restored.forgetBuckets(200);    // 9 .. 200: more than removed by number
        show("far_behind", buckets);
    }
}
"""


def test_buckets_whose_timers_are_past_are_dropped(tmp_path):
    lines = run_java_check(tmp_path, "ForgetBucketsCheck", CHECK).splitlines()
    assert lines == [
        "forgot_to_2 [3, 4, 5]",
        "again [3, 4, 5]",
        "older_added [3, 4, 5]",
        "forgot_to_4 [5, 6]",
        "restored [5, 6]",
        "all_past []",
        "after_empty [9]",
        "far_behind [300]",
    ]
