"""Progress of a job running on the embedded mini-cluster: records read per input, the
watermark each input has reached, alerts written so far (`nql-flink run --progress`).

The mini-cluster serves Flink's REST API when the session sets `rest.bind-port`
(`progress_config`); a watcher thread polls it while the job runs:

  /jobs/overview                                 the running job
  /jobs/<job>                                    its vertices; a source vertex is named
                                                 "Source: <table>[n] -> ... WatermarkAssigner[m] ..."
  /jobs/<job>/vertices/<v>/subtasks/metrics      operator metrics summed (records) or the
                                                 minimum (watermark) over the subtasks

Alerts so far are the lines of the alert sink's files (in-progress files included). Standard
library only; every REST or file error just leaves the figure out of that line.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

NO_WATERMARK = -(2 ** 63)  # Long.MIN_VALUE: no watermark yet
MAX_WATERMARK = 2 ** 63 - 1  # Long.MAX_VALUE: the bounded input has ended
_SOURCE = re.compile(r"^Source: (\w+)\[(\d+)\]")
_ASSIGNER = re.compile(r"WatermarkAssigner\[(\d+)\]")


def progress_config(port: int) -> dict[str, str]:
    """Session options that open the mini-cluster's REST API on `port` and refresh its
    metrics every second."""
    return {"rest.bind-port": str(port), "rest.port": str(port), "rest.address": "127.0.0.1",
            "metrics.fetcher.update-interval": "1 s"}


@dataclass(frozen=True)
class InputProgress:
    table: str                      # catalog table (e.g. session.vdi_events)
    records: int | None = None      # records the source has read
    watermark_ms: int | None = None  # event time the input's watermark reached


@dataclass(frozen=True)
class Progress:
    inputs: list[InputProgress] = field(default_factory=list)
    alerts: int | None = None


# ----------------------------------------------------------------------- pure parts --
def source_vertices(job: dict, tables: dict[str, str]) -> list[tuple[str, str, str, str | None]]:
    """(catalog table, vertex id, source operator, watermark assigner operator) of every
    source vertex of the job detail `job` that reads one of `tables` (source table ->
    catalog table), in the order of `tables`."""
    found = {}
    for v in job.get("vertices", []):
        m = _SOURCE.match(v.get("name", ""))
        if m and m.group(1) in tables:
            a = _ASSIGNER.search(v["name"])
            found[m.group(1)] = (tables[m.group(1)], v["id"], f"Source__{m.group(1)}[{m.group(2)}]",
                                 f"WatermarkAssigner[{a.group(1)}]" if a else None)
    return [found[t] for t in tables if t in found]


def metric_values(rows: list[dict]) -> dict[str, float]:
    """Aggregated subtask metrics ([{"id", "sum"|"min": ...}]) -> {id: value}."""
    out = {}
    for r in rows:
        value = r.get("sum", r.get("min", r.get("value")))
        if value is not None:
            out[r["id"]] = float(value)
    return out


def format_progress(p: Progress) -> str:
    """One status line, e.g. `session.vdi_events: 3,694 read, watermark 2026-11-26 14:19:25 ·
    device.devices: 278 read, watermark end of input · alerts so far: 1`."""
    parts = []
    for i in p.inputs:
        text = f"{i.table}: " + (f"{i.records:,} read" if i.records is not None else "starting")
        if i.watermark_ms is not None and i.watermark_ms != NO_WATERMARK:
            if i.watermark_ms >= MAX_WATERMARK:
                text += ", watermark end of input"
            else:
                at = datetime.fromtimestamp(i.watermark_ms / 1000, tz=timezone.utc)
                text += ", watermark " + at.strftime("%Y-%m-%d %H:%M:%S")
        parts.append(text)
    if p.alerts is not None:
        parts.append(f"alerts so far: {p.alerts}")
    return " · ".join(parts)


def count_lines(directory: Path) -> int | None:
    """Complete lines in the files of a file sink's folder, hidden in-progress files included."""
    if not directory.exists():
        return None
    total = 0
    for f in directory.rglob("*"):
        if f.is_file():
            try:
                total += f.read_bytes().count(b"\n")
            except OSError:
                pass
    return total


# --------------------------------------------------------------------------- polling --
def _get(base: str, path: str):
    with urllib.request.urlopen(base + path, timeout=2) as r:
        return json.load(r)


def read_progress(base: str, tables: dict[str, str], alerts_dir: Path | None) -> Progress:
    """The progress of the (one) running job behind the REST API at `base`."""
    alerts = count_lines(alerts_dir) if alerts_dir is not None else None
    try:
        running = [j for j in _get(base, "/jobs/overview")["jobs"] if j["state"] == "RUNNING"]
        if not running:
            return Progress([InputProgress(t) for t in tables.values()], alerts)
        jid = running[0]["jid"]
        inputs = []
        for table, vid, source, assigner in source_vertices(_get(base, f"/jobs/{jid}"), tables):
            wanted = [f"{source}.numRecordsOut"] + ([f"{assigner}.currentOutputWatermark"] if assigner else [])
            query = urllib.parse.urlencode({"get": ",".join(wanted), "agg": "sum,min"})
            values = metric_values(_get(base, f"/jobs/{jid}/vertices/{vid}/subtasks/metrics?{query}"))
            records = values.get(wanted[0])
            watermark = values.get(wanted[1]) if assigner else None
            inputs.append(InputProgress(table, None if records is None else int(records),
                                        None if watermark is None else int(watermark)))
        return Progress(inputs, alerts)
    except (OSError, ValueError, KeyError):
        return Progress([InputProgress(t) for t in tables.values()], alerts)


class Watcher:
    """Polls the REST API every `every_s` seconds in a daemon thread and hands each status
    line to `show`, until stopped (a context manager)."""

    def __init__(self, base: str, tables: dict[str, str], alerts_dir: Path | None,
                 show: Callable[[str], None], every_s: float = 1.0):
        self.base, self.tables, self.alerts_dir, self.show, self.every_s = base, tables, alerts_dir, show, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nql-flink-progress", daemon=True)

    def _loop(self) -> None:
        last = None
        while True:  # a first line at once (the inputs starting), then every `every_s`
            line = format_progress(read_progress(self.base, self.tables, self.alerts_dir))
            if line and line != last:
                self.show(line)
                last = line
            if self._stop.wait(self.every_s):
                return

    def __enter__(self) -> "Watcher":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
