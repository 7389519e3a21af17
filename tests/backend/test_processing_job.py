"""The alert processing in the generated job (translator/flink/processing.py), no JVM: none of
it without a monitor asking for it (the golden SQL pins the rest of such a job); with one, one
function call partitioned by tenant over the job's transitions, its spec listing the options,
a uid naming no monitor, and one keyed exactly-once sink."""
from nql_flink.translator.flink import processing
from nql_flink.translator.pipeline import compile_paths

SEED = "examples/monitors/vdi_latency_by_pool.yaml"


def with_options(tmp_path, options: str):
    text = open(SEED, encoding="utf-8").read() + options
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    compiled = compile_paths([str(tmp_path / "m.yaml")])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    return compiled.job


def test_off_without_options_nothing_of_it_in_the_job():
    script = compile_paths([SEED]).job.script()
    assert "processing" not in script and "sink_notifications" not in script


def test_flapping_one_function_call_one_sink_one_insert(tmp_path):
    job = with_options(tmp_path, "flapping:\n  changes: 4\n  within: 1h\n")
    script = job.script()
    assert script.count("INSERT INTO `sink_notifications`") == 1
    assert script.count("INSERT INTO `sink_alerts`") == 1
    views = [s for s in job.statements if s.template == "views/processing.sql.j2"]
    assert len(views) == 1
    assert views[0].context["spec"] == "'acme/vdi_latency_by_pool: flap=4/3600000;group=0;repeat=0'"
    assert views[0].context["uid"].startswith("'job--processing--")
    (sink,) = [s for s in job.statements if s.connector and s.connector.table == processing.SINK]
    opts = sink.connector.options
    assert (opts["topic"], opts["key.fields"], opts["sink.delivery-guarantee"]) == (
        "nql.notifications", "monitor_key", "exactly-once")
    assert opts["sink.transactional-id-prefix"].endswith(".notifications")
    # the alert topic's record query is the same with or without processing
    alerts = lambda j: [s for s in j.script().split("INSERT INTO ")[1:] if s.startswith("`sink_alerts`")]  # noqa: E731
    assert alerts(job) == alerts(compile_paths([SEED]).job)


def test_a_maintenance_topic_processes_every_threshold_monitor_and_reads_the_topic(tmp_path):
    from nql_flink.translator.flink.connectors import CompileOptions

    job = compile_paths([SEED], options=CompileOptions(maintenance_topic="nql.maintenance", topic_prefix="t.")).job
    (source,) = [s for s in job.statements if s.connector and s.connector.table == processing.MAINTENANCE]
    assert (source.connector.options["topic"], source.connector.options["scan.startup.mode"]) == (
        "t.nql.maintenance", "earliest-offset")
    assert job.source_tables["maintenance"] == processing.MAINTENANCE
    script = job.script()
    assert "'acme/vdi_latency_by_pool:" not in script            # no options: an empty spec
    assert script.count("INSERT INTO `sink_notifications`") == 1
    assert "SELECT 'maintenance', `reject_reason`, `line`" in script
    # the maintenance versions reach the function with the transitions, partitioned by tenant
    (view,) = [s for s in job.statements if s.template == "views/processing_input.sql.j2"]
    assert view.context["windows"] == "`src_maintenance`"


def test_the_uid_names_the_state_layout_of_the_java_function():
    """The uid hashes processing.LAYOUT (savepoint upgrades restore by uid): it must hold the
    Java function's state types, so that changing them changes the uid instead of misreading
    old state."""
    import re
    from pathlib import Path

    java = (Path(__file__).resolve().parents[2] / "udfs/jvm/src/dev/nqlflink/udfs/AlertProcessing.java").read_text()
    for name in ("GROUP_TYPE", "ENTRY_TYPE"):
        declared = re.search(name + r' =\s*"([^"]*)"\s*\+\s*"([^"]*)"', java)
        assert declared.group(1) + declared.group(2) in processing.LAYOUT, name
    hints = re.findall(r'@StateHint\(ttl = "0 ms", type = @DataTypeHint\("([^"]*)"', java)
    assert hints == ["MAP<STRING, ", "MAP<STRING, ", "MAP<STRING, STRING>", "ROW<seen BIGINT>"]
    assert processing.LAYOUT.endswith("MAP<id/version, STRING>, ROW<seen BIGINT> by tenant")


def test_deploy_creates_the_processing_topics_only_for_a_job_with_processing(tmp_path):
    from nql_flink.translator.flink.connectors import CompileOptions

    o = CompileOptions(maintenance_topic="nql.maintenance", topic_prefix="t.")
    assert processing.topics(compile_paths([SEED], options=o).job, o) == {
        "notifications": ["t.nql.notifications"], "maintenance": ["t.nql.maintenance"]}
    assert processing.topics(compile_paths([SEED]).job, CompileOptions()) == {"notifications": [], "maintenance": []}
