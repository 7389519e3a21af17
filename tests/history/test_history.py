"""The alert history in a real PostgreSQL (tests/history/conftest.py): the rows equal the
alert records of the run, after a replay too, each in its day's partition (issue 16).

The run is the README's seed monitor on the demo's hour (examples/data), as `nql-flink run`
runs it (deploy/embedded run_job) with --history-jdbc. Expected by hand (tests/flink/test_demo.py):
acme / Finance-Win11 triggered at 14:28:30 (avg 404.7 ms, 18 sessions) and recovered at
14:37:00, one alert id; nothing else.
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from nql_flink.deploy import history
from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.flink.monitor_config import config_lines
from nql_flink.translator.pipeline import compile_paths

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "monitors" / "vdi_latency_by_pool.yaml"
DATA = ROOT / "examples" / "data"
DAY = datetime.date(2026, 11, 26)


def rows(url: str, sql: str) -> list[list[str]]:
    out = history.psql(url, command=sql)
    return [line.split("|") for line in out.splitlines() if line]


def create_database(postgres, name: str) -> str:
    history.psql(postgres.url("postgres"), command=f"CREATE DATABASE {name}")
    return postgres.url(name)


def run(url: str, flink_env, out: Path) -> list[dict]:
    """The seed monitor over the demo's telemetry with the history at `url`; its alert records."""
    from nql_flink.deploy.embedded.runner import run_job

    compiled = compile_paths([str(SEED)], options=CompileOptions(history_jdbc=url))
    assert compiled.ok
    out.mkdir(parents=True, exist_ok=True)
    config = out / "monitor-config.jsonl"
    config.write_text(config_lines(compiled.job.config_records), encoding="utf-8")
    sources = {compiled.job.source_tables["monitor_config"]: str(config)}
    for table, name in compiled.job.source_tables.items():
        if table != "monitor_config":
            sources[name] = str(DATA / f"{table}.jsonl")
    result = run_job(compiled.job, sources, str(out / "alerts.jsonl"), t_env=flink_env)
    return [json.loads(a) for a in result.alerts]


@pytest.fixture(scope="module")
def first_run(postgres, flink_env, tmp_path_factory):
    url = create_database(postgres, "run_history")
    assert history.init(url, first=DAY, days=1) == 2  # 2026-11-26 and -27
    alerts = run(url, flink_env, tmp_path_factory.mktemp("first"))
    return url, alerts


def history_records(url: str) -> list[dict]:
    return [json.loads(r[0]) for r in rows(url, "SELECT record::text FROM nql_alert_history ORDER BY at, status")]


def test_history_rows_are_the_alert_records_with_typed_columns(first_run):
    url, alerts = first_run
    assert [(a["status"], a["at"]) for a in alerts] == [("recovered", "2026-11-26T14:37:00.000Z"),
                                                        ("triggered", "2026-11-26T14:28:30.000Z")] or \
        sorted((a["status"], a["at"]) for a in alerts) == [("recovered", "2026-11-26T14:37:00.000Z"),
                                                           ("triggered", "2026-11-26T14:28:30.000Z")]
    assert history_records(url) == sorted(alerts, key=lambda a: a["at"])
    typed = rows(url, """
        SELECT status, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), tenant, monitor,
               group_values ->> 'device.virtualization.desktop_pool', (measure_values ->> 'sessions')::int,
               round((measure_values ->> 'avg_latency')::numeric, 1),
               to_char(window_start AT TIME ZONE 'UTC', 'HH24:MI:SS'), to_char(window_end AT TIME ZONE 'UTC', 'HH24:MI:SS'),
               condition, baseline IS NULL, impact_devices = (impact ->> 'devices')::bigint,
               impact_users = (impact ->> 'users')::bigint, impact_share, priority, name, tags::text,
               pg_typeof(at), pg_typeof(impact_devices), alert_id
        FROM nql_alert_history ORDER BY at""")
    trig, rec = typed
    assert trig[:17] == ["triggered", "2026-11-26 14:28:30.000", "acme", "vdi_latency_by_pool", "Finance-Win11", "18",
                         "404.7", "14:23:30", "14:28:30", "avg_latency > 300ms and sessions >= 5", "t", "t", "t",
                         # 18 of acme's 48 devices reporting in 14:23:30-14:28:30 (counted from the
                         # bundled file by hand): 0.375 >= 25%, so the monitor's high + 1
                         "0.375", "critical", "VDI network latency by desktop pool", '["VDI", "network"]']
    assert rec[:10] == ["recovered", "2026-11-26 14:37:00.000", "acme", "vdi_latency_by_pool", "Finance-Win11", "18",
                        "96.5", "14:32:00", "14:37:00", "avg_latency <= 250ms"]
    assert trig[17:19] == ["timestamp with time zone", "bigint"]
    assert trig[19] == rec[19] == alerts[0]["alert_id"]  # the recovery closes the alert it triggered


def test_a_replay_into_the_same_history_leaves_the_same_rows(first_run, flink_env, tmp_path):
    """A job restarted without its state (or from an older checkpoint) writes the same
    transitions again: each upserts its own row, none is there twice."""
    url, alerts = first_run
    before = rows(url, "SELECT alert_id, status, at, record::text FROM nql_alert_history ORDER BY at")
    again = run(url, flink_env, tmp_path)
    assert sorted(map(json.dumps, again)) == sorted(map(json.dumps, alerts))
    assert rows(url, "SELECT alert_id, status, at, record::text FROM nql_alert_history ORDER BY at") == before
    assert rows(url, "SELECT count(*) FROM nql_alert_history") == [["2"]]


def test_rows_land_in_their_days_partition(first_run):
    url, _ = first_run
    assert rows(url, "SELECT tableoid::regclass::text, count(*) FROM nql_alert_history GROUP BY 1") == \
        [["nql_alert_history_20261126", "2"]]


def test_a_row_of_a_day_without_partition_waits_in_the_default_one_and_moves_when_it_is_made(postgres):
    url = create_database(postgres, "late_partition")
    assert history.init(url, first=DAY, days=0) == 1
    history.psql(url, command="""INSERT INTO nql_alert_history (alert_id, status, at, tenant, monitor, group_values, record)
        VALUES ('a1', 'triggered', '2026-11-27T10:00:00.000Z', 'acme', 'm', '{}', '{}')""")
    where = "SELECT tableoid::regclass::text FROM nql_alert_history"
    assert rows(url, where) == [["nql_alert_history_default"]]
    assert history.init(url, first=DAY, days=1) == 1  # only the 27th is new
    assert rows(url, where) == [["nql_alert_history_20261127"]]
    assert rows(url, "SELECT at FROM nql_alert_history_default") == []


def test_history_init_unreachable_or_bad_url_says_why_without_a_traceback(postgres, capsys):
    from nql_flink.translator import cli

    closed = f"jdbc:postgresql://127.0.0.1:{history_free_port()}/alerts"
    assert cli.main(["history", "init", "--jdbc", closed]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nql-flink history: [unreachable] ") and "Connection refused" in err and "Traceback" not in err
    assert cli.main(["history", "init", "--jdbc", "postgres://127.0.0.1/alerts"]) == 2
    assert capsys.readouterr().err == ("nql-flink history: [bad-url] postgres://127.0.0.1/alerts: expected "
                                       "jdbc:postgresql://HOST[:PORT]/DATABASE\n")
    assert cli.main(["history", "init", "--jdbc", postgres.url("alerts") + "?password=x"]) == 2
    assert "'password' in the URL is a secret" in capsys.readouterr().err


def history_free_port() -> int:
    from tests.postgres_server import free_port

    return free_port()


def test_threshold_and_seasonal_monitors_with_the_history_plan_with_one_state_operator_each(flink_env, flink_database,
                                                                                        tmp_path):
    """The history's INSERT reads the alert topic's queries again: the planner must reuse their
    plan (one windows function per table, which keeps the alert states of the threshold
    monitors it judges, as the seed monitor's; one state UDAF per seasonal or change monitor),
    not build a second copy, whose state would be written twice (and whose uid would clash)."""
    from nql_flink.deploy.jars import add_jars, connector_jar
    from tests.conftest import explain_compiled

    add_jars(flink_env, [connector_jar()])
    compiled = compile_paths([str(SEED), str(ROOT / "examples" / "seasonal")],
                             options=CompileOptions(history_jdbc="jdbc:postgresql://127.0.0.1:9/none"))
    assert compiled.ok
    plan = explain_compiled(flink_env, compiled, tmp_path).split("== Physical Execution Plan ==")[0]
    optimized = plan.split("== Optimized Execution Plan ==")[1]
    windows = [s for s in compiled.job.statements if s.template == "views/table_windows.sql.j2"]
    assert windows
    assert (optimized.count("ProcessTableFunction(invocation=[nql_windows(")
            + optimized.count("ProcessTableFunction(invocation=[nql_inventory_windows(")) == len(windows)
    assert "nql_alert_states(" not in optimized      # the seed monitor is judged by its windows function
    detection = [s for s in compiled.job.statements if s.template == "views/monitor_state.sql.j2"]
    assert detection  # the examples have seasonal / change monitors
    assert optimized.count("PythonGroupAggregate") == len(detection)
    assert "Sink(table=[default_catalog." + flink_database + ".sink_alert_history]" in optimized
    assert "conflictStrategy=[NOTHING]" in optimized


PROBE = """
import java.util.Properties;
public class Probe {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "${env:NQL_HISTORY_USER}");
        p.setProperty("password", "${env:NQL_HISTORY_PASSWORD}");
        try (java.sql.Connection c = new dev.nqlflink.history.EnvCredentialsDriver().connect(args[0], p)) {
            System.out.println("connected as " + c.getMetaData().getUserName());
        } catch (java.sql.SQLException e) {
            System.out.println("refused: " + e.getMessage());
        }
    }
}
"""


def test_the_driver_reads_the_credentials_from_its_own_environment_and_names_a_missing_one(postgres, tmp_path):
    """EnvCredentialsDriver (the sink's 'driver'), in a JVM of its own: ${env:...} resolved from
    that process's environment, a password without its variable refused with the variable's name."""
    import os
    import subprocess

    from nql_flink.deploy.jars import connector_jar, jdk_tool
    from tests import postgres_server

    probe = tmp_path / "Probe.java"
    probe.write_text(PROBE)

    def run(env: dict) -> str:
        r = subprocess.run([jdk_tool("java"), "-cp", str(connector_jar(quiet=True)), str(probe), postgres.url("postgres")],
                           capture_output=True, text=True, timeout=120, env=env)
        return r.stdout.strip()

    assert run(dict(os.environ)) == f"connected as {postgres_server.USER}"
    without = {k: v for k, v in os.environ.items() if k != "NQL_HISTORY_PASSWORD"}
    assert run(without) == ("refused: alert history: the environment variable NQL_HISTORY_PASSWORD (the JDBC "
                            "'password') is not set in this Flink process; set it where the job runs (docs/history.md)")
