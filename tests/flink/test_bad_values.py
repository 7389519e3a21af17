"""Bad values among good records, on real Flink through the whole compiler: each one is
dead-lettered with its reason, and the alerts are those of the good records alone.

The kinds were found by feeding a real job bad records (NaN and Infinity strings read as
NaN/Infinity, a number given as an object or an array read as a missing value, invalid
UTF-8 decoded to U+FFFD and accepted). One job run; times are minutes after 10:00 on
2026-11-26 (UTC), samples at mm:30, conventions of tests/flink/test_semantics.py: the
evaluation at 10:0k covers the samples of minutes k-2 and k-1.

Inventory (last_seen 09:00): acme d1, d2, d3 in pool P1; d1 and d2 16GB, d3 4GB.
Monitor: `where device.hardware.memory >= 8GB` (d3 is left out),
  `lat = network_latency.avg(), n = count()` by pool, every 1min, trigger lat > 300ms for 2min.
Good events: d1 and d2 at minutes 0..9 with L = [100,100,400,400,400,400,100,100,100,100];
  d3 at 1000 every minute (left out by the memory filter). d2's user name holds a U+FFFD and
  an emoji, validly encoded: a good record, not `not_utf8`.
Windows of P1 (d1 + d2): 10:01 100 | 10:02 100 | 10:03 250 | 10:04 400 | 10:05 400 |
  10:06 400 | 10:07 250 | 10:08.. 100; n = 4 from 10:02 on (2 devices x 2 samples).
  > 300 from 10:04, for 2min -> triggered 10:06 (window 10:04-10:06: lat 400.0, n 4);
  default recovery -> recovered 10:07 (window 10:05-10:07: lat 250.0, n 4);
  impact 2 devices, 2 users in both, of acme's 3 active devices (d3 reports, the filter only
  leaves it out of P1; bad records are not counted): share 2/3.
Bad events (one per kind, and one per kind of the simulator's `--bad-records`), all of
  acme / P1 at minutes 4 and 5, i.e. inside both reported windows: any of
  them accepted changes n (count() counts a record whose value is missing) and most change
  lat: "NaN" makes the windows 10:05 and 10:06 NaN, which is not > 300, so the alert would
  vanish (the bug as found); 1e400 or "Infinity" would make lat infinite.
Bad inventory versions (last_seen 09:30 and later), each of which would change the alerts
  if applied: d1's memory as an object (missing: d1 filtered out from 09:30, n = 2); d3's
  memory as the string "17179869184" (16GB: d3 counted, lat jumps); d2's memory 4GB + 0.5
  (TRY_CAST to BIGINT truncates it to 4GB: d2 filtered out); d2's pool with an invalid byte
  (d2 would leave P1); d1 with an invalid byte in its tenant.
Bad monitor-config versions after the compiled record (in force from 10:00 or the epoch), each
  of which would change the alerts if applied (as the JSON format with ignore-parse-errors
  applied them: a threshold "abc" or 1e400 read as NULL or Infinity, so never breached; enabled
  "yes" read as false; for_ms 1.5 read as 1 ms; a tag that is a number read as its text, the
  record applied with enabled false; an updated_at without milliseconds read as the epoch; a
  record without its monitor dropped without trace), and a line that is not JSON.
"""

import json

import pytest

from tests.compiled_run import run_monitors
from nql_flink.simulator.output import BAD_KINDS, corrupt
from tests.raw_lines import encode

pytestmark = pytest.mark.flink

DAY = "2026-11-26"
GB = 1 << 30
L = [100, 100, 400, 400, 400, 400, 100, 100, 100, 100]
USERS = {"d1": "u-d1", "d2": "u-d2-\ufffd\U0001F600", "d3": "u-d3"}
EVENTS, INVENTORY = "session.vdi_events", "device.devices"

MONITOR = """
    id: bad_values
    tenant: acme
    query: |
      session.vdi_events during past 2min
      | where device.hardware.memory >= 8GB
      | summarize lat = network_latency.avg(), n = count() by device.virtualization.desktop_pool
    every: 1min
    trigger: {when: lat > 300ms, for: 2min}
    """


def at(minute: int, second: int = 30) -> str:
    return f"{DAY}T10:{minute:02d}:{second:02d}.000Z"


def vdi(uid: str, minute: int, latency) -> dict:
    return {"tenant": "acme", "start_time": at(minute, 0), "end_time": at(minute),
            "device": {"collector": {"uid": uid}, "name": uid.upper()}, "user": {"name": USERS[uid]},
            "network_latency": latency, "event_type": "sample"}


def device(uid: str, memory, pool="P1", last_seen="09:00") -> dict:
    return {"tenant": "acme", "collector": {"uid": uid}, "name": uid.upper(),
            "hardware": {"type": "virtual", "memory": memory},
            "virtualization": {"desktop_pool": pool}, "last_seen": f"{DAY}T{last_seen}:00.000Z"}


# kind: (reason, line); each written right after the good records of its minute (4 or 5)
BAD_EVENTS = {
    "nan_string": ("bad_type:network_latency", encode(vdi("d1", 4, "NaN"))),
    "infinity_string": ("bad_type:network_latency", encode(vdi("d1", 4, "Infinity"))),
    "minus_infinity_string": ("bad_type:network_latency", encode(vdi("d2", 4, "-Infinity"))),
    "overflow": ("bad_type:network_latency", encode(vdi("d1", 5, "X"), X=b"1e400")),
    "object": ("bad_type:network_latency", encode(vdi("d2", 5, {"v": 3}))),
    "array": ("bad_type:network_latency", encode(vdi("d1", 5, [3]))),
    "number_in_a_string": ("bad_type:network_latency", encode(vdi("d1", 5, "182"))),
    "boolean": ("bad_type:network_latency", encode(vdi("d2", 4, True))),
    "invalid_utf8_in_a_value": ("not_utf8", encode({**vdi("d1", 4, 1000), "user": {"name": "X"}}, X=b'"u-\xff"')),
    "invalid_utf8_in_a_key": ("not_utf8", encode({**vdi("d2", 5, 100), "X": 1}, X=b'"net\xfework"')),
    "invalid_utf8_in_the_tenant": ("not_utf8", encode({**vdi("d1", 4, 400), "tenant": "X"}, X=b'"ac\xc3me"')),
}
# the bad records `nql-flink simulate --bad-records` writes, made from d1's minute-5 sample,
# with the reasons docs/simulator.md gives them
SIMULATED_REASONS = {"malformed_json": "not_json", "missing_tenant": "missing_tenant",
                     "missing_time": "missing_event_time", "invalid_utf8": "not_utf8"}
BAD_EVENTS |= {f"simulator {kind}": (SIMULATED_REASONS.get(kind, "bad_type:network_latency"),
                                     corrupt(EVENTS, vdi("d1", 5, 400), kind)) for kind in BAD_KINDS}
MINUTE = {kind: 4 if f'"end_time": "{at(4)}"'.encode() in line else 5 for kind, (_, line) in BAD_EVENTS.items()}
BAD_DEVICES = {
    "memory_object": ("bad_type:hardware.memory", encode(device("d1", {"GiB": 16}, last_seen="09:30"))),
    "memory_in_a_string": ("bad_type:hardware.memory", encode(device("d3", "X", last_seen="09:30"), X=b'"17179869184"')),
    "memory_fraction": ("bad_type:hardware.memory", encode(device("d2", "X", last_seen="09:30"), X=b"4294967296.5")),
    "invalid_utf8_in_the_pool": ("not_utf8", encode(device("d2", 16 * GB, pool="X", last_seen="09:40"), X=b'"P\xff1"')),
    "invalid_utf8_in_the_tenant": ("not_utf8", encode({**device("d1", 16 * GB, last_seen="09:40"), "tenant": "X"},
                                                      X=b'"ac\xc3me"')),
}

CONFIG = {"tenant": "acme", "monitor": "bad_values", "updated_at": f"{DAY}T10:00:00.000Z", "enabled": True,
          "params": {"trigger_1": 300.0}, "for_ms": 120000}
BAD_CONFIGS = {
    "threshold_as_text": ("bad_type:params", encode({**CONFIG, "params": {"trigger_1": "abc"}})),
    "threshold_beyond_double": ("bad_type:params", encode({**CONFIG, "params": {"trigger_1": "X"}}, X=b"1e400")),
    "params_as_an_array": ("bad_type:params", encode({**CONFIG, "params": [300.0]})),
    "enabled_as_text": ("bad_type:enabled", encode({**CONFIG, "enabled": "yes"})),
    "for_as_a_fraction": ("bad_type:for_ms", encode({**CONFIG, "for_ms": 1.5})),
    "tag_as_a_number": ("bad_type:tags", encode({**CONFIG, "enabled": False, "tags": ["VDI", 3]})),
    "time_without_millis": ("bad_version_time:updated_at",
                            encode({**CONFIG, "enabled": False, "updated_at": f"{DAY}T10:00:00Z"})),
    "no_monitor": ("missing_key:monitor", encode({k: v for k, v in {**CONFIG, "enabled": False}.items()
                                                  if k != "monitor"})),
    "not_json": ("not_json", b'{"tenant": "acme", "monitor": "bad_values", "enabled": false'),
}


def inputs() -> dict[str, list[bytes]]:
    events = []
    for m in range(10):
        events += [encode(vdi("d1", m, L[m])), encode(vdi("d2", m, L[m])), encode(vdi("d3", m, 1000))]
        events += [line for kind, (_, line) in BAD_EVENTS.items() if MINUTE[kind] == m]
    devices = [encode(device("d1", 16 * GB)), encode(device("d2", 16 * GB)), encode(device("d3", 4 * GB))]
    devices += [line for _, line in BAD_DEVICES.values()]
    return {EVENTS: events, INVENTORY: devices}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, flink_env):
    tables = {table: b"".join(ln + b"\n" for ln in lines) for table, lines in inputs().items()}
    config = b"".join(line + b"\n" for _, line in BAD_CONFIGS.values())
    _, result = run_monitors(tmp_path_factory.mktemp("bad_values"), {"m.yaml": MONITOR}, tables, flink_env, config)
    return [json.loads(a) for a in result.alerts], [json.loads(d) for d in result.dead_letters]


def test_every_bad_kind_is_in_the_input_once():
    events, devices = inputs()[EVENTS], inputs()[INVENTORY]
    assert all(events.count(line) == 1 for _, line in BAD_EVENTS.values())
    assert len(events) == 30 + len(BAD_EVENTS) and len(devices) == 3 + len(BAD_DEVICES)
    assert len(set(events)) == len(events)


def test_each_bad_record_is_dead_lettered_with_its_reason_and_nothing_else_is(outcome):
    _, dead = outcome
    # a non-UTF-8 line is dead-lettered as Flink decodes it: each malformed sequence becomes
    # U+FFFD (for these bytes, the same as Python's "replace")
    want = [{"source": EVENTS, "reason": r, "line": line.decode("utf-8", "replace")} for r, line in BAD_EVENTS.values()]
    want += [{"source": INVENTORY, "reason": r, "line": line.decode("utf-8", "replace")}
             for r, line in BAD_DEVICES.values()]
    want += [{"source": "monitor.config", "reason": r, "line": line.decode()} for r, line in BAD_CONFIGS.values()]
    key = lambda d: (d["source"], d["line"])  # noqa: E731
    assert sorted(dead, key=key) == sorted(want, key=key)


def test_the_alerts_are_those_of_the_good_records(outcome):
    alerts, _ = outcome
    got = sorted((a["status"], a["at"][11:16], a["window"]["start"][11:16], a["values"], a["impact"], a["group"])
                 for a in alerts)
    group = {"device.virtualization.desktop_pool": "P1"}
    impact = {"devices": 2, "users": 2, "active_devices": 3, "share": 2 / 3}
    assert got == [("recovered", "10:07", "10:05", {"lat": 250.0, "n": 4}, impact, group),
                   ("triggered", "10:06", "10:04", {"lat": 400.0, "n": 4}, impact, group)]
