"""The alert history's PostgreSQL side (docs/history.md): its schema (schema.sql: the table
partitioned by day, the default partition, Grafana's indexes, the function that creates days'
partitions) applied with the OS's psql, and the days' partitions created ahead.

    from nql_flink.deploy import history
    history.init("jdbc:postgresql://127.0.0.1:5432/alerts", days=7)   # -> partitions created

Credentials as the job's: $NQL_HISTORY_USER (else the URL's `user`, else psql's default) and
$NQL_HISTORY_PASSWORD, handed to psql in its environment (PGUSER, PGPASSWORD), never on its
command line or in a file.
"""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from nql_flink.translator.flink.history import ENV_PASSWORD, ENV_USER, url_problem

SCHEMA = Path(__file__).resolve().parent / "schema.sql"
# JDBC URL parameters psql understands (libpq keywords of the same name); the others are the driver's
LIBPQ_PARAMS = ("user", "sslmode", "sslrootcert", "sslcert", "application_name", "options")


class HistoryError(RuntimeError):
    """The history database cannot be set up; ``code`` names why: 'bad-url', 'no-psql',
    'unreachable', 'sql'."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def connection(url: str) -> tuple[list[str], dict[str, str]]:
    """psql's connection arguments and environment for a history JDBC URL."""
    problem = url_problem(url)
    if problem:
        raise HistoryError("bad-url", f"{url}: {problem}")
    parts = urlsplit(url.removeprefix("jdbc:"))
    params = dict(parse_qsl(parts.query))
    args = ["-h", parts.hostname, "-p", str(parts.port or 5432), "-d", parts.path.strip("/")]
    env = dict(os.environ)
    for key in LIBPQ_PARAMS:
        if key in params:
            env["PG" + {"user": "USER", "application_name": "APPNAME"}.get(key, key.upper())] = params[key]
    if os.environ.get(ENV_USER):
        env["PGUSER"] = os.environ[ENV_USER]
    if os.environ.get(ENV_PASSWORD):
        env["PGPASSWORD"] = os.environ[ENV_PASSWORD]
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return args, env


def psql(url: str, *, file: Path | None = None, command: str | None = None, variables: dict[str, str] | None = None,
         timeout: float = 60.0) -> str:
    """Run psql on the history database (a script `file` or a `command`); its output, or
    HistoryError with psql's own message."""
    exe = shutil.which("psql") or ("/usr/bin/psql" if Path("/usr/bin/psql").exists() else None)
    if exe is None:
        raise HistoryError("no-psql", "psql not found: install PostgreSQL's client (Debian: apt-get install "
                                      "postgresql-client)")
    args, env = connection(url)
    cmd = [exe, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *args]
    for k, v in (variables or {}).items():
        cmd += ["-v", f"{k}={v}"]
    cmd += ["-f", str(file)] if file else ["-c", command]
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise HistoryError("unreachable", f"{url}: no answer within {timeout:.0f}s") from None
    if r.returncode != 0:
        message = " ".join(line.removeprefix("psql: ").removeprefix("error: ").strip()
                           for line in r.stderr.strip().splitlines() if line.strip()) or f"psql exit {r.returncode}"
        # exit 2: the connection failed; 3: an error in the script
        raise HistoryError("unreachable" if r.returncode == 2 else "sql", message)
    return r.stdout


def table_variables(table: str) -> dict[str, str]:
    return {"table": table, "table_default": f"{table}_default", "table_tma": f"{table}_tenant_monitor_at",
            "table_at": f"{table}_at"}


def init(url: str, *, table: str = "nql_alert_history", first: datetime.date | None = None, days: int = 7) -> int:
    """Apply schema.sql (idempotent) and create the partitions of `first` (default: today, UTC)
    and the `days` after it; returns how many partitions were created."""
    if days < 0:
        raise HistoryError("bad-days", f"--days {days}: a number of days >= 0")
    first = first or datetime.datetime.now(datetime.timezone.utc).date()
    psql(url, file=SCHEMA, variables=table_variables(table))
    out = psql(url, command=f"SELECT nql_alert_history_partitions('{table}'::regclass, DATE '{first.isoformat()}', "
                            f"{int(days)})")
    return int(out.strip() or 0)
