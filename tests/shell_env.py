"""The environment a child process of the test session gets: what a shell gives a command."""

from __future__ import annotations

import os

# What a shell gives a command: a child of the test session gets only these (set ones: an empty
# JAVA_HOME makes PyFlink run 'bin/java'), none of the variables PyFlink or earlier tests set in
# this process (PYFLINK_GATEWAY_DISABLED once Python UDFs ran here, FLINK_HOME, FLINK_LIB_DIR):
# with them a child refused to start its own JVM, or ran 'bin/java', depending on test order.
SHELL_ENV = ("PATH", "HOME", "JAVA_HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


# A child's JVM (the mini-cluster of its PyFlink, or sql-client) compiles with C1 only, as the test
# broker and clusters do (deploy/cluster/cluster.py FAST_JVM_OPTS): for a job that lives seconds
# on 2 cores, C2 compiling the planner's and the operators' code costs more than it gains
# (job_cost.py --smoke: 83 s -> 56 s). Not the session's own mini-cluster: it lives the whole
# session, and its tests took 1.5-2x as long with C1 only. Behaviour does not depend on the JIT;
# the benchmarks measure figures when run by hand, without it.
FAST_JIT = "-XX:TieredStopAtLevel=1"


def with_fast_jit(jvm_args: str) -> str:
    """`jvm_args` (a JVM_ARGS value) with C1 only (FAST_JIT)."""
    return jvm_args if "TieredStopAtLevel" in jvm_args else f"{FAST_JIT} {jvm_args}".strip()


def shell_env(**extra: str) -> dict[str, str]:
    """A clean environment for a child process of the test session (SHELL_ENV), plus `extra`;
    its JVM_ARGS (extra's, if given) with C1 only (FAST_JIT)."""
    env = {k: v for k, v in os.environ.items() if k in SHELL_ENV and v} | extra
    return env | {"JVM_ARGS": with_fast_jit(env.get("JVM_ARGS", ""))}
