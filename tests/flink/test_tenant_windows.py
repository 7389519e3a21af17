"""The per-tenant windows function (udfs/jvm, TenantWindows) against Flink's own HOP window
and built-in aggregates, on the engine: the same rows through both, every aggregate kind the
code generator maps to it compared value for value, per tenant, group and window.

Rows: 2 tenants, 3 groups (and rows whose group is NULL: rows a monitor's filters reject, which
count for the population only), 6 devices, a numeric and a string input with NULLs, one row
per second for 8 minutes in event-time order (a seeded generator); windows of 2 minutes every
30 s. The expected column is Flink's: COUNT, SUM, AVG, MIN, MAX, PERCENTILE (linear
interpolation), COUNT(DISTINCT), MIN/MAX of strings, and COUNT(DISTINCT device) over all the
tenant's rows for the population. `last` has no built-in to compare with (LAST_VALUE cannot
run in a HOP window: it has no merge), so it is computed here from the rows: the newest
non-NULL value of the window.
"""
from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta

import pytest

pytestmark = pytest.mark.flink

AGGS = ["count:n0", "sum:n0", "avg:n0", "min:n0", "max:n0", "pct:n0:0.9", "pct:n0:0.25", "distinct:s0",
        "last:n0", "smin:s0", "smax:s0", "slast:s0"]
SPEC = f"size=120000;slide=30000;lag=600000;idle=60000;pop=1;aggs={','.join(AGGS)}"
BUILTIN = ["CAST(COUNT(v) AS DOUBLE)", "SUM(v)", "AVG(v)", "MIN(v)", "MAX(v)", "PERCENTILE(v, 0.9)",
           "PERCENTILE(v, 0.25)", "CAST(COUNT(DISTINCT s) AS DOUBLE)"]
BUILTIN_STRINGS = ["MIN(s)", "MAX(s)"]


def rows() -> list[dict]:
    rnd = random.Random(11)
    t0 = datetime(2026, 11, 26, 10, 0, 0)
    out = []
    for i in range(8 * 60):
        for tenant in ("acme", "globex"):
            if rnd.random() < 0.3:
                continue
            v = None if rnd.random() < 0.1 else round(rnd.uniform(0, 500), 3)
            s = None if rnd.random() < 0.1 else rnd.choice(["alpha", "beta", "gamma", "delta", "é-ü", ""])
            grp = None if rnd.random() < 0.15 else rnd.choice(["g1", "g2", "g3"])
            ts = t0 + timedelta(seconds=i, milliseconds=1 if tenant == "globex" else 0)
            out.append({"tenant": tenant, "ts": ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], "grp": grp,
                        "device": f"d{rnd.randrange(6)}", "v": v, "s": s})
    return out


def windows_input(t, name: str, path, strings: list[str]) -> None:
    """<name>_src over the JSON rows at path (tenant, ts, grp, device, v and the string columns),
    <name>_input: its rows as the windows function reads them (no ticks, one partition), and
    the windows function tw_windows."""
    from nql_flink.translator.flink.codegen import WINDOWS_FUNCTION_CLASS

    columns = "".join(f"{c} STRING, " for c in strings)
    t.execute_sql(f"""CREATE TEMPORARY TABLE {name}_src (tenant STRING, ts TIMESTAMP(3), grp STRING, device STRING,
        v DOUBLE, {columns}WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')""")
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS tw_windows AS '{WINDOWS_FUNCTION_CLASS}' "
                  "LANGUAGE JAVA")
    t.execute_sql(f"""CREATE TEMPORARY VIEW {name}_input AS
        SELECT tenant, ts, FALSE AS nql_tick, 0 AS nql_split, ts AS nql_tw, ts AS nql_sw, grp AS nql_group,
               device AS nql_device, ARRAY[v] AS nql_n, ARRAY[{", ".join(strings)}] AS nql_s FROM {name}_src""")


@pytest.fixture(scope="module")
def both(flink_env, tmp_path_factory):
    d = tmp_path_factory.mktemp("tenant-windows")
    (d / "rows.json").write_text("".join(json.dumps(r) + "\n" for r in rows()))
    t = flink_env
    windows_input(t, "tw", d / "rows.json", ["s"])
    ptf = t.execute_sql(f"""
        SELECT tenant, group_json, CAST(window_end AS STRING), nv, sv, population
        FROM tw_windows(input => TABLE tw_input PARTITION BY tenant, on_time => DESCRIPTOR(ts),
                        spec => '{SPEC}', uid => 'tw-test')
        WHERE nql_kind = 'eval'""")
    got = {}
    with ptf.collect() as results:
        for tenant, group, end, nv, sv, population in results:
            got[(tenant, group, end)] = (list(nv), list(sv), population)
    builtin = t.execute_sql(f"""
        SELECT tenant, grp, CAST(window_end AS STRING), {", ".join(BUILTIN + BUILTIN_STRINGS)}
        FROM TABLE(HOP(TABLE tw_src, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '2' MINUTE))
        WHERE grp IS NOT NULL
        GROUP BY tenant, grp, window_start, window_end""")
    want = {}
    with builtin.collect() as results:
        for r in results:
            want[(r[0], r[1], r[2])] = (list(r[3:3 + len(BUILTIN)]), list(r[3 + len(BUILTIN):]))
    population = t.execute_sql("""
        SELECT tenant, CAST(window_end AS STRING), COUNT(DISTINCT device)
        FROM TABLE(HOP(TABLE tw_src, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '2' MINUTE))
        GROUP BY tenant, window_start, window_end""")
    with population.collect() as results:
        pop = {(r[0], r[1]): r[2] for r in results}
    return got, want, pop


def newest(values: list[tuple[str, object]]):
    present = [(ts, v) for ts, v in values if v is not None]
    return max(present)[1] if present else None


def last_values() -> dict:
    """(tenant, group, window end) -> (last v, last s), from the rows themselves."""
    out: dict = {}
    for r in rows():
        if r["grp"] is None:
            continue
        ts = datetime.strptime(r["ts"], "%Y-%m-%d %H:%M:%S.%f")
        first_end = ts.replace(second=(ts.second // 30) * 30, microsecond=0) + timedelta(seconds=30)
        for k in range(4):  # the 4 windows of 2 min every 30 s holding ts
            end = (first_end + timedelta(seconds=30 * k)).strftime("%Y-%m-%d %H:%M:%S.000")
            out.setdefault((r["tenant"], r["grp"], end), []).append((r["ts"], r["v"], r["s"]))
    return {key: (newest([(t, v) for t, v, _ in vs]), newest([(t, s) for t, _, s in vs])) for key, vs in out.items()}


def test_same_windows_and_groups_as_flinks_hop(both):
    got, want, _ = both
    assert len(want) > 100
    assert sorted(got) == sorted(want)


def test_every_aggregate_equals_flinks_builtin(both):
    got, want, _ = both
    last = last_values()
    for key, (nv, sv, _) in got.items():
        expected_numbers, expected_strings = want[key]
        expected_numbers = [*expected_numbers, last[key][0]]
        expected_strings = [*expected_strings, last[key][1]]
        assert len(nv) == len(expected_numbers) and len(sv) == len(expected_strings)
        for agg, value, expected in zip(AGGS, nv, expected_numbers):
            if expected is None:
                assert value is None, (key, agg)
            else:
                assert value is not None and math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-9), \
                    (key, agg, value, expected)
        assert sv == expected_strings, key


def test_population_counts_the_rows_the_filters_reject(both):
    got, _, pop = both
    for (tenant, _, end), (_, _, population) in got.items():
        assert population == pop[(tenant, end)]


# ---- large sets: many distinct values per slice, values in several slices of a window ----
# The windows function keeps each distinct value, percentile value and device as a state entry
# of its own and gathers them when a window is evaluated (issue 15): checked here on sets far
# larger than above (hundreds of values per slice, most of them in several slices of a window),
# against the windows computed in plain Python from the rows.

MANY_AGGS = ["distinct:s0", "pct:n0:0.5", "count:n0", "distinct:s1"]
MANY_SPEC = f"size=120000;slide=30000;lag=600000;idle=60000;pop=1;aggs={','.join(MANY_AGGS)}"
MANY_T0 = datetime(2026, 11, 26, 12, 0, 0)


def many_rows() -> list[dict]:
    rnd = random.Random(23)
    out = []
    for i in range(6 * 60 * 10):  # one row per 100 ms for 6 minutes
        ts = MANY_T0 + timedelta(milliseconds=100 * i)
        out.append({"tenant": "acme", "ts": ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                    "grp": None if rnd.random() < 0.1 else rnd.choice(["g1", "g2"]),
                    "device": f"d{rnd.randrange(900)}", "v": None if rnd.random() < 0.05 else rnd.uniform(0, 100),
                    "s": f"user-{rnd.randrange(500)}", "s2": rnd.choice(["x", "x:1", ":", "é"])})
    return out


def many_expected() -> tuple[dict, dict]:
    """(group, window end) -> [distinct s, median v, count v, distinct s2]; window end -> devices."""
    def median(xs):
        xs = sorted(xs)
        pos = 0.5 * (len(xs) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        return xs[lo] + (pos - lo) * (xs[hi] - xs[lo]) if xs else None

    windows: dict = {}
    devices: dict = {}
    for r in many_rows():
        ts = datetime.strptime(r["ts"], "%Y-%m-%d %H:%M:%S.%f")
        seconds = (ts - MANY_T0).total_seconds()
        first_end = MANY_T0 + timedelta(seconds=(int(seconds) // 30) * 30 + 30)
        for k in range(4):
            end = (first_end + timedelta(seconds=30 * k)).strftime("%Y-%m-%d %H:%M:%S.000")
            devices.setdefault(end, set()).add(r["device"])
            if r["grp"] is not None:
                w = windows.setdefault((r["grp"], end), {"s": set(), "v": [], "s2": set()})
                w["s"].add(r["s"])
                w["s2"].add(r["s2"])
                if r["v"] is not None:
                    w["v"].append(r["v"])
    want = {key: [len(w["s"]), median(w["v"]), len(w["v"]), len(w["s2"])] for key, w in windows.items()}
    return want, {end: len(d) for end, d in devices.items()}


@pytest.fixture(scope="module")
def many(flink_env, tmp_path_factory):
    d = tmp_path_factory.mktemp("tenant-windows-many")
    (d / "rows.json").write_text("".join(json.dumps(r) + "\n" for r in many_rows()))
    t = flink_env
    windows_input(t, "twm", d / "rows.json", ["s", "s2"])
    result = t.execute_sql(f"""
        SELECT group_json, CAST(window_end AS STRING), nv, population
        FROM tw_windows(input => TABLE twm_input PARTITION BY tenant, on_time => DESCRIPTOR(ts),
                        spec => '{MANY_SPEC}', uid => 'twm-test')
        WHERE nql_kind = 'eval'""")
    with result.collect() as results:
        return {(group, end): (list(nv), population) for group, end, nv, population in results}


def test_large_sets_and_values_in_several_slices(many):
    want, devices = many_expected()
    assert sorted(many) == sorted(want)
    assert max(w[0] for w in want.values()) > 300 and max(devices.values()) > 600  # sets that large
    for key, (nv, population) in many.items():
        expected = want[key]
        assert nv[0] == expected[0] and nv[2] == expected[2] and nv[3] == expected[3], (key, nv, expected)
        assert math.isclose(nv[1], expected[1], rel_tol=1e-12), (key, nv[1], expected[1])
        assert population == devices[key[1]], key
