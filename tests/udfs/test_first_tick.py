"""udfs/jvm FirstTick (nql_first_tick): the ticks' window aggregation gets the first accepted
record ahead of the watermark of each 30 s tick, so it sees a tick exactly when it saw one with
every record. Checked without an engine on a sequence worked out by hand: what it passes, and
that it forgets a tick only once the watermark has passed the tick's end (its memory stays the
ticks ahead of the watermark)."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

# (ts s, watermark s or None, accepted) -> passed, ticks remembered after the call
STEPS = [
    ((10, None, True), (True, 1)),     # tick 0's first record
    ((20, None, True), (False, 1)),    # tick 0 again
    ((40, 5, True), (True, 2)),        # tick 1's first
    ((25, 15, True), (False, 2)),      # tick 0, ahead of the watermark, but seen
    ((35, 30, False), (False, 2)),     # rejected record: counted by no tick
    ((15, 20, True), (False, 2)),      # behind the watermark
    ((50, 49, True), (False, 1)),      # tick 1 seen; tick 0 ended before 49 s: forgotten
    ((70, 61, True), (True, 1)),       # tick 2's first; tick 1 ended before 61 s: forgotten
    ((45, 61, True), (False, 1)),      # tick 1's record, behind the watermark
    ((95, 65, True), (True, 2)),       # tick 3
    ((75, 65, True), (False, 2)),      # tick 2 still remembered (ends at 90 s)
    ((130, 125, True), (True, 1)),     # tick 4; ticks 2 and 3 forgotten
]

CHECK = r"""
package dev.nqlflink.udfs;

import org.apache.flink.table.data.TimestampData;

public class FirstTickCheck {
    public static void main(String[] args) {
        FirstTick f = new FirstTick();
        f.open(null);
        for (String step : "@STEPS@".split(";")) {
            String[] p = step.split(",");
            TimestampData ts = TimestampData.fromEpochMillis(Long.parseLong(p[0]) * 1000);
            TimestampData wm = p[1].equals("-") ? null : TimestampData.fromEpochMillis(Long.parseLong(p[1]) * 1000);
            Boolean passed = f.eval(ts, wm, Boolean.parseBoolean(p[2]), 30_000L);
            System.out.println(passed + " " + f.remembered());
        }
    }
}
"""


def test_each_ticks_first_record_ahead_of_the_watermark_passes_once(tmp_path):
    steps = ";".join(f"{ts},{'-' if wm is None else wm},{str(acc).lower()}" for (ts, wm, acc), _ in STEPS)
    out = run_java_check(tmp_path, "FirstTickCheck", CHECK.replace("@STEPS@", steps)).splitlines()
    assert out == [f"{str(passed).lower()} {n}" for _, (passed, n) in STEPS]
