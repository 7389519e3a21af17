"""nql_alert_record (udfs/jvm AlertRecord): a threshold monitor's alert record text, written
without JSON trees, must be byte for byte what Flink's JSON_OBJECT of the same members gives (the
expression the job used before, FLINK below): consumers, the alert history and polling
(translator/clickhouse/poll.py) compare texts. The groups and values are Flink's own JSON_OBJECT
texts (as every path writes them) over values of each kind a group key or a measure has: strings
needing escapes, DOUBLEs plain and in exponent form, BIGINTs, DECIMALs, booleans, NULL; the
impact's share over zero, NULL and fractions; tags NULL, empty, with escapes and a NULL element.
"""
from __future__ import annotations

import json

import pytest

from nql_flink.translator.flink.codegen import ALERT_RECORD_FUNCTION, ALERT_RECORD_FUNCTION_CLASS, TIME_FORMAT
from tests.flink import record_texts

pytestmark = pytest.mark.flink

FORMAT = TIME_FORMAT.replace("'", "''")
SHARE = "CAST(impact_devices AS DOUBLE) / NULLIF(active_devices, 0)"
FLINK = f"""JSON_OBJECT(
    'alert_id' VALUE alert_id, 'tenant' VALUE tenant, 'monitor' VALUE monitor, 'status' VALUE status,
    'at' VALUE DATE_FORMAT(window_end, '{FORMAT}'), 'group' VALUE JSON(group_json),
    'values' VALUE JSON(values_json),
    'window' VALUE JSON_OBJECT('start' VALUE DATE_FORMAT(window_start, '{FORMAT}'),
                               'end' VALUE DATE_FORMAT(window_end, '{FORMAT}')),
    'condition' VALUE cond, 'baseline' VALUE CAST(NULL AS STRING),
    'impact' VALUE JSON_OBJECT('devices' VALUE impact_devices, 'users' VALUE impact_users,
                               'active_devices' VALUE active_devices, 'share' VALUE {SHARE} NULL ON NULL),
    'priority' VALUE priority, 'name' VALUE name, 'tags' VALUE tags NULL ON NULL)"""

NULL = "CAST(NULL AS STRING)"
# (alert_id, tenant, monitor, status, window_start, window_end, group members, values members,
#  condition, impact_devices, impact_users, active_devices, priority, name, tags); SQL text
ROWS = [
    ("'a-1'", "'acme'", "'latency'", "'triggered'", "'2026-11-26 10:00:00.000'", "'2026-11-26 10:05:00.000'",
     "'pool' VALUE 'Finance'", "'avg_latency' VALUE CAST(312.5 AS DOUBLE), 'sessions' VALUE CAST(12 AS BIGINT)",
     "'avg_latency > 300ms'", "3", "2", "10", "'high'", "'VDI latency'", "ARRAY['vdi', 'network']"),
    ("'a\"2'", "'t\\\\q'", "'m/€'", "'recovered'", "'1969-12-31 23:59:30.000'", "'1970-01-01 00:00:00.000'",
     "'pool' VALUE 'Sales \"EU\", {west}', 'z' VALUE 'Zürich\\Ops'",
     "'tiny' VALUE CAST(1.0E-5 AS DOUBLE), 'huge' VALUE CAST(1.5E10 AS DOUBLE), 'zero' VALUE CAST(0 AS DOUBLE), "
     "'neg' VALUE CAST(-7.25 AS DOUBLE)",
     "'tab' || CHR(9) || 'nl' || CHR(10)", "1", "1", "3", "'medium'", "'x' || CHR(1) || CHR(31)",
     "ARRAY['q\"uote', 'back\\slash', CAST(NULL AS STRING)]"),
    ("'a-3'", "'n'", "'no impact'", "'triggered'", "'0001-01-01 00:00:00.000'", "'9999-12-31 23:59:59.999'",
     "'i' VALUE 42, 'b' VALUE TRUE, 'nothing' VALUE CAST(NULL AS STRING)",
     "'d' VALUE CAST(1.25 AS DECIMAL(10, 2)), 'flag' VALUE FALSE, 's' VALUE 'text', 'none' VALUE CAST(NULL AS DOUBLE)",
     NULL, "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)", "'low'", NULL,
     "CAST(NULL AS ARRAY<STRING>)"),
    ("'a-4'", "'e'", "'zero devices'", "'recovered'", "'2024-02-29 12:34:56.789'", "'2024-02-29 12:39:56.789'",
     None, None, "'not (x > 1)'", "5", "CAST(NULL AS BIGINT)", "0", "'critical'", "''",
     "CAST(ARRAY[''] AS ARRAY<STRING>)"),
    ("'a-5'", "'f'", "'thirds'", "'triggered'", "'2026-01-01 00:00:00.000'", "'2026-01-01 00:05:00.000'",
     "'pool' VALUE 'P'", "'avg' VALUE CAST(1 AS DOUBLE) / 3", "'c'", "1", "7", "3", "'medium'", "'n'",
     "ARRAY['é']"),
    ("'a-6'", "'g'", "'small share'", "'triggered'", "'2026-01-01 00:00:00.000'", "'2026-01-01 00:05:00.000'",
     "'pool' VALUE 'P'", "'n' VALUE CAST(123456789012 AS BIGINT)", "'c'", "1", "1", "200000", "'medium'", "'n'",
     "ARRAY['a', 'b', 'c']"),
    ("'a-7'", "'h'", "'more than active'", "'triggered'", "'2026-01-01 00:00:00.000'", "'2026-01-01 00:05:00.000'",
     "'pool' VALUE 'P'", "'n' VALUE 1", "'c'", "3", "1", "2", "'medium'", "'n'", "ARRAY['a']"),
    ("'a-8'", "'h'", "'tiny share'", "'triggered'", "'2026-01-01 00:00:00.000'", "'2026-01-01 00:05:00.000'",
     "'pool' VALUE 'P'", "'n' VALUE 1", "'c'", "1", "1", "10000000", "'medium'", "'n'", "ARRAY['a']"),
    ("'a-9'", "'h'", "'no share'", "'triggered'", "'2026-01-01 00:00:00.000'", "'2026-01-01 00:05:00.000'",
     "'pool' VALUE 'P'", "'n' VALUE 1", "'c'", "0", "0", "4", "'medium'", "'n'", "ARRAY['a']"),
]


@pytest.fixture(scope="module")
def texts(flink_env):
    t = flink_env
    rows = []
    for i, (alert_id, tenant, monitor, status, start, end, group, values, cond, devices, users, active, priority,
            name, tags) in enumerate(ROWS):
        group_json = f"CAST(JSON_OBJECT({group}) AS STRING)" if group else "'{}'"
        values_json = f"CAST(JSON_OBJECT({values}) AS STRING)" if values else NULL
        rows.append(f"SELECT {i} AS i, CAST({alert_id} AS STRING) AS alert_id, CAST({tenant} AS STRING) AS tenant, "
                    f"CAST({monitor} AS STRING) AS monitor, CAST({status} AS STRING) AS status, "
                    f"CAST(CAST({start} AS STRING) AS TIMESTAMP(3)) AS window_start, "
                    f"CAST(CAST({end} AS STRING) AS TIMESTAMP(3)) AS window_end, "
                    f"{group_json} AS group_json, {values_json} AS values_json, CAST({cond} AS STRING) AS cond, "
                    f"CAST({devices} AS BIGINT) AS impact_devices, CAST({users} AS BIGINT) AS impact_users, "
                    f"CAST({active} AS BIGINT) AS active_devices, CAST({priority} AS STRING) AS priority, "
                    f"CAST({name} AS STRING) AS name, {tags} AS tags")
    ours = (f"{ALERT_RECORD_FUNCTION}(alert_id, tenant, monitor, status, window_start, window_end, group_json, "
            "values_json, cond, impact_devices, impact_users, active_devices, priority, name, tags)")
    return record_texts.texts(t, ALERT_RECORD_FUNCTION, ALERT_RECORD_FUNCTION_CLASS, FLINK, ours, rows)


def test_every_row_is_flinks_text(texts):
    record_texts.assert_same_texts(texts, len(ROWS))


def test_the_plain_record_by_hand(texts):
    assert texts[0][1] == (
        '{"alert_id":"a-1","at":"2026-11-26T10:05:00.000Z","baseline":null,"condition":"avg_latency > 300ms",'
        '"group":{"pool":"Finance"},"impact":{"active_devices":10,"devices":3,"share":0.3,"users":2},'
        '"monitor":"latency","name":"VDI latency","priority":"high","status":"triggered","tags":["vdi","network"],'
        '"tenant":"acme","values":{"avg_latency":312.5,"sessions":12},'
        '"window":{"end":"2026-11-26T10:05:00.000Z","start":"2026-11-26T10:00:00.000Z"}}')


def test_shares_and_nulls_by_hand(texts):
    no_impact = json.loads(texts[2][1])
    assert no_impact["impact"] == {"active_devices": None, "devices": None, "share": None, "users": None}
    assert no_impact["tags"] is None and no_impact["condition"] is None and no_impact["name"] is None
    assert json.loads(texts[3][1])["impact"] == {"active_devices": 0, "devices": 5, "share": None, "users": None}
    assert json.loads(texts[3][1])["values"] is None
    assert '"share":0.3333333333333333' in texts[4][1]
    # inside the nested impact object Flink writes the share as a BigDecimal of its DOUBLE text
    assert '"share":0.0000050' in texts[5][1]
    assert '"share":1.5' in texts[6][1] and '"share":1.0E-7' in texts[7][1] and '"share":0.0' in texts[8][1]
    assert json.loads(texts[1][1])["tags"] == ['q"uote', "back\\slash", None]
