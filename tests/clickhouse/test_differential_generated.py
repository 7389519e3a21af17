"""Differential, property-based: generated threshold monitors (filters, wildcards, in-lists,
inventory attributes, group keys, aggregates, thresholds, `for`, hysteresis) over generated
telemetry (gaps, bursts, records out of order within the lateness, an inventory version change,
a device known only later, tenants whose inventory sync lags: their versions read behind other
tenants' newer ones) give the same alert records on embedded Flink (`nql-flink run`) and
on chdb (`nql-flink poll`).

A **case** is one tenant: its own generated telemetry and MONITORS generated monitors of it
(each monitor/telemetry pair is one compared case). One hypothesis example is one Flink job
and one poll holding TENANTS cases side by side, so every case also runs next to 24 other
tenants' data and monitors (tenant isolation, and shapes shared across tenants, come with it).
The monitors take SHAPES shapes drawn per example (docs/sharing.md), each with its own
thresholds, trigger, `for` and recovery; NQL_DIFFERENTIAL_SHAPES=500 makes every one distinct.
CI runs one example: 25 tenants x 20 monitors = 500 cases. `make test-differential` runs more
(NQL_DIFFERENTIAL_EXAMPLES). Floats compare within differential.RELATIVE_TOLERANCE.

A disagreement is shrunk to the monitors and tenant that differ (differential.shrink) and kept
under out/differential/; moved to tests/clickhouse/regressions/ it is replayed on both engines
by test_differential_regressions.py.
"""

from __future__ import annotations

import json
import os
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.clickhouse.differential import Case, check_cases

pytestmark = pytest.mark.flink

MONITORS = 20
TENANTS = int(os.environ.get("NQL_DIFFERENTIAL_TENANTS", "25"))
SHAPES = int(os.environ.get("NQL_DIFFERENTIAL_SHAPES", "40"))
EXAMPLES = int(os.environ.get("NQL_DIFFERENTIAL_EXAMPLES", "1"))
SEED = os.environ.get("NQL_DIFFERENTIAL_SEED")  # that example only (a failure names its seed)
START = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
MINUTES = 15
POOLS = ("P1", "P2", None)
SITES = ("Lausanne-HQ", "Zurich-Office", None)
PROTOCOLS = ("ica", "rdp", "blast")
LATENCIES = (40.0, 90.0, 120.5, 180.0, 260.0, 420.25)

WINDOWS = [("1min", "30s"), ("2min", "30s"), ("2min", "1min"), ("3min", "1min"), ("5min", "1min")]
FILTERS = ["protocol in [ica, rdp]", "protocol == ica", "network_latency > 100ms", 'client.location.site == "Laus*"',
           "client.location.site != null", "device.virtualization.desktop_pool != null",
           "device.hardware.type == virtual", "protocol !in [blast]"]
KEYS = ["", "protocol", "device.virtualization.desktop_pool", "client.location.site", "device.collector.uid",
        "protocol, device.virtualization.desktop_pool"]
# (aggregate, thresholds for `v > T`, recover thresholds below them)
AGGREGATES = [("network_latency.avg()", ["100ms", "150ms", "250ms"], ["80ms", "120ms"]),
              ("network_latency.max()", ["150ms", "300ms"], ["100ms"]),
              ("rtt.min()", ["30ms", "60ms"], ["20ms"]),
              ("user_input_delay.sum()", ["200ms", "500ms"], ["100ms"]),
              ("network_latency.p95()", ["150ms", "250ms"], ["100ms"]),
              ("count()", ["2", "4"], ["1"]),
              ("device.count()", ["1", "2"], ["1"]),
              ("countif(network_latency > 150ms)", ["0", "2"], ["1"]),
              ("frame_rate.avg()", ["20", "25"], ["15"])]


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def query(rnd: random.Random) -> tuple[str, str, tuple]:
    """A monitor's shape (docs/sharing.md): its query's lines, `every`, and its aggregate's
    (aggregate, thresholds, recover thresholds)."""
    window, every = rnd.choice(WINDOWS)
    keys = rnd.choice(KEYS)
    aggregate = rnd.choice(AGGREGATES)
    lines = [f"session.vdi_events during past {window}"]
    lines += [f"| where {f}" for f in rnd.sample(FILTERS, rnd.choice([0, 1, 1, 2]))]
    lines += [f"| summarize v = {aggregate[0]}, n = count()" + (f" by {keys}" if keys else "")]
    return "\n".join(f"  {line}" for line in lines), every, aggregate


def monitor(rnd: random.Random, i: int, shapes: list[tuple]) -> list[str]:
    """The lines of monitor `g<i>`, without its tenant: one of the example's shapes, with its
    own thresholds, trigger, `for` and hysteresis."""
    text, every, (_, triggers, recovers) = rnd.choice(shapes)
    fors = {"30s": ["", "30s", "1min"], "1min": ["", "1min", "2min"]}[every]  # "": no `for`
    trigger = f"v > {rnd.choice(triggers)}" + rnd.choice(["", " and n >= 2"])
    lines = [f"id: g{i}", f"name: generated {i}", "query: |", text, f"every: {every}", "trigger:", f"  when: {trigger}"]
    lines += [f"  for: {f}" for f in [rnd.choice(fors)] if f]
    if rnd.random() < 0.5:
        lines += ["recover:", f"  when: v <= {rnd.choice(recovers)}"]
        lines += [f"  for: {f}" for f in [rnd.choice(fors[:2])] if f]
    return lines


def telemetry(rnd: random.Random, tenant: str) -> tuple[list[tuple[datetime, str]], list[str]]:
    """One tenant's ([(arrival, vdi event line)], [inventory lines])."""
    devices, events = [], []
    for d in range(4):
        uid = f"{tenant}-{d}"
        pool = rnd.choice(POOLS)
        first = START - timedelta(hours=1) if d != 3 else START + timedelta(minutes=3)  # d 3: known from 10:03
        versions = [(first, pool)]
        if d == 0:
            versions.append((START + timedelta(minutes=7), rnd.choice(POOLS)))  # moves pool at 10:07
        for at, p in versions:
            devices.append(json.dumps({"tenant": tenant, "collector": {"uid": uid}, "name": uid.upper(),
                                       "hardware": {"type": rnd.choice(["virtual", "laptop"])},
                                       "virtualization": {"desktop_pool": p}, "last_seen": ts(at)}))
        site, protocol = rnd.choice(SITES), rnd.choice(PROTOCOLS)
        gap = rnd.randrange(MINUTES * 2)
        for slot in range(MINUTES * 2):
            if slot in (gap, gap + 1) or rnd.random() < 0.2:
                continue                                  # a gap
            for burst in range(rnd.choice([1, 1, 1, 3])):  # now and then a burst
                t = START + timedelta(seconds=30 * slot + 29 - burst, milliseconds=rnd.randrange(1000))
                events.append((t + timedelta(seconds=rnd.uniform(0, 5)), json.dumps({
                    "tenant": tenant, "start_time": ts(t - timedelta(seconds=30)), "end_time": ts(t),
                    "device": {"collector": {"uid": uid}, "name": uid.upper()}, "user": {"name": f"u{uid}"},
                    "network_latency": rnd.choice(LATENCIES), "rtt": rnd.choice([25.0, 45.0, 70.0]),
                    "user_input_delay": rnd.choice([30.0, 80.0, 150.0]), "frame_rate": rnd.choice([12.5, 22.0, 30.0]),
                    "protocol": protocol if rnd.random() < 0.9 else rnd.choice(PROTOCOLS),
                    "client": {"location": {"site": site}}})))
    return events, devices


def case(seed: int, tenant: str, shapes: list[tuple]) -> Case:
    """The tenant's case, a function of the example's seed and the tenant (so that the cases of
    one example differ, and a kept case is reproducible from both)."""
    rnd = random.Random(f"{seed}/{tenant}")
    monitors = {f"g{i}": "\n".join([*lines[:1], f"tenant: {tenant}", *lines[1:]]) + "\n"
                for i, lines in ((i, monitor(rnd, i, shapes)) for i in range(MONITORS))}
    events, devices = telemetry(rnd, tenant)
    # most tenants' inventory arrives as it changes; some lag (read behind the others' newer versions)
    lag = timedelta(minutes=rnd.choice([0, 0, 0, 0, 2, 10, 70]))
    return Case(tenant, monitors, events, devices, lag)


@pytest.mark.skipif(EXAMPLES < 1, reason="NQL_DIFFERENTIAL_EXAMPLES=0")
# hypothesis does not shrink (each step would be a Flink run): differential.shrink narrows a
# failure to its tenant and monitors, and keeps it
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit,) if SEED else (Phase.explicit, Phase.generate),
          suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
@(example(seed=int(SEED)) if SEED else lambda test: test)
def test_generated_threshold_monitors_alert_alike_on_flink_and_on_chdb(flink_env, monkeypatch, tmp_path_factory,
                                                                     seed):
    rnd = random.Random(seed)
    shapes = [query(rnd) for _ in range(SHAPES)]
    cases = [case(seed, f"t{n:02d}", shapes) for n in range(TENANTS)]
    records = check_cases(flink_env, monkeypatch, tmp_path_factory.mktemp(f"differential-{seed}"), cases)
    alerting = {(r["tenant"], r["monitor"]) for r in map(json.loads, records)}
    # the generated thresholds test something: most tenants, and a good share of the cases, alert
    assert len({t for t, _ in alerting}) >= 0.8 * TENANTS and len(alerting) >= 0.2 * TENANTS * MONITORS
    print(f"{TENANTS * MONITORS} cases, {len(alerting)} of them alerting, {len(records)} alert records agree")
