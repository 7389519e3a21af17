"""What `check` accepts compiles, and what compiles plans on Flink (issue 13's one rule),
for monitor files generated from the NQL grammar and the catalog (tests/monitor_strategy.py).

Bounded and deterministic in CI (derandomize: the same examples every run); set
NQL_PROPERTY_EXAMPLES (e.g. 200) for a deeper local search, with NQL_PROPERTY_SEED to
explore other examples than CI's."""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

from tests.conftest import explain_compiled, fresh_database
from tests.monitor_strategy import monitor_files
from nql_flink.translator.diagnostics.render import render_all_text
from nql_flink.translator.pipeline import check_paths, compile_paths

pytestmark = pytest.mark.flink

EXAMPLES = int(os.environ.get("NQL_PROPERTY_EXAMPLES", "25"))
SEED = os.environ.get("NQL_PROPERTY_SEED")

PROPERTY = settings(max_examples=EXAMPLES, derandomize=SEED is None, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _seeded(test):
    return seed(int(SEED))(test) if SEED is not None else test


@_seeded
@PROPERTY
@given(text=monitor_files())
def test_what_check_accepts_compiles_and_plans(flink_env, text):
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir, "generated.yaml")
        path.write_text(text, encoding="utf-8")
        if not check_paths([str(path)]).ok:
            return  # rejected by `check`: the rule says nothing about it
        compiled = compile_paths([str(path)])
        assert compiled.ok, "check accepted, compile refused:\n" + render_all_text(compiled.result.diagnostics)
        with fresh_database(flink_env):
            plan = explain_compiled(flink_env, compiled, workdir)
        assert "Sink(table=[default_catalog." in plan
