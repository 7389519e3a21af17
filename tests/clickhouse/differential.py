"""Running the same monitors on both engines and comparing their alert files (the differential
tests under tests/clickhouse). Floats compare within RELATIVE_TOLERANCE: the engines sum in
different orders (Flink per slice and window, ClickHouse per block), so an average may differ
in its last bits (docs/polling.md, "Equal to streaming"); every other value, alert ids
included, must be equal."""

from __future__ import annotations

import json
import math
from pathlib import Path

from nql_flink.translator.cli import main

RELATIVE_TOLERANCE = 1e-9
ALL_TIME = ("1970-01-01T00:00:00Z", "9999-12-31T00:00:00Z")


def input_flags(inputs: dict[str, str]) -> list[str]:
    return [x for table, path in sorted(inputs.items()) for x in ("--input", f"{table}={path}")]


def run_flink(flink_env, monkeypatch, monitors: list[str], inputs: dict[str, str], out: Path) -> list[str]:
    import nql_flink.deploy.embedded.runner as runner

    monkeypatch.setattr(runner, "create_table_env", lambda *a, **k: flink_env)  # the session's mini-cluster
    assert main(["run", *monitors, *input_flags(inputs), "--output", str(out)]) == 0
    return out.read_text(encoding="utf-8").splitlines()


def run_poll(monitors: list[str], inputs: dict[str, str], out: Path) -> list[str]:
    assert main(["poll", *monitors, "--clickhouse", "chdb:memory", "--from", ALL_TIME[0], "--to", ALL_TIME[1],
                 *input_flags(inputs), "--output", str(out)]) == 0
    return out.read_text(encoding="utf-8").splitlines()


def close(a, b) -> bool:
    """Equal JSON values, floats within the tolerance."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b


def differences(flink: list[str], polled: list[str]) -> list[str]:
    """What differs between two alert files beyond the float tolerance (empty: they agree)."""
    def key(r):
        return (r["tenant"], r["monitor"], json.dumps(r["group"], sort_keys=True), r["at"], r["status"])

    a = {key(r): r for r in map(json.loads, flink)}
    b = {key(r): r for r in map(json.loads, polled)}
    out = [f"only in flink: {k}" for k in a.keys() - b.keys()] + [f"only in poll: {k}" for k in b.keys() - a.keys()]
    out += [f"differs: {a[k]} != {b[k]}" for k in a.keys() & b.keys() if not close(a[k], b[k])]
    return sorted(out)
