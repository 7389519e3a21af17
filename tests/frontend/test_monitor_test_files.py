"""Monitor test files (translator/testing, docs/monitor-tests.md) without an engine: how a
file is read (series, merge keys, times, order), every problem as a coded diagnostic at its
line and column, and how expected transitions are compared with produced ones."""

from __future__ import annotations

import textwrap

import pytest

from nql_flink.translator.semantic.schema import load_catalog
from nql_flink.translator.testing.compare import compare, describe
from nql_flink.translator.testing.spec import Expected, read_test_file, time_text

MONITOR = textwrap.dedent("""\
    id: m
    tenant: acme
    query: |
      session.vdi_events during past 1min
      | summarize n = count()
    every: 30s
    trigger: {when: n > 1}
    """)


def read(tmp_path, text: str):
    (tmp_path / "m.yaml").write_text(MONITOR)
    path = tmp_path / "t.test.yaml"
    path.write_text(textwrap.dedent(text))
    return read_test_file(str(path), load_catalog())


def codes(diags):
    return [(d.code, d.location[1], d.location[2]) for d in diags]


def test_a_series_is_one_record_per_step_with_the_tables_time_field(tmp_path):
    spec, diags = read(tmp_path, """\
        monitors: [m.yaml]
        tests:
          - name: s
            input:
              session.vdi_events:
                - series: {from: 2026-11-26T10:00:30Z, to: "2026-11-26T11:01:30+01:00", every: 30s}
                  record: &r {tenant: acme, device: {collector: {uid: c-1}}, network_latency: 5}
                - {<<: *r, end_time: 2026-11-26T10:00:45.5Z, network_latency: 7}
            expect: []
        """)
    assert diags == []
    [case] = spec.cases
    records = case.inputs["session.vdi_events"]
    # 10:00:30, 10:01:00, 10:01:30 (11:01:30 at +01:00), and the single record sorted among them
    assert [(r["end_time"], r["network_latency"]) for r in records] == [
        ("2026-11-26T10:00:30.000Z", 5), ("2026-11-26T10:00:45.500Z", 7), ("2026-11-26T10:01:00.000Z", 5),
        ("2026-11-26T10:01:30.000Z", 5)]
    assert records[0]["device"] == {"collector": {"uid": "c-1"}} and records[1]["tenant"] == "acme"
    assert spec.monitors == [str(tmp_path / "m.yaml")]
    assert case.expect == []


def test_order_written_keeps_the_files_order(tmp_path):
    spec, diags = read(tmp_path, """\
        monitors: [m.yaml]
        tests:
          - name: late
            order: written
            input:
              session.vdi_events:
                - {tenant: acme, end_time: 2026-11-26T10:05:00Z}
                - {tenant: acme, end_time: 2026-11-26T10:00:00Z}
            expect: []
        """)
    assert diags == []
    assert [r["end_time"] for r in spec.cases[0].inputs["session.vdi_events"]] == [
        "2026-11-26T10:05:00.000Z", "2026-11-26T10:00:00.000Z"]


def test_expected_transitions_keep_only_the_fields_written(tmp_path):
    spec, _ = read(tmp_path, """\
        monitors: [m.yaml]
        tests:
          - name: e
            input: {}
            expect:
              - {status: triggered, at: "2026-11-26T10:01:00Z", values: {n: 2}}
              - {status: recovered, at: 2026-11-26T11:01:30+01:00, tenant: acme, group: {}}
        """)
    [a, b] = spec.cases[0].expect
    assert (a.fields, a.line) == ({"status": "triggered", "at": "2026-11-26T10:01:00.000Z", "values": {"n": 2}}, 6)
    assert b.fields == {"status": "recovered", "at": "2026-11-26T10:01:30.000Z", "tenant": "acme", "group": {}}


def test_every_problem_is_a_coded_diagnostic_where_it_stands(tmp_path):
    spec, diags = read(tmp_path, """\
        monitors: [m.yaml, gone.yaml]
        tests:
          - name: bad
            inputs: {}
            input:
              session.vdi_event: []
              device.devices: {tenant: acme}
              session.logins:
                - series: {from: 2026-11-26T10:00:00Z, to: 10 o'clock, every: 30s}
                  record: {}
                - series: {from: 2026-11-26T10:00:00Z, to: 2026-11-26T09:00:00Z, every: 30s}
                  record: {}
            expect:
              - {status: trigered, at: 2026-11-26T10:00:00Z}
              - {status: recovered, at: yesterday}
              - {status: recovered}
          - name: no expect
            input: {}
        """)
    assert spec is None
    assert codes(diags) == [
        ("NQL0901", 1, 11),   # gone.yaml (at the list)
        ("NQL0004", 4, 5),    # inputs: unknown key, did you mean input
        ("NQL0902", 6, 7),    # session.vdi_event: not a table
        ("NQL0006", 7, 23),   # a table's records must be a list
        ("NQL0903", 9, 52),   # to: not a time
        ("NQL0903", 11, 19),  # from after to
        ("NQL0406", 14, 18),  # status trigered
        ("NQL0903", 15, 33),  # at: yesterday
        ("NQL0005", 16, 9),   # no at
        ("NQL0005", 17, 5),   # no expect
    ]
    assert "did you mean 'input'?" == diags[1].hint
    assert "tables:" in diags[2].message and "session.vdi_events" in diags[2].message


def test_time_text_needs_a_zone_or_a_yaml_timestamp():
    assert time_text("2026-11-26T10:00:00Z") == "2026-11-26T10:00:00.000Z"
    assert time_text("2026-11-26T12:00:00.25+02:00") == "2026-11-26T10:00:00.250Z"
    assert time_text("ten o'clock") is None and time_text(5) is None


# ----------------------------------------------------------------------------- comparing
def produced(status, at, **more):
    return {"status": status, "at": at, "tenant": "acme", "monitor": "m", "group": {"pool": "P1"},
            "values": {"lat": 400.0, "n": 2}, "priority": "high", **more}


@pytest.mark.parametrize("expected, ok", [
    ({"status": "triggered", "at": "T1"}, True),
    ({"status": "triggered", "at": "T1", "values": {"lat": 400}}, True),                 # int vs float
    ({"status": "triggered", "at": "T1", "values": {"lat": 400.0000000001}}, True),      # within 1e-9
    ({"status": "triggered", "at": "T1", "values": {"lat": 400.001}}, False),
    ({"status": "triggered", "at": "T1", "group": {"pool": "P2"}}, False),
    ({"status": "triggered", "at": "T1", "group": {}}, True),                             # names no key
    ({"status": "triggered", "at": "T1", "values": {"missing": 1}}, False),
    ({"status": "recovered", "at": "T1"}, False),
])
def test_an_expectation_matches_on_the_fields_it_names(expected, ok):
    outcome = compare([Expected(expected, 1)], [produced("triggered", "T1")])
    assert outcome.ok is ok
    assert len(outcome.unexpected) == (0 if ok else 1)


def test_a_failure_names_the_missing_the_unexpected_and_the_differing_fields():
    want = [Expected({"status": "triggered", "at": "T1", "values": {"lat": 300}, "priority": "high"}, 7),
            Expected({"status": "recovered", "at": "T3"}, 9)]
    got = [produced("triggered", "T1"), produced("recovered", "T2"), produced("triggered", "T1")]
    outcome = compare(want, got)
    assert [(e.line, diffs) for e, diffs in outcome.missing] == [
        (7, ["values.lat: expected 300, got 400.0"]), (9, [])]
    assert [(a["status"], a["at"]) for a in outcome.unexpected] == [("triggered", "T1"), ("triggered", "T1"),
                                                                    ("recovered", "T2")]
    assert describe(got[1]) == "T2  recovered  acme/m  [pool=P1]  lat=400.0, n=2"


def test_each_produced_transition_meets_one_expectation_only():
    twice = [Expected({"status": "triggered", "at": "T1"}, 1), Expected({"status": "triggered", "at": "T1"}, 2)]
    assert not compare(twice, [produced("triggered", "T1")]).ok
    assert compare(twice, [produced("triggered", "T1"), produced("triggered", "T1")]).ok
