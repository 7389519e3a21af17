"""`evaluation: streaming | polling` (issue 17): where a monitor is evaluated. A polling
monitor is left out of the Flink job with a warning that says so and why; its table's catalog
entry gives the default; a bad value is NQL0406 at the value."""

from __future__ import annotations

import dataclasses
import textwrap

from nql_flink.translator.pipeline import check_paths, compile_paths, evaluation_mode, monitor_key
from nql_flink.translator.semantic.schema import Catalog, load_catalog


def monitor(mid: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        - id: {mid}
          tenant: acme
          query: |
            session.vdi_events during past 1min
            | summarize n = count()
          every: 30s
          trigger: {{when: n > 1}}
        """) + (textwrap.indent(extra, "  ") if extra else "")


def write(tmp_path, *monitors: str):
    path = tmp_path / "m.yaml"
    path.write_text("monitors:\n" + textwrap.indent("".join(monitors), "  "))
    return str(path)


def test_a_polling_monitor_is_left_out_of_the_job_with_a_warning(tmp_path):
    path = write(tmp_path, monitor("streamed"), monitor("polled", "evaluation: polling\n"),
                 monitor("said_streaming", "evaluation: streaming\n"))
    compiled = compile_paths([path])
    assert compiled.ok
    assert sorted(m.id for m in compiled.lowered) == ["said_streaming", "streamed"]
    assert "polled" not in compiled.sql() and "streamed" in compiled.sql()
    [warning] = [d for d in compiled.result.diagnostics if d.code == "NQL0505"]
    assert warning.message == ("monitor acme/polled is evaluated by polling (`evaluation: polling`): it is not in "
                               "the Flink job; `nql-flink poll` evaluates it")
    # line 1 `monitors:`, 7 lines of `streamed`, `polled`'s 8th line; the value after 4 + 12 characters
    assert warning.location[1:] == (16, 17)
    assert not warning.is_error


def test_only_polling_monitors_make_no_job(tmp_path):
    compiled = compile_paths([write(tmp_path, monitor("polled", "evaluation: polling\n"))])
    assert not compiled.ok and [d.code for d in compiled.result.diagnostics] == ["NQL0505"]


def test_a_bad_value_is_reported_at_it(tmp_path):
    result = check_paths([write(tmp_path, monitor("m", "evaluation: batch\n"))])
    [d] = result.diagnostics
    assert (d.code, d.location[1:]) == ("NQL0406", (9, 17))
    assert d.message == "'evaluation' must be one of streaming, polling, not 'batch'"


def test_the_tables_catalog_entry_gives_the_default(tmp_path):
    result = check_paths([write(tmp_path, monitor("plain"), monitor("said", "evaluation: streaming\n"))])
    catalog = load_catalog()
    polled_table = dataclasses.replace(catalog.tables["session.vdi_events"], evaluation="polling")
    polling = Catalog({**catalog.tables, "session.vdi_events": polled_table}, catalog.by_name)
    modes = {m.id: evaluation_mode(m, result.lowered[monitor_key(m)], polling) for m in result.monitors}
    assert modes == {"plain": ("polling", "the default of session.vdi_events"),
                     "said": ("streaming", "`evaluation: streaming`")}
    assert evaluation_mode(result.monitors[0], result.lowered[monitor_key(result.monitors[0])], catalog)[0] == "streaming"
