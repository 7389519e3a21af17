"""Running the code of another checkout of this repository (a git worktree of a revision) in a
child process, without installing it: the benchmarks that compare this checkout against a
revision (throughput.py) run each side's own CLI.

Since the packages install as nql_flink.* (pyproject.toml maps translator/ to
nql_flink.translator, and so on), a checkout's modules are importable only through an install,
which points at one checkout. A child gets its checkout first on its path instead: a folder of
symlinks nql_flink/<folder> -> checkout/<folder>, found before the editable install. A revision
from before the namespace (bare `translator`) gets the checkout itself on its path."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tomllib
import subprocess
import sys
from pathlib import Path



def namespaced(checkout: Path) -> bool:
    return '"nql_flink.translator" = "translator"' in (checkout / "pyproject.toml").read_text()


def python_path(checkout: Path, scratch: Path) -> str:
    """The PYTHONPATH entry that makes the child import `checkout`'s modules."""
    if not namespaced(checkout):
        return str(checkout)
    links = scratch / "pythonpath" / hashlib.sha1(str(checkout.resolve()).encode()).hexdigest()[:12]
    for folder in tomllib.loads((checkout / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values():
        link = links / "nql_flink" / folder
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(checkout.resolve() / folder, target_is_directory=True)
    return str(links)


def module(checkout: Path, name: str) -> str:
    """The module path of `name` (e.g. translator.cli) in that checkout."""
    return f"nql_flink.{name}" if namespaced(checkout) else name


def child_env(checkout: Path, scratch: Path) -> dict[str, str]:
    """The environment of a process of `checkout`: its modules first, and none of the PyFlink
    gateway settings of a process that already runs Flink (a test session): the child starts
    its own JVM."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYFLINK_GATEWAY_DISABLED", "PYFLINK_GATEWAY_PORT")}
    return {**env, "PYTHONPATH": python_path(checkout, scratch)}


def short(root: Path, revision: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", revision], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def revision_checkout(root: Path, revision: str, scratch: Path):
    """A detached git worktree of `revision` under `scratch`, removed afterwards, with the Java
    functions of both checkouts compiled: yields {"this (<HEAD>)": root, "<revision> (<hash>)":
    the worktree}, the two sides of a comparison."""
    other = scratch / "against"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(other), revision], cwd=root, check=True)
    try:
        sides = {f"this ({short(root, 'HEAD')})": root, f"{revision} ({short(root, revision)})": other}
        for cwd in sides.values():
            subprocess.run([sys.executable, "-m", module(cwd, "deploy.jars"), "build", "udfs"], cwd=cwd, check=True,
                           stdout=subprocess.DEVNULL, env=child_env(cwd, scratch))
        yield sides
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=root, check=False)
