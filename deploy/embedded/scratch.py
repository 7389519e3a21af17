"""One scratch folder per process for the embedded mini-cluster, removed when the process ends.

The JVM PyFlink starts writes its temporary files under `java.io.tmpdir`: each job's
mini-cluster working folder (`minicluster_*`, RocksDB's files with `--state rocksdb`), the
distributed cache its Python workers' files are copied into (`flink-distributed-cache-*`), the
web UI's files and the planner jar Flink unpacks (~45 MB). The JVM removes them when it shuts
down in order; a JVM that is killed (a test's kill -9, a stopped benchmark, an operator's
Ctrl-C at the wrong time) leaves them in /tmp, and the Python functions staged for the workers
were left there after every run. On a machine that runs the tests and benchmarks daily that
came to thousands of folders and gigabytes.

So the process that starts the JVM gives it a folder of its own, `<tmp>/nql-flink-<pid>`
(`java.io.tmpdir`, unless JVM_ARGS sets one), stages the Python functions in it, and removes it
at exit. The JVM ends a moment later (when the pipe from its parent closes): what it writes
then, and a folder whose process is gone (killed before its exit handler ran), is removed by the
next process that makes one. Standard library only."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from nql_flink.deploy.local_service import pid_alive

PREFIX = "nql-flink-"

_own: Path | None = None


def stale(base: Path) -> list[Path]:
    """The scratch folders under `base` of this user whose process is gone."""
    out = []
    for d in base.glob(PREFIX + "*"):
        pid = d.name[len(PREFIX):]
        if pid.isdigit() and d.is_dir() and not d.is_symlink() and d.stat().st_uid == os.getuid() \
                and not pid_alive(int(pid)):
            out.append(d)
    return sorted(out)


def process_dir(base: str | os.PathLike | None = None) -> Path:
    """This process's scratch folder (made on the first call, removed at exit), after removing
    the folders of processes that are gone."""
    global _own
    if _own is None:
        root = Path(base or tempfile.gettempdir())
        for d in stale(root):
            shutil.rmtree(d, ignore_errors=True)
        own = root / f"{PREFIX}{os.getpid()}"
        shutil.rmtree(own, ignore_errors=True)   # a folder of an earlier process with this pid
        own.mkdir(parents=True)
        atexit.register(shutil.rmtree, own, ignore_errors=True)
        _own = own
    return _own


def jvm_tmpdir() -> Path:
    """The JVM's java.io.tmpdir in this process's scratch folder (made if missing)."""
    d = process_dir() / "jvm"
    d.mkdir(exist_ok=True)
    return d
