"""What the local services share: deploy/kafka/broker.py (a KRaft broker) and
deploy/cluster/cluster.py (a standalone Flink cluster).

Each lives in a state dir with a JSON state file (its pids, ports and paths, ``StateFile``),
runs JVMs started in a session of their own with their output in a log file (``launch``),
is stopped by its own pids only, SIGTERM then SIGKILL (``end_processes``), and waits for
ports and readiness by polling (``port_free``, ``wait_until``). Standard library only.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, ClassVar, Iterable


_HANDED_OUT: set[int] = set()

# C1 only: a JVM that lives seconds or minutes on 2 cores (a test broker, a dev cluster, a test's
# child process) starts much faster without C2 compiling the code it has barely begun to run.
# Never for throughput measurements.
C1_ONLY = "-XX:TieredStopAtLevel=1"


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range of ports for outgoing connections and ``bind(0)`` (Linux default)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody has bound on ``host``, for a service started next, outside the kernel's
    ephemeral range: a port from ``bind(0)`` lies in that range, where any outgoing connection
    (a Kafka client, a JVM's) may be given it before the service binds it; seen as the
    JobManager's ``BindException: Could not start actor system on any port`` in a full test
    run. Random below that range, never the same port twice in a process; the kernel's choice
    only when that range is too small to pick from."""
    low, _ = ephemeral_ports()
    rng = random.SystemRandom()
    if low - 1024 >= 2000:
        for _ in range(100):
            port = rng.randrange(max(1024, low - 20000), low)
            if port in _HANDED_OUT:
                continue
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind((host, port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_free(port: int, wait: float = 10.0) -> bool:
    """Nobody listens on ``port`` (/proc/net/tcp, tcp6), waiting up to ``wait`` s: the threads of a
    killed JVM may still hold its sockets for a moment after its main thread exited. Connections
    still closing (TIME_WAIT, FIN_WAIT2) do not count: the services bind with SO_REUSEADDR."""
    deadline = time.monotonic() + wait
    while True:
        listening = False
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                    listening = True
        if not listening:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def cmdline_has(pid: int, needle: str) -> bool:
    try:
        return needle.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def reap(pid: int, wait: float = 0.0) -> None:
    """Collect the exit status of our child ``pid`` (nothing if it is not ours). ``wait``: keep
    trying that long; a killed JVM's main thread is a zombie before its other threads are gone,
    and until then it cannot be collected."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            return
        if time.monotonic() >= deadline:
            return
        time.sleep(0.02)


def tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) + "\n"
    except OSError:
        return ""


def launch(cmd: list[str], log_file: Path, *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``cmd`` with its output in ``log_file``, in a session of its own (it survives the
    CLI and is not hit by the terminal's Ctrl-C)."""
    with open(log_file, "wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=cwd)


def end_processes(pids: Iterable[int], *, sig: int = signal.SIGTERM, timeout: float = 10.0,
                  kill_wait: float = 5.0, needle: str | None = None, escalate: bool = True) -> list[int]:
    """Send ``sig`` to each live process of ``pids`` and wait up to ``timeout`` s for them to end;
    then (``escalate``) SIGKILL those left and wait up to ``kill_wait`` s. With ``needle``, only
    processes whose command line has it are signalled (ours, not a reused pid). Our children
    are reaped. Returns the pids still alive."""
    pids = list(pids)

    def live(ps: list[int]) -> list[int]:
        return [p for p in ps if pid_alive(p) and (needle is None or cmdline_has(p, needle))]

    stages = (sig, signal.SIGKILL) if escalate and sig != signal.SIGKILL else (sig,)
    left = pids
    for stage in stages:
        left = live(left)
        for pid in left:
            try:
                os.kill(pid, stage)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (timeout if stage == sig else kill_wait)
        while left and time.monotonic() < deadline:
            for pid in left:
                reap(pid)
            left = [p for p in left if pid_alive(p)]
            if left:
                time.sleep(0.1)
        if not left:
            break
    for pid in pids:
        if pid > 0:
            reap(pid, wait=5.0)
    return live(left)


def wait_until(ready: Callable[[], bool], timeout: float, interval: float, *,
               check: Callable[[], None] = lambda: None) -> bool:
    """Poll ``ready()`` every ``interval`` s until it is true (True) or ``timeout`` s passed
    (False); ``check()`` runs first in every round and raises when waiting is pointless (the
    process exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check()
        if ready():
            return True
        time.sleep(interval)
    return False


class StateFile:
    """A dataclass of a local service kept in ``<state_dir>/<STATE_FILE>`` as JSON."""

    STATE_FILE: ClassVar[str]
    DEFAULT_STATE_DIR: ClassVar[Path]
    PATH_FIELDS: ClassVar[tuple[str, ...]] = ("state_dir",)   # written as text, read back as Path
    MEMORY_ONLY: ClassVar[tuple[str, ...]] = ()               # fields never written (e.g. secrets)
    state_dir: Path

    def _save(self) -> None:
        d = asdict(self)
        for k in self.MEMORY_ONLY:
            del d[k]
        for k in self.PATH_FIELDS:
            d[k] = str(d[k])
        (self.state_dir / self.STATE_FILE).write_text(json.dumps(d, indent=2) + "\n")

    @classmethod
    def load(cls, state_dir: str | os.PathLike | None = None):
        """The service recorded in ``state_dir`` (default DEFAULT_STATE_DIR), None if none is."""
        f = Path(state_dir or cls.DEFAULT_STATE_DIR) / cls.STATE_FILE
        if not f.exists():
            return None
        d = json.loads(f.read_text())
        for k in cls.PATH_FIELDS:
            d[k] = Path(d[k])
        return cls(**cls._read(d))

    @classmethod
    def _read(cls, d: dict) -> dict:
        """A hook for fields older state files lack."""
        return d

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
