"""Expected alert transitions against the ones an engine produced: which expected ones are
missing, which produced ones nobody expected, and, for a missing one that has a near match
(same status, time, tenant, monitor and group), which fields differ. Plain Python.

An expected transition names only the fields it cares about: status and time always; tenant,
monitor, group, values, priority and impact when given (a mapping is compared on the keys it
names). Numbers are equal within a relative tolerance of 1e-9 (docs/monitor-tests.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from nql_flink.translator.testing.spec import Expected

TOLERANCE = 1e-9
IDENTITY = ("status", "at", "tenant", "monitor", "group")


@dataclass(frozen=True)
class Outcome:
    missing: list[tuple[Expected, list[str]]]   # each with the differences of its near match, if any
    unexpected: list[dict]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected


def same(expected, actual) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or expected == actual and type(expected) is type(actual)
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    return expected == actual


def differences(expected: dict, actual: dict, prefix: str = "") -> list[str]:
    out = []
    for key, want in expected.items():
        got = actual.get(key) if isinstance(actual, dict) else None
        if isinstance(want, dict) and isinstance(got, dict):
            out += differences(want, got, f"{prefix}{key}.")
        elif not same(want, got):
            out.append(f"{prefix}{key}: expected {json.dumps(want)}, got {json.dumps(got)}")
    return out


def compare(expected: list[Expected], actual: list[dict]) -> Outcome:
    """Each expected transition matched with the first unmatched produced one it agrees with
    (the produced ones in time order)."""
    pending = sorted(actual, key=lambda a: (a.get("at", ""), a.get("tenant", ""), a.get("monitor", ""),
                                            json.dumps(a.get("group"), sort_keys=True), a.get("status", "")))
    used = [False] * len(pending)
    missing = []
    for e in expected:
        hit = next((i for i, a in enumerate(pending) if not used[i] and same(e.fields, a)), None)
        if hit is not None:
            used[hit] = True
            continue
        key = {k: v for k, v in e.fields.items() if k in IDENTITY}
        near = next((a for i, a in enumerate(pending) if not used[i] and same(key, a)), None)
        missing.append((e, differences(e.fields, near) if near is not None else []))
    return Outcome(missing, [a for i, a in enumerate(pending) if not used[i]])


def describe(t: dict) -> str:
    """One transition on one line, as `nql-flink demo` prints it."""
    group = ", ".join(f"{k}={v}" for k, v in (t.get("group") or {}).items())
    values = ", ".join(f"{k}={v}" for k, v in (t.get("values") or {}).items())
    who = "/".join(x for x in (t.get("tenant"), t.get("monitor")) if x)
    return "  ".join(x for x in (t.get("at"), t.get("status"), who, f"[{group}]" if group else "", values) if x)
