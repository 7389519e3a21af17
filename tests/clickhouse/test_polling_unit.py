"""The polling back end without an engine: numbers as Java prints them, URLs, escaping,
diagnostics and exit codes."""

import json

import pytest

from nql_flink.translator.cli import main
from nql_flink.translator.clickhouse.connection import ClickHouseError, DEFAULT_DIR, DEFAULT_URL, parse_url
from nql_flink.translator.clickhouse.expressions import lit
from nql_flink.translator.clickhouse.poll import java_double, java_json, nested_double
from tests.clickhouse.test_poll_semantics import MONITOR as SEMANTICS_MONITOR


@pytest.mark.parametrize("value, text", [
    (200.0, "200.0"), (404.6627777777778, "404.6627777777778"), (0.001, "0.001"), (1234567.5, "1234567.5"),
    (1e7, "1.0E7"), (12345678.9, "1.23456789E7"), (1.5e-5, "1.5E-5"), (0.0005, "5.0E-4"), (-2.5e10, "-2.5E10"),
    (0.0, "0.0"), (-0.0, "-0.0")])
def test_doubles_are_written_as_java_writes_them(value, text):
    assert java_double(value) == text


@pytest.mark.parametrize("value,text", [(0.3, "0.3"), (1.5, "1.5"), (0.0, "0.0"), (5e-6, "0.0000050"),
                                        (1e-7, "1.0E-7"), (1e7, "1.0E+7"), (None, "null")])
def test_the_share_is_written_as_flink_writes_a_double_in_a_nested_object(value, text):
    # what tests/flink/test_alert_record.py found Flink's JSON_OBJECT writing for the impact share
    assert java_json(nested_double(value)) == text


def test_json_has_sorted_keys_no_spaces_and_unicode_as_is():
    assert java_json({"b": [1, None, True], "a": {"z": "Zürich \"x\"", "y": 2.0}}) == \
        '{"a":{"y":2.0,"z":"Zürich \\"x\\""},"b":[1,null,true]}'


def test_urls():
    assert parse_url("chdb:///abs/dir") == ("chdb", "/abs/dir")
    assert parse_url("chdb://rel/dir") == ("chdb", "rel/dir")
    assert parse_url("chdb:") == ("chdb", DEFAULT_DIR)
    assert parse_url(DEFAULT_URL) == ("chdb", DEFAULT_DIR) and not DEFAULT_DIR.startswith("/")
    assert parse_url("chdb:memory") == ("chdb", None)
    assert parse_url("http://localhost:8123") == ("http", "http://localhost:8123")
    for bad in ("postgres://x", "localhost:8123", "http://"):
        with pytest.raises(ClickHouseError) as e:
            parse_url(bad)
        assert e.value.code == "bad-url"


def test_literals_are_escaped_for_clickhouse():
    assert lit("it's a \\ test") == "'it''s a \\\\ test'"


# the hand-derived test's monitor, filtered on a site named with a quote and a wildcard
MONITOR = SEMANTICS_MONITOR.replace("device.virtualization.desktop_pool != null", "client.location.site == \"Lau'sanne*\"")


def test_text_from_the_monitor_reaches_sql_only_as_literals(tmp_path, capsys):
    (tmp_path / "m.yaml").write_text(MONITOR)
    assert main(["compile", str(tmp_path / "m.yaml"), "--target", "clickhouse", "-o", str(tmp_path / "out")]) == 0
    sql = (tmp_path / "out" / "acme__pool_latency.sql").read_text()
    assert "LIKE 'lau''sanne%'" in sql
    assert (tmp_path / "out" / "tables.sql").read_text().count("CREATE TABLE IF NOT EXISTS") == 6


def test_unsupported_monitors_get_nql0801_and_bad_options_a_usage_error(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text("""
id: s
tenant: acme
query: |
  session.vdi_events during past 5min
  | summarize lat = network_latency.avg()
every: 1min
detection: {type: change, metric: lat, change: 50%, history: 1h, direction: above}
""")
    assert main(["poll", str(tmp_path / "s.yaml"), "--clickhouse", "chdb:memory", "--from", "2026-11-26T10:00:00Z",
                 "--to", "2026-11-26T11:00:00Z"]) == 1
    assert "error[NQL0801]: change detection cannot be evaluated on ClickHouse yet" in capsys.readouterr().err
    (tmp_path / "m.yaml").write_text(MONITOR)
    assert main(["poll", str(tmp_path / "m.yaml"), "--from", "yesterday", "--to", "2026-11-26T11:00:00Z"]) == 2
    assert "--from 'yesterday' is not an ISO-8601 time" in capsys.readouterr().err
    assert main(["poll", str(tmp_path / "m.yaml"), "--clickhouse", "mysql://x", "--from", "2026-11-26T10:00:00Z",
                 "--to", "2026-11-26T11:00:00Z"]) == 2
    assert "nql-flink poll: [bad-url]" in capsys.readouterr().err
    assert main(["load", "--clickhouse", "chdb:memory", "--input", f"nope={tmp_path / 'm.yaml'}"]) == 2
    assert "unknown table 'nope'" in capsys.readouterr().err


def test_inventory_versions_take_effect_as_the_streaming_job_applies_them():
    """docs/polling.md "Inventory read out of version order", by hand, in the order read
    (newest: the largest version time read before):
    1 acme d1 10:00 in order (newest 10:00)      6 acme d3 09:50 late, d3 in order at 10:07: dropped
    2 globex g1 10:07 in order (newest 10:07)    7 acme d4 09:10 late: from 10:07
    3 acme d2 09:00 late: from 10:07             8 acme d4 10:07 in order at 10:07: replaces 7
    4 acme d2 09:30 late: from 10:07, the later  9 acme d1 10:05 late: from 10:07 (d1's 10:00 stays)
      version time of the two: replaces 3
    5 acme d3 10:07 in order at 10:07"""
    from nql_flink.translator.clickhouse import tables
    from nql_flink.translator.semantic.schema import load_catalog

    table = load_catalog().tables["device.devices"]
    read = [("acme", "d1", "10:00"), ("globex", "g1", "10:07"), ("acme", "d2", "09:00"), ("acme", "d2", "09:30"),
            ("acme", "d3", "10:07"), ("acme", "d3", "09:50"), ("acme", "d4", "09:10"), ("acme", "d4", "10:07"),
            ("acme", "d1", "10:05")]
    lines = [json.dumps({"tenant": tenant, "collector": {"uid": uid}, "last_seen": f"2026-11-26T{hm}:00.000Z"})
             for tenant, uid, hm in read]
    names = [c for c, _, _ in tables.columns(table)]
    rows = tables.effective_versions(table, tables.read_records(table, lines).rows)
    got = sorted((r[0], r[names.index("collector_uid")], tables.format_time(r[1])[11:16],
                  tables.format_time(r[names.index("last_seen")])[11:16]) for r in rows)
    assert got == sorted([("acme", "d1", "10:00", "10:00"), ("globex", "g1", "10:07", "10:07"),
                          ("acme", "d2", "10:07", "09:30"), ("acme", "d3", "10:07", "10:07"),
                          ("acme", "d4", "10:07", "10:07"), ("acme", "d1", "10:07", "10:05")])
    # event tables are not versions: rows as read
    events = load_catalog().tables["session.vdi_events"]
    assert tables.effective_versions(events, [("acme", 2), ("acme", 1)]) == [("acme", 2), ("acme", 1)]


def test_a_time_from_a_wrong_clock_is_not_loaded_as_the_job_rejects_it():
    """More than the clock skew bound (CompileOptions' default, 10 min) ahead of the clock:
    `future`, for an event as for an inventory version (which would otherwise be the newest for
    ever: effective_versions)."""
    from datetime import datetime, timedelta, timezone

    from nql_flink.translator.clickhouse import tables
    from nql_flink.translator.flink.connectors import CompileOptions
    from nql_flink.translator.semantic.schema import load_catalog

    assert tables.MAX_CLOCK_SKEW_MS == CompileOptions().max_clock_skew_ms
    soon = tables.format_time(int((datetime.now(timezone.utc) + timedelta(minutes=5)).timestamp() * 1000))
    late = tables.format_time(int((datetime.now(timezone.utc) + timedelta(minutes=30)).timestamp() * 1000))
    catalog = load_catalog()
    devices = tables.read_records(catalog.tables["device.devices"], [
        json.dumps({"tenant": "acme", "collector": {"uid": u}, "last_seen": t}) for u, t in (("d1", soon), ("d2", late))])
    assert (len(devices.rows), devices.rejected) == (1, {"future": 1})
    events = tables.read_records(catalog.tables["session.vdi_events"], [
        json.dumps({"tenant": "acme", "end_time": late, "device": {"collector": {"uid": "d1"}}})])
    assert (events.rows, events.rejected) == ([], {"future": 1})
