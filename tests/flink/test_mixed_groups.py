"""A group of event fields and inventory attributes together, without the temporal join
(udfs/jvm InventoryWindows, spec grp=M;igrp=N, issue 15): each record's event keys as one JSON
object, each inventory version's keys as another, merged by the function in key order
(GroupJson). The group text must be byte for byte what Flink's JSON_OBJECT of all the keys
gives, as the temporal-join path wrote it: the alert-state keys and the alerts' `group` are that
text. The expected texts come from Flink itself (JSON_OBJECT over the pairs), values chosen to
need escaping: quotes, a comma and a brace, a backslash, non-ASCII, NULL.

Rows (tenant acme, one window of 1 min): devices d1..d4, each with one inventory version (a
pool), records with protocols; a key order where the inventory's key sorts first
("device.virtualization.desktop_pool" < "protocol") and one where it sorts between two event
keys ("a_first" < "device..." < "protocol").
"""
from __future__ import annotations

import json

import pytest

from tests.flink.inventory_tables import events_and_versions

pytestmark = pytest.mark.flink

POOLS = {"d1": "Finance", "d2": 'Sales "EU", {west}', "d3": "Zürich\\Ops", "d4": None}
PROTOCOLS = ["ica", 'r"dp', "a,b}", "é", None]
SPEC = ("lag=600000;idle=60000;inv=test | s_two (acme: two@m_two): size=60000;slide=60000;pop=0;inv=1;grp=0;igrp=0;"
        "aggs=count:n0 | s_three (acme: three@m_three): size=60000;slide=60000;pop=0;inv=1;grp=1;igrp=0;aggs=count:n0")


def events() -> list[dict]:
    out = []
    for i, device in enumerate(POOLS):
        for j, protocol in enumerate(PROTOCOLS):
            out.append({"tenant": "acme", "ts": f"2026-11-26 10:00:{10 + i * 5 + j:02d}.000", "device": device,
                        "protocol": protocol, "first": f"x{j % 2}"})
    return out


@pytest.fixture(scope="module")
def groups(flink_env, tmp_path_factory):
    t = flink_env
    events_and_versions(t, tmp_path_factory.mktemp("mixed-groups"), "mg",
                        "device STRING, protocol STRING, `first` STRING", events(),
                        [{"tenant": "acme", "device": dev, "ts": "2026-11-26 09:00:00.000", "pool": pool}
                         for dev, pool in POOLS.items()])
    pool_key = "device.virtualization.desktop_pool"
    t.execute_sql(f"""CREATE TEMPORARY VIEW mg_input AS
        SELECT tenant, ts, FALSE AS nql_tick, FALSE AS nql_clock, 0 AS nql_split, ts AS nql_tw, ts AS nql_sw,
               ARRAY[CAST(JSON_OBJECT('protocol' VALUE protocol) AS STRING),
                     CAST(JSON_OBJECT('protocol' VALUE protocol, 'a_first' VALUE `first`) AS STRING)] AS nql_group,
               CAST(NULL AS ARRAY<BOOLEAN>) AS nql_keep, device AS nql_device, FALSE AS nql_unknown,
               ARRAY[CAST(1 AS DOUBLE)] AS nql_n, CAST(NULL AS ARRAY<STRING>) AS nql_s, FALSE AS nql_inventory
        FROM mg_events
        UNION ALL
        SELECT tenant, ts, FALSE, FALSE, CAST(NULL AS INT), CAST(NULL AS TIMESTAMP(3)), CAST(NULL AS TIMESTAMP(3)),
               ARRAY[CAST(JSON_OBJECT('{pool_key}' VALUE pool) AS STRING)], CAST(NULL AS ARRAY<BOOLEAN>), device,
               FALSE, CAST(NULL AS ARRAY<DOUBLE>), CAST(NULL AS ARRAY<STRING>), TRUE
        FROM mg_versions""")
    got: dict[str, dict[str, int]] = {}
    with t.execute_sql(f"""
            SELECT nql_monitor, group_json, nv
            FROM mg_windows(input => TABLE mg_input PARTITION BY tenant, on_time => DESCRIPTOR(ts),
                            spec => '{SPEC}', uid => 'mg-test')
            WHERE nql_kind = 'eval'""").collect() as rows:
        for monitor, group, nv in rows:
            got.setdefault(monitor, {})[group] = int(nv[0])
    # Flink's own text for every (event, version) pair: JSON_OBJECT of all the keys at once
    want: dict[str, dict[str, int]] = {}
    with t.execute_sql(f"""
            SELECT CAST(JSON_OBJECT('{pool_key}' VALUE v.pool, 'protocol' VALUE e.protocol) AS STRING),
                   CAST(JSON_OBJECT('protocol' VALUE e.protocol, 'a_first' VALUE e.`first`,
                                    '{pool_key}' VALUE v.pool) AS STRING)
            FROM mg_events AS e JOIN mg_versions AS v ON e.device = v.device""").collect() as rows:
        for two, three in rows:
            for monitor, group in (("two", two), ("three", three)):
                counts = want.setdefault(monitor, {})
                counts[group] = counts.get(group, 0) + 1
    return got, want


def test_a_mixed_group_is_the_text_json_object_of_all_its_keys_gives(groups):
    got, want = groups
    assert got == want
    # every pair is its own group (4 pools x 5 protocols; x 2 `first` values for three keys)
    assert len(want["two"]) == 20 and sum(want["two"].values()) == 20


def test_the_merge_orders_the_inventory_key_between_event_keys(groups):
    got, _ = groups
    keys = [list(json.loads(g)) for g in got["three"]]
    assert keys and all(k == ["a_first", "device.virtualization.desktop_pool", "protocol"] for k in keys)
