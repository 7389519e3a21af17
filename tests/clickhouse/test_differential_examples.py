"""The bundled examples (examples/monitors over examples/data, as `nql-flink demo`) on embedded
Flink (`nql-flink run`) and on chdb (`nql-flink poll`): the same alert records, every example
monitor included (the polling back end refuses none of them)."""

from pathlib import Path

import pytest

from tests.clickhouse.differential import differences, run_flink, run_poll

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "monitors"
DATA = ROOT / "examples" / "data"
TABLES = ("session.vdi_events", "device.devices", "device_performance.events", "execution.crashes",
          "session.logins", "session.events")


def test_examples_give_the_same_alerts_on_flink_and_on_chdb(flink_env, monkeypatch, tmp_path):
    monitors = [str(EXAMPLES)]
    inputs = {t: str(DATA / f"{t}.jsonl") for t in TABLES}
    flink = run_flink(flink_env, monkeypatch, monitors, inputs, tmp_path / "flink.jsonl")
    polled = run_poll(monitors, inputs, tmp_path / "poll.jsonl")
    assert len(flink) == 2  # the demo's incident: triggered and recovered (tests/flink/test_demo.py)
    assert differences(flink, polled) == []
