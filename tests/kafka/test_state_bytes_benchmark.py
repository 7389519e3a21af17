"""The state-bytes benchmark (benchmarks/state_bytes.py, issue 15 benchmark 5) works end to
end on the session's broker (--smoke: 1 monitor, 20 simulated minutes of 100 devices): the
job's checkpoint is measured once it holds the whole input, its vertices add up to the
checkpoint's size, and its groups are the monitor's groups, counted here from the simulated
files; and its bytes per monitor from hand-made figures. Its figures mean nothing at this size; the benchmark is run by
hand for them (docs/benchmarks.md)."""

import json
import sys
from pathlib import Path

import pytest

from tests.benchmark_run import run_benchmark

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from seed import EVENTS, simulate  # noqa: E402  (benchmarks/: the benchmark's input)
from state_bytes import per_monitor  # noqa: E402


def pools_with_events(events: Path, inventory: Path) -> set[str]:
    """The desktop pools of the devices that sent events (a device keeps its pool in the
    simulation): the groups of one monitor by pool of the same family."""
    pool = {}
    for line in inventory.read_text().splitlines():
        r = json.loads(line)
        pool[r["collector"]["uid"]] = r["virtualization"]["desktop_pool"]
    return {pool[json.loads(line)["device"]["collector"]["uid"]] for line in events.read_text().splitlines()} - {None}


def test_bytes_per_monitor_are_the_growth_from_one_monitor_divided_by_the_monitors_added():
    def job(family, n, total, windows):
        return {"family": family, "monitors": n, "state_size": total, "by_category": {"windows": windows}}

    jobs = {"same 1": job("same", 1, 1000, 400), "same 10": job("same", 10, 5500, 3100),
            "distinct 10": job("distinct", 10, 9000, 100), "same 100": {**job("same", 100, 0, 0), "skipped": "x"}}
    assert per_monitor(jobs) == {"same 10": {"state_bytes": 500.0, "windows": 300.0}}


@pytest.mark.kafka
@pytest.mark.flink
@pytest.mark.benchmark
def test_the_state_bytes_benchmark_measures_a_job_once_it_holds_the_input(tmp_path, kafka_bootstrap):
    run, result = run_benchmark("state_bytes.py", tmp_path / "state.json", "--kafka", kafka_bootstrap)
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(result["jobs"]) == {"same 1"}
    files = simulate(sys.executable, tmp_path / "sim", result["input"]["hours"], result["input"]["devices"],
                     tenants="acme")
    pools = pools_with_events(files[EVENTS], files["device.devices"])
    assert len(pools) >= 2
    job = result["jobs"]["same 1"]
    assert job["groups"] == len(pools)  # one monitor by desktop pool, one tenant
    assert sum(job["by_category"].values()) == sum(v["state_size"] for v in job["vertices"]) == job["state_size"]
    # the monitor's alert states are the windows function's (it judges the monitor): no alert
    # state function in the job
    assert job["by_category"]["windows"] > 0 and job["by_category"]["alert states"] == 0
    assert "| same 1 | 1 | 1 |" in run.stdout
