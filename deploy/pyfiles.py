"""The Python functions a job ships to its Python workers: the modules of nql_flink.udfs that
run in a job (not the NAB tooling, not the Java sources), at their installed module path, so
the generated `CREATE FUNCTION ... AS 'nql_flink.udfs.flink.alert_state...' LANGUAGE PYTHON`
resolves on a worker that has nothing else of nql-flink (Managed Flink, a remote cluster).

One list for the three ways a job ships them: the embedded runner (add_python_file), sql-client
(-pyfs, deploy/submit.py) and the Managed Flink zip (deploy/managed/package.py). `nql_flink` is a
namespace package (no __init__.py), as installed, so the staged copy and an installed nql-flink
can both be on a worker's path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nql_flink.udfs

UDF_PACKAGE = Path(nql_flink.udfs.__file__).resolve().parent
# where the package sits in a python-files directory: its module path
PACKAGE_PATH = "nql_flink/udfs"
# folders of udfs/ that never run in a job (the NAB benchmark tooling, the Java functions' sources)
NOT_SHIPPED = ("nab", "jvm")


def shipped() -> list[tuple[Path, str]]:
    """(file, its path in a python-files directory) for each shipped module, sorted."""
    out = []
    for f in sorted(UDF_PACKAGE.rglob("*.py")):
        rel = f.relative_to(UDF_PACKAGE)
        if rel.parts[0] not in NOT_SHIPPED and "__pycache__" not in rel.parts:
            out.append((f, f"{PACKAGE_PATH}/{rel.as_posix()}"))
    return out


def stage(dest: str | os.PathLike) -> Path:
    """dest/nql_flink/udfs/... = the shipped modules (what -pyfs or add_python_file ships);
    a previous copy there is replaced. Returns dest."""
    dest = Path(dest)
    shutil.rmtree(dest / "nql_flink", ignore_errors=True)
    for f, name in shipped():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dest / name)
    return dest
