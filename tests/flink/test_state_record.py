"""nql_state_record (udfs/jvm StateRecord): the alert-state record's text, written without JSON
trees, must be byte for byte what Flink's JSON_OBJECT of the same members gives (the expression
the job used before, FLINK below): consumers and the compacted topic's history compare texts.
The groups are Flink's own JSON_OBJECT texts (as every path writes them, GroupJson) over values
of each kind a group key has: strings needing escapes (quote, backslash, control characters,
non-ASCII, a slash), numbers, booleans, NULL; the times include the epoch's edges, the first
and last instants Flink's TIMESTAMP(3) writes with four digits, and NULLs.
"""
from __future__ import annotations

import json

import pytest

from nql_flink.translator.flink.codegen import STATE_RECORD_FUNCTION, STATE_RECORD_FUNCTION_CLASS, TIME_FORMAT
from tests.flink import record_texts

pytestmark = pytest.mark.flink

FORMAT = TIME_FORMAT.replace("'", "''")
FLINK = f"""JSON_OBJECT(
    'tenant' VALUE tenant, 'monitor' VALUE monitor, 'group' VALUE JSON(group_json), 'state' VALUE status,
    'since' VALUE DATE_FORMAT(since, '{FORMAT}'), 'at' VALUE DATE_FORMAT(`at`, '{FORMAT}'),
    'due' VALUE DATE_FORMAT(due, '{FORMAT}'), 'alert_id' VALUE alert_id NULL ON NULL)"""

# (tenant, monitor, group members as SQL, status, since, at, due, alert_id); strings as SQL literals
ROWS = [
    ("'acme'", "'latency'", "'pool' VALUE 'Finance'", "'triggered'", "'2026-11-26 10:00:00.000'",
     "'2026-11-26 10:05:30.000'", "CAST(NULL AS STRING)", "'a-1'"),
    ("'t\"q'", "'m\\\\x'", "'pool' VALUE 'Sales \"EU\", {west}', 'z' VALUE 'Zürich\\Ops/€'", "'pending'",
     "'1970-01-01 00:00:00.000'", "'1969-12-31 23:59:59.999'", "'2000-02-29 12:34:56.789'",
     "CAST(NULL AS STRING)"),
    ("'tab' || CHR(9) || 'nl' || CHR(10) || 'cr' || CHR(13)", "'bs' || CHR(8) || 'ff' || CHR(12)",
     "'c' VALUE 'x' || CHR(1) || CHR(31) || CHR(127) || '\u2028'", "'ok'",
     "'0001-01-01 00:00:00.000'", "'9999-12-31 23:59:59.999'", "'1900-03-01 00:00:00.001'", "'é'"),
    ("'n'", "'numbers'", "'i' VALUE 42, 'd' VALUE CAST(1.5E10 AS DOUBLE), 'f' VALUE CAST(0.1 AS DOUBLE), "
     "'b' VALUE TRUE, 'nothing' VALUE CAST(NULL AS STRING), 'neg' VALUE -7",
     "'recovered'", "CAST(NULL AS STRING)", "'2024-12-31 23:59:59.000'", "CAST(NULL AS STRING)", "''"),
    ("'e'", "'empty group'", None, "'triggered'", "'2026-01-01 00:00:00.000'", "'2026-01-01 00:00:00.000'",
     "'2026-01-01 00:00:00.000'", "'x'"),
]


@pytest.fixture(scope="module")
def texts(flink_env):
    t = flink_env
    rows = []
    for i, (tenant, monitor, group, status, since, at, due, alert_id) in enumerate(ROWS):
        group_json = f"CAST(JSON_OBJECT({group}) AS STRING)" if group else "'{}'"
        rows.append(f"SELECT {i} AS i, CAST({tenant} AS STRING) AS tenant, CAST({monitor} AS STRING) AS monitor, "
                    f"{group_json} AS group_json, CAST({status} AS STRING) AS status, "
                    + ", ".join(f"CAST(CAST({v} AS STRING) AS TIMESTAMP(3)) AS `{n}`"
                                for n, v in (("since", since), ("at", at), ("due", due)))
                    + f", CAST({alert_id} AS STRING) AS alert_id")
    ours = f"{STATE_RECORD_FUNCTION}(tenant, monitor, group_json, status, since, `at`, due, alert_id)"
    return record_texts.texts(t, STATE_RECORD_FUNCTION, STATE_RECORD_FUNCTION_CLASS, FLINK, ours, rows)


def test_every_row_is_flinks_text(texts):
    record_texts.assert_same_texts(texts, len(ROWS))


def test_the_plain_record_by_hand(texts):
    assert texts[0][1] == ('{"alert_id":"a-1","at":"2026-11-26T10:05:30.000Z","due":null,"group":{"pool":"Finance"},'
                           '"monitor":"latency","since":"2026-11-26T10:00:00.000Z","state":"triggered","tenant":"acme"}')


def test_escapes_and_edges_by_hand(texts):
    record = json.loads(texts[2][1])
    assert record["tenant"] == "tab\tnl\ncr\r" and record["monitor"] == "bs\bff\f"
    assert record["group"] == {"c": "x\x01\x1f\x7f\u2028"}
    assert "\\u0001\\u001F" in texts[2][1]
    assert (record["since"], record["at"], record["due"]) == (
        "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "1900-03-01T00:00:00.001Z")
    assert json.loads(texts[1][1])["at"] == "1969-12-31T23:59:59.999Z"
