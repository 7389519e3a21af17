"""`nql-flink run`: usage errors without Flink, and alerts printed from a tiny input."""

import json

import pytest

from nql_flink.translator.cli import main
from tests.shell_env import shell_env

MONITOR = """
id: queue
tenant: acme
query: |
  device_performance.events during past 2min
  | summarize q = cpu_queue_length.max()
every: 1min
trigger: {when: q > 5}
"""


def perf(minute, queue):
    return json.dumps({"tenant": "acme", "start_time": f"2026-11-26T10:{minute:02d}:00.000Z",
                       "end_time": f"2026-11-26T10:{minute:02d}:30.000Z",
                       "device": {"collector": {"uid": "d1"}, "name": "D1"}, "cpu_queue_length": queue})


@pytest.fixture
def files(tmp_path):
    (tmp_path / "m.yaml").write_text(MONITOR)
    # max per window [t-2min, t): 10:01 1 | 10:02 9 -> triggered | 10:03 9 | 10:04 1 -> recovered
    (tmp_path / "perf.jsonl").write_text("\n".join(perf(m, q) for m, q in enumerate([1, 9, 1, 1])) + "\n")
    return tmp_path


def test_run_needs_every_table_the_monitors_read(files, capsys):
    assert main(["run", str(files / "m.yaml")]) == 2
    assert "device_performance.events" in capsys.readouterr().err


def test_run_rejects_unknown_tables_and_missing_files(files, capsys):
    assert main(["run", str(files / "m.yaml"), "--input", "nope=x.jsonl"]) == 2
    assert main(["run", str(files / "m.yaml"), "--input", f"device_performance.events={files / 'missing.jsonl'}"]) == 2


@pytest.mark.flink
def test_run_prints_the_alert_timeline(files, capsys, flink_env, monkeypatch):
    import nql_flink.deploy.embedded.runner as runner

    monkeypatch.setattr(runner, "create_table_env", lambda *a, **k: flink_env)  # the session's mini-cluster
    code = main(["run", str(files / "m.yaml"), "--input", f"device_performance.events={files / 'perf.jsonl'}"])
    assert code == 0
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["status"], a["at"]) for a in sorted(alerts, key=lambda a: a["at"])] == [
        ("triggered", "2026-11-26T10:02:00.000Z"), ("recovered", "2026-11-26T10:04:00.000Z")]


@pytest.mark.flink
def test_run_progress_shows_each_input_between_running_and_done_and_rocksdb_gives_the_same_alerts(files):
    # `nql-flink run --progress` as a user runs it, in its own process: it opens the REST API
    # of its own mini-cluster on a free port. (Not on the session's environment: a second
    # TableEnvironment in the test JVM breaks the first's planner, and the REST port, once a
    # job ran with it, stays in that environment's settings for every later job.)
    # The first status line is shown as soon as the job is submitted, so one is always there.
    # A shell's environment: PyFlink marks this process once Python UDFs ran in it, and a child
    # with that mark refuses to start its own JVM (tests/shell_env.py).
    import subprocess
    import sys
    from pathlib import Path

    logs = files / "flink-log"   # the child's Flink log (PyFlink's FLINK_LOG_DIR), to see its state backend
    proc = subprocess.run([sys.executable, "-m", "nql_flink.translator.cli", "run", str(files / "m.yaml"), "--input",
                           f"device_performance.events={files / 'perf.jsonl'}", "--progress",
                           "--state-backend", "rocksdb"],
                          capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2],
                          env=shell_env(FLINK_LOG_DIR=str(logs)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    err = proc.stderr.splitlines()
    start = next(i for i, line in enumerate(err) if line.startswith("running 1 monitor(s)"))
    done = next(i for i, line in enumerate(err) if line.startswith("done in"))
    status = [line for line in err[start + 1:done] if line.startswith("  ")]
    assert status and all(line.startswith("  device_performance.events: ") for line in status)
    # stderr is not a terminal here: one line per change, no carriage returns
    assert not any("\r" in line for line in err)
    # the state on RocksDB (as deployed) and not on the heap: Flink says it loaded that backend,
    # and the timeline is the same as above
    assert any("EmbeddedRocksDBStateBackend" in f.read_text(errors="replace") for f in logs.glob("*.log"))
    alerts = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(a["status"], a["at"]) for a in sorted(alerts, key=lambda a: a["at"])] == [
        ("triggered", "2026-11-26T10:02:00.000Z"), ("recovered", "2026-11-26T10:04:00.000Z")]


def test_the_mini_cluster_runs_with_a_bounded_heap(flink_env):
    """The session's JVM was started by create_table_env (deploy/embedded/runner.py jvm_args): its
    maximum heap is what JVM_ARGS asked for, 1 GiB unless the environment set another."""
    import os

    from pyflink.java_gateway import get_gateway

    max_heap = get_gateway().jvm.java.lang.Runtime.getRuntime().maxMemory()
    if "-Xmx" in os.environ.get("JVM_ARGS", "").replace("-Xmx1g", "") or os.environ.get("NQL_FLINK_HEAP"):
        return  # a heap chosen by whoever runs the tests
    assert 900 * 2**20 < max_heap <= 2**30


def test_the_mini_cluster_writes_its_temporary_files_in_the_process_s_scratch_folder(flink_env):
    """The session's JVM has the process's scratch folder (deploy/embedded/scratch.py) as its
    java.io.tmpdir (so the jobs' mini-cluster folders go there), and the Python functions are
    staged in it."""
    import os

    from pyflink.java_gateway import get_gateway

    from nql_flink.deploy.embedded import scratch

    ours = f"-Djava.io.tmpdir={scratch.jvm_tmpdir()}"
    if "-Djava.io.tmpdir=" in os.environ.get("JVM_ARGS", "").replace(ours, ""):
        return  # a folder chosen by whoever runs the tests
    tmpdir = get_gateway().jvm.java.lang.System.getProperty("java.io.tmpdir")
    assert tmpdir == str(scratch.jvm_tmpdir())
    assert (scratch.process_dir() / "pyfiles" / "nql_flink" / "udfs").is_dir()
