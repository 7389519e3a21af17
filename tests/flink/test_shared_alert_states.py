"""Every threshold monitor of a job in one alert state function (codegen._job_states): two
monitors of different shapes (windows, keys, measures of every carried type) share one
AlertStates operator in the compiled plan and alert as each does alone; the measures, carried
as DOUBLEs and texts, come back in their records with the types of their eval views.

Records (tests/kafka/scenario.py), acme only: one per device at S(i) = 10:00:00 + 30 s i,
i = 0..11; c-1, c-2 (Finance-Win11) latency 500 for i < 6, then 100; c-3, c-4 (Sales) 250.

  pool_latency  during past 1min, every 30s, by pool, avg_latency > 300ms and sessions >= 2
                for 1min (the scenario's monitor): Finance triggers at 10:01:30 (the run
                starts with the window ending 10:00:30) with the window [10:00:30, 10:01:30),
                S(1) and S(2): avg 500, 2 devices; recovers at 10:03:30: [10:02:30, 10:03:30)
                holds S(5) and S(6), avg (500 + 100) / 2 = 300, not > 300. Sales: 250, never.
  device_worst  during past 1min, every 1min, by device, worst > 400ms (default recovery):
                c-1 and c-2 trigger at 10:01:00 ([10:00:00, 10:01:00): S(0), S(1), worst 500,
                two samples: load 2 x 1.5 = 3.0, spread 3.0 + 0.25, samples 2 - 1 = 1, half
                500 / 2, user acme-u<n>) and
                recover at 10:04:00 ([10:03:00, 10:04:00): S(6), S(7), worst 100). c-3, c-4
                never.
"""
from __future__ import annotations

import json
import textwrap

import pytest

from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.pipeline import compile_paths
from tests.kafka import scenario as sc

pytestmark = pytest.mark.flink

POOL_LATENCY = """\
id: pool_latency
tenant: acme
query: |
  session.vdi_events during past 1min
  | where device.virtualization.desktop_pool != null
  | summarize avg_latency = network_latency.avg(), sessions = device.count()
    by device.virtualization.desktop_pool
every: 30s
trigger:
  when: avg_latency > 300ms and sessions >= 2
  for: 1min
"""
DEVICE_WORST = """\
id: device_worst
tenant: acme
query: |
  session.vdi_events during past 1min
  | summarize worst = network_latency.max(), load = count() * 1.5, user = user.name.last(),
    samples = count() - 1, spread = count() * 1.5 + 0.25, half = network_latency.avg() / 2
    by device.collector.uid
every: 1min
trigger:
  when: worst > 400ms
"""
FILES = {"pool_latency.yaml": POOL_LATENCY, "device_worst.yaml": DEVICE_WORST}


def compile_files(tmp, names):
    tmp.mkdir(parents=True, exist_ok=True)
    for name in names:
        (tmp / name).write_text(textwrap.dedent(FILES[name]), encoding="utf-8")
    compiled = compile_paths([str(tmp / name) for name in names])
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    return compiled


def run(tmp, names, t_env) -> list[str]:
    """The alert records (text, sorted) of a job of the monitors `names` over the records."""
    compiled = compile_files(tmp, names)
    events = [json.dumps(sc.event("acme", uid, sc.S(i), sc.latency("acme", uid, i))) for i in range(12) for uid in sc.POOLS]
    files = sc.write_inputs(tmp / "in", {"session.vdi_events": events, "device.devices": sc.inventory(("acme",))})
    config = [json.dumps(r) for r in compiled.job.config_records]
    return sc.run_embedded(t_env, compiled, files, config, tmp / "alerts.jsonl")[0]


@pytest.fixture(scope="module")
def together(flink_env, tmp_path_factory):
    return run(tmp_path_factory.mktemp("together"), list(FILES), flink_env)


def test_one_alert_state_operator_for_both_monitors(tmp_path, flink_env):
    from nql_flink.deploy import submit

    compiled = compile_files(tmp_path, list(FILES))
    nodes = submit.stable_plan(compiled.statements(), CompileOptions())["nodes"]
    functions = [n.get("uid", "") for n in nodes if n["type"].startswith("stream-exec-process-table-function")]
    # the inventory's version order, the table's windows (both shapes, the tenants' clocks), one
    # alert state
    assert len(functions) == 3
    assert [u for u in functions if "--alerts--" in u] == [u for u in functions if u.startswith("job--alerts--")]
    assert len([u for u in functions if "--alerts--" in u]) == 1


def values(records, monitor, status, group) -> list[dict]:
    return [r["values"] for r in map(json.loads, records)
            if (r["monitor"], r["status"], r["group"]) == (monitor, status, group)]


def test_both_alert_as_derived(together):
    finance = {"device.virtualization.desktop_pool": "Finance-Win11"}
    timeline = sorted((r["monitor"], r["status"], r["at"], json.dumps(r["group"], sort_keys=True))
                      for r in map(json.loads, together))
    dev = lambda uid: json.dumps({"device.collector.uid": uid})  # noqa: E731
    assert timeline == [
        ("device_worst", "recovered", "2026-11-26T10:04:00.000Z", dev("c-1")),
        ("device_worst", "recovered", "2026-11-26T10:04:00.000Z", dev("c-2")),
        ("device_worst", "triggered", "2026-11-26T10:01:00.000Z", dev("c-1")),
        ("device_worst", "triggered", "2026-11-26T10:01:00.000Z", dev("c-2")),
        ("pool_latency", "recovered", "2026-11-26T10:03:30.000Z", json.dumps(finance)),
        ("pool_latency", "triggered", "2026-11-26T10:01:30.000Z", json.dumps(finance))]
    assert values(together, "pool_latency", "triggered", finance) == [{"avg_latency": 500.0, "sessions": 2}]
    assert values(together, "pool_latency", "recovered", finance) == [{"avg_latency": 300.0, "sessions": 2}]
    [worst] = values(together, "device_worst", "triggered", {"device.collector.uid": "c-1"})
    assert worst == {
        "worst": 500.0, "load": 3.0, "user": "acme-u1", "samples": 1, "spread": 3.25, "half": 250.0}


def test_the_values_keep_the_types_of_the_measures(together):
    """As Flink writes each type in JSON: a DOUBLE with its fraction, a DECIMAL(22, 1) with
    its one digit, a BIGINT without: the records of typed columns."""
    [text] = [r for r in together if '"triggered"' in r and '"pool_latency"' in r]
    assert '"values":{"avg_latency":500.0,"sessions":2}' in text
    [text] = [r for r in together if '"triggered"' in r and '"c-1"' in r]
    for piece in ('"worst":500.0', '"load":3.0', '"user":"acme-u1"', '"samples":1', '"spread":3.25', '"half":250.0'):
        assert piece in text


def test_each_alerts_as_it_does_alone(together, flink_env, tmp_path):
    alone = []
    for name in FILES:
        alone += run(tmp_path / name.removesuffix(".yaml"), [name], flink_env)
    assert sorted(alone) == together


def test_measure_types_are_the_ones_flink_gives_the_measures(flink_env, flink_database, tmp_path):
    """codegen.measure_type against Flink's own type of each measure, computed as the table's
    evaluated view computes it from the windows function's row (the record casts each carried
    measure back to it)."""
    from nql_flink.translator.flink import codegen
    from nql_flink.translator.semantic.schema import load_catalog
    from tests.conftest import explain_compiled

    compiled = compile_files(tmp_path, list(FILES))
    explain_compiled(flink_env, compiled, tmp_path)
    catalog = load_catalog()
    checked = 0
    for pipeline in codegen.pipelines(compiled.lowered):
        defs = codegen._measure_sql(codegen._prepare(pipeline, catalog))
        for m in pipeline.evaluate.input.measures:
            view = flink_env.sql_query(f"SELECT {defs[m.name]} AS m FROM `t_session_vdi_events__windows`")
            flink = view._j_table.getResolvedSchema().getColumn("m").get().getDataType().getLogicalType()
            assert codegen.measure_type(m.expr) == flink.copy(True).asSummaryString(), m.name
            checked += 1
    assert checked == 8


@pytest.mark.parametrize("value", ["CAST(1e7 AS DOUBLE)", "CAST(0.1 AS DOUBLE)", "CAST(1e-7 AS DOUBLE)",
                                   "CAST(500 AS DOUBLE)", "CAST(3 AS BIGINT) * 1.5 + 0.25",
                                   "CAST('0.10' AS DECIMAL(10, 2))", "CAST(9007199254740993 AS BIGINT)",
                                   "'a\"b\\c é 😀 \u2028'", "CAST(NULL AS DOUBLE)", "TRUE",
                                   "CAST('2026-11-26 10:00:30.120' AS TIMESTAMP(3))"])
def test_values_chosen_by_pipeline_are_written_as_a_nested_object(flink_env, value):
    """The one alert record query of every threshold monitor picks each monitor's values
    object with JSON(CASE `nql_pipeline` ...): Flink writes the text a JSON_OBJECT nested
    directly writes (numbers, text escapes, NULL, timestamps)."""
    direct = f"JSON_OBJECT('v' VALUE JSON_OBJECT('a' VALUE {value}, 'b' VALUE 1) NULL ON NULL)"
    chosen = (f"JSON_OBJECT('v' VALUE JSON(CASE p WHEN 'x' THEN JSON_OBJECT('a' VALUE {value}, 'b' VALUE 1) "
              f"WHEN 'y' THEN JSON_OBJECT('z' VALUE 2) END) NULL ON NULL)")
    with flink_env.execute_sql(f"SELECT {direct}, {chosen} FROM (VALUES ('x')) AS t(p)").collect() as rows:
        [(a, b)] = [tuple(r) for r in rows]
    assert a == b
