"""What a monitor change does to the state a savepoint upgrade restores, on the plans Flink
compiles for real (deploy/plan.py stabilizes their operator ids). The table of
docs/upgrades.md, one row per test. Two monitors; each variant changes `lat` only, so
`other` must always keep its state."""
from __future__ import annotations

import pytest

from nql_flink.deploy import plan, submit
from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.pipeline import compile_paths

pytestmark = [pytest.mark.flink, pytest.mark.slow]

MONITORS = """\
monitors:
  - id: lat
    tenant: acme
    query: |
      session.vdi_events during past {during}
      | where device.virtualization.desktop_pool != null{where}
      | summarize avg_latency = network_latency.avg(), sessions = device.count()
        by device.virtualization.desktop_pool{by}
    every: 30s
    trigger:
      when: avg_latency > {threshold}ms and sessions >= 5
      for: {for_}
  - id: other
    tenant: acme
    query: |
      session.vdi_events during past 5min
      | summarize jitter = network_latency.max() by device.virtualization.desktop_pool
    every: 1min
    trigger:
      when: jitter > 900ms
{added}"""
ADDED = """\
  - id: added
    tenant: acme
    query: |
      session.vdi_events during past 2min
      | summarize slow = countif(network_latency > 500ms) * 1.5 by device.collector.uid
    every: 1min
    trigger:
      when: slow > 2
"""
BASE = {"during": "5min", "where": "", "by": "", "threshold": 300, "for_": "2min", "added": ""}


def stable_plan(tmp_path, name: str, **change) -> dict:
    f = tmp_path / f"{name}.yaml"
    f.write_text(MONITORS.format(**{**BASE, **change}), encoding="utf-8")
    compiled = compile_paths([str(f)], options=CompileOptions())
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    return submit.stable_plan(compiled.statements(), CompileOptions())


@pytest.fixture(scope="module")
def plans(flink_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plans")
    return {"base": stable_plan(tmp, "base"),
            "threshold": stable_plan(tmp, "threshold", threshold=250, for_="3min"),
            "where": stable_plan(tmp, "where", where=" and network_latency > 0ms"),
            "during": stable_plan(tmp, "during", during="10min"),
            "by": stable_plan(tmp, "by", by=", device.virtualization.environment"),
            "added": stable_plan(tmp, "added", added=ADDED)}


def verdicts(plans, variant) -> dict[str, tuple]:
    return {c.owner: (c.verdict, c.kinds) for c in plan.compare(plans["base"], plans[variant])}


def test_the_same_monitors_keep_everything_and_drop_nothing(plans):
    assert {v for v, _ in verdicts(plans, "base").values()} == {"keeps"}
    assert not plan.drops_state(plans["base"], plans["base"])


def test_thresholds_and_for_durations_keep_all_state(plans):
    """Thresholds and `for` are data (the monitor-config record)."""
    assert {v for v, _ in verdicts(plans, "threshold").values()} == {"keeps"}


def test_another_filter_resets_that_monitors_windows_only(plans):
    """Filters are part of a monitor's shape (docs/sharing.md): its part of the table's windows
    starts anew, so no window mixes records of both filters; everything else is kept."""
    v = verdicts(plans, "where")
    assert v.pop("m_lat") == ("resets", ("windows",))
    assert {verdict for verdict, _ in v.values()} == {"keeps"}


def test_another_window_resets_that_monitors_windows_only(plans):
    v = verdicts(plans, "during")
    assert v["m_lat"][0] == "resets" and "windows" in v["m_lat"][1]
    assert "alerts" not in v["m_lat"][1]               # open alerts and pending runs stay
    assert v["m_other"] == ("keeps", ())
    # the alert states of both monitors are their windows function's (it judges them), which
    # keeps a monitor's groups while it serves and judges the monitor: no alert state function
    assert "job" not in v


def test_an_added_monitor_of_another_shape_resets_nothing(plans):
    """The windows function keeps the groups of the others; the new monitor's conditions are
    DECIMAL arithmetic (`* 1.5`), which its windows function does not judge
    (translator/flink/conditions.py): the job's alert state function comes with it, empty."""
    v = verdicts(plans, "added")
    assert v.pop("m_added") == ("new", ())
    assert v.pop("job") == ("new", ())
    assert {verdict for verdict, _ in v.values()} == {"keeps"}
    assert not plan.drops_state(plans["base"], plans["added"])


def test_other_group_keys_reset_the_windows(plans):
    """The new key is an inventory attribute no monitor read before: what each inventory version
    holds in the table's windows function changes (its spec's inventory digest), so the function
    drops the versions it kept and the inventory source's offsets start empty (the topic is read
    again from the start); the windows of the other monitor (its shape's part of the table's
    windows) and the alert states stay."""
    v = verdicts(plans, "by")
    assert v["m_lat"] == ("resets", ("windows",))
    assert v["m_other"] == ("keeps", ())
    assert "job" not in v                      # the alert states are the windows function's
    assert v["source:src_device_devices"][0] == "resets"
    assert v["source:src_session_vdi_events"] == ("keeps", ())
    assert not [o for o, (verdict, kinds) in v.items() if "join" in kinds]   # no inventory join
