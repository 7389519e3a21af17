"""Every kept disagreement between the engines (tests/clickhouse/regressions/<case>/: a
monitors.yaml, vdi.jsonl and devices.jsonl, written by differential.shrink and moved here once
the compiler that was wrong is fixed) gives the same alert records on Flink and on chdb."""

from pathlib import Path

import pytest

from tests.clickhouse.differential import differences, run_both

pytestmark = pytest.mark.flink

CASES = sorted(p for p in (Path(__file__).parent / "regressions").iterdir() if (p / "monitors.yaml").is_file())


@pytest.mark.parametrize("case", [pytest.param(p, id=p.name) for p in CASES] or [pytest.param(
    None, id="none", marks=pytest.mark.skip(reason="no case kept yet (tests/clickhouse/regressions/README.md)"))])
def test_kept_case_alerts_alike_on_flink_and_on_chdb(flink_env, monkeypatch, tmp_path, case):
    for name in ("monitors.yaml", "vdi.jsonl", "devices.jsonl"):
        (tmp_path / name).write_bytes((case / name).read_bytes())
    flink, polled = run_both(flink_env, monkeypatch, tmp_path)
    assert flink, "a kept case alerts (it was kept for a disagreement between alert records)"
    assert differences(flink, polled) == []
