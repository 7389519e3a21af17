"""`nql-flink check`: exit codes and the JSON format."""

import json
from pathlib import Path

from tests.frontend.helpers import monitor
from translator.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD = monitor("session.logins during past 15min\n| summarize c = count()")


def test_examples_pass(capsys):
    assert main(["check", str(ROOT / "examples")]) == 0


def test_exit_1_on_an_error_and_0_on_warnings_only(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("count()", "count() | sort c"))
    assert main(["check", str(bad)]) == 0  # a warning only
    bad.write_text(GOOD.replace("count()", "cnt()"))
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "error[NQL0207]: unknown function 'cnt()'" in out


def test_exit_2_on_usage_errors(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.yaml")]) == 2
    assert main(["check"]) == 2
    assert main([]) == 2
    assert main(["check", str(tmp_path)]) == 2  # a folder without monitor files


def test_json_format(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("count()", "cnt()"))
    assert main(["check", "--format", "json", str(bad)]) == 1
    [d] = json.loads(capsys.readouterr().out)
    assert d["code"] == "NQL0207" and d["severity"] == "error" and d["line"] == 5 and d["file"] == str(bad)
    assert d["column"] == GOOD.split("\n")[4].index("count()") + 1


def test_tenant_from_the_command_line(tmp_path, capsys):
    f = tmp_path / "m.yaml"
    f.write_text(GOOD.replace("tenant: acme\n", ""))
    assert main(["check", str(f)]) == 1
    assert main(["check", "--tenant", "acme", str(f)]) == 0


def test_strict_rejects_extensions(tmp_path, capsys):
    f = tmp_path / "m.yaml"
    f.write_text(GOOD.replace("count()", "count() by 1min"))
    assert main(["check", str(f)]) == 0
    assert main(["check", "--strict", str(f)]) == 1
