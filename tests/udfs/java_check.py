"""Runs a small Java check class compiled into the package dev.nqlflink.udfs against the project's
udfs jar (and Flink's own jars from PyFlink, for the table API types such as MapView), so a test
can call package-private code the way the functions do, without an engine. The check prints its
result; the test asserts on it."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run_java_check(tmp_path: Path, name: str, source: str) -> str:
    """Compiles `source` (class `name` in dev.nqlflink.udfs, with a main) and runs it; its stdout."""
    from nql_flink.deploy.jars import _pyflink_lib, jdk_tool, udfs_jar

    classpath = ":".join([str(udfs_jar(quiet=True)), *(str(j) for j in sorted(_pyflink_lib().glob("flink-*.jar")))])
    path = tmp_path / "dev" / "nqlflink" / "udfs" / f"{name}.java"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    classes = tmp_path / "classes"
    javac = subprocess.run([jdk_tool("javac"), "-encoding", "UTF-8", "-d", str(classes), "-cp", classpath, str(path)],
                           capture_output=True, text=True)
    assert javac.returncode == 0, javac.stderr
    run = subprocess.run([jdk_tool("java"), "-cp", f"{classes}:{classpath}", f"dev.nqlflink.udfs.{name}"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()
