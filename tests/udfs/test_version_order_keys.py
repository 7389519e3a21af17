"""udfs/jvm VersionOrder keys its waiting versions by their effective time as 20 zero-padded
digits (the keys sort as the times do, and the timer finds its due versions by that prefix).
The padding no longer goes through a Formatter: the keys must stay exactly those of
String.format("%020d", t), or versions waiting in a savepoint would never be found. Expected
keys are Python's formatting of the same times."""

from __future__ import annotations

from tests.udfs.java_check import run_java_check

TIMES = [0, 1, 999, 1764152400000, 9223372036854775807, -1, -1764152400000, -9223372036854775808]

CHECK = r"""
package dev.nqlflink.udfs;

public class VersionOrderKeysCheck {
    public static void main(String[] args) {
        for (String t : "@TIMES@".split(",")) {
            System.out.println(VersionOrder.padded(Long.parseLong(t)));
        }
    }
}
"""


def test_keys_are_the_times_padded_to_twenty_digits(tmp_path):
    source = CHECK.replace("@TIMES@", ",".join(map(str, TIMES)))
    out = run_java_check(tmp_path, "VersionOrderKeysCheck", source).splitlines()
    assert out == [f"{t:020d}" for t in TIMES]
