"""Crash recovery of jobs on a Flink cluster: the settings that make a job resume by itself, and
where the state of an earlier run of a job is found.

Settings (Flink 2.3 option names, checked against the wheel's flink-dist jar):

* restart strategy exponential-delay, 1 s first, doubling to at most 30 s, unlimited attempts
  (Flink's default count): a job that lost its TaskManager or its broker comes back as soon as
  they do, without an operator, and a persistent failure does not restart in a tight loop;
* RocksDB state backend (inside flink-dist), incremental checkpoints on disk, the last
  ``NUM_RETAINED`` kept, and kept when the job is cancelled (RETAIN_ON_CANCELLATION): a new
  deployment of the job resumes from them (``deploy sql-client``);
* a few failed checkpoints tolerated (e.g. a slow disk under load) before the job restarts.

Files, as Flink writes them::

    <checkpoint dir>/<job id>/chk-<n>/_metadata       once checkpoint n completed
    <savepoint dir>/savepoint-<job id[:6]>-<random>/_metadata

A checkpoint directory without ``_metadata`` is one in progress or a failed one: never resumed.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

NUM_RETAINED = 3

RESTART_OPTIONS = {
    "restart-strategy.type": "exponential-delay",
    "restart-strategy.exponential-delay.initial-backoff": "1 s",
    "restart-strategy.exponential-delay.backoff-multiplier": "2.0",
    "restart-strategy.exponential-delay.max-backoff": "30 s",
    "restart-strategy.exponential-delay.jitter-factor": "0.1",
    # after 10 min without failure the next delay starts at 1 s again
    "restart-strategy.exponential-delay.reset-backoff-threshold": "10 min",
}

CHECKPOINT_OPTIONS = {
    "state.backend.type": "rocksdb",
    "execution.checkpointing.incremental": "true",
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    "execution.checkpointing.num-retained": str(NUM_RETAINED),
    "execution.checkpointing.tolerable-failed-checkpoints": "3",
}


def file_url(path: str | os.PathLike) -> str:
    """'file:///abs/path' of a local folder (what execution.checkpointing.dir wants)."""
    return Path(path).resolve().as_uri()


def local_path(location: str | os.PathLike) -> Path | None:
    """The local folder of a 'file:' URL or plain path; None for another scheme (s3://...)."""
    text = str(location)
    u = urlparse(text)
    if u.scheme == "file":
        return Path(unquote(u.path))
    if u.scheme == "" or len(u.scheme) == 1:  # a path (or a Windows drive letter)
        return Path(text)
    return None


def recovery_options(checkpoint_dir: str | os.PathLike | None = None,
                     savepoint_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """Restart strategy and durable checkpoints, as Flink options; the folders as file URLs."""
    opts = {**RESTART_OPTIONS, **CHECKPOINT_OPTIONS}
    if checkpoint_dir is not None:
        opts["execution.checkpointing.dir"] = _url(checkpoint_dir)
    if savepoint_dir is not None:
        opts["execution.checkpointing.savepoint-dir"] = _url(savepoint_dir)
    return opts


def _url(location: str | os.PathLike) -> str:
    text = str(location)
    return text if "://" in text else file_url(text)


def job_state_dirs(base: str | os.PathLike, job_name: str) -> tuple[str, str]:
    """Where the deployments of one job name keep their state, under a checkpoint base folder
    (file URL or path): ``<base>/<job name>`` for checkpoints (``.../<job id>/chk-<n>``) and
    ``<base>/<job name>/savepoints``. One folder per name is how a new deployment finds the
    checkpoints of the previous one: job ids change with every submission."""
    if not JOB_NAME.fullmatch(job_name):
        raise ValueError(f"job name {job_name!r}: letters, digits, '.', '_' and '-' only (it names a folder)")
    root = str(base).rstrip("/") + "/" + job_name
    return root, root + "/savepoints"


JOB_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Retained:
    """A completed checkpoint or savepoint on disk."""
    path: Path            # the chk-<n> / savepoint-... folder (execution.state-recovery.path)
    kind: str             # 'checkpoint' | 'savepoint'
    job_id: str | None    # the folder name above chk-<n>; savepoints: None
    number: int | None    # n of chk-<n>
    mtime_ns: int         # when its _metadata was written (the checkpoint's completion)

    @property
    def url(self) -> str:
        return file_url(self.path)


CHECKPOINT_DIR = re.compile(r"chk-(\d+)")
JOB_ID = re.compile(r"[0-9a-f]{32}")


def retained(checkpoint_dir: str | os.PathLike | None = None,
             savepoint_dir: str | os.PathLike | None = None) -> list[Retained]:
    """Every completed checkpoint (``<dir>/<job id>/chk-<n>/_metadata``) and savepoint
    (``<dir>/savepoint-*/_metadata``) under the given folders (file URLs or paths), oldest
    first: by the time their _metadata was written, then by checkpoint number."""
    found: list[Retained] = []
    cdir = local_path(checkpoint_dir) if checkpoint_dir is not None else None
    if cdir is not None and cdir.is_dir():
        for job in cdir.iterdir():
            if not JOB_ID.fullmatch(job.name) or not job.is_dir():
                continue
            for chk in job.iterdir():
                m = CHECKPOINT_DIR.fullmatch(chk.name)
                meta = chk / "_metadata"
                if m and meta.is_file():
                    found.append(Retained(chk, "checkpoint", job.name, int(m.group(1)), meta.stat().st_mtime_ns))
    sdir = local_path(savepoint_dir) if savepoint_dir is not None else None
    if sdir is not None and sdir.is_dir():
        for sp in sdir.glob("savepoint-*"):
            meta = sp / "_metadata"
            if meta.is_file():
                found.append(Retained(sp, "savepoint", None, None, meta.stat().st_mtime_ns))
    return sorted(found, key=lambda r: (r.mtime_ns, r.number or 0))


def latest(checkpoint_dir: str | os.PathLike | None = None,
           savepoint_dir: str | os.PathLike | None = None) -> Retained | None:
    """The newest completed checkpoint or savepoint under the folders, or None."""
    found = retained(checkpoint_dir, savepoint_dir)
    return found[-1] if found else None
