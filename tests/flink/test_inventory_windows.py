"""The windows function that looks each record's device up in the inventory itself (udfs/jvm
InventoryWindows, issue 15), on the engine, against expectations computed here from the rows:
each record counts in the group of its device's version as of the record's time, a record of a
device without a version then counts for the population only and is dead-lettered once per
monitor ('unknown'), and a version's filter decides whether its records count.

Rows (tenant acme, windows of 1 min every 30 s, count and sum of `v`):
  d1: pool A from 09:59:00, pool B from 10:01:10 (a version in the middle of a window);
  d2: pool A from 09:59:00, then a version with no pool from 10:02:00 (the filter rejects it);
  d3: pool B from 10:03:05 only: its records before that have no version (unknown);
  d4: never in the inventory.
One record per device every 10 s from 10:00:00 to 10:04:50, v = the second of the hour / 10;
and one record without a device each minute at :05, which the shape's own filter (keep: a
device) rejects: it counts nowhere, yet is dead-lettered `unknown` as every record of a tenant
that reads the inventory and has no version is (the temporal join's rule).
The versions are read in a file of their own, in time order (as VersionOrder hands them on),
the events in another, both in one table as the generated job reads them
(views/table_input.sql.j2).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.flink.inventory_tables import events_and_versions

pytestmark = pytest.mark.flink

T0 = datetime(2026, 11, 26, 10, 0, 0)
VERSIONS = [("d1", "09:59:00", "A"), ("d1", "10:01:10", "B"), ("d2", "09:59:00", "A"), ("d2", "10:02:00", None),
            ("d3", "10:03:05", "B")]
SPEC = ("lag=600000;idle=60000;inv=test | s_pool (acme: pool@m_pool): size=60000;slide=30000;pop=1;inv=1;grp=i0;"
        "keep=0;ikeep=0;aggs=count:n0,sum:n0")


def events() -> list[dict]:
    out = []
    for i in range(30):
        ts = T0 + timedelta(seconds=10 * i)
        for device in ("d1", "d2", "d3", "d4"):
            out.append({"tenant": "acme", "ts": ts.strftime("%Y-%m-%d %H:%M:%S.000"), "device": device,
                        "v": (ts - T0).total_seconds() / 10})
        if i % 6 == 0:
            at = (ts + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S.000")
            out.append({"tenant": "acme", "ts": at, "device": None, "v": 1.0})
    return out


def pool_at(device: str, ts: datetime):
    """(known, pool) of the device's version in force at ts."""
    found = [(datetime.strptime(f"2026-11-26 {t}", "%Y-%m-%d %H:%M:%S"), pool) for d, t, pool in VERSIONS
             if device is not None and d == device]
    before = sorted(v for v in found if v[0] <= ts)
    return (True, before[-1][1]) if before else (False, None)


def expected():
    """(group, window end) -> (count, sum); window end -> population; the unknown records."""
    groups, population, unknown = {}, {}, []
    for r in events():
        ts = datetime.strptime(r["ts"], "%Y-%m-%d %H:%M:%S.000")
        known, pool = pool_at(r["device"], ts)
        if not known:
            unknown.append((r["device"], r["ts"]))
        if r["device"] is None:
            continue  # the shape's filter rejects it: no group, no population
        first_end = ts.replace(second=ts.second // 30 * 30) + timedelta(seconds=30)
        for end in (first_end, first_end + timedelta(seconds=30)):
            key = end.strftime("%Y-%m-%d %H:%M:%S")
            population.setdefault(key, set()).add(r["device"])
            if pool is not None:
                count, total = groups.get((pool, key), (0, 0.0))
                groups[(pool, key)] = (count + 1, total + r["v"])
    return groups, {k: len(v) for k, v in population.items()}, sorted(unknown, key=lambda u: (u[0] or "", u[1]))


@pytest.fixture(scope="module")
def windows(flink_env, tmp_path_factory):
    t = flink_env
    # the versions in time order, as VersionOrder hands them on
    events_and_versions(t, tmp_path_factory.mktemp("inventory-windows"), "iw", "device STRING, v DOUBLE", events(),
                        [{"tenant": "acme", "device": dev, "ts": f"2026-11-26 {at}.000", "pool": pool}
                         for dev, at, pool in sorted(VERSIONS, key=lambda v: v[1])])
    t.execute_sql("""CREATE TEMPORARY VIEW iw_input AS
        SELECT tenant, ts, FALSE AS nql_tick, FALSE AS nql_clock, 0 AS nql_split, ts AS nql_tw, ts AS nql_sw,
               CAST(NULL AS ARRAY<STRING>) AS nql_group, ARRAY[device IS NOT NULL] AS nql_keep, device AS nql_device,
               FALSE AS nql_unknown, ARRAY[v] AS nql_n, CAST(NULL AS ARRAY<STRING>) AS nql_s, FALSE AS nql_inventory
        FROM iw_events
        UNION ALL
        SELECT tenant, ts, FALSE, FALSE, CAST(NULL AS INT), CAST(NULL AS TIMESTAMP(3)), CAST(NULL AS TIMESTAMP(3)),
               ARRAY[CAST(JSON_OBJECT('pool' VALUE pool) AS STRING)], ARRAY[pool IS NOT NULL], device, FALSE,
               CAST(NULL AS ARRAY<DOUBLE>), CAST(NULL AS ARRAY<STRING>), TRUE
        FROM iw_versions""")
    result = t.execute_sql(f"""
        SELECT nql_kind, nql_monitor, group_json, CAST(window_end AS STRING), nv, sv[1], population, CAST(late_ts AS STRING)
        FROM iw_windows(input => TABLE iw_input PARTITION BY tenant, on_time => DESCRIPTOR(ts),
                        spec => '{SPEC}', uid => 'iw-test')""")
    with result.collect() as rows:
        return [tuple(r) for r in rows]


def test_each_record_counts_in_the_group_of_its_version_at_its_time(windows):
    groups, population, _ = expected()
    got = {(json.loads(g)["pool"], end[:19]): (int(nv[0]), nv[1]) for kind, _, g, end, nv, _, _, _ in windows
           if kind == "eval"}
    assert got == groups
    # B appears with d1's version of 10:01:10: the window [10:00:30, 10:01:30) holds both pools
    assert got[("A", "2026-11-26 10:01:30")][0] > 0 and got[("B", "2026-11-26 10:01:30")][0] > 0


def test_the_population_counts_every_device_the_known_and_the_unknown(windows):
    _, population, _ = expected()
    got = {end[:19]: pop for kind, _, _, end, _, _, pop, _ in windows if kind == "eval"}
    assert got == {k: v for k, v in population.items() if k in got} and got
    assert set(got.values()) == {4}      # d3 and d4 count although no group holds their records


def test_a_record_without_a_version_is_dead_lettered_once_per_monitor(windows):
    _, _, unknown = expected()
    # (the device: the first of the row's strings; read as a column, PyFlink cannot collect an
    # array holding a NULL)
    got = sorted(((device, ts) for kind, _, _, _, _, device, _, ts in windows if kind == "unknown"),
                 key=lambda u: (u[0] or "", u[1]))
    assert got == unknown
    assert {m for kind, m, *_ in windows if kind == "unknown"} == {"pool"}
    # d4 always (30 records), d3 from 10:00:00 to 10:03:00 (19), the 5 without a device
    assert {d for d, _ in unknown} == {"d3", "d4", None} and len(unknown) == 30 + 19 + 5
