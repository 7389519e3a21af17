"""A tiny reference evaluation of the seed monitor over JSONL files (used by the tests
and to write examples/data/README.md): HOP windows [end - size, end) every `slide`,
average network_latency per (tenant, desktop pool), Prometheus-style `for`."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def iso(t: int) -> str:
    return datetime.fromtimestamp(t / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t % 1000:03d}Z"


def pool_of_devices(devices_path: Path) -> dict:
    pools = {}
    for line in devices_path.read_text().splitlines():
        r = json.loads(line)
        pools[(r["tenant"], r["collector"]["uid"])] = r["virtualization"]["desktop_pool"]
    return pools


def window_averages(data_dir: Path, size_ms: int = 300_000, slide_ms: int = 30_000, metric: str = "network_latency"):
    """{(tenant, pool): {window_end_ms: (avg, distinct devices)}} over session.vdi_events."""
    data_dir = Path(data_dir)
    pools = pool_of_devices(data_dir / "device.devices.jsonl")
    acc = defaultdict(lambda: defaultdict(lambda: [0.0, 0, set()]))
    for line in (data_dir / "session.vdi_events.jsonl").read_text().splitlines():
        r = json.loads(line)
        t = ms(r["end_time"])
        uid = r["device"]["collector"]["uid"]
        key = (r["tenant"], pools[(r["tenant"], uid)])
        first_end = (t // slide_ms + 1) * slide_ms  # windows [e - size, e) containing t
        for e in range(first_end, t + size_ms + 1, slide_ms):
            if e - size_ms <= t < e:
                a = acc[key][e]
                a[0] += r[metric]
                a[1] += 1
                a[2].add(uid)
    return {k: {e: (a[0] / a[1], len(a[2])) for e, a in sorted(v.items())} for k, v in acc.items()}


def transitions(series: dict, threshold: float, for_ms: int, recover_for_ms: int = 0, slide_ms: int = 30_000):
    """[(status, at_ms)] for `avg > threshold for for_ms`, recover when `avg <= threshold for recover_for_ms`."""
    out, state, since, prev = [], "ok", None, None
    for e, (avg, _) in sorted(series.items()):
        cond = avg > threshold if state == "ok" else avg <= threshold
        if prev is not None and e - prev != slide_ms:
            since = None  # a missing evaluation restarts the `for` clock
        prev = e
        if not cond:
            since = None
            continue
        since = e if since is None else since
        need = for_ms if state == "ok" else recover_for_ms
        if e - since >= need:
            state = "triggered" if state == "ok" else "ok"
            out.append(("triggered" if state == "triggered" else "recovered", e))
            since = None
    return out
