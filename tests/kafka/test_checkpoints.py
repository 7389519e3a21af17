"""Where a deployment resumes from (deploy/recovery.py, deploy/submit.py start_point): checkpoint
folders laid out as Flink writes them, built here by hand; no JVM, no broker."""
from __future__ import annotations

import contextlib
import io
import os
import time

import pytest

from nql_flink.deploy import recovery, submit

JOB_A, JOB_B = "a" * 32, "b" * 32


def completed(folder, mtime: float):
    """A completed checkpoint/savepoint folder: its _metadata written at ``mtime``."""
    folder.mkdir(parents=True)
    (folder / "_metadata").write_bytes(b"\0")
    os.utime(folder / "_metadata", (mtime, mtime))
    return folder


@pytest.fixture
def job_dir(tmp_path):
    """Two earlier deployments of one job name (job ids A then B), as Flink leaves them."""
    base, t0 = tmp_path / "checkpoints", time.time() - 1000
    ckpt, saves = recovery.job_state_dirs(base, "nql-prod")
    root = base / "nql-prod"
    completed(root / JOB_A / "chk-7", t0)
    completed(root / JOB_A / "chk-8", t0 + 10)
    completed(root / JOB_B / "chk-9", t0 + 100)      # B resumed from A's chk-8 and went on
    completed(root / JOB_B / "chk-10", t0 + 110)
    (root / JOB_B / "chk-11").mkdir()                # in progress (or failed): no _metadata
    (root / JOB_B / "shared").mkdir()                # Flink's shared/ and taskowned/ folders
    (root / JOB_B / "taskowned").mkdir()
    completed(root / "savepoints" / "savepoint-aaaaaa-0123456789ab", t0 + 50)
    return {"ckpt": ckpt, "saves": saves, "root": root, "t0": t0}


def test_the_newest_completed_checkpoint_of_the_job_name_is_found(job_dir):
    found = recovery.retained(job_dir["ckpt"], job_dir["saves"])
    assert [(r.kind, r.job_id, r.number) for r in found] == [
        ("checkpoint", JOB_A, 7), ("checkpoint", JOB_A, 8), ("savepoint", None, None),
        ("checkpoint", JOB_B, 9), ("checkpoint", JOB_B, 10)]
    latest = recovery.latest(job_dir["ckpt"], job_dir["saves"])
    assert latest.path == job_dir["root"] / JOB_B / "chk-10"
    assert latest.url == "file://" + str(job_dir["root"] / JOB_B / "chk-10")


def test_a_newer_savepoint_wins_over_older_checkpoints(job_dir):
    sp = completed(job_dir["root"] / "savepoints" / "savepoint-bbbbbb-ba9876543210", job_dir["t0"] + 200)
    assert recovery.latest(job_dir["ckpt"], job_dir["saves"]).path == sp


def test_job_names_have_their_own_folders_and_bad_names_are_refused(tmp_path):
    assert recovery.job_state_dirs("file:///var/nql/checkpoints/", "nql-prod") == (
        "file:///var/nql/checkpoints/nql-prod", "file:///var/nql/checkpoints/nql-prod/savepoints")
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            recovery.job_state_dirs(tmp_path, bad)
    assert recovery.latest(tmp_path / "nothing-here") is None
    assert recovery.local_path("s3://bucket/checkpoints") is None


def test_start_point_resumes_from_the_newest_checkpoint(job_dir):
    sp = submit.start_point(job_name="nql-prod", checkpoint_dir=job_dir["ckpt"], savepoint_dir=job_dir["saves"],
                            output_records=42, output_topic="nql.alerts")
    assert sp.path == "file://" + str(job_dir["root"] / JOB_B / "chk-10")
    assert sp.path in sp.note and JOB_B in sp.note


def test_start_point_explicit_savepoint_and_fresh(job_dir):
    given = "file:///elsewhere/savepoint-cafe00-1"
    assert submit.start_point(job_name="nql-prod", checkpoint_dir=job_dir["ckpt"], from_savepoint=given).path == given
    assert submit.start_point(job_name="nql-prod", checkpoint_dir=job_dir["ckpt"], fresh=True,
                              output_records=42).path is None


def test_start_point_refuses_to_start_without_state_over_existing_alerts(tmp_path):
    ckpt, saves = recovery.job_state_dirs(tmp_path, "nql-prod")
    with pytest.raises(submit.DeployError) as e:
        submit.start_point(job_name="nql-prod", checkpoint_dir=ckpt, savepoint_dir=saves, output_records=3,
                           output_topic="nql.alerts")
    assert e.value.code == "output-exists" and "nql.alerts is not empty (3 offsets)" in str(e.value)
    assert submit.start_point(job_name="nql-prod", checkpoint_dir=ckpt, output_records=0).path is None
    with pytest.raises(submit.DeployError) as e:
        submit.start_point(job_name="nql-prod", checkpoint_dir="s3://bucket/ckpt/nql-prod", output_records=0)
    assert e.value.code == "no-checkpoint-dir"


def test_fresh_start_sets_the_old_checkpoints_aside(job_dir):
    moved = submit.set_aside(job_dir["ckpt"])
    assert not job_dir["root"].exists() and moved.name.startswith("nql-prod.replaced-")
    assert (moved / JOB_B / "chk-10" / "_metadata").is_file()  # kept, not deleted
    assert recovery.latest(job_dir["ckpt"], job_dir["saves"]) is None


def test_init_script_of_a_resumed_deployment(job_dir):
    s = submit.Settings(job_name="nql-prod", checkpoint_dir=job_dir["ckpt"], savepoint_dir=job_dir["saves"],
                        from_savepoint="file:///x/chk-3")
    text = submit.init_script(s)
    assert f"SET 'execution.checkpointing.dir' = 'file://{job_dir['root']}';" in text
    assert f"SET 'execution.checkpointing.savepoint-dir' = 'file://{job_dir['root']}/savepoints';" in text
    assert "SET 'execution.state-recovery.path' = 'file:///x/chk-3';" in text
    assert "SET 'execution.checkpointing.externalized-checkpoint-retention' = 'RETAIN_ON_CANCELLATION';" in text
    assert "SET 'state.backend.type' = 'rocksdb';" in text
    assert "SET 'restart-strategy.type' = 'exponential-delay';" in text


def test_deploy_dry_run_says_where_it_resumes_from(job_dir, tmp_path):
    from tests.kafka.scenario import MONITORS
    from nql_flink.translator.cli import main as cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli(["deploy", "sql-client", str(MONITORS), "--dry-run", "--out", str(tmp_path / "out"),
                  "--job-name", "nql-prod", "--checkpoint-dir", str(tmp_path / "checkpoints")])
    assert rc == 0, err.getvalue()
    chk10 = "file://" + str(job_dir["root"] / JOB_B / "chk-10")
    assert f"resuming from {chk10}" in err.getvalue()
    assert f"SET 'execution.state-recovery.path' = '{chk10}';" in (tmp_path / "out" / "init.sql").read_text()
