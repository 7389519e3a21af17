"""Alert records as the job writes them (spec/monitors.md, tests/flink/test_reference_job.py),
hand-written, and the monitor file that routes them, for the notifier's tests."""
from __future__ import annotations

import json
import re
from pathlib import Path

# the seed monitor of the README, its `notify:` list replaced by the test's receivers
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "monitors" / "vdi_latency_by_pool.yaml"

GROUP = {"device.virtualization.desktop_pool": "Finance-Win11"}
COMMON = {"alert_id": "b9d8ff09e1f3c2a4b5d6e7f8091a2b3c", "tenant": "acme", "monitor": "vdi_latency_by_pool",
          "group": GROUP, "baseline": None, "priority": "high", "name": "VDI network latency by desktop pool",
          "tags": ["VDI", "network"]}
TRIGGERED = {**COMMON, "status": "triggered", "at": "2026-11-26T14:28:30.000Z",
             "values": {"avg_latency": 404.7, "sessions": 18},
             "window": {"start": "2026-11-26T14:23:30.000Z", "end": "2026-11-26T14:28:30.000Z"},
             "condition": "avg_latency > 300ms and sessions >= 5", "impact": {"devices": 18, "users": 17}}
RECOVERED = {**COMMON, "status": "recovered", "at": "2026-11-26T14:37:00.000Z",
             "values": {"avg_latency": 96.5, "sessions": 18},
             "window": {"start": "2026-11-26T14:32:00.000Z", "end": "2026-11-26T14:37:00.000Z"},
             "condition": "avg_latency <= 250ms", "impact": {"devices": 18, "users": 17}}


def monitor_file(tmp_path, *receivers: str):
    text, n = re.subn(r"(?m)^notify: \[.*\]$", f"notify: [{', '.join(receivers)}]", EXAMPLE.read_text())
    assert n == 1
    path = tmp_path / "vdi.yaml"
    path.write_text(text)
    return path


def transitions(pools: list[str]) -> list[dict]:
    """A triggered and a recovered record for each pool (a group each), in time order."""
    out = []
    for i, pool in enumerate(pools):
        group = {"device.virtualization.desktop_pool": pool}
        aid = f"{i:032x}"
        out.append({**TRIGGERED, "alert_id": aid, "group": group, "at": f"2026-11-26T14:{10 + i:02d}:00.000Z"})
        out.append({**RECOVERED, "alert_id": aid, "group": group, "at": f"2026-11-26T15:{10 + i:02d}:00.000Z"})
    return sorted(out, key=lambda r: r["at"])


def lines(records: list[dict]) -> list[str]:
    return [json.dumps(r) for r in records]
