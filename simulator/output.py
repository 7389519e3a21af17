"""Turning the record streams into files: out-of-order arrival, bad records, JSONL(.gz)."""

from __future__ import annotations

import gzip
import heapq
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from .catalog import NUMERIC_TYPES, TENANT, get_table
from .fleet import rng_for

# Bad record kinds, cycled; the dead-letter reason each gets is in docs/simulator.md.
BAD_KINDS = ("malformed_json", "missing_tenant", "missing_time", "wrong_type", "number_string",
             "nan_string", "overflow", "number_object", "number_array", "invalid_utf8")
# stands for bytes orjson cannot write (1e400, a byte that is not UTF-8); replaced in the line
_RAW = "\u0001raw\u0001"


def reorder(items: Iterable[tuple[int, object]], fraction: float, lateness_ms: int, rng
            ) -> Iterator[tuple[int, object]]:
    """Delay a `fraction` of (event time, item) pairs by up to `lateness_ms`, streaming.

    The output is the input stably sorted by event time + delay, so no item arrives after
    an item whose event time is more than `lateness_ms` ahead of its own.
    """
    if fraction <= 0 or lateness_ms <= 0:
        yield from items
        return
    heap: list = []
    seq = 0
    for t, item in items:
        while heap and heap[0][0] <= t:
            _, _, t0, it0 = heapq.heappop(heap)
            yield t0, it0
        if rng.random() < fraction:
            heapq.heappush(heap, (t + int(rng.integers(1, lateness_ms + 1)), seq, t, item))
            seq += 1
        else:
            yield t, item
    while heap:
        _, _, t0, it0 = heapq.heappop(heap)
        yield t0, it0


def corrupt(table: str, rec: dict, kind: str, catalog: str | None = None) -> bytes:
    """One bad record derived from a good one (for dead-letter tests)."""
    tab = get_table(table, catalog)
    if kind == "malformed_json":
        raw = orjson.dumps(rec)
        return raw[: len(raw) // 2]
    bad = orjson.loads(orjson.dumps(rec))  # deep copy
    num = next((f.path for f in tab.fields if f.type in NUMERIC_TYPES), None)
    number_kinds = {"wrong_type": lambda v: f"{v}ms", "number_string": str, "nan_string": lambda v: "NaN",
                    "overflow": lambda v: _RAW, "number_object": lambda v: {"value": v}, "number_array": lambda v: [v]}
    if kind == "missing_tenant":
        bad.pop(TENANT, None)
    elif kind == "missing_time":
        _drop(bad, tab.time_field)
    elif kind in number_kinds:
        if num is None:  # no numeric field: break the event time instead
            _set(bad, tab.time_field, 12345)
        else:
            _set(bad, num, number_kinds[kind](_get(bad, num)))
    elif kind == "invalid_utf8":  # a bad byte inside a string value, the rest of the record intact
        text = next(f.path for f in tab.fields if f.type == "string" and f.path != tab.entity_path)
        _set(bad, text, f"{_get(bad, text)}{_RAW}")
    else:
        raise ValueError(f"unknown bad record kind {kind!r}")
    line = orjson.dumps(bad)
    placeholder = orjson.dumps(_RAW)  # "\u0001raw\u0001", quotes included
    if kind == "overflow":
        line = line.replace(placeholder, b"1e400")
    elif kind == "invalid_utf8":
        line = line.replace(placeholder[1:-1], b"\xff")
    return line


def _get(d, path):
    for p in path.split("."):
        d = d[p]
    return d


def _set(d, path, value):
    *head, last = path.split(".")
    for p in head:
        d = d[p]
    d[last] = value


def _drop(d, path):
    *head, last = path.split(".")
    for p in head:
        d = d[p]
    d.pop(last, None)


def table_lines(sim, table: str, out_of_order: float = 0.0, lateness_ms: int = 0, bad_fraction: float = 0.0,
                progress=None, stats: dict | None = None) -> Iterator[bytes]:
    """JSON lines (with newline) of one table, with the requested disorder and bad records.

    `stats` (if given) is filled with counts, the 1-based line numbers of bad records and
    the largest lateness actually produced.
    """
    cfg = sim.config
    rng_d = rng_for(cfg.seed, "disorder", table)
    rng_b = rng_for(cfg.seed, "bad", table)
    st = stats if stats is not None else {}
    st.update(records=0, bad_records=[], out_of_order=0, max_lateness_ms=0)
    max_t = None
    line = 0
    nbad = 0
    for t, rec in reorder(sim.timed_records(table, progress), out_of_order, lateness_ms, rng_d):
        if max_t is not None and t < max_t:
            st["out_of_order"] += 1
            st["max_lateness_ms"] = max(st["max_lateness_ms"], max_t - t)
        else:
            max_t = t
        line += 1
        st["records"] += 1
        yield orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE)
        if bad_fraction > 0 and rng_b.random() < bad_fraction:
            kind = BAD_KINDS[nbad % len(BAD_KINDS)]
            nbad += 1
            line += 1
            st["bad_records"].append({"line": line, "kind": kind})
            yield corrupt(table, rec, kind, cfg.catalog) + b"\n"


def write_table(sim, table: str, out_dir: Path, compress: bool = False, **kw) -> tuple[Path, dict]:
    path = Path(out_dir) / f"{table}.jsonl{'.gz' if compress else ''}"
    stats: dict = {}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw:
        sink = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) if compress else raw
        buf = io.BytesIO()
        for ln in table_lines(sim, table, stats=stats, **kw):
            buf.write(ln)
            if buf.tell() > 1 << 20:
                sink.write(buf.getvalue())
                buf = io.BytesIO()
        sink.write(buf.getvalue())
        if compress:
            sink.close()
    tmp.replace(path)
    return path, stats
