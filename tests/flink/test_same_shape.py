"""Monitors of one shape share everything up to the fan-out (docs/sharing.md): three monitors
of two ids and two tenants, identical but for their thresholds, run as one part of the table's
windows function, whose rows go to the monitors of each row's tenant, and one pipeline, and
alert exactly as each does alone.

Records (tests/kafka/scenario.py), one per device at S(i) = 10:00:00 + 30 s i, i = 0..11:
acme c-1, c-2 (Finance) 500 for i < 6 then 100, c-3, c-4 (Sales) 250; globex Finance 150,
Sales 250. Every monitor: during past 1min, every 30s, by pool, avg_latency > X and
sessions >= 2 for 1min, default recovery (NOT trigger). Worked by hand:

  acme/pool_latency       X = 300: Finance triggers 10:01:30 (windows ending 10:00:30 ..
                          10:01:30 all avg 500, 2 devices), recovers 10:03:30 ([10:02:30,
                          10:03:30): S(5) 500 and S(6) 100, avg 300, not > 300). Sales 250: never.
  acme/pool_latency_low   X = 200: Finance triggers 10:01:30; [10:02:30, 10:03:30) avg 300 > 200
                          still; recovers 10:04:00 ([10:03:00, 10:04:00): 100). Sales 250 > 200:
                          triggers 10:01:30, never recovers.
  globex/pool_latency_low X = 200: Finance 150: never. Sales: triggers 10:01:30, never recovers.
"""
from __future__ import annotations

import json
import textwrap

import pytest

from nql_flink.translator.pipeline import compile_paths
from tests.kafka import scenario as sc

pytestmark = pytest.mark.flink

MONITOR = """\
id: {id}
tenant: {tenant}
query: |
  session.vdi_events during past 1min
  | where device.virtualization.desktop_pool != null
  | summarize avg_latency = network_latency.avg(), sessions = device.count()
    by device.virtualization.desktop_pool
every: 30s
trigger:
  when: avg_latency > {x}ms and sessions >= 2
  for: 1min
"""
MONITORS = {"acme_pool_latency.yaml": ("pool_latency", "acme", 300),
            "acme_pool_latency_low.yaml": ("pool_latency_low", "acme", 200),
            "globex_pool_latency_low.yaml": ("pool_latency_low", "globex", 200)}
FINANCE, SALES = ({"device.virtualization.desktop_pool": p} for p in ("Finance-Win11", "Sales-Win10"))


def compile_files(tmp, names):
    tmp.mkdir(parents=True, exist_ok=True)
    for name in names:
        i, tenant, x = MONITORS[name]
        (tmp / name).write_text(MONITOR.format(id=i, tenant=tenant, x=x), encoding="utf-8")
    compiled = compile_paths([str(tmp / name) for name in names])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    return compiled


def run(tmp, names, t_env) -> list[str]:
    compiled = compile_files(tmp, names)
    events = [json.dumps(e) for e in sc.events()]
    files = sc.write_inputs(tmp / "in", {"session.vdi_events": events, "device.devices": sc.inventory()})
    config = [json.dumps(r) for r in compiled.job.config_records]
    return sc.run_embedded(t_env, compiled, files, config, tmp / "alerts.jsonl")[0]


@pytest.fixture(scope="module")
def together(flink_env, tmp_path_factory):
    return run(tmp_path_factory.mktemp("together"), list(MONITORS), flink_env)


def test_one_pipeline_fans_out_to_the_monitors_of_each_tenant(tmp_path):
    compiled = compile_files(tmp_path, list(MONITORS))
    assert list(compiled.job.pipelines.values()) == [
        [("acme", "pool_latency"), ("acme", "pool_latency_low"), ("globex", "pool_latency_low")]]
    sql = compiled.sql()
    spec = sql[sql.index("spec => 'lag="):]
    spec = spec[:spec.index("uid =>")]
    assert spec.count(" | s_") == 1                                # one shape in the windows
    # whose rows the function emits once per monitor of the row's tenant
    assert (" (acme: pool_latency@m_pool_latency, pool_latency_low@m_pool_latency; "
            "globex: pool_latency_low@m_pool_latency): size=60000;slide=30000;") in spec


def test_the_plan_has_one_windows_function_that_keeps_the_alert_states(tmp_path, flink_env):
    from nql_flink.deploy import submit
    from nql_flink.translator.flink.connectors import CompileOptions

    compiled = compile_files(tmp_path, list(MONITORS))
    nodes = submit.stable_plan(compiled.statements(), CompileOptions())["nodes"]
    functions = sorted(n.get("uid", "").split("--")[0] for n in nodes
                       if n["type"].startswith("stream-exec-process-table-function"))
    # the inventory's version order is the table's (d_device_devices), like its windows, which
    # keep the tenants' clocks (no clock function of the event table, e_session_vdi_events) and
    # the monitors' alert states (no alert state function of the job: every monitor's conditions
    # are judged there)
    assert functions == ["d_device_devices", "t_session_vdi_events"]
    joins = [n for n in nodes if n["type"].startswith("stream-exec-temporal-join")]
    # none: the windows function looks the inventory up itself and keeps the monitors' configs
    assert joins == []


def timeline(records):
    return sorted((r["tenant"], r["monitor"], r["status"], r["at"], json.dumps(r["group"], sort_keys=True))
                  for r in map(json.loads, records))


def test_each_monitor_alerts_as_worked_out(together):
    at = lambda hm: f"2026-11-26T10:{hm}.000Z"  # noqa: E731
    f, s = json.dumps(FINANCE), json.dumps(SALES)
    assert timeline(together) == sorted([
        ("acme", "pool_latency", "triggered", at("01:30"), f),
        ("acme", "pool_latency", "recovered", at("03:30"), f),
        ("acme", "pool_latency_low", "triggered", at("01:30"), f),
        ("acme", "pool_latency_low", "recovered", at("04:00"), f),
        ("acme", "pool_latency_low", "triggered", at("01:30"), s),
        ("globex", "pool_latency_low", "triggered", at("01:30"), s)])
    [low] = [json.loads(r) for r in together if '"pool_latency_low"' in r and '"recovered"' in r]
    assert low["values"] == {"avg_latency": 100.0, "sessions": 2}
    assert low["condition"] == "not (avg_latency > 200ms and sessions >= 2)"


def test_each_alerts_as_it_does_alone(together, flink_env, tmp_path):
    alone = []
    for name in MONITORS:
        alone += run(tmp_path / name.removesuffix(".yaml"), [name], flink_env)
    assert sorted(alone) == together
