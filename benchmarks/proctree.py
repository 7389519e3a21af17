"""CPU time of a process tree from /proc, for the benchmarks that run Flink (Linux only)."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def stat_cpu(path: str, reaped_children: bool = False) -> tuple[str, float] | None:
    """(thread or process name, user + system CPU seconds) from a /proc .../stat file; for a
    process, optionally with its reaped children's (the JVM's Python worker exits with the job)."""
    try:
        stat = Path(path).read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = sum(int(x) for x in fields[11:15 if reaped_children else 13])
    return stat[stat.index("(") + 1:stat.rindex(")")], ticks / _TICK


def descendants(root: int) -> set[int]:
    """The processes below `root` (not itself), as /proc shows them now."""
    parent = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            parent[int(pid)] = int(stat[stat.rindex(")") + 2:].split()[1])
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree - {root}


# JVM thread name prefixes (as /proc shows them: at most 15 characters) -> kind
THREAD_KINDS = (("C1 CompilerThre", "jit"), ("C2 CompilerThre", "jit"), ("Sweeper thread", "jit"),
                ("GC Thread", "gc"), ("G1 ", "gc"), ("VM Thread", "gc"),
                ("Thread-", "client"), ("main", "client"), ("java", "client"))


def thread_kind(name: str) -> str:
    """jit, gc, client (PyFlink's gateway threads, where the job is planned, and the JVM's
    main threads) or job (everything else: tasks, sources, sinks, the runtime)."""
    return next((kind for prefix, kind in THREAD_KINDS if name.startswith(prefix)), "job")


def sample_threads(pid: int, threads: dict[tuple[int, int], tuple[str, float]]) -> None:
    """The CPU seconds of each thread of process `pid` so far, into `threads` (the last seen
    of a thread that has ended stays)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for tid in tids:
        st = stat_cpu(f"/proc/{pid}/task/{tid}/stat")
        if st is not None:
            threads[pid, int(tid)] = st
