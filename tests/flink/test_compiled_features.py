"""NQL that `check` accepts and that once stopped at `compile` or at Flink's planner (issue
13), run through the whole compiler on the mini-cluster: IP subnets, the ordering of versions,
`<field>.count()` of an identity, `summarize` after `compute`, and `last()` under arrival
disorder.

Every monitor is `during past 2min`, `every: 1min`: the evaluation at t covers the records
with time in [t-2min, t). Times are minutes after 10:00 on 2026-11-26 (UTC); the expected
alerts are derived by hand next to each monitor.
"""

import json

import pytest

from tests.compiled_run import jsonl, run_monitors

pytestmark = pytest.mark.flink

DAY = "2026-11-26"


def at(minute: int, second: int) -> str:
    return f"{DAY}T10:{minute:02d}:{second:02d}.000Z"


MONITORS = {
    # IPv4 subnet, a subnet in a `!in` list, sessions counted as distinct session ids.
    #   minute 0 (10:00:30): d1 10.20.3.4 s1, d2 10.20.77.9 s2 are in 10.20.0.0/16; d3
    #   10.21.0.1 is not; d4 10.20.200.7 is in the excluded /24; d5 is IPv6; d6 "10.20.3" is
    #   no address. minute 1: d1 and d2 again, same sessions.
    #   10:01 n = 2, sessions = 2 -> triggered | 10:02 n = 4, sessions = 2 (not 4: the same
    #   two sessions) | 10:03 n = 2, sessions = 2; no recovery.
    "subnet.yaml": """
        id: subnet
        tenant: acme
        query: |
          session.vdi_events during past 2min
          | where client.ip == 10.20.0.0/16 and client.ip !in [10.20.200.0/24]
          | summarize n = count(), sessions = session.uid.count()
        every: 1min
        trigger: {when: sessions >= 2}
        """,
    # IPv6 subnet: only d5 (f164:b28c::1, written in upper case) is in f164:b28c::/32.
    #   10:01 n = 1 -> triggered.
    "subnet6.yaml": """
        id: subnet6
        tenant: acme
        query: |
          session.vdi_events during past 2min
          | where client.ip == f164:b28c::/32
          | summarize n = count()
        every: 1min
        trigger: {when: n >= 1}
        """,
    # One IPv6 address: equal as addresses, not as text (d5 wrote F164:B28C::1).
    #   10:01 n = 1 -> triggered.
    "ip6_address.yaml": """
        id: ip6_address
        tenant: acme
        query: |
          session.vdi_events during past 2min
          | where client.ip == f164:b28c:0::1
          | summarize n = count()
        every: 1min
        trigger: {when: n >= 1}
        """,
    # Versions ordered by numeric components, minute 0: 16.0.9 and 15.99.99999 are below
    #   16.0.17000; 16.0.17000 (equal), 16.1 and 16.0.100000 (text order would put it below)
    #   are not; "beta" is no version. 10:01: one alert per version below, crashes 2 and 3.
    "versions.yaml": """
        id: versions
        tenant: acme
        query: |
          execution.crashes during past 2min
          | where binary.version < v16.0.17000
          | summarize crashes = number_of_crashes.sum() by binary.version
        every: 1min
        trigger: {when: crashes >= 1}
        """,
    # last() is the latest by event time, not by arrival. Device d9's samples, in file order:
    #   10:00:40 q 9, then 10:00:35 q 1 (5 s out of order, lateness 10 s);
    #   10:01:50 q 2, then 10:01:45 q 8.
    #   10:01 last = 9 (arrival order would give 1) -> triggered | 10:02 last = 2 (arrival: 8)
    #   -> recovered | 10:03 last = 2.
    # summarize after compute: per device, then per pool. Queue samples (10:mm:30):
    #   p1a 6 at 0 | p1b 8 at 0, 2 at 1 | p1c 0 at 0 (dropped by `where q > 0`) | p2a 9 at 0.
    #   10:01 P1: q 6, 8 -> busy 2, devices 2, top 8 -> triggered; P2: busy 1
    #   10:02 P1: q 6, avg(8, 2) = 5 -> busy 1, devices 2, top 6 -> recovered
    #   10:03 P1: q 2 -> busy 0, devices 1; P2 never triggers.
    "pools.yaml": """
        id: pools
        tenant: acme
        query: |
          devices
          | with device_performance.events during past 2min
          | compute q = cpu_queue_length.avg()
          | where q > 0
          | summarize busy = countif(q > 5), devices = count(), top = q.max() by virtualization.desktop_pool
        every: 1min
        trigger: {when: busy >= 2}
        """,
    # A datetime field other than the table's time, read like the time (ISO-8601 with Z): every
    # vdi record above has start_time 30 s before its end, so none is rejected. 10:01: the six
    # records of minute 0 -> triggered; 10:02: eight, still triggered; 10:03: only the two of
    # minute 1 (n < 6, the default recovery) -> recovered; no window after holds a record.
    "started.yaml": """
        id: started
        tenant: acme
        query: |
          session.vdi_events during past 2min
          | where start_time != null
          | summarize n = count()
        every: 1min
        trigger: {when: n >= 6}
        """,
    "last.yaml": """
        id: last
        tenant: acme
        query: |
          device_performance.events during past 2min
          | summarize q = cpu_queue_length.last()
        every: 1min
        trigger: {when: q > 5}
        """,
}


def vdi(uid, second, ip, session, minute=0):
    return {"tenant": "acme", "start_time": at(minute, second - 30), "end_time": at(minute, second),
            "device": {"collector": {"uid": uid}}, "session": {"uid": session}, "network_latency": 100,
            "client": {"ip": ip}}


def crash(uid, version, crashes):
    return {"tenant": "acme", "time": at(0, 30), "device": {"collector": {"uid": uid}},
            "binary": {"name": "wfica32.exe", "version": version}, "number_of_crashes": crashes}


def perf(minute, second, queue, uid="d9"):
    return {"tenant": "acme", "start_time": at(minute, second - 30), "end_time": at(minute, second),
            "device": {"collector": {"uid": uid}}, "cpu_queue_length": queue}


def device(uid, pool):
    return {"tenant": "acme", "collector": {"uid": uid}, "name": uid.upper(), "hardware": {"type": "virtual"},
            "virtualization": {"desktop_pool": pool}, "last_seen": f"{DAY}T09:00:00.000Z"}


def inputs() -> dict[str, list[dict]]:
    vdi_rows = [vdi("d1", 30, "10.20.3.4", "s1"), vdi("d2", 30, "10.20.77.9", "s2"), vdi("d3", 30, "10.21.0.1", "s3"),
                vdi("d4", 30, "10.20.200.7", "s4"), vdi("d5", 30, "F164:B28C::1", "s5"), vdi("d6", 30, "10.20.3", "s6"),
                vdi("d1", 30, "10.20.3.4", "s1", minute=1), vdi("d2", 30, "10.20.77.9", "s2", minute=1)]
    crashes = [crash("c1", "16.0.9", 2), crash("c2", "15.99.99999", 3), crash("c3", "16.0.17000", 5),
               crash("c4", "16.1", 5), crash("c5", "16.0.100000", 5), crash("c6", "beta", 5)]
    pools = [perf(0, 30, 6, "p1a"), perf(0, 30, 8, "p1b"), perf(0, 30, 0, "p1c"), perf(0, 30, 9, "p2a"),
             perf(1, 30, 2, "p1b")]
    perfs = sorted(pools, key=lambda r: r["end_time"])[:4] + [perf(0, 40, 9), perf(0, 35, 1)] + pools[4:]
    perfs += [perf(1, 50, 2), perf(1, 45, 8)]
    devices = [device("p1a", "P1"), device("p1b", "P1"), device("p1c", "P1"), device("p2a", "P2")]
    return {"session.vdi_events": vdi_rows, "execution.crashes": crashes, "device_performance.events": perfs,
            "device.devices": devices}


@pytest.fixture(scope="module")
def alerts(tmp_path_factory, flink_env):
    tables = {table: jsonl(rows) for table, rows in inputs().items()}
    _, result = run_monitors(tmp_path_factory.mktemp("features"), MONITORS, tables, flink_env)
    return [json.loads(a) for a in result.alerts]


def timeline(alerts, monitor):
    return sorted((a["at"][11:16], a["status"], json.dumps(a["group"], sort_keys=True), a["values"])
                  for a in alerts if a["monitor"] == monitor)


def test_an_ipv4_subnet_and_distinct_sessions(alerts):
    assert timeline(alerts, "subnet") == [("10:01", "triggered", "{}", {"n": 2, "sessions": 2})]


def test_an_ipv6_subnet(alerts):
    assert timeline(alerts, "subnet6") == [("10:01", "triggered", "{}", {"n": 1})]


def test_one_ipv6_address_is_compared_as_an_address(alerts):
    assert timeline(alerts, "ip6_address") == [("10:01", "triggered", "{}", {"n": 1})]


def test_a_datetime_field_other_than_the_time_is_read(alerts):
    assert timeline(alerts, "started") == [("10:01", "triggered", "{}", {"n": 6}),
                                           ("10:03", "recovered", "{}", {"n": 2})]


def test_versions_are_ordered_by_numeric_components(alerts):
    assert timeline(alerts, "versions") == [
        ("10:01", "triggered", json.dumps({"binary.version": "15.99.99999"}), {"crashes": 3}),
        ("10:01", "triggered", json.dumps({"binary.version": "16.0.9"}), {"crashes": 2})]


def test_last_is_the_latest_by_event_time_whatever_the_arrival_order(alerts):
    assert timeline(alerts, "last") == [("10:01", "triggered", "{}", {"q": 9.0}),
                                        ("10:02", "recovered", "{}", {"q": 2.0})]


def test_summarize_after_compute_aggregates_the_devices_of_each_window(alerts):
    pool = json.dumps({"virtualization.desktop_pool": "P1"})
    assert timeline(alerts, "pools") == [("10:01", "triggered", pool, {"busy": 2, "devices": 2, "top": 8.0}),
                                         ("10:02", "recovered", pool, {"busy": 1, "devices": 2, "top": 6.0})]
