"""The many-monitors benchmark (benchmarks/many_monitors.py, issue 15 benchmark 3): its
families of monitors and its input (benchmarks/monitor_sets.py), checked against what they
promise, and the benchmark end to end on a tiny input (one size of one family, against HEAD:
each size is a JVM to plan and one per side to run, CI time), and its per-size timeout. Its figures mean nothing at this size; the benchmark is run
by hand for them (docs/benchmarks.md)."""

import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.benchmark_run import run_benchmark

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import monitor_sets as ms  # noqa: E402  (benchmarks/)


def monitors(text: str) -> list[dict]:
    return yaml.safe_load(text)["monitors"]


def test_the_first_distinct_monitor_is_the_seed_monitor_and_the_others_are_all_different_shapes(tmp_path):
    seed = yaml.safe_load((ROOT / "examples/monitors/vdi_latency_by_pool.yaml").read_text())
    first = monitors(ms.monitors_file(tmp_path / "m.yaml", "distinct", 1).read_text())[0]
    assert " ".join(first["query"].split()) == " ".join(seed["query"].split())
    assert (first["every"], first["trigger"]) == (seed["every"], seed["trigger"])

    points = ms.points()
    assert len(points) == len(set(points)) == 8 * 10 * 8 * 6
    first_100 = points[:100]
    for dimension, values in enumerate((ms.WINDOWS, ms.KEYS, ms.MEASURES, ms.FILTERS)):
        assert {p[dimension] for p in first_100} == set(range(len(values)))
    # the queries differ as their points do (window, keys, aggregate, filter), and compile
    written = monitors(ms.monitors_file(tmp_path / "m.yaml", "distinct", 100).read_text())
    assert len({(m["query"], m["every"]) for m in written}) == 100
    assert {m["tenant"] for m in written} == {"t000"}
    from nql_flink.translator.pipeline import compile_paths

    compiled = compile_paths([str(tmp_path / "m.yaml")])
    assert compiled.ok and not compiled.result.diagnostics
    assert len(compiled.result.monitors) == 100


def test_the_same_family_is_one_shape_over_a_tenant_per_ten_monitors(tmp_path):
    written = monitors(ms.monitors_file(tmp_path / "m.yaml", "same", 100).read_text())
    assert [m["tenant"] for m in written[:12]] == [f"t00{i}" for i in range(10)] + ["t000", "t001"]
    assert {m["tenant"] for m in written} == {f"t{i:03d}" for i in range(10)}
    assert len({m["id"] for m in written}) == 100
    assert len({(m["query"], m["every"], m["trigger"]["for"]) for m in written}) == 1
    # monitor 5: latency above 250 + (5 * 37) mod 200 = 435 ms, at least 1 + 5 mod 3 = 3 devices
    assert written[5]["trigger"]["when"] == "avg_latency > 435ms and sessions >= 3"
    assert ms.tenants("same", 1) == ms.tenants("same", 19) == 1 and ms.tenants("same", 1000) == 100
    assert ms.tenants("distinct", 1000) == 1


def test_the_tenants_family_is_the_same_shape_one_monitor_per_tenant(tmp_path):
    written = monitors(ms.monitors_file(tmp_path / "m.yaml", "tenants", 100).read_text())
    assert [m["tenant"] for m in written] == [f"t{i:03d}" for i in range(100)]
    same = monitors(ms.monitors_file(tmp_path / "s.yaml", "same", 100).read_text())
    # the same monitors as the same family's (query, every, trigger), ids of their own
    assert [(m["query"], m["every"], m["trigger"]) for m in written] == \
        [(m["query"], m["every"], m["trigger"]) for m in same]
    assert written[7]["id"] == "tenants_0007" and ms.tenants("tenants", 100) == 100


def test_pair_ratios_are_the_reference_over_the_job_run_by_run():
    import many_monitors

    # runs alternate, so run i of each job is a pair: 8/10, 9/12; a job's missing run ends the pairs
    assert many_monitors.pair_ratios([10.0, 12.0], [8.0, 9.0]) == [0.8, 0.75]
    assert many_monitors.pair_ratios([10.0], [8.0, 9.0]) == [0.8]


def test_the_input_line_names_the_devices_a_tenant():
    import many_monitors

    # same 1000 / same 1 depends on the tenants' size (docs/benchmarks.md 3ah): 2000 / 100 = 20
    assert many_monitors.dealt([("tenants", 1), ("tenants", 100)], 2000) == "1, 100 tenant(s) (2000, 20 devices a tenant)"
    assert (many_monitors.dealt([("tenants", 8), ("pools", 10)], 100)
            == "8 tenant(s) (12.5 devices a tenant); 10 set(s) of pools")
    assert many_monitors.dealt([("pools", 10)], 100) == "10 set(s) of pools"


def test_the_machines_speed_divides_out_by_the_sources_threads_cpu():
    import many_monitors
    import measure

    # only the sources' task threads (`Source: ...`), not the split fetchers nor the other tasks
    threads = [("Source: src_ses", 2.0), ("Source Data Fet", 1.0), ("ProcessTableFun", 5.0), ("Source: src_dev", 0.5)]
    assert measure.source_cpu(threads) == 2.5
    # a job twice as slow in its second run because the machine was: per source CPU 3.0 both times
    job = {"processing_cpu_s_by_run": [30.0, 60.0], "source_cpu_s_by_run": [10.0, 20.0]}
    # the reference: 2.4 and 2.5 per source CPU, median 2.45; against 3.0: 0.8167; pairs 0.8, 0.8333
    reference = {"processing_cpu_s_by_run": [24.0, 20.0], "source_cpu_s_by_run": [10.0, 8.0]}
    got = many_monitors.per_source_ratio(job, reference)
    assert got["processing_per_source"] == pytest.approx(2.45 / 3.0)
    assert got["processing_per_source_pairs"] == pytest.approx([0.8, 2.5 / 3.0])
    # a run without source CPU (no thread seen) is left out rather than divided by zero
    assert many_monitors.per_source([30.0, 60.0], [10.0, 0.0]) == [3.0]


def test_each_same_job_is_compared_with_the_hand_written_query_over_its_tenants():
    import many_monitors
    import measure

    done = {
        "same 1": {"family": "same", "tenants": 1, "processing_cpu_s_by_run": [20.0, 22.0]},
        "same 1000": {"family": "same", "tenants": 100, "processing_cpu_s_by_run": [30.0, 32.0]},
        "hand-written 1": {"family": "hand-written", "tenants": 1, "processing_cpu_s_by_run": [25.0, 26.0]},
        "hand-written 100": {"family": "hand-written", "tenants": 100, "processing_cpu_s_by_run": [36.0, 40.0]},
        "distinct 1": {"family": "distinct", "tenants": 1, "processing_cpu_s_by_run": [20.0, 21.0]},
    }
    for j in done.values():
        j.update({k: 1.0 for k in measure.RATES}, source_cpu_s_by_run=[5.0, 5.0])
    got = many_monitors.handwritten_ratios(done)
    # each same job against the query over as many tenants; not the distinct family's
    assert set(got) == {"same 1 / hand-written 1", "same 1000 / hand-written 100"}
    # by processing CPU pair by pair: 36/30 = 1.2, 40/32 = 1.25 (above 1: the monitors cost less)
    assert got["same 1000 / hand-written 100"]["processing_pairs"] == pytest.approx([1.2, 1.25])
    # not per source CPU: the two jobs' sources read the records differently
    assert got["same 1000 / hand-written 100"]["processing_per_source"] is None


def test_dealing_out_moves_each_device_to_one_tenant_and_keeps_every_record(tmp_path):
    def event(uid):
        return {"tenant": "acme", "end_time": "2026-11-26T07:00:00.000Z",
                "device": {"collector": {"uid": uid}, "name": uid.upper()}, "network_latency": 90.5}

    def device(uid):
        return {"tenant": "acme", "collector": {"uid": uid}, "last_seen": "2026-11-26T06:00:00.000Z"}

    uids = ["c-00001", "c-00002", "c-00013", "c-00001"]
    files = {}
    for table, records in (("session.vdi_events", [event(u) for u in uids]),
                           ("device.devices", [device(u) for u in sorted(set(uids))])):
        files[table] = tmp_path / f"{table}.jsonl"
        files[table].write_text("".join(json.dumps(r) + "\n" for r in records))
    dealt = ms.dealt_out(files, 10, tmp_path / "dealt")
    events = [json.loads(line) for line in dealt["session.vdi_events"].read_text().splitlines()]
    assert [e["tenant"] for e in events] == ["t001", "t002", "t003", "t001"]
    assert [{**e, "tenant": "acme"} for e in events] == [event(u) for u in uids]
    inventory = [json.loads(line) for line in dealt["device.devices"].read_text().splitlines()]
    assert [(d["collector"]["uid"], d["tenant"]) for d in inventory] == [
        ("c-00001", "t001"), ("c-00002", "t002"), ("c-00013", "t003")]


def test_the_one_tenant_family_is_the_same_monitors_all_of_one_tenant(tmp_path):
    written = monitors(ms.monitors_file(tmp_path / "m.yaml", "one_tenant", 100).read_text())
    same = monitors(ms.monitors_file(tmp_path / "s.yaml", "same", 100).read_text())
    assert {m["tenant"] for m in written} == {"t000"} and len({m["id"] for m in written}) == 100
    assert [(m["query"], m["trigger"]) for m in written] == [(m["query"], m["trigger"]) for m in same]
    assert ms.layout("one_tenant", 1000) == ("tenants", 1) and ms.monitor_count("one_tenant", 1000) == 1000


def test_the_pools_family_is_one_monitor_over_n_sets_of_pools_of_one_tenant(tmp_path):
    written = monitors(ms.monitors_file(tmp_path / "m.yaml", "pools", 100).read_text())
    seed = monitors(ms.monitors_file(tmp_path / "s.yaml", "same", 1).read_text())
    assert len(written) == 1 and written[0]["tenant"] == "t000"
    assert (written[0]["query"], written[0]["trigger"]) == (seed[0]["query"], seed[0]["trigger"])
    assert ms.layout("pools", 100) == ("pools", 100) and ms.layout("tenants", 100) == ("tenants", 100)
    assert ms.monitor_count("pools", 100) == 1 and ms.tenants("pools", 100) == 1


def test_dealing_out_to_pools_keeps_one_tenant_and_renames_each_devices_pool(tmp_path):
    events = [{"tenant": "acme", "device": {"collector": {"uid": u}}, "network_latency": 1.0}
              for u in ("c-00001", "c-00012")]
    inventory = [{"tenant": "acme", "collector": {"uid": "c-00001"}, "virtualization": {"desktop_pool": "HR"}},
                 {"tenant": "acme", "collector": {"uid": "c-00012"}, "virtualization": {"desktop_pool": "HR"}},
                 {"tenant": "acme", "collector": {"uid": "c-00003"}}]
    files = {}
    for table, records in (("session.vdi_events", events), ("device.devices", inventory)):
        files[table] = tmp_path / f"{table}.jsonl"
        files[table].write_text("".join(json.dumps(r) + "\n" for r in records))
    dealt = ms.input_files(files, ("pools", 10), tmp_path)
    assert dealt["device.devices"].parent.name == "pools-10"
    got = [json.loads(line) for line in dealt["session.vdi_events"].read_text().splitlines()]
    assert got == [{**e, "tenant": "t000"} for e in events]
    got = [json.loads(line) for line in dealt["device.devices"].read_text().splitlines()]
    # uid 1 and 12 mod 10: sets t001 and t002; a device without a pool keeps none
    assert [(d["tenant"], d.get("virtualization")) for d in got] == [
        ("t000", {"desktop_pool": "HR-t001"}), ("t000", {"desktop_pool": "HR-t002"}), ("t000", None)]


@pytest.mark.flink
@pytest.mark.benchmark
def test_the_many_monitors_benchmark_submits_and_runs_a_size_against_a_revision(tmp_path):
    run, result = run_benchmark("many_monitors.py", tmp_path / "many.json", "--against", "HEAD", "--handwritten")
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(result["jobs"]) == {"same 1", "hand-written 1"} and not result["skipped"]
    job = result["jobs"]["same 1"]
    submit = job["submit"]
    assert submit["plan_wall_s"] > 0 and submit["exec_nodes"] > 0 and submit["jvm_peak_rss"] > 0
    assert job["events_per_cpu_s"] > 0 and job["jvm_peak_rss"] > 0 and job["same_output_every_run"]
    assert job["alert_records"] >= 1  # the seed incident
    assert "| same 1 | 1 | 1 |" in run.stdout
    assert len(job["processing_cpu_s_by_run"]) == 1 and "processing CPU-s by run: same 1 " in run.stdout
    assert len(job["source_cpu_s_by_run"]) == 1 and 0 < job["source_cpu_s_by_run"][0] < job["processing_cpu_s_by_run"][0]
    # the same job from a worktree of HEAD, the same alert records, this / HEAD per source CPU
    rev = result["against"]["revision"]
    assert rev.startswith("HEAD (") and set(result["against"]["jobs"]) == {"same 1"}
    theirs = result["against"]["jobs"]["same 1"]
    assert theirs["alert_records"] == job["alert_records"] and len(theirs["processing_cpu_s_by_run"]) == 1
    ratio = result["against"]["ratios"]["same 1"]
    assert ratio["same_alerts"] is True
    mine = job["processing_cpu_s_by_run"][0] / job["source_cpu_s_by_run"][0]
    other = theirs["processing_cpu_s_by_run"][0] / theirs["source_cpu_s_by_run"][0]
    assert ratio["processing_per_source"] == pytest.approx(other / mine)
    assert f"same 1: this / {rev} by processing CPU per source CPU" in run.stdout
    # the seed monitor's shape by hand over the same tenant (this checkout only): the incident's windows
    handwritten = result["jobs"]["hand-written 1"]
    assert handwritten["alert_records"] >= 1 and handwritten["same_output_every_run"]
    pairs = result["ratios"]["same 1 / hand-written 1"]["processing_pairs"]
    assert pairs == pytest.approx([handwritten["processing_cpu_s_by_run"][0] / job["processing_cpu_s_by_run"][0]])
    assert "same 1 / hand-written 1, by processing CPU, pair by pair" in run.stdout


@pytest.mark.flink
@pytest.mark.benchmark
def test_a_size_that_does_not_plan_in_time_is_reported_and_the_larger_ones_skipped(tmp_path):
    run, result = run_benchmark("many_monitors.py", tmp_path / "many.json", "--sizes", "1,2", "--timeout", "1")
    assert run.returncode == 1
    assert result["jobs"] == {}
    assert result["skipped"]["same 1"]["why"] == "did not compile and plan within 1 s"
    assert result["skipped"]["same 2"]["why"] == "a smaller size timed out"
    assert "submit same 1: TIMED OUT after 1 s" in run.stdout
