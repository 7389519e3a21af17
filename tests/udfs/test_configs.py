"""The monitor configs a windows function keeps (udfs/jvm Configs, docs/sharing.md "The configs
in the windows function"), called as the function calls it:

- a config's values survive the state's bytes: every field kind of the config record, NULLs
  inside its tags and params, a name beyond writeUTF's 64 KB, text that is not ASCII;
- the version read at a window's time is the newest taking effect at or before it; one of the
  same time replaces the earlier read (the later record wins, as in the deduplicated versioned
  view the config join read); a version is dropped only once a newer one is in force at the
  oldest time a window may still be evaluated at;
- the ROW type the function emits is the one the SQL declares for what it reads
  (translator/flink/monitor_config.py carried_type).

Versions (updated_at, priority): A 10:00 "low", B 10:05 "high", C 10:05 "critical" (read
after B), D 10:10 "medium".
  at 09:59: none; at 10:00 and 10:04:59.999: A; at 10:05: C (B replaced); at 10:10 and later: D
  D added with from = 10:06: C is in force at 10:06, so A goes and C stays: [C, D]
  D added with from = 10:10: D is in force from 10:10, so only [D] is left."""

from __future__ import annotations

from nql_flink.translator.flink import monitor_config
from tests.udfs.java_check import run_java_check

CHECK = r"""
package dev.nqlflink.udfs;

import org.apache.flink.types.Row;

import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class ConfigsCheck {
    static long at(String hhmmss) {
        return LocalTime.parse(hhmmss).toNanoOfDay() / 1_000_000L;
    }

    static Configs.Config config(String time, String priority) {
        Row row = Row.of("m1", true, priority, "n", null, null, 1L, null, "t", "r");
        return Configs.Config.of(at(time), row);
    }

    static String priorityAt(List<Configs.Config> versions, String time) {
        Configs.Config c = Versions.at(Configs.read(Configs.write(versions)), at(time));
        return c == null ? "none" : (String) c.row().getField(1);
    }

    static String priorities(List<Configs.Config> versions) {
        List<String> out = new ArrayList<>();
        for (Configs.Config c : versions) {
            out.add(c.row().getField(1) + "@" + LocalTime.ofNanoOfDay(c.time() * 1_000_000L));
        }
        return String.join(",", out);
    }

    public static void main(String[] args) {
        Map<String, Double> params = new LinkedHashMap<>();
        params.put("trigger_1", 300.0);
        params.put("recover_1", null);
        String longName = "x".repeat(70_000);
        Row row = Row.of("m1", false, "élevée", longName, new String[] {"VDI", null, "réseau"}, params, 300000L,
                         null, "avg_latency > 300ms", null);
        Configs.Config c = Configs.Config.of(42L, row);
        Row back = Configs.read(Configs.write(List.of(c))).get(0).row();
        System.out.println("arity " + back.getArity());
        System.out.println("enabled " + back.getField(0));
        System.out.println("priority " + back.getField(1));
        System.out.println("name " + ((String) back.getField(2)).length() + " " + longName.equals(back.getField(2)));
        System.out.println("tags " + Arrays.toString((String[]) back.getField(3)));
        System.out.println("params " + back.getField(4));
        System.out.println("for_ms " + back.getField(5) + " " + back.getField(5).getClass().getSimpleName());
        System.out.println("recover_for_ms " + back.getField(6));
        System.out.println("trigger " + back.getField(7));
        System.out.println("recover " + back.getField(8));
        System.out.println("empty " + Configs.read(null).size());

        List<Configs.Config> v = new ArrayList<>();
        v = Versions.add(v, config("10:00:00", "low"), Long.MIN_VALUE);
        v = Versions.add(v, config("10:05:00", "high"), Long.MIN_VALUE);
        v = Versions.add(v, config("10:05:00", "critical"), Long.MIN_VALUE);
        for (String t : new String[] {"09:59:00", "10:00:00", "10:04:59.999", "10:05:00", "10:10:00", "11:00:00"}) {
            System.out.println("at " + t + " " + priorityAt(Versions.add(v, config("10:10:00", "medium"), Long.MIN_VALUE), t));
        }
        System.out.println("kept from 10:06 " + priorities(Versions.add(v, config("10:10:00", "medium"), at("10:06:00"))));
        System.out.println("kept from 10:10 " + priorities(Versions.add(v, config("10:10:00", "medium"), at("10:10:00"))));
        System.out.println("type " + Configs.TYPE);
    }
}
"""


def test_configs_round_trip_and_version_choice(tmp_path):
    out = run_java_check(tmp_path, "ConfigsCheck", CHECK).splitlines()
    assert out[:11] == [
        "arity 9",
        "enabled false",
        "priority élevée",
        "name 70000 true",
        "tags [VDI, null, réseau]",
        "params {trigger_1=300.0, recover_1=null}",
        "for_ms 300000 Long",
        "recover_for_ms null",
        "trigger avg_latency > 300ms",
        "recover null",
        "empty 0",
    ]
    assert out[11:19] == [
        "at 09:59:00 none",
        "at 10:00:00 low",
        "at 10:04:59.999 low",
        "at 10:05:00 critical",
        "at 10:10:00 medium",
        "at 11:00:00 medium",
        "kept from 10:06 critical@10:05,medium@10:10",
        "kept from 10:10 medium@10:10",
    ]
    # the Java type of an evaluation's config is the SQL's, field for field (names unquoted)
    assert out[19] == "type " + monitor_config.carried_type().replace("`", "")
