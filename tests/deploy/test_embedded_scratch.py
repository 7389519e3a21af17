"""The embedded mini-cluster's temporary files live in one folder per process, removed when the
process ends, and a killed process's folder is removed by the next one (deploy/embedded/scratch.py):
a JVM killed mid-job used to leave its mini-cluster folder, distributed cache and unpacked
planner jar in /tmp, and every run left its staged Python functions there."""

import os
import subprocess
import sys
from pathlib import Path

from nql_flink.deploy.embedded.runner import jvm_args

CHILD = """
import os, sys
from nql_flink.deploy.embedded import scratch
d = scratch.process_dir(sys.argv[1])
(d / "jvm").mkdir()
(d / "jvm" / "minicluster_x").write_text("state")
print(d, flush=True)
if sys.argv[2] == "killed":
    os._exit(0)   # no exit handlers: as after kill -9
"""


def child(base: Path, how: str) -> Path:
    out = subprocess.run([sys.executable, "-c", CHILD, str(base), how], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def test_the_folder_is_the_process_s_and_goes_when_it_exits(tmp_path):
    d = child(tmp_path, "exits")
    assert d.parent == tmp_path and d.name.startswith("nql-flink-") and d.name[len("nql-flink-"):].isdigit()
    assert not d.exists()


def test_a_killed_process_s_folder_is_removed_by_the_next_one_and_a_living_one_s_kept(tmp_path):
    killed = child(tmp_path, "killed")
    assert (killed / "jvm" / "minicluster_x").exists()          # left behind, as by kill -9
    living = tmp_path / f"nql-flink-{os.getpid()}"               # this test's process is alive
    living.mkdir()
    other = tmp_path / "nql-flink-notes"                         # not a scratch folder's name
    other.mkdir()
    d = child(tmp_path, "exits")
    assert not killed.exists() and not d.exists()
    assert living.exists() and other.exists()


def test_the_jvm_gets_the_folder_as_its_tmpdir_unless_jvm_args_sets_one():
    assert jvm_args({}, "/s/jvm") == "-Xmx1g -Djava.io.tmpdir=/s/jvm"
    assert jvm_args({"JVM_ARGS": "-Djava.io.tmpdir=/mine"}, "/s/jvm") == "-Djava.io.tmpdir=/mine -Xmx1g"
