"""Shared pytest fixtures.

`flink_env`: ONE streaming TableEnvironment (one local mini-cluster) for the whole session;
every Flink test must use it (starting a JVM + mini-cluster costs seconds, CI has 30 min on
2 cores). A TableEnvironment keeps what is registered in it, so isolate tests with
`flink_database` (a fresh database made current for the test; CREATE TABLE / TEMPORARY VIEW
names then never collide) or let deploy.embedded.run_job do it (it does per run).
Temporary *system* functions are global: declare them with IF NOT EXISTS.
"""
from __future__ import annotations

import itertools
import os

import pytest

_db_ids = itertools.count(1)


@pytest.fixture(scope="session")
def flink_env():
    from deploy.embedded.runner import create_table_env

    parallelism = int(os.environ.get("NQL_FLINK_TEST_PARALLELISM", "1"))
    return create_table_env(parallelism=parallelism)


@pytest.fixture
def flink_database(flink_env):
    """A fresh, current database for one test; the default one is restored afterwards."""
    name = f"test_{os.getpid()}_{next(_db_ids)}"
    flink_env.execute_sql(f"CREATE DATABASE `{name}`")
    flink_env.use_database(name)
    try:
        yield name
    finally:
        flink_env.use_database("default_database")
