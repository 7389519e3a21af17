"""A real PostgreSQL server for the alert history tests (docs/history.md; tests/history,
tests/kafka/test_history_kafka.py): the OS's PostgreSQL (initdb, pg_ctl, postgres), ONE server
per session (the `postgres` fixture of tests/conftest.py) on a free loopback port, data in
a temporary directory, password authentication (scram-sha-256) for a user whose password the
tests hand to the job and to `history init` only through $NQL_HISTORY_PASSWORD; stopped at the
end (pg_ctl stop, its own data directory). As root (CI) the server runs as the `postgres` user
(initdb refuses root), through setpriv."""
from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from nql_flink.deploy.local_service import free_port

USER = "nql_history"
PASSWORD = secrets.token_urlsafe(12)
DATABASE = "alerts"


def set_credentials() -> None:
    """Where the job (EnvCredentialsDriver, in the JVM) and `history init` (psql) read the
    credentials. tests/conftest.py calls it when collected, before any test starts the
    session's PyFlink JVM (flink_env), which gets its environment once, at its launch: as on a
    TaskManager, the variables must be there when the JVM starts."""
    os.environ["NQL_HISTORY_USER"] = USER
    os.environ["NQL_HISTORY_PASSWORD"] = PASSWORD


def pg_bin(name: str) -> str:
    for d in [*os.environ.get("PATH", "").split(os.pathsep), "/usr/local/bin",
              *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)]:
        if d and (Path(d) / name).is_file():
            return str(Path(d) / name)
    pytest.fail(f"PostgreSQL's {name} not found: install the OS's PostgreSQL server (Debian: apt-get install postgresql)")


class Server:
    def __init__(self, root: Path):
        self.root, self.data, self.port = root, root / "data", free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            owner = pwd.getpwnam("postgres" if _has_user("postgres") else "nobody")
            shutil.chown(root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--clear-groups", "--"]

    def run(self, *cmd: str) -> None:
        r = subprocess.run([*self.as_user, *cmd], capture_output=True, text=True, timeout=120, cwd=self.root)
        assert r.returncode == 0, f"{cmd[0]} failed:\n{r.stdout}\n{r.stderr}"

    def start(self) -> "Server":
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_user:
            shutil.chown(pwfile, *(pwd.getpwnam(self._owner()).pw_uid, pwd.getpwnam(self._owner()).pw_gid))
        self.run(pg_bin("initdb"), "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                 "-E", "UTF8", "--locale=C")
        pwfile.unlink()
        self.run(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "start",
                 "-o", f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off "
                       "-c timezone=UTC")
        return self

    def _owner(self) -> str:
        return "postgres" if _has_user("postgres") else "nobody"

    def stop(self) -> None:
        self.run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{database}"


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
