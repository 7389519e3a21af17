"""Generated SQL kept as reviewed files: one job per example monitor file, plus the
monitor-config records. Regenerate with NQL_UPDATE_GOLDEN=1 and read the diff."""

import json
import os
from pathlib import Path

import pytest

from nql_flink.translator.pipeline import compile_paths

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted([*(ROOT / "examples" / "monitors").glob("*.yaml"), *(ROOT / "examples" / "seasonal").glob("*.yaml")])
GOLDEN = Path(__file__).resolve().parent / "sql"
UPDATE = os.environ.get("NQL_UPDATE_GOLDEN") == "1"


def compiled_text(path: Path) -> str:
    c = compile_paths([str(path.relative_to(ROOT))])
    assert c.ok, [d.message for d in c.result.diagnostics]
    config = "".join("-- config: " + json.dumps(r, sort_keys=True) + "\n" for r in c.job.config_records)
    return c.sql() + "\n" + config


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_generated_sql_matches_the_reviewed_file(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    golden = GOLDEN / f"{path.stem}.sql"
    text = compiled_text(path)
    if UPDATE:
        golden.write_text(text)
    assert golden.exists(), f"no reviewed SQL for {path.name}: generate it with NQL_UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text()


def test_compile_is_deterministic(monkeypatch):
    monkeypatch.chdir(ROOT)
    a = compile_paths(["examples/monitors"]).sql()
    b = compile_paths(["examples/monitors"]).sql()
    assert a == b
