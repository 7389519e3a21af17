"""nql_group_object (udfs/jvm GroupObject): a group's STRING keys as JSON text, written without a
JSON tree, must be byte for byte what Flink's JSON_OBJECT of the same members gives (what the
rows view computed before): a group's text names its alert (alert ids, the alert-state topic's
keys, GroupJson's merge of two halves), so a group written differently would be another group.
Values needing escapes (quote, backslash, control characters, non-ASCII, a slash, U+2028), the
empty string, NULL; one, two and three keys, given in key order and out of it; names needing
escapes."""
from __future__ import annotations

import json

import pytest

from nql_flink.translator.flink.codegen import GROUP_OBJECT_FUNCTION, GROUP_OBJECT_FUNCTION_CLASS
from tests.flink import record_texts

pytestmark = pytest.mark.flink

# each row: (name, value) pairs, values as SQL over nothing
ROWS = [
    [("protocol", "'ica'")],
    [("client.location.site", "'Zürich \"HQ\"'"), ("protocol", "'blast'")],
    [("protocol", "'pcoip'"), ("client.location.site", "'Lyon'")],       # out of key order
    [("b", "'x' || CHR(1) || CHR(31) || CHR(127) || '\u2028'"), ("a", "'tab' || CHR(9) || 'nl' || CHR(10)"),
     ("c", "'back\\slash/€'")],
    [("pool", "CAST(NULL AS STRING)"), ("site", "''")],
    [("we\"ird\\name", "'v'"), ("Zeta", "'upper before lower'"), ("alpha", "'bs' || CHR(8) || 'ff' || CHR(12) || CHR(13)")],
]


@pytest.fixture(scope="module")
def texts(flink_env):
    rows = [f"SELECT {i} AS i, " + ", ".join(f"CAST({value} AS STRING) AS v{j}" for j, (_, value) in enumerate(members))
            + "".join(f", CAST(NULL AS STRING) AS v{j}" for j in range(len(members), 3))
            for i, members in enumerate(ROWS)]
    # one expression per row count of members: both sides over the same columns
    flink = "CASE i " + " ".join(
        f"WHEN {i} THEN CAST(JSON_OBJECT(" + ", ".join(f"'{_sql(n)}' VALUE v{j}" for j, (n, _) in enumerate(m)) + ") AS STRING)"
        for i, m in enumerate(ROWS)) + " END"
    ours = "CASE i " + " ".join(
        f"WHEN {i} THEN {GROUP_OBJECT_FUNCTION}(" + ", ".join(f"'{_sql(n)}', v{j}" for j, (n, _) in enumerate(m)) + ")"
        for i, m in enumerate(ROWS)) + " END"
    return record_texts.texts(flink_env, GROUP_OBJECT_FUNCTION, GROUP_OBJECT_FUNCTION_CLASS, flink, ours, rows)


def _sql(name: str) -> str:
    return name.replace("'", "''")


def test_every_row_is_flinks_text(texts):
    record_texts.assert_same_texts(texts, len(ROWS))


def test_the_plain_groups_by_hand(texts):
    assert texts[0][1] == '{"protocol":"ica"}'
    assert texts[1][1] == '{"client.location.site":"Zürich \\"HQ\\"","protocol":"blast"}'
    assert texts[2][1] == '{"client.location.site":"Lyon","protocol":"pcoip"}'
    assert texts[4][1] == '{"pool":null,"site":""}'


def test_escapes_by_hand(texts):
    assert json.loads(texts[3][1]) == {"a": "tab\tnl\n", "b": "x\x01\x1f\x7f\u2028", "c": "back\\slash/€"}
    assert '"b":"x\\u0001\\u001F' in texts[3][1]
    assert list(json.loads(texts[5][1])) == ["Zeta", "alpha", 'we"ird\\name']
