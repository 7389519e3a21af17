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
    assert main(["check", "--strict", str(f)]) == 1
    assert "error[NQL0503]" in capsys.readouterr().out


def test_event_time_bounds_from_the_command_line(tmp_path, capsys):
    """--max-tenant-lag / --partition-idle reach the per-tenant windows' spec (milliseconds),
    --max-clock-skew the `future` check of each source (docs/guarantees.md)."""
    f = tmp_path / "m.yaml"
    f.write_text(GOOD)
    assert main(["compile", str(f), "-o", str(tmp_path / "out"), "--max-tenant-lag", "5min",
                 "--partition-idle", "30s", "--max-clock-skew", "2min"]) == 0
    sql = (tmp_path / "out" / "job.sql").read_text()
    assert "lag=300000;idle=30000;" in sql
    assert "> LOCALTIMESTAMP + INTERVAL '2' MINUTE THEN" in sql
    assert main(["compile", str(f), "-o", str(tmp_path / "bad"), "--max-clock-skew", "later"]) == 2
    assert "--max-clock-skew 'later' is not a duration" in capsys.readouterr().err
