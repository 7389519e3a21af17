"""The stage-cost benchmark's copies of a generated job (benchmarks/stage_cost.py, issue 15):
each edit finds what it changes in today's generated SQL, and every copy plans on Flink."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nql_flink.translator.pipeline import compile_paths
from tests.conftest import explain_statements

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import stage_cost  # noqa: E402  (benchmarks/ is not a package)


def job_statements(monitors: Path, workdir: Path, files: dict[str, str] | None = None,
                   sinks: str | None = None) -> list[str]:
    compiled = compile_paths([str(monitors)])
    assert compiled.ok
    return stage_cost.statements_on_files(compiled, files or {}, workdir / "config.jsonl",
                                          sinks or str(workdir / "sinks"))


@pytest.fixture(scope="module")
def same_file(tmp_path_factory):
    # three monitors of the same family over three tenants: the shape of same 1000/100
    return stage_cost.same_file(tmp_path_factory.mktemp("same") / "same.yaml", 3, 100)


def test_each_edit_changes_what_it_names(tmp_path, same_file):
    same = job_statements(same_file, tmp_path)
    only = stage_cost.windows_only(same)
    assert "sink_alerts" not in only[-1] and "stage_cost_blackhole" in only[-1]
    no_ticks = stage_cost.without_ticks(same)
    [tickable] = [s for s in no_ticks if "CREATE TEMPORARY VIEW `tickable_" in s]
    assert tickable.endswith("AND CHAR_LENGTH(CAST(`ts` AS STRING)) < 0")
    # an edit of something the job does not have says so
    with pytest.raises(stage_cost.EditFailed):
        stage_cost.windows_only(only)


# every distinct copy of the benchmark's sets, all of the same-shape family (the jobs as compiled
# are planned by other tests)
COPIES = sorted({tuple(edits) for s in stage_cost.SETS.values() for what, edits in s.values() if edits})


@pytest.mark.parametrize("edits", COPIES)
def test_every_copy_plans(edits, flink_env, flink_database, tmp_path, same_file):
    statements = stage_cost.edited(job_statements(same_file, tmp_path), list(edits))
    plan = explain_statements(flink_env, statements).split("== Optimized Execution Plan ==")[-1]
    # what each edit takes out is gone from the plan, and nothing else is
    assert "nql_clock(" not in plan     # the windows function keeps the tenants' clocks
    assert "TemporalJoin(joinType=[LeftOuterJoin]" not in plan    # the windows function looks the inventory up
    assert "TemporalJoin(" not in plan  # the windows function gives each evaluation its config
    assert "nql_alert_states(" not in plan  # the windows function judges them and keeps their alert states
    assert ("sink_alert_state" in plan) == ("windows_only" not in edits)
    assert "nql_inventory_windows(" in plan
