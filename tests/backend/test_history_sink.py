"""The alert history sink in the generated job (translator/flink/history.py), no JVM: off by
default; on, one JDBC table keyed (alert_id, status, at) whose credentials are references,
and one more INSERT over the alert topic's queries."""
import pytest

from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.pipeline import compile_paths

SEED = "examples/monitors/vdi_latency_by_pool.yaml"
URL = "jdbc:postgresql://db.example:5432/alerts"


def test_off_by_default_nothing_of_it_in_the_job():
    job = compile_paths([SEED]).job
    assert "jdbc" not in job.script() and "sink_alert_history" not in job.script()


def test_on_one_keyed_jdbc_table_with_referenced_credentials_and_one_insert():
    job = compile_paths([SEED], options=CompileOptions(history_jdbc=URL)).job
    tables = [s for s in job.statements if s.connector and s.connector.options["connector"] == "jdbc"]
    assert len(tables) == 1
    opts = tables[0].connector.options
    assert opts["url"] == URL + "?stringtype=unspecified"
    assert (opts["username"], opts["password"]) == ("${env:NQL_HISTORY_USER}", "${env:NQL_HISTORY_PASSWORD}")
    assert opts["driver"] == "dev.nqlflink.history.EnvCredentialsDriver"
    script = job.script()
    assert "PRIMARY KEY (`alert_id`, `status`, `at`) NOT ENFORCED" in script
    assert script.count("INSERT INTO `sink_alert_history`") == 1
    assert script.count("INSERT INTO `sink_alerts`") == 1
    # on files (embedded runs) the JDBC table stays where it is
    moved = job.on_files({}, "/tmp/out")
    assert [s.connector.options for s in moved.statements if s.connector and s.connector.table == "sink_alert_history"] \
        == [opts]


@pytest.mark.parametrize("url, message", [
    ("postgres://h/db", "expected jdbc:postgresql://HOST[:PORT]/DATABASE"),
    ("jdbc:postgresql://h:x/db", "the port is not a number"),
    ("jdbc:postgresql://h:5432/", "a host and a database"),
    ("jdbc:postgresql://u:p@h/db", "no credentials in the URL"),
    ("jdbc:postgresql://h/db?user=a&password=b", "'password' in the URL is a secret"),
])
def test_bad_urls_are_refused_with_the_reason(url, message):
    with pytest.raises(ValueError, match="history_jdbc") as e:
        CompileOptions(history_jdbc=url)
    assert message in str(e.value)


def test_cli_compile_takes_the_flag_and_refuses_a_bad_url(tmp_path, capsys):
    from nql_flink.translator import cli

    assert cli.main(["compile", SEED, "-o", str(tmp_path), "--history-jdbc", URL]) == 0
    assert "sink_alert_history" in (tmp_path / "job.sql").read_text()
    assert cli.main(["compile", SEED, "-o", str(tmp_path), "--history-jdbc", "jdbc:mysql://h/db"]) == 2
    assert "expected jdbc:postgresql://" in capsys.readouterr().err
