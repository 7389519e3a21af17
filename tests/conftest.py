"""Shared pytest fixtures.

`flink_env`: ONE streaming TableEnvironment (one local mini-cluster) for the whole session;
every Flink test must use it (starting a JVM + mini-cluster costs seconds, CI has 30 min on
2 cores). A TableEnvironment keeps what is registered in it, so isolate tests with
`flink_database` (a fresh database made current for the test; CREATE TABLE / TEMPORARY VIEW
names then never collide) or let deploy.embedded.run_job do it (it does per run).
Temporary *system* functions are global: declare them with IF NOT EXISTS.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from tests import postgres_server

# the folders pyproject.toml installs as nql_flink.<folder> (its package-dir, the one list)
FOLDERS = tuple(package.split(".")[1] for package in tomllib.loads(
    (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"])


class _NoBareFolderImports:
    """The repository root is on sys.path in a test session (tests/ is a package), so
    `import translator` would work here and fail where nql-flink is installed (as
    nql_flink.translator): refuse it, whether from an import statement or a module name in a
    string (importlib, importlib.resources)."""

    def find_spec(self, name, path=None, target=None):
        if name in FOLDERS:
            raise ImportError(f"'{name}' is imported as nql_flink.{name} (pyproject.toml installs the folders "
                              "under the nql_flink namespace)")
        return None


sys.meta_path.insert(0, _NoBareFolderImports())

_db_ids = itertools.count(1)


KAFKA_TESTS = "tests/kafka/"


def pytest_collection_modifyitems(config, items):
    """The Kafka tests first: see pytest_xdist_make_scheduler."""
    items.sort(key=lambda item: not item.nodeid.startswith(KAFKA_TESTS))  # stable: otherwise as collected


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test` runs the suite on two pytest-xdist workers (-n 2). The Kafka tests are the
    longest and mostly wait (for brokers, clusters, checkpoints, a broker's outage); they share
    the session's broker and its undisturbed run (`expected`). So tests/kafka is one unit of
    work, given first to one worker, where its modules run one after another as they did
    without xdist, while the other worker takes the rest, mostly CPU, module by module (a
    module's fixtures set up once). (xdist's --dist loadgroup would need xdist_group marks, and
    it renames node ids to group them, which pytest 9 ignores.)"""
    from xdist.scheduler import LoadScopeScheduling

    class KafkaApart(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return KAFKA_TESTS if nodeid.startswith(KAFKA_TESTS) else nodeid.split("::", 1)[0]

    config.option.loadscopereorder = False  # the collection's order: tests/kafka first
    return KafkaApart(config, log)


@pytest.fixture(scope="session")
def flink_env():
    from nql_flink.deploy.embedded.runner import create_table_env

    parallelism = int(os.environ.get("NQL_FLINK_TEST_PARALLELISM", "1"))
    return create_table_env(parallelism=parallelism)


@contextlib.contextmanager
def fresh_database(env):
    """A fresh database made current for the block; the default one is restored afterwards."""
    name = f"test_{os.getpid()}_{next(_db_ids)}"
    env.execute_sql(f"CREATE DATABASE `{name}`")
    env.use_database(name)
    try:
        yield name
    finally:
        env.use_database("default_database")


# The alert history's credentials in the environment before flink_env's JVM starts (tests/postgres_server.py)
postgres_server.set_credentials()


@pytest.fixture(scope="session")
def postgres():
    """ONE real PostgreSQL server for the session, on loopback, stopped at the end
    (tests/postgres_server.py; the alert history's tests)."""
    # a directory of its own under /tmp, not pytest's (root-only: the server's user could not enter it)
    root = Path(tempfile.mkdtemp(prefix="nql-history-pg-"))
    server = postgres_server.Server(root).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def flink_database(flink_env):
    """A fresh, current database for one test; the default one is restored afterwards."""
    with fresh_database(flink_env) as name:
        yield name


def explain_compiled(env, compiled, workdir) -> str:
    """Flink's EXPLAIN of a compiled job's statement set, its DDL run in `env`'s current
    database on empty files (under `workdir`) in place of Kafka: the planner only, nothing runs."""
    from pathlib import Path

    inputs = {}
    for name in compiled.job.source_tables.values():
        f = Path(workdir) / f"{name}.jsonl"
        f.write_text("")
        inputs[name] = str(f)
    return explain_statements(env, compiled.job.on_files(inputs, str(workdir)).executable())


def explain_statements(env, statements: list[str]) -> str:
    """Flink's EXPLAIN of a job's statement set (the last statement), its DDL run first in
    `env`'s current database: the planner only, nothing runs."""
    *ddl, statement_set = statements
    for stmt in ddl:
        env.execute_sql(stmt)
    assert statement_set.startswith("EXECUTE STATEMENT SET")
    with env.execute_sql("EXPLAIN " + statement_set).collect() as rows:
        return "".join(row[0] for row in rows)


@pytest.fixture
def explain_plan(flink_env, flink_database, tmp_path):
    """explain_plan(compiled) -> Flink's EXPLAIN of the job's statement set (explain_compiled)."""
    return lambda compiled: explain_compiled(flink_env, compiled, tmp_path)
