"""InventoryWindows forgets a device whose newest inventory version took effect more than the
spec's `forget` (the job's --evict-after) before the oldest record the tenant may still bring
(`from`: the watermark less the lag bound and the longest window), swept on the tenant's
inventory rows once the watermark reaches the sweep due a quarter of `forget` after the last
(docs/guarantees.md, "Bounded state"). Called as the function calls it, on a MapView.

forget = 10 min; versions (newest last): d1 10:00:00; d2 09:00:00, 10:09:00; d3 10:05:00.
  1st call, watermark 10:14:00, from 10:12:00: no sweep yet, the next one due at 10:16:30
  2nd call, watermark 10:16:00 (< 10:16:30): nothing
  3rd call, watermark 10:16:30, from 10:14:30 (cut-off 10:04:30): d1 gone (10:00:00), d2 and d3
     stay; next due 10:19:00
  4th call, watermark 10:19:00, from 10:15:00 (cut-off 10:05:00): d3 (10:05:00) is not older
     than the cut-off: stays
  forget = 0: never swept, nothing written
The spec's table segment carries it: `forget=600000` parses to 600000, none to 0."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import org.apache.flink.table.api.dataview.MapView;

import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

public class ForgetCheck {
    static long at(String hhmmss) {
        return LocalTime.parse(hhmmss).toSecondOfDay() * 1000L;
    }

    static byte[] versions(String... times) {
        List<Versions.Version> out = new ArrayList<>();
        for (String t : times) {
            out.add(new Versions.Version(at(t), new String[] {"g"}, null));
        }
        return Versions.write(out);
    }

    static String state(MapView<String, String> meta, MapView<String, byte[]> versions) throws Exception {
        String due = meta.get("sweep");
        TreeSet<String> devices = new TreeSet<>();
        for (String d : versions.keys()) {
            devices.add(d);
        }
        return devices + " " + (due == null ? "-" : LocalTime.ofSecondOfDay(Long.parseLong(due) / 1000));
    }

    public static void main(String[] args) throws Exception {
        MapView<String, String> meta = new MapView<>();
        MapView<String, byte[]> v = new MapView<>();
        v.put("d1", versions("10:00:00"));
        v.put("d2", versions("09:00:00", "10:09:00"));
        v.put("d3", versions("10:05:00"));
        long forget = 600_000;
        InventoryWindows.forget(forget, at("10:12:00"), at("10:14:00"), meta, v);
        System.out.println(state(meta, v));
        InventoryWindows.forget(forget, at("10:14:00"), at("10:16:00"), meta, v);
        System.out.println(state(meta, v));
        InventoryWindows.forget(forget, at("10:14:30"), at("10:16:30"), meta, v);
        System.out.println(state(meta, v));
        InventoryWindows.forget(forget, at("10:15:00"), at("10:19:00"), meta, v);
        System.out.println(state(meta, v));
        MapView<String, String> never = new MapView<>();
        MapView<String, byte[]> kept = new MapView<>();
        kept.put("d1", versions("00:00:01"));
        InventoryWindows.forget(0, at("23:00:00"), at("23:00:00"), never, kept);
        InventoryWindows.forget(0, at("23:59:00"), at("23:59:00"), never, kept);
        System.out.println(state(never, kept));
        System.out.println(Shapes.parse("lag=1;idle=1;late=1;forget=600000;inv=abc").forget + " "
                + Shapes.parse("lag=1;idle=1").forget);
    }
}
"""


def test_a_device_without_a_new_version_for_forget_is_forgotten(tmp_path):
    assert run_java_check(tmp_path, "ForgetCheck", CHECK).splitlines() == [
        "[d1, d2, d3] 10:16:30",
        "[d1, d2, d3] 10:16:30",
        "[d2, d3] 10:19",
        "[d2, d3] 10:21:30",
        "[d1] -",
        "600000 0",
    ]
