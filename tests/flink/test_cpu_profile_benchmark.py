"""The CPU profile benchmark (benchmarks/cpu_profile.py, issue 15): async-profiler's collapsed stacks read
into per-frame figures of the chosen threads (a stack file written by hand), and, as the other
benchmarks' smoke runs, the script end to end on a tiny input: the profiler comes from Maven
Central through deploy/profiler, both jobs run under it, and the windows function's thread has
samples in both, under the frames the function's code has."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.benchmark_run import run_benchmark

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cpu_profile  # noqa: E402  (benchmarks/ is not a package)

WINDOWS = "[ProcessTableFunction[3] -> (Calc[4], Calc[6]) (1/1)#0 tid=12]"
STACKS = f"""{WINDOWS};java/lang/Thread.run;dev/nqlflink/udfs/WindowsFunction.fire;dev/nqlflink/udfs/ShapeState.fold 5
{WINDOWS};java/lang/Thread.run;dev/nqlflink/udfs/WindowsFunction.fire;dev/nqlflink/udfs/WindowsFunction$$Lambda.0x00007f2c.apply 2
[Source: src_session_vdi_events[1] -> Calc[2] (1/1)#0 tid=13];java/lang/Thread.run 7
[ProcessTableFunction[8] -> Calc[9] -> Calc[10] (1/1)#0 tid=14];java/lang/Thread.run 4
{WINDOWS};a/B.rec;a/B.rec 1
"""


def test_collapsed_stacks_give_each_frames_inclusive_samples_in_the_chosen_threads(tmp_path):
    (tmp_path / "prof-1.txt").write_text(STACKS, encoding="utf-8")
    total, frames, under, names = cpu_profile.read_collapsed(tmp_path, re.compile(cpu_profile.WINDOWS_THREAD))
    # the windows thread's three stacks only (the source's and the other function's left out)
    assert total == 5 + 2 + 1
    assert names == {"ProcessTableFunction[3] -> (Calc[4], Calc[6]) (1/1)#0": 8}
    # a frame counts once per stack, a recursive one too; packages left out, lambdas by class
    assert frames == {"Thread.run": 7, "WindowsFunction.fire": 7, "ShapeState.fold": 5,
                      "WindowsFunction$$Lambda": 2, "B.rec": 1}
    assert under == {("Thread.run", "WindowsFunction.fire"): 7, ("WindowsFunction.fire", "ShapeState.fold"): 5,
                     ("WindowsFunction.fire", "WindowsFunction$$Lambda"): 2, ("ShapeState.fold", "<self>"): 5,
                     ("WindowsFunction$$Lambda", "<self>"): 2, ("B.rec", "B.rec"): 1, ("B.rec", "<self>"): 1}


@pytest.mark.flink
@pytest.mark.benchmark
def test_the_profile_benchmark_profiles_the_windows_thread_of_both_jobs(tmp_path):
    run, result = run_benchmark("cpu_profile.py", tmp_path / "cpu_profile.json", "--under", "WindowsFunction.fire")
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = result["jobs"]
    assert list(jobs) == ["same 1", "same 10"]
    for job in jobs.values():
        assert job["samples"] > 0
        assert all(re.search(cpu_profile.WINDOWS_THREAD, t) for t in job["threads"])
        assert job["frames"].get("WindowsFunction.onTimers", 0) > 0   # its windows fired
    assert "| frame | same 1 | same 10 | same 10 - same 1 |" in run.stdout
    assert "under WindowsFunction.fire" in run.stdout
