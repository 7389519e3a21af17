"""Running the same monitors on both engines and comparing their alert files (the differential
tests under tests/clickhouse). Floats compare within RELATIVE_TOLERANCE: the engines sum in
different orders (Flink per slice and window, ClickHouse per block), so an average may differ
in its last bits (docs/polling.md, "Equal to streaming"); every other value, alert ids
included, must be equal."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from nql_flink.translator.cli import main
from nql_flink.translator.clickhouse.tables import parse_time

RELATIVE_TOLERANCE = 1e-9
KEPT = Path(__file__).resolve().parents[2] / "out" / "differential"  # failing cases, where pytest does not clean up
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


def _compare(flink: list[str], polled: list[str]) -> list[tuple[tuple, str]]:
    """(record key, what differs) for every record the two alert files do not agree on."""
    def key(r):
        return (r["tenant"], r["monitor"], json.dumps(r["group"], sort_keys=True), r["at"], r["status"])

    a = {key(r): r for r in map(json.loads, flink)}
    b = {key(r): r for r in map(json.loads, polled)}
    out = [(k, f"only in flink: {k}") for k in a.keys() - b.keys()]
    out += [(k, f"only in poll: {k}") for k in b.keys() - a.keys()]
    return out + [(k, f"differs: {a[k]} != {b[k]}") for k in a.keys() & b.keys() if not close(a[k], b[k])]


def differences(flink: list[str], polled: list[str]) -> list[str]:
    """What differs between two alert files beyond the float tolerance (empty: they agree)."""
    return sorted(text for _, text in _compare(flink, polled))


@dataclass(frozen=True)
class Case:
    """One tenant's generated monitors (id -> monitor file text) and telemetry: vdi events
    as (arrival time, line), inventory lines (in version order) and how far its inventory
    sync lags: each version arrives `inventory_lag` after its time."""
    tenant: str
    monitors: dict[str, str]
    events: list[tuple[datetime, str]]
    devices: list[str]
    inventory_lag: timedelta = timedelta(0)

    def only(self, ids: set[str]) -> "Case":
        return dataclasses.replace(self, monitors={i: m for i, m in self.monitors.items() if i in ids})


def write_cases(folder: Path, cases: list[Case]) -> None:
    """The cases as one monitors file and one file per table (events in arrival order)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "monitors.yaml").write_text("monitors:\n" + "".join(
        "  - " + text.replace("\n", "\n    ").rstrip() + "\n" for c in cases for text in c.monitors.values()))
    events = sorted((e for c in cases for e in c.events), key=lambda e: e[0])
    (folder / "vdi.jsonl").write_text("".join(line + "\n" for _, line in events))
    # the inventory in arrival order: a version arrives its tenant's lag after its time, so a
    # lagging tenant's versions are read behind other tenants' newer ones (docs/polling.md,
    # "Inventory read out of version order": both engines apply them from the newest version
    # time read before)
    devices = [line for _, _, line in sorted(
        (parse_time(json.loads(line)["last_seen"]) + c.inventory_lag // timedelta(milliseconds=1), n, line)
        for n, (c, line) in enumerate((c, line) for c in cases for line in c.devices))]
    (folder / "devices.jsonl").write_text("".join(line + "\n" for line in devices))


def case_inputs(folder: Path) -> dict[str, str]:
    return {"session.vdi_events": str(folder / "vdi.jsonl"), "device.devices": str(folder / "devices.jsonl")}


def run_both(flink_env, monkeypatch, folder: Path) -> tuple[list[str], list[str]]:
    """The alert records of the monitors and telemetry in `folder` on Flink, then on chdb."""
    monitors, inputs = [str(folder / "monitors.yaml")], case_inputs(folder)
    return (run_flink(flink_env, monkeypatch, monitors, inputs, folder / "flink.jsonl"),
            run_poll(monitors, inputs, folder / "poll.jsonl"))


def check_cases(flink_env, monkeypatch, folder: Path, cases: list[Case]) -> list[str]:
    """Runs the cases in one Flink job and one poll, and returns the alert records when the two
    engines agree. Otherwise each failing tenant's case is shrunk (`shrink`), kept under KEPT,
    and the test fails naming them."""
    write_cases(folder, cases)
    flink, polled = run_both(flink_env, monkeypatch, folder)
    found = _compare(flink, polled)
    if found:
        failing: dict[str, set[str]] = {}
        for k, _ in found:
            failing.setdefault(k[0], set()).add(k[1])
        kept = [shrink(flink_env, monkeypatch, KEPT / f"{folder.name}-{c.tenant}", c.only(failing[c.tenant]),
                       [text for k, text in found if k[0] == c.tenant]) for c in cases if c.tenant in failing]
        raise AssertionError(f"{len(found)} records differ, in {sum(map(len, failing.values()))} cases of "
                             f"{len(failing)} tenants; kept: " + ", ".join(kept))
    return flink


def shrink(flink_env, monkeypatch, folder: Path, case: Case, found: list[str]) -> str:
    """A failing case narrowed to its tenant and the monitors that differed, kept in `folder`
    with what differed in the full job (differences.txt) and, if the case alone still differs,
    what differs alone (a regression file for tests/clickhouse/regressions/). Narrowing further
    (records, filters) is left to the reader: each step would be a Flink run."""
    write_cases(folder, [case])
    (folder / "differences.txt").write_text("\n".join(sorted(found)) + "\n")
    alone = differences(*run_both(flink_env, monkeypatch, folder))
    (folder / "alone.txt").write_text("\n".join(alone) + "\n" if alone else "agree when run alone\n")
    return f"{folder} ({'differs' if alone else 'agrees'} alone)"
