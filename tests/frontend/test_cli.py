"""`nql-flink check`: exit codes and the JSON format."""

import json
from pathlib import Path

from tests.frontend.helpers import monitor
from nql_flink.translator.cli import main

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
    beside the default lateness of 10 s; --max-clock-skew the `future` check of each source
    (docs/guarantees.md)."""
    f = tmp_path / "m.yaml"
    f.write_text(GOOD)
    assert main(["compile", str(f), "-o", str(tmp_path / "out"), "--max-tenant-lag", "5min",
                 "--partition-idle", "30s", "--max-clock-skew", "2min"]) == 0
    sql = (tmp_path / "out" / "job.sql").read_text()
    assert "spec => 'lag=300000;idle=30000;late=10000 | " in sql
    assert "ts time time 120000," in sql  # session.logins' time field and nql_read's skew, in ms
    assert main(["compile", str(f), "-o", str(tmp_path / "bad"), "--max-clock-skew", "later"]) == 2
    assert "--max-clock-skew 'later' is not a duration" in capsys.readouterr().err


def _modules_loaded_by(argv: list[str]) -> set[str]:
    """Top-level packages a fresh interpreter has loaded after `translator.cli.main(argv)`."""
    import subprocess
    import sys
    code = ("import sys, contextlib, io\n"
            "from nql_flink.translator.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            "    try:\n"
            f"        main({argv!r})\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_ir_prints_what_code_generation_receives(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    assert main(["check", "--ir", str(good)]) == 0
    out = capsys.readouterr().out
    # session.logins, a 15 min window evaluated every 30 s, counting its rows, c > 0
    assert out.startswith("monitor acme/m every 30s\n")
    assert "  trigger (> c:int $trigger_1:float)\n" in out and "  param trigger_1 = 0.0\n" in out
    assert "  window hop size 15min slide 30s\n" in out and "    scan session.logins\n" in out


HEAVY = {"pyflink", "py4j", "confluent_kafka", "boto3", "matplotlib", "numpy", "pandas", "sqlglot", "jinja2"}


def test_check_and_help_load_no_engine_or_back_end():
    example = str(ROOT / "examples" / "monitors" / "device_cpu_queue.yaml")
    assert _modules_loaded_by(["check", example]) & HEAVY == set()
    assert _modules_loaded_by(["--help"]) & HEAVY == set()
    assert _modules_loaded_by(["check", "--help"]) & HEAVY == set()


def test_help_lists_every_command_and_a_command_keeps_its_arguments(capsys):
    from nql_flink.translator.cli import COMMANDS
    assert main(["--help"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in COMMANDS)
    assert main(["run", "--help"]) == 0
    assert "--output" in capsys.readouterr().out
