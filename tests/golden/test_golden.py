"""Golden files reviewed in diffs.

- Every example monitor and every case under golden/cases has its typed tree dumped in
  golden/typed/<file>.<monitor>.txt.
- Every bad monitor under golden/bad has its rendered diagnostics in golden/bad/<name>.txt,
  written by hand from the rules.

To accept a reviewed change of the typed dumps: NQL_UPDATE_GOLDEN=1 make test (then read
the diff before committing). Diagnostic expectations are never regenerated.
"""

import os
from pathlib import Path

import pytest

from nql_flink.translator.diagnostics.render import render_all_text
from tests.golden.typed_dump import dump_monitor
from nql_flink.translator.pipeline import check_paths, monitor_files

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GOOD = sorted([*monitor_files([str(ROOT / "examples")])[0], *(HERE / "cases").glob("*.yaml")])
BAD = sorted((HERE / "bad").glob("*.yaml"))
UPDATE = os.environ.get("NQL_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_typed_dump(path):
    result = check_paths([str(path)])
    assert result.ok, render_all_text(result.diagnostics)
    assert result.monitors
    for m in result.monitors:
        golden = HERE / "typed" / f"{path.stem}.{m.tenant}.{m.id}.txt"
        actual = dump_monitor(m)
        if UPDATE:
            golden.write_text(actual)
        assert golden.exists(), f"no golden file {golden.name}: review the dump and add it"
        assert actual == golden.read_text()


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_monitor_diagnostics(path, monkeypatch):
    monkeypatch.chdir(path.parent)
    result = check_paths([path.name])
    expected = path.with_suffix(".txt").read_text()
    assert render_all_text(result.diagnostics) + "\n" == expected
    assert not result.monitors


def test_every_golden_typed_file_belongs_to_a_monitor():
    produced = set()
    for path in GOOD:
        for m in check_paths([str(path)]).monitors:
            produced.add(f"{path.stem}.{m.tenant}.{m.id}.txt")
    assert {p.name for p in (HERE / "typed").glob("*.txt")} == produced
