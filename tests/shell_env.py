"""The environment a child process of the test session gets: what a shell gives a command."""

from __future__ import annotations

import os

from nql_flink.deploy.local_service import C1_ONLY

# What a shell gives a command: a child of the test session gets only these (set ones: an empty
# JAVA_HOME makes PyFlink run 'bin/java'), none of the variables PyFlink or earlier tests set in
# this process (PYFLINK_GATEWAY_DISABLED once Python UDFs ran here, FLINK_HOME, FLINK_LIB_DIR):
# with them a child refused to start its own JVM, or ran 'bin/java', depending on test order.
SHELL_ENV = ("PATH", "HOME", "JAVA_HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


def shell_env(**extra: str) -> dict[str, str]:
    """A clean environment for a child process of the test session (SHELL_ENV), plus `extra`.
    Its JVM (the mini-cluster of its PyFlink, or sql-client) compiles with C1 only, before
    extra's JVM_ARGS, as the test broker and clusters do: job_cost.py --smoke took 56 s instead
    of 83 s. Not the session's own mini-cluster: it lives the whole session, and its tests took
    1.5-2x as long with C1 only. Behaviour does not depend on the JIT; the benchmarks, run by
    hand, measure without it."""
    env = {k: v for k, v in os.environ.items() if k in SHELL_ENV and v} | extra
    return env | {"JVM_ARGS": f"{C1_ONLY} {extra.get('JVM_ARGS', '')}".strip()}
