"""udfs/jvm GroupAlert: one group's alert state machine, run by the job's alert state function
(its state a Flink row) and by the windows function for the monitors it judges (its groups'
states coded in one state entry per monitor). Checked without an engine:

- a walk through the state machine worked out by hand from spec/monitors.md "Semantics"
  (every 30 s, `for: 1min`, recovery for 0): the transitions and what the state topic shows,
  the same whether the state lives in the object or goes through AlertStates' row at each step;
- the alert id, against sha256 of the JSON text computed here (not by the program);
- the state entry's coding reads back what it wrote, for every status, absent times and a
  group key outside ASCII."""

from __future__ import annotations

import hashlib
import json

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import org.apache.flink.types.Row;
import java.util.LinkedHashMap;
import java.util.Map;

public class GroupAlertCheck {
    static String text(Row r) {
        if (r == null) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < r.getArity(); i++) {
            Object v = r.getField(i);
            b.append(i == 0 ? "" : " ").append(v == null ? "null" : v instanceof String && ((String) v).length() == 32 ? "id" : v);
        }
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        long[] ts = {30_000, 60_000, 90_000, 120_000, 180_000, 210_000};
        Boolean[] trig = {true, true, true, true, false, null};
        Boolean[] rec = {false, false, false, false, true, null};
        GroupAlert kept = new GroupAlert();
        Row row = Row.withNames();
        for (String f : new String[] {"status", "last_t", "streak", "alert_id", "trigger_at", "shown", "shown_since",
                                      "shown_due", "evict_due", "timer_at", "checked_t"}) {
            row.setField(f, null);
        }
        for (int i = 0; i < ts.length; i++) {
            Row a = kept.step(ts[i], trig[i], rec[i], 60_000L, 0L, 30_000, "t", "m", "g");
            Row s = kept.show(ts[i], 60_000L, 0L);
            GroupAlert viaRow = GroupAlert.of(row);
            Row a2 = viaRow.step(ts[i], trig[i], rec[i], 60_000L, 0L, 30_000, "t", "m", "g");
            Row s2 = viaRow.show(ts[i], 60_000L, 0L);
            viaRow.into(row);
            if (!text(a).equals(text(a2)) || !text(s).equals(text(s2)) || !viaRow.equals(kept)) {
                throw new AssertionError("the row's state differs at " + ts[i]);
            }
            System.out.println(ts[i] / 1000 + " | " + text(a) + " | " + text(s));
            if (a != null && "triggered".equals(a.getField(1))) {
                System.out.println("id " + a.getField(2));
            }
        }
        Map<String, GroupAlert> groups = new LinkedHashMap<>();
        groups.put("{\"pool\":\"Zürich 日本\"}", kept);
        GroupAlert pending = new GroupAlert();
        pending.step(30_000, true, null, 60_000L, 0L, 30_000, "t", "m", "p");
        pending.show(30_000, 60_000L, 0L);
        groups.put("{\"pool\":\"p\"}", pending);
        GroupAlert open = new GroupAlert();
        open.step(30_000, true, null, 0L, 60_000L, 30_000, "t", "m", "o");
        open.step(60_000, false, true, 0L, 60_000L, 30_000, "t", "m", "o");
        open.show(60_000, 0L, 60_000L);
        groups.put("{}", open);
        groups.put("", new GroupAlert());
        Map<String, GroupAlert> back = GroupAlert.read(GroupAlert.write(groups));
        System.out.println(back.equals(groups) && back.keySet().toString().equals(groups.keySet().toString())
                           ? "round trip" : "differs: " + back.keySet());
        System.out.println(open.status + " " + open.shown + " " + pending.shown);
        System.out.println(GroupAlert.read(null).isEmpty() ? "none" : "some");
    }
}
"""

T = "1970-01-01T00:"


def test_the_state_machine_walks_as_worked_out_and_its_states_code_back(tmp_path):
    lines = run_java_check(tmp_path, "GroupAlertCheck", CHECK).splitlines()
    want_id = hashlib.sha256(json.dumps(["t", "m", "g", 90000], separators=(",", ":")).encode()).hexdigest()[:32]
    assert lines == [
        # pending from the first evaluation, due since + for
        f"30 | - | state pending null {T}00:30 {T}00:30 {T}01:30",
        f"60 | - | state pending null {T}01 {T}00:30 {T}01:30",
        # held at every evaluation for 1 min: triggered, since the run's start
        f"90 | alert triggered id {T}01:30 {T}00:30 null | state triggered id {T}01:30 {T}01:30 null",
        f"id {want_id}",
        # still breaching: nothing new to show
        "120 | - | -",
        # an evaluation missing (150 s) does not matter to a recovery `for` of 0: recovered at once
        f"180 | alert recovered id {T}03 {T}03 null | state ok null {T}03 {T}03 null",
        "210 | - | -",
        "round trip",
        # `open`: triggered at once (for 0), recovering from 60 s (recover for 1 min); `pending`
        "triggered recovering pending",
        "none",
    ]
