"""nql_read (udfs/jvm ReadRecord) on the lines where reading only the declared paths with a
streaming parser could differ from the whole-tree parse that defines its results
(docs/flink-job-shape.md §1 "Dead-letter reasons": the line parsed as Flink's JSON functions
parse it, Jackson with floats as BigDecimal; a dotted path walked as they walk it; values cast
with Flink's casts; the first reason in order). One job on the engine reads every case, one
file each (the raw format, as a generated source reads a topic), and every column is checked.

Schema: tenant, the event time `end_time` (skew 10 min), `device.collector.uid` string,
`network_latency` float, `count` int, `flag` bool, `seen_at` datetime. The base record has
every field: tenant acme, end_time 10:00:30, uid d1, latency 182.5, count 3, flag true,
seen_at 09:00 (2026-11-26, UTC); a case is the base record changed as its name says. Expected
rows are (reason, tenant, ts, uid, lat, n, ok, seen), times as CAST(... AS STRING).
"""
from __future__ import annotations

import math

import pytest

from nql_flink.translator.flink.codegen import READ_FUNCTION, READ_FUNCTION_CLASS

pytestmark = pytest.mark.flink

SCHEMA = ("tenant tenant tenant string, ts time end_time 600000, uid field device.collector.uid string, "
          "lat field network_latency float, n field count int, ok field flag bool, seen field seen_at datetime")
TIME, SEEN, EPOCH = "2026-11-26 10:00:30.000", "2026-11-26 09:00:00.000", "1970-01-01 00:00:00.000"
HEAD = '{"tenant":"acme","end_time":"2026-11-26T10:00:30.000Z","device":{"collector":{"uid":"d1"}},'
TAIL = '"network_latency":182.5,"count":3,"flag":true,"seen_at":"2026-11-26T09:00:00.000Z"'
BASE = HEAD + TAIL
GOOD = (None, "acme", TIME, "d1", 182.5, 3, True, SEEN)
# a record that is not a JSON object has no values; its rowtime is the epoch
NOT_JSON = ("not_json", None, EPOCH, None, None, None, None, None)


def good(**changed) -> tuple:
    names = ["reason", "tenant", "ts", "uid", "lat", "n", "ok", "seen"]
    return tuple(changed.get(k, v) for k, v in zip(names, GOOD))


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


CASES: dict[str, tuple[bytes | str, tuple]] = {
    "base": (BASE + "}", GOOD),
    # skipped content is still checked: the tree parse refused the whole record for any error in it
    "syntax_error_after_the_fields": (BASE + ',"x":tru}', NOT_JSON),
    "unterminated": (BASE, NOT_JSON),
    "control_character_in_a_skipped_string": (BASE + ',"x":"a\tb"}', NOT_JSON),
    "bad_escape_in_a_skipped_string": (BASE + ',"x":"\\q"}', NOT_JSON),
    "NaN_in_a_skipped_field": (BASE + ',"x":NaN}', NOT_JSON),
    # Jackson's limits, as Flink shades it (2.20): a number of up to 1000 digits, nesting up to 1000
    "number_of_1000_digits_skipped": (BASE + ',"x":' + "7" * 1000 + "}", GOOD),
    "number_of_1001_digits_skipped": (BASE + ',"x":' + "7" * 1001 + "}", NOT_JSON),
    "deep_nesting_skipped": (BASE + ',"x":' + nested(900) + "}", GOOD),
    "deep_arrays_skipped": (BASE + ',"x":' + "[" * 900 + "]" * 900 + "}", GOOD),
    "nesting_beyond_the_limit": (BASE + ',"x":' + nested(1000) + "}", NOT_JSON),
    "declared_path_beside_deep_nesting":
        ('{"tenant":"acme","end_time":"2026-11-26T10:00:30.000Z","device":{"x":' + nested(400)
         + ',"collector":{"y":[[[{"uid":"no"}]]],"uid":"d1"}},' + TAIL + "}", GOOD),
    # every number was converted by the tree parse, also in a field nobody reads: an exponent of
    # ten digits overflows a BigDecimal's scale; 1e400 does not (it only overflows a DOUBLE)
    "float_exponent_out_of_range_skipped": (BASE + ',"x":1e9999999999}', NOT_JSON),
    "float_beyond_double_skipped": (BASE + ',"x":1e400,"y":123456789012345678901234567890}', GOOD),
    # numbers out of range in a declared field: bad_type, the value TRY_CAST gave
    "latency_1e400": (HEAD + TAIL.replace("182.5", "1e400") + "}",
                      good(reason="bad_type:network_latency", lat=math.inf)),
    "count_2_pow_63": (HEAD + TAIL.replace('"count":3', '"count":9223372036854775808') + "}",
                       good(reason="bad_type:count", n=None)),
    "count_minus_2_pow_63": (HEAD + TAIL.replace('"count":3', '"count":-9223372036854775808') + "}",
                             good(n=-9223372036854775808)),
    "count_3.0": (HEAD + TAIL.replace('"count":3', '"count":3.0') + "}", good(n=3)),
    "count_1e2": (HEAD + TAIL.replace('"count":3', '"count":1e2') + "}", good(reason="bad_type:count", n=None)),
    "count_1.5": (HEAD + TAIL.replace('"count":3', '"count":1.5') + "}", good(reason="bad_type:count", n=1)),
    "latency_minus_zero": (HEAD + TAIL.replace("182.5", "-0.0") + "}", good(lat=0.0)),
    "latency_negative_underflow": (HEAD + TAIL.replace("182.5", "-1e-400") + "}", good(lat=0.0)),
    # a float is the double nearest its decimal value (the cast of its text), whatever the path
    # to it: an integer beyond 2**53, more digits than a double holds, a long mantissa and scale
    "latency_2_pow_53_plus_1": (HEAD + TAIL.replace("182.5", "9007199254740993") + "}",
                                good(lat=float("9007199254740993"))),
    "latency_many_digits": (HEAD + TAIL.replace("182.5", "0.30000000000000004441") + "}",
                            good(lat=float("0.30000000000000004441"))),
    "latency_long_mantissa": (HEAD + TAIL.replace("182.5", "123456789.123456789e-3") + "}",
                              good(lat=float("123456789.123456789e-3"))),
    "latency_as_a_string": (HEAD + TAIL.replace("182.5", '"182.5"') + "}",
                            good(reason="bad_type:network_latency", lat=None)),
    # arrays and objects where a step or a value is expected
    "array_where_a_step_is_an_object":
        ('{"tenant":"acme","end_time":"2026-11-26T10:00:30.000Z","device":[{"collector":{"uid":"d1"}}],'
         + TAIL + "}", good(uid=None)),
    "array_for_a_number": (HEAD + TAIL.replace("182.5", "[182.5]") + "}",
                           good(reason="bad_type:network_latency", lat=None)),
    "object_for_a_bool": (HEAD + TAIL.replace('"flag":true', '"flag":{"v":true}') + "}",
                          good(reason="bad_type:flag", ok=None)),
    "object_for_the_tenant": (BASE.replace('"tenant":"acme"', '"tenant":{"name":"acme"}') + "}",
                              good(reason="missing_tenant", tenant=None)),
    "array_for_the_time": (BASE.replace('"2026-11-26T10:00:30.000Z"', '["2026-11-26T10:00:30.000Z"]') + "}",
                           good(reason="missing_event_time", ts=EPOCH)),
    # keys: compared after unescaping, a dot is part of a key, a key given twice counts once, the last
    "escaped_keys": ('{"ten\\u0061nt":"acme","end_\\u0074ime":"2026-11-26T10:00:30.000Z",'
                     '"device":{"coll\\u0065ctor":{"uid":"d1"}},' + TAIL + "}", GOOD),
    "dotted_key": ('{"tenant":"acme","end_time":"2026-11-26T10:00:30.000Z","device.collector.uid":"d1",'
                   + TAIL + "}", good(uid=None)),
    "repeated_key_last_wins": (BASE + ',"tenant":"globex","network_latency":7}', good(tenant="globex", lat=7.0)),
    "repeated_key_null_last": (BASE + ',"tenant":null}', good(reason="missing_tenant", tenant=None)),
    "repeated_object_replaced_by_a_scalar": (BASE + ',"device":5}', good(uid=None)),
    "repeated_object_without_the_path": (BASE + ',"device":{"name":"D1"}}', good(uid=None)),
    "bad_value_then_good_value": (HEAD + TAIL.replace("182.5", '"x"') + ',"network_latency":182.5}', GOOD),
    # unicode: raw and escaped, a surrogate pair escaped, a lone surrogate escaped (Jackson takes it)
    "unicode": ('{"tenant":"acmé","end_time":"2026-11-26T10:00:30.000Z","device":{"collector":'
                '{"uid":"d\\ud83d\\ude00\u2028"}},' + TAIL + ',"x":"\\ud800 😀"}',
                good(tenant="acmé", uid="d\U0001F600\u2028")),
    "invalid_utf8_in_a_skipped_string": ((BASE + ',"x":"').encode() + b"\xc0\xaf\xff" + b'"}', good(reason="not_utf8")),
    # the whole line: trailing content ignored (the tree parse stops at the object's end), leading
    # white space allowed, a byte order mark not (it is not white space to the parser)
    "trailing_content": (BASE + '} {"tenant":"globex"} x', GOOD),
    "leading_white_space": (" \t" + BASE + "}", GOOD),
    "byte_order_mark": (b"\xef\xbb\xbf" + (BASE + "}").encode(), NOT_JSON),
    "not_an_object": ("[" + BASE + "}]", NOT_JSON),
    # a long line: 2 MB of a string and an array nobody reads, around the declared fields
    "long_line": (HEAD + '"blob":"' + "x" * 1_000_000 + '","list":[' + ",".join(["1.5"] * 200_000) + "],"
                  + TAIL + "}", GOOD),
    # times: Flink's TO_TIMESTAMP with the format, lenient where java.time's SMART resolver is
    "time_past_the_end_of_february": (BASE.replace("2026-11-26T10:00:30", "2026-02-30T10:00:30") + "}",
                                      good(ts="2026-02-28 10:00:30.000")),
    "time_24_00": (BASE.replace("2026-11-26T10:00:30", "2026-11-26T24:00:00") + "}",
                   good(ts="2026-11-27 00:00:00.000")),
    "time_day_32": (BASE.replace("2026-11-26T10:00:30", "2026-11-32T10:00:30") + "}",
                    good(reason="bad_event_time", ts=EPOCH)),
    "time_second_60": (BASE.replace("2026-11-26T10:00:30", "2026-11-26T10:00:60") + "}",
                       good(reason="bad_event_time", ts=EPOCH)),
    "time_without_Z": (BASE.replace("10:00:30.000Z", "10:00:30.000") + "}", good(reason="bad_event_time", ts=EPOCH)),
    "time_with_a_space_and_no_millis": (BASE.replace("2026-11-26T10:00:30.000Z", "2026-11-26 10:00:30") + "}", GOOD),
    "leap_day": (BASE.replace("2026-11-26T09:00", "2024-02-29T09:00") + "}", good(seen="2024-02-29 09:00:00.000")),
}


@pytest.fixture(scope="module")
def rows(flink_env, tmp_path_factory):
    d = tmp_path_factory.mktemp("read-record")
    for name, (line, _) in CASES.items():
        (d / name).write_bytes((line.encode() if isinstance(line, str) else line) + b"\n")
    t = flink_env
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS {READ_FUNCTION} AS '{READ_FUNCTION_CLASS}' "
                  "LANGUAGE JAVA")
    t.execute_sql(f"""CREATE TEMPORARY TABLE rr_src (line STRING, name STRING METADATA FROM 'file.name' VIRTUAL)
        WITH ('connector' = 'filesystem', 'path' = '{d}', 'format' = 'raw')""")
    got = {}
    with t.execute_sql(f"""
            SELECT name, r.nql_reason, r.tenant, CAST(r.ts AS STRING), r.uid, r.lat, r.n, r.ok, CAST(r.seen AS STRING)
            FROM (SELECT name, {READ_FUNCTION}(line, '{SCHEMA}') AS r FROM rr_src)""").collect() as results:
        for name, *values in results:
            assert name not in got, f"{name}: one line, one row"
            got[name] = tuple(values)
    return got


@pytest.mark.parametrize("name", CASES)
def test_each_line_is_read_as_the_whole_tree_parse_read_it(rows, name):
    assert rows[name] == CASES[name][1]


def test_the_sign_of_zero_is_the_big_decimal_text_s(rows):
    """A float is cast from the text of its BigDecimal, which has no negative zero: -0.0 reads
    as 0.0, while -1e-400 (a negative number too small for a DOUBLE) reads as -0.0."""
    assert math.copysign(1.0, rows["latency_minus_zero"][4]) == 1.0
    assert math.copysign(1.0, rows["latency_negative_underflow"][4]) == -1.0


# Containers (the monitor-config record's `tags` and `params`): an array of strings and an object
# of numbers, each read whole; anything else in them is `bad_type` and no value. Expected rows
# are (reason, tags, params), both as Flink casts an array or a map to a string (PyFlink cannot
# bring one holding a NULL back to Python).
CONTAINER_SCHEMA = "tags field tags strings, params field params numbers"
CONTAINERS: dict[str, tuple[str, tuple]] = {
    "both": ('{"tags":["a",null,"b"],"params":{"x":1,"y":2.5,"z":null}}',
             (None, "[a, NULL, b]", "{x=1.0, y=2.5, z=NULL}")),
    "empty": ('{"tags":[],"params":{}}', (None, "[]", "{}")),
    "missing_and_null": ('{"tags":null}', (None, None, None)),
    "a_string_for_the_array": ('{"tags":"a"}', ("bad_type:tags", None, None)),
    "a_nested_array": ('{"tags":[["a"]],"params":{"x":1}}', ("bad_type:tags", None, "{x=1.0}")),
    "a_number_in_the_array": ('{"tags":["a",3]}', ("bad_type:tags", None, None)),
    "a_string_for_a_number": ('{"params":{"x":"1"}}', ("bad_type:params", None, None)),
    "an_object_for_a_number": ('{"params":{"x":{"y":1}},"tags":["a"]}', ("bad_type:params", "[a]", None)),
    "a_number_beyond_double": ('{"params":{"x":1e400}}', ("bad_type:params", None, None)),
    "an_array_for_the_object": ('{"params":[1]}', ("bad_type:params", None, None)),
    "a_repeated_member_last_wins": ('{"params":{"x":1,"y":3,"x":2}}', (None, None, "{x=2.0, y=3.0}")),
    "a_repeated_field_last_wins": ('{"tags":["a"],"tags":["b"],"params":{"x":1},"params":null}', (None, "[b]", None)),
    "a_syntax_error_inside": ('{"tags":["a"],"params":{"x":1,"y":[1,2}}', ("not_json", None, None)),
}


@pytest.fixture(scope="module")
def container_rows(flink_env, tmp_path_factory):
    d = tmp_path_factory.mktemp("read-containers")
    for name, (line, _) in CONTAINERS.items():
        (d / name).write_text(line + "\n")
    t = flink_env
    t.execute_sql(f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS {READ_FUNCTION} AS '{READ_FUNCTION_CLASS}' "
                  "LANGUAGE JAVA")
    t.execute_sql(f"""CREATE TEMPORARY TABLE rc_src (line STRING, name STRING METADATA FROM 'file.name' VIRTUAL)
        WITH ('connector' = 'filesystem', 'path' = '{d}', 'format' = 'raw')""")
    with t.execute_sql(f"""SELECT name, r.nql_reason, CAST(r.tags AS STRING), CAST(r.params AS STRING)
            FROM (SELECT name, {READ_FUNCTION}(line, '{CONTAINER_SCHEMA}') AS r FROM rc_src)""").collect() as results:
        return {name: (reason, tags, params) for name, reason, tags, params in results}


@pytest.mark.parametrize("name", CONTAINERS)
def test_containers_are_read_whole_and_typed(container_rows, name):
    assert container_rows[name] == CONTAINERS[name][1]
