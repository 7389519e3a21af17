"""Differential, property-based: generated threshold monitors (filters, wildcards, in-lists,
inventory attributes, group keys, aggregates, thresholds, `for`, hysteresis) over generated
telemetry (two tenants, gaps, bursts, records out of order within the lateness, an inventory
version change, a device known only later) give the same alert records on embedded Flink
(`nql-flink run`) and on chdb (`nql-flink poll`).

One hypothesis example is one Flink job holding MONITORS monitors (a Flink run costs about a
minute; many monitors per run keep the count of compared monitors up). CI runs EXAMPLES
examples; NQL_DIFFERENTIAL_EXAMPLES raises it (the issue asks for 500 monitors in CI
eventually, more in a longer command). Floats compare within differential.RELATIVE_TOLERANCE.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.clickhouse.differential import differences, run_flink, run_poll

pytestmark = pytest.mark.flink

MONITORS = 20
KEPT = Path(__file__).resolve().parents[2] / "out" / "differential"
EXAMPLES = int(os.environ.get("NQL_DIFFERENTIAL_EXAMPLES", "1"))
START = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
MINUTES = 15
TENANTS = ("acme", "globex")
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


@st.composite
def monitor(draw, i: int) -> str:
    window, every = draw(st.sampled_from(WINDOWS))
    filters = draw(st.lists(st.sampled_from(FILTERS), max_size=2, unique=True))
    keys = draw(st.sampled_from(KEYS))
    agg, triggers, recovers = draw(st.sampled_from(AGGREGATES))
    fors = {"30s": ["", "30s", "1min"], "1min": ["", "1min", "2min"]}[every]  # "": no `for`
    trigger = f"v > {draw(st.sampled_from(triggers))}" + draw(st.sampled_from(["", " and n >= 2"]))
    lines = [f"id: g{i}", f"tenant: {draw(st.sampled_from(TENANTS))}", f"name: generated {i}", "query: |",
             f"  session.vdi_events during past {window}"]
    lines += [f"  | where {f}" for f in filters]
    lines += [f"  | summarize v = {agg}, n = count()" + (f" by {keys}" if keys else ""),
              f"every: {every}", "trigger:", f"  when: {trigger}"]
    lines += [f"  for: {f}" for f in [draw(st.sampled_from(fors))] if f]
    if draw(st.booleans()):
        lines += ["recover:", f"  when: v <= {draw(st.sampled_from(recovers))}"]
        lines += [f"  for: {f}" for f in [draw(st.sampled_from(fors[:2]))] if f]
    return "\n".join(lines) + "\n"


@st.composite
def telemetry(draw) -> tuple[list[str], list[str]]:
    """(vdi event lines in arrival order, inventory lines)."""
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))  # a seed: the case is its text, kept with a failure
    devices, events = [], []
    for tenant in TENANTS:
        for d in range(4):
            uid = f"{tenant[0]}-{d}"
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
    events.sort(key=lambda e: e[0])  # arrival order: event time plus up to 5 s (the lateness is 10 s)
    return [line for _, line in events], devices


@pytest.mark.skipif(EXAMPLES < 1, reason="NQL_DIFFERENTIAL_EXAMPLES=0")
# no shrinking: each step would be a Flink run (a minute); a failing case is kept whole (KEPT)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
@given(monitors=st.tuples(*(monitor(i) for i in range(MONITORS))), data=telemetry())
def test_generated_threshold_monitors_alert_alike_on_flink_and_on_chdb(flink_env, monkeypatch, tmp_path_factory,
                                                                     monitors, data):
    tmp = tmp_path_factory.mktemp("differential")
    events, devices = data
    (tmp / "vdi.jsonl").write_text("\n".join(events) + "\n")
    (tmp / "devices.jsonl").write_text("\n".join(devices) + "\n")
    (tmp / "monitors.yaml").write_text("monitors:\n" + "".join(
        "  - " + text.replace("\n", "\n    ").rstrip() + "\n" for text in monitors))
    inputs = {"session.vdi_events": str(tmp / "vdi.jsonl"), "device.devices": str(tmp / "devices.jsonl")}
    flink = run_flink(flink_env, monkeypatch, [str(tmp / "monitors.yaml")], inputs, tmp / "flink.jsonl")
    polled = run_poll([str(tmp / "monitors.yaml")], inputs, tmp / "poll.jsonl")
    found = differences(flink, polled)
    if found:  # the case, kept where pytest does not clean up, to become a regression file
        kept = KEPT / tmp.name
        shutil.copytree(tmp, kept, dirs_exist_ok=True)
        (kept / "differences.txt").write_text("\n".join(found) + "\n")
    assert found == [], f"case kept in {KEPT / tmp.name}"
    assert flink, "no alert at all: the generated thresholds test nothing"
    print(f"{len(flink)} alert records agree, {len(set(flink) & set(polled))} of them byte for byte")
