"""A tiny reference evaluation of the seed monitor over JSONL files (used by the tests
and to write examples/data/README.md): HOP windows [end - size, end) every `slide`,
average network_latency per (tenant, desktop pool), Prometheus-style `for`."""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=8)
def _vdi_rows(data_dir: str, metric: str) -> list[tuple]:
    pools = pool_of_devices(Path(data_dir) / "device.devices.jsonl")
    rows = []
    for line in (Path(data_dir) / "session.vdi_events.jsonl").read_text().splitlines():
        r = json.loads(line)
        uid = r["device"]["collector"]["uid"]
        rows.append((ms(r["end_time"]), (r["tenant"], pools[(r["tenant"], uid)]), uid, r[metric]))
    return rows


def window_averages(data_dir: Path, size_ms: int = 300_000, slide_ms: int = 30_000, metric: str = "network_latency",
                    right_closed: bool = False):
    """{(tenant, pool): {window_end_ms: (avg, distinct devices)}} over session.vdi_events.

    Windows are [end - size, end) (Flink HOP), or (end - size, end] with right_closed."""
    acc = defaultdict(lambda: defaultdict(lambda: [0.0, 0, set()]))
    for t, key, uid, value in _vdi_rows(str(data_dir), metric):
        first_end = (t // slide_ms) * slide_ms
        for e in range(first_end, t + size_ms + slide_ms, slide_ms):
            inside = e - size_ms < t <= e if right_closed else e - size_ms <= t < e
            if inside:
                a = acc[key][e]
                a[0] += value
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
