"""The generated job is data until its edge: statements with a kind, tables with their
connector (options, metadata) apart from the layout. Runners move a job onto files on that
structure (Job.on_files), never by reading its SQL text back."""

from pathlib import Path

import pytest

from nql_flink.translator.pipeline import compile_paths


@pytest.fixture(scope="module")
def job():
    compiled = compile_paths(["examples/monitors/vdi_latency_by_pool.yaml"])
    assert compiled.ok
    return compiled.job


def test_statement_kinds_in_job_order(job):
    kinds = [s.kind for s in job.statements]
    assert kinds[:2] == ["header", "set"] and kinds[-1] == "statement_set"
    assert {"function", "table", "view"} <= set(kinds)
    # every table has a connector, nothing else has one
    assert all((s.kind == "table") == (s.connector is not None) for s in job.statements)


def test_tables_are_kafka_until_moved(job):
    tables = {s.connector.table: s.connector for s in job.statements if s.connector}
    assert set(tables) == {"src_session_vdi_events", "src_device_devices", "src_monitor_config",
                           "sink_alerts", "sink_dead_letters", "sink_alert_state"}
    assert {c.options["connector"] for c in tables.values()} == {"kafka"}
    assert [m.key for m in tables["src_session_vdi_events"].metadata] == ["partition"]


def test_on_files_changes_the_connectors_and_nothing_else(job, tmp_path):
    events = tmp_path / "events.jsonl"
    moved = job.on_files({"src_session_vdi_events": str(events)}, str(tmp_path / "out"))
    for before, after in zip(job.statements, moved.statements, strict=True):
        assert (after.template, after.context) == (before.template, before.context)
        if before.connector is None:
            assert after is before
    tables = {s.connector.table: s.connector for s in moved.statements if s.connector}
    # a source on its file, parsed as on Kafka (raw lines); the partition is the constant 0
    assert tables["src_session_vdi_events"].options == {"connector": "filesystem", "path": str(events.resolve()),
                                                        "format": "raw"}
    [split] = tables["src_session_vdi_events"].metadata
    assert split.constant == "0"
    # a keyed Kafka sink becomes a JSON file sink under the output folder
    assert tables["sink_alerts"].options == {"connector": "filesystem", "format": "json",
                                             "path": str((tmp_path / "out" / "sink_alerts").resolve())}
    # an input not given is written like a sink: a source with no file reads an empty folder
    assert tables["src_monitor_config"].options["path"] == str(Path(tmp_path / "out" / "src_monitor_config").resolve())


def test_the_rendered_job_on_files_names_no_kafka(job, tmp_path):
    text = "\n".join(job.on_files({}, str(tmp_path)).executable())
    assert "'kafka'" not in text and "METADATA FROM" not in text
    assert "`nql_split` AS CAST(0 AS INT)" in text
