"""The relational IR, one reviewed snapshot per construct (tests/golden/ir/<construct>.txt,
translator/ir/dump.py), as PRQL keeps one snapshot per stage and construct. Regenerate with
NQL_UPDATE_GOLDEN=1 and read the diff: it is what code generation receives.

Each construct is a small monitor with the construct and as little else as possible."""

import os
from pathlib import Path

import pytest

from tests.frontend.helpers import check
from nql_flink.translator.ir.dump import monitor as dump

GOLDEN = Path(__file__).resolve().parent / "ir"
UPDATE = os.environ.get("NQL_UPDATE_GOLDEN") == "1"
VDI = "session.vdi_events during past 5min"


def file(query: str, trigger: str = "c > 0", extra: str = "", every: str = "30s") -> str:
    body = "\n".join("  " + line for line in query.strip("\n").split("\n"))
    return f"id: m\ntenant: acme\nquery: |\n{body}\nevery: {every}\ntrigger:\n  when: {trigger}\n{extra}"


CONSTRUCTS = {
    # scan, window, one measure, a threshold parameter
    "count": file(f"{VDI}\n| summarize c = count()"),
    # event filters: comparison, wildcard, in-list, null
    "event_filters": file(f"{VDI}\n| where network_latency > 200ms and user.name == \"*adm?n*\""
                          "\n| where protocol in [ica, rdp] and client.ip != null\n| summarize c = count()"),
    "ip_subnets": file(f"{VDI}\n| where client.ip == 10.20.0.0/16 and client.ip !in [10.20.200.0/24, f164::1]"
                       "\n| summarize c = count()"),
    "version_order": file("execution.crashes during past 1h\n| where binary.version < v16.0.17000"
                          "\n| summarize c = number_of_crashes.sum()", every="5min"),
    # inventory: device attributes of an event (joined as of its time), `with` an inner
    # enrichment, `include` a left one; group keys
    "device_attributes": file(f"{VDI}\n| where device.hardware.type == virtual"
                              "\n| summarize c = count() by device.virtualization.desktop_pool"),
    "with_per_device": file("devices\n| with session.vdi_events during past 5min\n| where hardware.type == virtual"
                            "\n| compute c = count()"),
    "include_per_device": file("devices\n| include session.logins during past 1h"
                               "\n| compute c = countif(time_until_desktop_is_visible > 2min)", every="5min"),
    # aggregates: conditional, distinct identity, percentile, last, arithmetic over aggregates
    "aggregates": file(f"{VDI}\n| summarize c = countif(network_latency > 300ms), sessions = session.uid.count(),"
                       " p = network_latency.p95(), last = network_latency.last(),"
                       " per_device = network_latency.sum() / device.count()"),
    # a `where` after summarize (having), recover with its own condition and durations
    "having_and_recover": file(f"{VDI}\n| summarize c = count(), l = network_latency.avg() by protocol\n| where c >= 3",
                               trigger="l > 300ms\n  for: 2min",
                               extra="recover:\n  when: l < 200ms\n  for: 1min\n"),
    # summarize after compute: per device, then per pool
    "regroup": file("devices during past 30min\n| compute queue = cpu_queue_length.avg()"
                    "\n| summarize c = countif(queue > 2), worst = queue.max() by virtualization.desktop_pool",
                    every="5min"),
    # the config record's data
    "config": file(f"{VDI}\n| summarize c = count()",
                   extra="name: Count\npriority: critical\nenabled: false\ntags: [vdi, night]\n"),
    # detections: the metric, the sensitivity as a parameter, the extra trigger condition
    "seasonal": file(f"{VDI}\n| summarize l = network_latency.avg(), c = count()", trigger="c >= 5",
                     extra="detection:\n  type: seasonal\n  metric: l\n  deviations: 2.5\n  history: 14d\n  slot: 1h\n"),
    "change": file(f"{VDI}\n| summarize l = network_latency.avg(), c = count()", trigger="c >= 5",
                   extra="detection:\n  type: change\n  metric: l\n  direction: both\n  change: 50%\n  history: 1d\n"
                         "recover:\n  when: c < 2\n"),
}


@pytest.mark.parametrize("construct", sorted(CONSTRUCTS))
def test_ir_matches_the_reviewed_snapshot(construct):
    result = check(CONSTRUCTS[construct])
    assert result.ok and len(result.lowered) == 1, [d.message for d in result.diagnostics]
    [ir] = result.lowered.values()
    text = dump(ir)
    golden = GOLDEN / f"{construct}.txt"
    if UPDATE:
        golden.write_text(text)
    assert golden.exists(), f"no reviewed IR for {construct}: generate it with NQL_UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text()
