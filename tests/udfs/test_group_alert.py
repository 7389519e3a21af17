"""udfs/jvm GroupAlert: one group's alert state machine, run by the job's alert state function
(its state a Flink row) and by the windows function for the monitors it judges (its groups'
states in columns, GroupAlerts, coded in one state entry per monitor). Checked without an engine:

- a walk through the state machine worked out by hand from spec/monitors.md "Semantics"
  (every 30 s, `for: 1min`, recovery for 0): the transitions and what the state topic shows,
  the same whether the state lives in the object or goes through AlertStates' row at each step;
- the alert id, against sha256 of the JSON text computed here (not by the program);
- the state entry's coding reads back what it wrote, for every status, absent times and a
  group key outside ASCII; a group whose last evaluation is the newest window end of the shape
  the entry follows reads as that shape's end when read (the end written if the shape is not
  known), and an entry needs writing again only when a group changed, was added, or stopped
  following (expected values worked out by hand); the coding before (1) is still read, and an
  entry of coding 2 written byte by byte here as the windows function wrote it before its alert
  states were held in columns reads back and is written again as the same bytes;
- a group is steady (an evaluation whose condition does not hold changes only its time, so the
  windows function does not step it) exactly when no run is going on and the topic shows its
  state, along the same walk, worked out by hand;
- GroupAlerts finds each group by its slot after groups are added past its first size and
  after some are removed (eviction), the others keeping their order."""

from __future__ import annotations

import hashlib
import json

from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import org.apache.flink.types.Row;

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
        GroupAlerts groups = new GroupAlerts();
        put(groups, "{\"pool\":\"Zürich 日本\"}", kept);
        GroupAlert pending = new GroupAlert();
        pending.step(30_000, true, null, 60_000L, 0L, 30_000, "t", "m", "p");
        pending.show(30_000, 60_000L, 0L);
        put(groups, "{\"pool\":\"p\"}", pending);
        GroupAlert open = new GroupAlert();
        open.step(30_000, true, null, 0L, 60_000L, 30_000, "t", "m", "o");
        open.step(60_000, false, true, 0L, 60_000L, 30_000, "t", "m", "o");
        open.show(60_000, 0L, 60_000L);
        put(groups, "{}", open);
        groups.add("");     // a group never evaluated
        GroupAlerts back = GroupAlerts.read(groups.write(null, GroupAlert.NONE), s -> 0);
        System.out.println(same(back, groups) ? "round trip" : "differs");
        System.out.println(open.status + " " + open.shown + " " + pending.shown);
        System.out.println(GroupAlerts.read(null, s -> 0).isEmpty() ? "none" : "some");

        // written following 60 s of shape s: `open` (last 60 s) follows it, the others keep their times
        byte[] following = groups.write("s", 60_000);
        System.out.println("followed " + GroupAlerts.followedShape(following));
        System.out.println("later " + lasts(GroupAlerts.read(following, s -> s.equals("s") ? 150_000 : GroupAlert.NONE)));
        System.out.println("unknown " + lasts(GroupAlerts.read(following, s -> GroupAlert.NONE)));
        GroupAlerts m = GroupAlerts.read(following, s -> 60_000);
        System.out.println("as read " + m.unchanged("s", 60_000));
        set(m, "{}", g -> g.last = 90_000);      // evaluated in the next window, nothing else changed
        System.out.println("next window " + m.unchanged("s", 90_000) + " " + m.unchanged("t", 90_000));
        System.out.println("not evaluated " + m.unchanged("s", 120_000));
        set(m, "{\"pool\":\"p\"}", g -> g.streak = 60_000);
        System.out.println("streak " + m.unchanged("s", 90_000));
        byte[] again = m.write("s", 90_000);
        System.out.println("written " + m.unchanged("s", 90_000) + " " + lasts(GroupAlerts.read(again, s -> 90_000)));
        m.add("new");
        System.out.println("added " + m.unchanged("s", 90_000));

        // the coding before (1): no shape nor end, each time as itself
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeByte(1);
        out.writeInt(1);
        triggeredGroup(out, 90_000);
        GroupAlerts olds = GroupAlerts.read(bytes.toByteArray(), s -> 999_000);
        GroupAlert old = new GroupAlert();
        olds.load(olds.find("g"), old);
        System.out.println("coding 1 " + old.status + " " + old.last + " " + old.streak + " " + old.triggerAt + " "
                           + old.alertId + " " + old.shown + " " + old.shownSince + " " + old.shownDue);

        // coding 2 as the windows function wrote it before the columns (a savepoint's entry): one
        // triggered group following shape s's end 60 s; read back, then written for that end again
        java.io.ByteArrayOutputStream two = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream o2 = new java.io.DataOutputStream(two);
        o2.writeByte(2);
        o2.writeUTF("s");
        o2.writeLong(60_000);
        o2.writeInt(1);
        triggeredGroup(o2, Long.MIN_VALUE + 1);    // its time: follows
        byte[] saved = two.toByteArray();
        GroupAlerts fromSaved = GroupAlerts.read(saved, s -> 90_000);
        GroupAlert g2 = new GroupAlert();
        fromSaved.load(0, g2);
        System.out.println("coding 2 " + fromSaved.name(0) + " " + g2.status + " " + g2.last + " " + g2.alertId + " "
                           + g2.shown + " " + java.util.Arrays.equals(GroupAlerts.read(saved, s -> 60_000).write("s", 60_000), saved));

        // the walk again in a slot: where an evaluation whose condition does not hold changes only its time
        GroupAlerts walked = new GroupAlerts();
        int at = walked.add("g");
        GroupAlert w = new GroupAlert();
        StringBuilder steady = new StringBuilder("steady");
        for (int i = 0; i < ts.length; i++) {
            w.step(ts[i], trig[i], rec[i], 60_000L, 0L, 30_000, "t", "m", "g");
            w.show(ts[i], 60_000L, 0L);
            walked.store(at, w);
            steady.append(' ').append(walked.steady(at));
        }
        walked.evaluated(at, 240_000);
        walked.evaluated(at, 120_000);
        System.out.println(steady + " new " + walked.steady(walked.add("h")) + " evaluated " + walked.last(at) / 1000);

        // 100 groups (past the first size), every third removed: the others found, in their order
        GroupAlerts many = new GroupAlerts();
        for (int i = 0; i < 100; i++) {
            many.add("g" + i);
        }
        boolean[] gone = new boolean[100];
        for (int i = 0; i < 100; i += 3) {
            gone[i] = true;
        }
        many.write("s", 30_000);
        many.remove(gone);
        System.out.println("evicted " + many.size() + " " + many.find("g0") + " " + many.find("g1") + " "
                           + many.find("g2") + " " + many.find("g4") + " " + many.find("g98") + " " + many.find("g99")
                           + " " + many.name(2) + " " + many.unchanged("s", 30_000) + " " + many.add("g0"));
    }

    /**
     * One group of an entry in the fields' order of both codings: "g", triggered at 30 s (alert
     * "abc", shown triggered since 30 s, no streak, nothing due), last evaluated at {@code last}.
     */
    static void triggeredGroup(java.io.DataOutputStream out, long last) throws java.io.IOException {
        out.writeUTF("g");
        out.writeByte(1);
        out.writeLong(last);
        out.writeLong(Long.MIN_VALUE);
        out.writeLong(30_000);
        out.writeUTF("abc");
        out.writeByte(3);
        out.writeLong(30_000);
        out.writeLong(Long.MIN_VALUE);
    }

    static void put(GroupAlerts groups, String name, GroupAlert g) {
        groups.store(groups.add(name), g);
    }

    static void set(GroupAlerts groups, String name, java.util.function.Consumer<GroupAlert> change) {
        int slot = groups.find(name);
        GroupAlert g = new GroupAlert();
        groups.load(slot, g);
        change.accept(g);
        groups.store(slot, g);
    }

    static boolean same(GroupAlerts a, GroupAlerts b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            GroupAlert x = new GroupAlert();
            GroupAlert y = new GroupAlert();
            a.load(i, x);
            b.load(i, y);
            if (!a.name(i).equals(b.name(i)) || !x.equals(y)) {
                return false;
            }
        }
        return true;
    }

    static String lasts(GroupAlerts groups) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < groups.size(); i++) {
            long last = groups.last(i);
            b.append(b.length() == 0 ? "" : ",").append(last == GroupAlert.NONE ? "none" : Long.toString(last / 1000));
        }
        return b.toString();
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
        "followed s",
        # lasts of kept (210 s), pending (30 s), open (60 s: follows) and the new group (none)
        "later 210,30,150,none",
        "unknown 210,30,60,none",       # a shape not known: the end written
        "as read true",
        "next window true false",       # followed by another shape: written
        "not evaluated false",          # open no longer at the newest end
        "streak false",
        "written true 210,30,90,none",
        "added false",
        f"coding 1 triggered 90000 {-2**63} 30000 abc triggered 30000 {-2**63}",
        # its time follows shape s, now at 90 s; written for 60 s again: the very bytes read
        "coding 2 g triggered 90000 abc triggered true",
        # a run going on (30, 60 s: pending) is not steady; triggered and shown so (90, 120 s), ok and
        # shown so (180, 210 s) are; a group never shown is not; a later time is kept, an earlier not
        "steady false false true true true true new false evaluated 240",
        # 66 left (0, 3, .., 99 gone): g1 first, g98 last; a removal needs the entry written again;
        # a group added back takes the next slot
        "evicted 66 -1 0 1 2 65 -1 g4 false 66",
    ]
