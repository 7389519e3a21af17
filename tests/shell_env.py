"""The environment a child process of the test session gets: what a shell gives a command."""

from __future__ import annotations

import os

# What a shell gives a command: a child of the test session gets only these (set ones: an empty
# JAVA_HOME makes PyFlink run 'bin/java'), none of the variables PyFlink or earlier tests set in
# this process (PYFLINK_GATEWAY_DISABLED once Python UDFs ran here, FLINK_HOME, FLINK_LIB_DIR):
# with them a child refused to start its own JVM, or ran 'bin/java', depending on test order.
SHELL_ENV = ("PATH", "HOME", "JAVA_HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


def shell_env(**extra: str) -> dict[str, str]:
    """A clean environment for a child process of the test session (SHELL_ENV), plus `extra`."""
    return {k: v for k, v in os.environ.items() if k in SHELL_ENV and v} | extra
