"""Seasonal and change detection on real Flink, through the whole compiler.

One job (one mini-cluster run) holds two monitors over one device_performance.events file:

- acme, `seasonal` (simulated by simulator.Simulation, seed 7): 6 devices, 5-min samples,
  Mon 2026-11-23 00:00 .. Fri 00:00 UTC. cpu_queue_length has a daily pattern: ~0.5 at
  night, ~2.0 in office hours with the morning logon storm (the tenant is UTC+1, so the
  peak is from 07:00 UTC). Two incidents add +1.5 (the size of the morning rise) from
  02:00 to 02:30 UTC: on Monday, while the 02:00 slot is still learning (fewer than 2 days
  of history) -> no alert; on Thursday -> alert. Hand derivation: each 5-min window holds
  one sample per active device; Thursday's windows 02:05..02:30 are ~2.0 against a 02:00
  slot baseline of ~0.5 (median of the slot's 18 evaluations Mon-Wed, Thursday's own are
  not history; Monday's anomaly is 5 of them and does not move the median), i.e. > 6
  spreads above; `for: 15min` at `every: 5min` needs
  4 breaching evaluations in a row: 02:05, 02:10, 02:15, 02:20 -> triggered 02:20; 02:35
  is back to ~0.5 -> recovered 02:35 (default recovery). The morning peak is in every
  day's history at its slot, so it never breaches 4 times in a row (single noisy
  evaluations do; `for` is what a user sets for that). The numpy maths run over the same
  evaluations (tests below) gives exactly this timeline.
- globex, `change` (hand-made): one device, 1.0 every 5 min from 00:00:30 on Thursday,
  3.0 at 02:00:30, 02:05:30, 02:10:30, then 1.0 again. history 1h, change 100%, above.
  Evaluation at t = mean of the 12 evaluations t-60min..t-5min:
  02:05: value 3.0, mean 1.0, relative +2.0 > 1 -> triggered 02:05 (for 0);
  02:10: 3.0 vs (11 + 3)/12 = 1.167 -> +1.57; 02:15: 3.0 vs 16/12 -> +1.25 (still breach);
  02:20: 1.0 vs 18/12 -> -0.33 -> recovered 02:20. 00:05 has no history: learning.
- initech, the same `change` monitor (hand-made): one device, 1.0 every 5 min 00:00:30 ..
  00:55:30 on Thursday, 3.0 at 01:00:30, then nothing until 1.0 at 03:00:30 and 03:05:30.
  01:05: 3.0 vs 1.0 -> triggered. 03:05: no evaluation in the hour before -> learning, not
  judged: the alert stays open (a learning evaluation counted as 'no breach' and recovered
  it). 03:10: 1.0 vs the 03:05 evaluation's 1.0 -> relative 0 -> recovered 03:10.
"""

import json
import math
import textwrap
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from tests.compiled_run import jsonl, run_monitors
from nql_flink.udfs.baseline import SeasonalParams
from nql_flink.udfs.flink.baseline import window_baseline_row

pytestmark = pytest.mark.flink

MONITORS = {
    "seasonal.yaml": """
        id: cpu_seasonal
        tenant: acme
        priority: low
        query: |
          device_performance.events during past 5min
          | summarize q = cpu_queue_length.avg(), devices = device.count()
        every: 5min
        detection: {type: seasonal, metric: q, deviations: 3, direction: above, history: 7d, slot: 30min}
        trigger: {when: devices >= 3, for: 15min}
        """,
    "change.yaml": """
        id: cpu_change
        tenant: globex
        priority: low
        query: |
          device_performance.events during past 5min
          | summarize q = cpu_queue_length.avg()
        every: 5min
        detection: {type: change, metric: q, change: 100%, direction: above, history: 1h}
        """,
    "change_gap.yaml": """
        id: cpu_change_gap
        tenant: initech
        priority: low
        query: |
          device_performance.events during past 5min
          | summarize q = cpu_queue_length.avg()
        every: 5min
        detection: {type: change, metric: q, change: 100%, direction: above, history: 1h}
        """,
}
START = datetime(2026, 11, 23, tzinfo=timezone.utc)
PARAMS = SeasonalParams(deviations=3, direction="above", slot_s=1800, history_s=7 * 86400)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def simulated() -> list[dict]:
    from nql_flink.simulator import Incident, SimConfig, Simulation
    from nql_flink.simulator.config import parse_time

    def night(day):
        return Incident(metric="cpu_queue_length", tenant="acme", add=1.5, name=f"night-{day}",
                        start_ms=parse_time(f"2026-11-{day}T02:00:00Z"), end_ms=parse_time(f"2026-11-{day}T02:30:00Z"))

    sim = Simulation(SimConfig(start="2026-11-23T00:00:00Z", duration="4d", devices=6, seed=7, tenants=("acme",),
                               tables=("device_performance.events",), incidents=[night(23), night(26)]))
    return list(sim.records("device_performance.events"))


def one_device(tenant: str, samples: list[tuple[int, float]]) -> list[dict]:
    """(k, q): a sample ending at Thursday 00:00:30 + 5 min x k."""
    day = START + timedelta(days=3)
    out = []
    for k, q in samples:
        t = day + timedelta(minutes=5 * k, seconds=30)
        out.append({"tenant": tenant, "start_time": iso(t - timedelta(minutes=5)), "end_time": iso(t),
                    "device": {"collector": {"uid": tenant[0] + "1"}, "name": tenant.upper()}, "cpu_queue_length": q})
    return out


def globex() -> list[dict]:
    return one_device("globex", [(k, 3.0 if 24 <= k <= 26 else 1.0) for k in range(36)])  # 00:00:30 .. 02:55:30


def initech() -> list[dict]:
    return one_device("initech", [(k, 1.0) for k in range(12)] + [(12, 3.0), (36, 1.0), (37, 1.0)])


def evaluations(records: list[dict]) -> pd.DataFrame:
    """The seasonal monitor's evaluations computed here: window [t-5min, t) per 5 min."""
    df = pd.DataFrame({"t": pd.to_datetime([r["end_time"] for r in records]),
                       "q": [r["cpu_queue_length"] for r in records],
                       "d": [r["device"]["collector"]["uid"] for r in records]})
    df["w"] = df.t.dt.floor("5min") + pd.Timedelta(minutes=5)
    return df.groupby("w").agg(q=("q", "mean"), devices=("d", "nunique")).reset_index()


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, flink_env):
    acme = simulated()
    rows = sorted(acme + globex() + initech(), key=lambda r: r["end_time"])
    tables = {"device_performance.events": jsonl(rows)}
    _, result = run_monitors(tmp_path_factory.mktemp("seasonal"), MONITORS, tables, flink_env)
    return [json.loads(a) for a in result.alerts], result.dead_letters, acme


def timeline(alerts, monitor):
    return sorted((a["at"][:16], a["status"]) for a in alerts if a["monitor"] == monitor)


def test_anomaly_at_an_unusual_hour_alerts_the_morning_peak_does_not_and_learning_never_does(outcome):
    alerts, dead, _ = outcome
    assert dead == []
    # Monday's identical anomaly (learning) and every morning peak: nothing
    assert timeline(alerts, "cpu_seasonal") == [("2026-11-26T02:20", "triggered"), ("2026-11-26T02:35", "recovered")]


def test_the_anomaly_is_no_bigger_than_the_morning_peak(outcome):
    _, _, acme = outcome
    ev = evaluations(acme)
    thursday = ev[ev.w.dt.day == 26]
    peak = thursday[(thursday.w.dt.hour >= 7) & (thursday.w.dt.hour < 16)].q.max()  # office hours
    anomaly = thursday[(thursday.w.dt.hour == 2) & (thursday.w.dt.minute.between(5, 30))].q
    assert anomaly.min() > 1.5 and anomaly.max() <= peak


def test_seasonal_alert_carries_the_baseline_the_numpy_maths_computes(outcome):
    alerts, _, acme = outcome
    [trig] = [a for a in alerts if a["monitor"] == "cpu_seasonal" and a["status"] == "triggered"]
    ev = evaluations(acme)
    at = datetime(2026, 11, 26, 2, 20, tzinfo=timezone.utc)
    history = [(w.to_pydatetime(), q) for w, q in zip(ev.w, ev.q)]
    centre, spread, n, _ = window_baseline_row(history, at, PARAMS)
    b = trig["baseline"]
    assert set(b) == {"centre", "band", "slot", "history_size"}
    # slot 02:00-02:30: Mon-Wed 6 evaluations each (02:00..02:25); Thursday's own are not history
    assert b["slot"] == "02:00" and b["history_size"] == n == 18
    assert math.isclose(b["centre"], centre, rel_tol=0, abs_tol=1e-9)
    assert math.isclose(b["band"][0], centre - 3 * spread, abs_tol=1e-9)
    assert math.isclose(b["band"][1], centre + 3 * spread, abs_tol=1e-9)
    value = float(ev[ev.w == pd.Timestamp(at)].q.iloc[0])
    assert math.isclose(trig["values"]["q"], value, abs_tol=1e-9) and value > b["band"][1]


def test_seasonal_alert_impact_share_and_derived_priority(outcome):
    alerts, _, acme = outcome
    [trig] = [a for a in alerts if a["monitor"] == "cpu_seasonal" and a["status"] == "triggered"]
    # at night only the 4 always-on VDI desktops report, all in the (only) group
    assert trig["impact"] == {"devices": 4, "users": None, "active_devices": 4, "share": 1.0}
    # the rule (docs/seasonal.md): low, +1 if |deviation| >= 2 x 3 spreads, +1 as share >= 25%.
    # The deviation from the pure-Python reference over the same evaluations: 13 of the 18
    # history samples are quiet nights (~0.5), so the MAD is the quiet nights' and ~2.0 is
    # more than 6 spreads above -> low + 1 + 1 = high
    ev = evaluations(acme)
    at = datetime(2026, 11, 26, 2, 20, tzinfo=timezone.utc)
    centre, spread, _, _ = window_baseline_row([(w.to_pydatetime(), q) for w, q in zip(ev.w, ev.q)], at, PARAMS)
    assert (float(ev[ev.w == pd.Timestamp(at)].q.iloc[0]) - centre) / spread >= 6
    assert trig["priority"] == "high"
    assert trig["condition"].startswith("q above seasonal baseline + 3 spreads") and "devices >= 3" in trig["condition"]


def test_change_detection_timeline_baseline_and_priority(outcome):
    alerts, _, _ = outcome
    assert timeline(alerts, "cpu_change") == [("2026-11-26T02:05", "triggered"), ("2026-11-26T02:20", "recovered")]
    trig = next(a for a in alerts if a["monitor"] == "cpu_change" and a["status"] == "triggered")
    assert trig["baseline"] == {"centre": 1.0, "band": [0.0, 2.0], "slot": None, "history_size": 12}
    assert trig["values"] == {"q": 3.0}
    # low, +1 (relative 2.0 >= 2 x 100%), +1 (1 of 1 device) -> high
    assert (trig["priority"], trig["impact"]["share"]) == ("high", 1.0)
    rec = next(a for a in alerts if a["monitor"] == "cpu_change" and a["status"] == "recovered")
    assert rec["alert_id"] == trig["alert_id"]
    assert rec["baseline"]["centre"] == pytest.approx(1.5)


def test_a_change_alert_stays_open_through_an_evaluation_without_reference(outcome):
    alerts, _, _ = outcome
    assert timeline(alerts, "cpu_change_gap") == [("2026-11-26T01:05", "triggered"), ("2026-11-26T03:10", "recovered")]


def test_explain_replays_the_trace_to_the_baseline_the_job_used(outcome):
    """`nql-flink explain` draws a seasonal band by replaying the judged evaluations through
    the state UDAF's code; at the trigger it must show the baseline of the alert record."""
    from nql_flink.translator.commands.explain import add_seasonal_baselines
    from nql_flink.translator.ir.lower import lower

    alerts, _, acme = outcome
    [trig] = [a for a in alerts if a["monitor"] == "cpu_seasonal" and a["status"] == "triggered"]
    ev = evaluations(acme)
    trace = [{"group_json": "{}", "at": iso(w.to_pydatetime()), "payload": {"values": {"q": float(q)}}}
             for w, q in zip(ev.w, ev.q)]
    from nql_flink.translator.pipeline import check_text

    [monitor] = check_text("seasonal.yaml", textwrap.dedent(MONITORS["seasonal.yaml"]).encode()).monitors
    add_seasonal_baselines(trace, lower(monitor)[0].evaluate.detection, {"detection_deviations": 3.0})
    [at_trigger] = [e for e in trace if e["at"] == trig["at"]]
    got = at_trigger["payload"]["baseline"]
    assert got["slot"] == trig["baseline"]["slot"] and got["history_size"] == trig["baseline"]["history_size"]
    assert got["centre"] == pytest.approx(trig["baseline"]["centre"], abs=1e-9)
    assert got["band"] == pytest.approx(trig["baseline"]["band"], abs=1e-9)
