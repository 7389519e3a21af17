"""`nql-flink run --progress`: the status line from Flink's REST answers (no JVM here)."""

from nql_flink.deploy.embedded.progress import (
    InputProgress, Progress, count_lines, format_progress, metric_values, source_vertices,
)

# the vertices of /jobs/<job> for a job reading two files (names as the mini-cluster gives them)
JOB = {"vertices": [
    {"id": "v1", "name": "Source: src_session_vdi_events[1] -> Calc[2] -> WatermarkAssigner[3] -> Calc[4]"},
    {"id": "v2", "name": "Source: src_device_devices[12] -> Calc[13] -> WatermarkAssigner[14] -> Calc[15]"},
    {"id": "v3", "name": "Source: src_monitor_config[49] -> Calc[50] -> WatermarkAssigner[51] -> Calc[52]"},
    {"id": "v4", "name": "TemporalJoin[26] -> Calc[27]"},
]}


def test_source_vertices_name_the_operators_whose_metrics_are_read():
    tables = {"src_session_vdi_events": "session.vdi_events", "src_device_devices": "device.devices"}
    assert source_vertices(JOB, tables) == [
        ("session.vdi_events", "v1", "Source__src_session_vdi_events[1]", "WatermarkAssigner[3]"),
        ("device.devices", "v2", "Source__src_device_devices[12]", "WatermarkAssigner[14]"),
    ]


def test_metric_values_take_the_aggregate_flink_returns():
    rows = [{"id": "Source__src_x[1].numRecordsOut", "sum": 3694.0},
            {"id": "WatermarkAssigner[3].currentOutputWatermark", "min": 1795702765000.0}]
    assert metric_values(rows) == {"Source__src_x[1].numRecordsOut": 3694.0,
                                   "WatermarkAssigner[3].currentOutputWatermark": 1795702765000.0}


def test_status_line():
    p = Progress([
        # 1795702765000 ms = 2026-11-26 14:19:25 UTC
        InputProgress("session.vdi_events", 3694, 1795702765000),
        InputProgress("device.devices", 278, 2 ** 63 - 1),          # the file has ended
        InputProgress("execution.crashes", 0, -(2 ** 63)),          # no watermark yet
        InputProgress("session.logins"),                            # its metrics not there yet
    ], alerts=1)
    assert format_progress(p) == (
        "session.vdi_events: 3,694 read, watermark 2026-11-26 14:19:25 · "
        "device.devices: 278 read, watermark end of input · "
        "execution.crashes: 0 read · session.logins: starting · alerts so far: 1")
    assert format_progress(Progress([InputProgress("session.logins")])) == "session.logins: starting"


def test_alerts_so_far_count_every_file_of_the_sink_in_progress_ones_too(tmp_path):
    assert count_lines(tmp_path / "sink_alerts") is None
    (tmp_path / "sink_alerts").mkdir()
    (tmp_path / "sink_alerts" / "part-1").write_text('{"a":1}\n{"a":2}\n')
    (tmp_path / "sink_alerts" / ".part-2.inprogress").write_text('{"a":3}\n{"a"')   # the last line is not complete
    assert count_lines(tmp_path / "sink_alerts") == 3
