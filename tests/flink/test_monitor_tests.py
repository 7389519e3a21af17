"""`nql-flink test` on both engines (Flink, and the polling back end on chdb): the example
test file (whose expectations are derived by hand in its comments) passes, and a wrong
expectation fails with a readable difference, the same on both."""

from __future__ import annotations

import argparse
import contextlib
import io
import textwrap
from pathlib import Path

import pytest

from nql_flink.translator.commands import monitor_test

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["flink", "clickhouse"])
def engine(request):
    if request.param == "flink":
        return monitor_test.FlinkEngine(request.getfixturevalue("flink_env"))
    return monitor_test.ClickHouseEngine()


def run(engine, *paths: str) -> tuple[int, str]:
    args = argparse.Namespace(paths=list(paths), engine="flink", lateness="10s", tenant=None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = monitor_test.main(args, engine=engine)
    return code, out.getvalue()


def test_the_example_tests_pass(engine):
    code, out = run(engine, str(ROOT / "examples" / "tests"))
    assert code == 0, out
    assert [line.split(":")[0] for line in out.splitlines()] == ["PASS  " + str(ROOT / "examples/tests/vdi_latency_by_pool.test.yaml")] * 2


@pytest.mark.parametrize("engine", ["clickhouse"], indirect=True)  # the report is the command's, not the engine's
def test_a_wrong_expectation_fails_with_what_differs(engine, tmp_path):
    """Two Finance desktops above 300 ms from 10:00:30 with `sessions >= 2`, for 1min, every
    30 s over 1-min windows: the run starts at the first window holding a sample, 10:01:00,
    and triggers at 10:02:00 (avg 500). The test expects 10:01:30 and avg 400: missing, with
    no near match at that time, and the 10:02:00 trigger unexpected. One record without a
    tenant is dead-lettered, and said so."""
    (tmp_path / "m.yaml").write_text(textwrap.dedent("""\
        id: two
        tenant: acme
        query: |
          session.vdi_events during past 1min
          | summarize avg_latency = network_latency.avg(), sessions = device.count()
            by device.virtualization.desktop_pool
        every: 30s
        trigger: {when: avg_latency > 300ms and sessions >= 2, for: 1min}
        """))
    (tmp_path / "t.test.yaml").write_text(textwrap.dedent("""\
        monitors: [m.yaml]
        tests:
          - name: wrong on purpose
            input:
              device.devices:
                - &d {tenant: acme, collector: {uid: c-1}, virtualization: {desktop_pool: P}, last_seen: 2026-11-26T09:00:00Z}
                - {<<: *d, collector: {uid: c-2}}
              session.vdi_events:
                - {series: &s {from: 2026-11-26T10:00:30Z, to: 2026-11-26T10:03:00Z, every: 30s},
                   record: {tenant: acme, device: {collector: {uid: c-1}}, network_latency: 500}}
                - {series: *s, record: {tenant: acme, device: {collector: {uid: c-2}}, network_latency: 500}}
                - {end_time: 2026-11-26T10:01:00Z, device: {collector: {uid: c-1}}, network_latency: 1}
            expect:
              - {status: triggered, at: 2026-11-26T10:01:30Z, values: {avg_latency: 400}}
        """))
    code, out = run(engine, str(tmp_path / "t.test.yaml"))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"FAIL  {tmp_path / 't.test.yaml'}:3: wrong on purpose")
    assert lines[1] == "  missing     (line 14): 2026-11-26T10:01:30.000Z  triggered  avg_latency=400"
    assert lines[2] == ("  unexpected: 2026-11-26T10:02:00.000Z  triggered  acme/two  [device.virtualization.desktop_pool=P]"
                        "  avg_latency=500.0, sessions=2")
    assert lines[3].startswith("  dead letter: session.vdi_events: missing_tenant: ")
    assert len(lines) == 4
