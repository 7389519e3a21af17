"""One duration grammar (translator/syntax/durations.py): the same texts are durations, with
the same milliseconds, in a query, in a monitor field, in a seasonal baseline's parameters
and in a command-line option; the same texts are not. Expectations written by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.frontend.helpers import at, check, diags, monitor
from nql_flink.translator.cli import main
from nql_flink.translator.source import Source
from nql_flink.translator.syntax.durations import format_duration, option_duration, parse_duration
from nql_flink.translator.syntax.lexer import tokenize

ROOT = Path(__file__).resolve().parents[2]

# Every accepted text is also a valid seasonal slot (whole seconds dividing a day), so that one
# table goes through every entry point.
ACCEPTED = {
    "30s": 30_000,
    "5min": 300_000,
    "05min": 300_000,        # leading zero
    "1h": 3_600_000,
    "1.5h": 5_400_000,       # a fraction of a unit, whole milliseconds
    "0.25h": 900_000,
    "1.25min": 75_000,
    "1.000s": 1_000,         # trailing zeros of a fraction
    "60000ms": 60_000,
    "1440min": 86_400_000,
    "1d": 86_400_000,
}
REJECTED = [
    "5m",       # minutes are min
    "1.5m",
    "30sec",
    "sec",
    "1w",       # weeks are not a unit
    "2hr",
    "5MIN",     # units are lower case
    "30 s",     # no space inside a duration
    "1h30m",    # one number, one unit
    "1h30min",
    "-5min",    # no sign
    ".5h",      # a digit before the point
    "5.min",
    "min",
    "soon",
]


def test_the_grammar():
    for text, ms in ACCEPTED.items():
        assert parse_duration(text) == ms, text
    for text in REJECTED + ["0.5ms", "0.0001s", "0.0000000001h", "30", "1.5", ""]:
        assert parse_duration(text) is None, text


def test_fractions_must_come_to_whole_milliseconds():
    assert parse_duration("1.5s") == 1500 and parse_duration("0.001s") == 1 and parse_duration("0.5ms") is None
    assert parse_duration("0.000001d") is None           # 86.4 ms
    assert parse_duration("0.00005d") == 4_320            # 4.32 s
    assert parse_duration("1.0000000000000000000s") == 1_000


def _lexed(text: str):
    tokens, diagnostics = tokenize(Source.whole_file("q", text))
    return [(t.kind, t.value) for t in tokens if t.kind != "EOF"], [d.code for d in diagnostics]


def test_a_query_reads_the_same_texts():
    for text, ms in ACCEPTED.items():
        assert _lexed(text) == ([("DURATION", ms)], []), text
    for text in REJECTED:
        tokens, codes = _lexed(text)
        assert codes or [kind for kind, _ in tokens] != ["DURATION"], text
    assert _lexed("0.5ms") == ([("DURATION", 0)], ["NQL0107"])


def _recover_for(text: str) -> str:
    return monitor("session.vdi_events during past 5min\n| summarize c = count()", extra=f"recover:\n  for: {text}\n")


def test_a_monitor_field_reads_the_same_texts():
    for text, ms in ACCEPTED.items():
        result = check(_recover_for(text))
        assert [d.code for d in result.diagnostics if d.code == "NQL0403"] == [], text
        assert result.monitors[0].spec.recover_for_ms == ms, text
    for text in REJECTED:
        source = _recover_for(text)
        line, col = at(source, f"for: {text}")
        assert diags(source) == [("NQL0403", line, col + 5, f"'{text}' is not a duration (e.g. 30s, 5min, 1h, 7d)")], text


def test_a_fraction_below_a_millisecond_in_a_monitor_field():
    source = _recover_for("0.5ms")
    line, col = at(source, "0.5ms")
    assert diags(source) == [("NQL0403", line, col, "'0.5ms' is not a duration (e.g. 30s, 5min, 1h, 7d)")]
    assert check(source).diagnostics[0].hint == "durations resolve to whole milliseconds"


def _seasonal(slot: str) -> str:
    return monitor("session.vdi_events during past 5min\n| summarize lat = network_latency.avg()",
                   trigger="lat >= 0ms", extra=f"detection:\n  type: seasonal\n  metric: lat\n  slot: {slot}\n")


def test_a_seasonal_baseline_gets_the_same_texts(tmp_path):
    """The job's seasonal state UDAF gets the slot as whole seconds in its spec literal
    (direction|slot_s|history_s|...; udfs/baseline_params.DetectSpec)."""
    for i, (text, ms) in enumerate(ACCEPTED.items()):
        path = tmp_path / f"m{i}.yaml"
        path.write_text(_seasonal(text), encoding="utf-8")
        assert main(["compile", str(path), "-o", str(tmp_path / f"out{i}")]) == 0, text
        job = (tmp_path / f"out{i}" / "job.sql").read_text(encoding="utf-8")
        assert re.findall(r"'above\|(\d+)\|604800\|", job) == [str(ms // 1000)], text
    for text in REJECTED:
        source = _seasonal(text)
        line, col = at(source, f"slot: {text}")
        assert diags(source) == [("NQL0403", line, col + 6, f"'{text}' is not a duration (e.g. 30s, 5min, 1h, 7d)")], text


def test_a_slot_is_whole_seconds():
    for text in ("1.5s", "250ms"):
        source = _seasonal(text)
        line, col = at(source, text)
        assert diags(source) == [("NQL0411", line, col, f"slot {text} must divide one day into whole slots")]
        assert check(source).diagnostics[0].hint == "a slot is a whole number of seconds"


def test_an_option_reads_the_same_texts_and_drops_spaces():
    for text, ms in ACCEPTED.items():
        assert option_duration(text) == ms, text
    for text in REJECTED:
        if " " not in text:
            assert option_duration(text) is None, text
    assert option_duration("30 s") == 30_000 and option_duration(" 1 min ") == 60_000
    assert option_duration("0") == 0


def test_format_duration_writes_the_largest_whole_unit():
    assert [format_duration(ms) for ms in (0, 250, 1_500, 30_000, 90_000, 5_400_000, 86_400_000)] == [
        "0ms", "250ms", "1500ms", "30s", "90s", "90min", "1d"]


@pytest.mark.parametrize("command", ["check", "compile"])
def test_compiling_a_seasonal_monitor_imports_no_numpy_pandas_or_pyflink(command, tmp_path):
    """The compiler reads a seasonal monitor's parameters with plain Python
    (udfs/baseline_params.py); the maths stay in the Python worker."""
    out = ["-o", str(tmp_path / "out")] if command == "compile" else []
    script = ("import sys\nimport nql_flink.translator as t\nfrom nql_flink.translator.cli import main\n"
              f"assert t.__file__.startswith({str(ROOT)!r}), t.__file__\n"
              f"rc = main([{command!r}, 'examples/seasonal', *{out!r}])\n"
              "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas', 'pyflink'})\n"
              "print('RESULT', rc, heavy)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "RESULT 0 []" in run.stdout, run.stdout + run.stderr
