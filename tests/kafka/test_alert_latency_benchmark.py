"""The alert-latency benchmark (benchmarks/alert_latency.py, issue 15 benchmark 4): its three
figures computed from hand-made samples, and the benchmark end to end on the session's broker
(--smoke: 2 tenants of 2 groups, 6 s windows): every group triggers and recovers once, and no
alert is read before the sample that let its tenant's clock pass the window's end. Its
figures mean nothing at this size; the benchmark is run by hand for them (docs/benchmarks.md)."""

import sys
from pathlib import Path

import pytest

from tests.benchmark_run import run_benchmark

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from alert_latency import delays, percentile  # noqa: E402  (benchmarks/)


def test_the_figures_of_one_alert_from_its_window_end_and_the_samples_around_it():
    # samples at event times 0, 1, ..., 10 s (epoch ms), acknowledged at monotonic 100 + i s
    batches = [(i * 1000, 100.0 + i) for i in range(11)]
    key = ("t000", "latency", '{"p": "x"}', "triggered", "1970-01-01T00:00:05.000Z")  # window end e = 5 s
    [row] = delays({key: 112.5}, batches, lateness_ms=2000)
    # C = the last sample before e: 4 s, acknowledged at 104; J = the first at or after
    # e + lateness - 1 ms = 6.999 s: 7 s, acknowledged at 107
    assert row["latency"] == pytest.approx(8.5)
    assert row["beyond lateness"] == pytest.approx(6.5)
    assert row["after the clock"] == pytest.approx(5.5)


def test_percentiles_are_by_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50, 95, 99)
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0


@pytest.mark.kafka
@pytest.mark.flink
@pytest.mark.benchmark
def test_the_alert_latency_benchmark_reads_every_transition_after_its_clock(tmp_path, kafka_bootstrap):
    run, result = run_benchmark("alert_latency.py", tmp_path / "latency.json", "--kafka", kafka_bootstrap)
    assert run.returncode == 0, run.stdout + run.stderr
    assert result["groups"] == 4 and result["expected_alerts"] == 8
    for read in ("read_committed", "read_uncommitted"):
        rows = result[read]["alerts_measured"]
        assert len(rows) == 8
        by_group = {}
        for r in rows:
            tenant, monitor, group, status, at = r["alert"]
            by_group.setdefault((tenant, group), []).append((at, status))
            assert r["after the clock"] > 0  # never evaluated before the tenant's clock passed
            assert r["latency"] > r["after the clock"]
            assert r["beyond lateness"] == pytest.approx(r["latency"] - 2)  # the smoke's lateness
        assert len(by_group) == 4
        assert all([s for _, s in sorted(v)] == ["triggered", "recovered"] for v in by_group.values())
        assert result[read]["summary"]["latency"]["n"] == 8
    assert "| read_committed | 8/8 | beyond lateness |" in run.stdout
