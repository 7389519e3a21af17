"""`lower`: a checked monitor -> the relational IR (translator/ir/lower.py). Expected nodes
written by hand from spec/monitors.md and docs/nql-dialect.md; the per-construct snapshots
in tests/golden/ir show whole trees."""

from tests.frontend.helpers import check
from nql_flink.translator.ir import relational as ir

VDI = "session.vdi_events during past 5min"
DEVICE = ir.Field("device.collector.uid", "device_collector_uid", "string")
USER = ir.Field("user.name", "user_name", "string")


def lowered(query: str, trigger: str, extra: str = "", every: str = "30s") -> ir.Monitor:
    body = "\n".join("  " + line for line in query.strip().split("\n"))
    text = f"id: m\ntenant: acme\nquery: |\n{body}\nevery: {every}\ntrigger:\n  when: {trigger}\n{extra}"
    result = check(text)
    assert result.ok, [d.message for d in result.diagnostics]
    [m] = result.lowered.values()
    return m


def test_filter_window_keys_and_threshold_parameter():
    m = lowered(f"{VDI}\n| where network_latency > 200ms\n| summarize c = count() by protocol", "c > 3")
    latency = ir.Field("network_latency", "network_latency", "duration")
    protocol = ir.Field("protocol", "protocol", "string")
    trigger = ir.Cmp(">", ir.Col("c", "int"), ir.Param("trigger_1"))
    assert m == ir.Monitor("acme", "m", ir.Evaluate(
        ir.WindowAggregate(
            ir.Filter(ir.Scan("session.vdi_events", (DEVICE, USER, latency, protocol)),
                      ir.Cmp(">", ir.Col("network_latency", "duration"), ir.Lit(200, "duration"))),
            size_ms=300_000, slide_ms=30_000,
            keys=(ir.Key("protocol", ir.Col("protocol", "string")),),
            measures=(ir.Measure("c", ir.Agg("count", None, None, "int"), "int"),), having=None),
        trigger=trigger, recover=ir.Bool("NOT", (trigger,)), params=(("trigger_1", 3.0),)),
        ir.Config(True, "medium", "m", (), 0, 0, "c > 3", "not (c > 3)"))
    assert m.every_ms == 30_000


def test_every_number_of_a_condition_is_a_parameter_in_order():
    m = lowered(f"{VDI}\n| summarize c = count(), l = network_latency.avg()", "c >= 3 and l > 300ms",
                "recover:\n  when: l < 250ms\n  for: 1min\n")
    assert m.evaluate.params == (("trigger_1", 3.0), ("trigger_2", 300.0), ("recover_1", 250.0))
    assert m.evaluate.recover == ir.Cmp("<", ir.Col("l", "duration"), ir.Param("recover_1"))
    assert (m.config.recover_for_ms, m.config.recover_text) == (60_000, "l < 250ms")


def test_enum_becomes_its_text_and_wildcards_a_like_pattern_with_sql_wildcards_escaped():
    m = lowered(f'{VDI}\n| where protocol == ica and user.name == "50%_off*"\n| summarize c = count()', "c > 0")
    [f] = [r for r in [m.evaluate.input.input] if isinstance(r, ir.Filter)]
    assert f.condition == ir.Bool("AND", (
        ir.Cmp("=", ir.Col("protocol", "string"), ir.Lit("ica", "string")),
        ir.Like(ir.Col("user_name", "string"), "50\\%\\_off%", False)))


def test_device_attributes_are_an_inner_inventory_enrichment():
    m = lowered(f"{VDI}\n| summarize c = count() by device.virtualization.desktop_pool", "c > 0")
    enrich = m.evaluate.input.input
    assert isinstance(enrich, ir.Enrich) and enrich.inner
    assert enrich.fields == (ir.Field("virtualization.desktop_pool", "device_virtualization_desktop_pool", "string"),)
    assert m.evaluate.input.keys == (ir.Key("device.virtualization.desktop_pool",
                                            ir.Col("device_virtualization_desktop_pool", "string")),)


def test_identity_count_is_distinct_and_plain_count_counts_values():
    m = lowered(f"{VDI}\n| summarize s = session.uid.count(), v = network_latency.count()", "s > 0")
    s, v = m.evaluate.input.measures
    assert s.expr == ir.Agg("count_distinct", ir.Col("session_uid", "string"), None, "int")
    assert v.expr == ir.Agg("count", ir.Col("network_latency", "duration"), None, "int")


def test_summarize_after_compute_is_a_regroup_of_per_device_windows():
    m = lowered("devices during past 30min\n| compute q = cpu_queue_length.avg()"
                "\n| summarize busy = countif(q > 2) by virtualization.desktop_pool", "busy > 0", every="5min")
    top = m.evaluate.input
    assert isinstance(top, ir.Regroup)
    pool = ir.Col("device_virtualization_desktop_pool", "string")
    assert top.keys == (ir.Key("virtualization.desktop_pool", pool),)
    assert top.measures == (ir.Measure("busy", ir.Agg("count", None, ir.Cmp(">", ir.Col("q", "float"), ir.Lit(2, "int")),
                                                      "int"), "int"),)
    # per device and window, carrying the pool the summarize groups by
    assert [k.name for k in top.input.keys] == ["device.collector.uid", pool.name]
    assert top.input.measures == (ir.Measure("q", ir.Agg("avg", ir.Col("cpu_queue_length", "float"), None, "float"),
                                             "float"),)


def test_seasonal_detection_sensitivity_is_the_last_parameter():
    m = lowered(f"{VDI}\n| summarize l = network_latency.avg(), c = count()", "c >= 5",
                "detection:\n  type: seasonal\n  metric: l\n  deviations: 2.5\n  history: 14d\n  slot: 1h\n")
    ev = m.evaluate
    assert ev.detection == ir.Detection("seasonal", "l", "above", 14 * 86_400_000, 3_600_000, True)
    assert ev.params == (("trigger_1", 5.0), ("detection_deviations", 2.5))
    assert m.config.trigger_text == "l above seasonal baseline + 2.5 spreads (slot 1h, history 14d) and c >= 5"


def test_change_detection_without_a_trigger_condition_triggers_on_the_breach_alone():
    body = "\n".join("  " + line for line in f"{VDI}\n| summarize l = network_latency.avg()".split("\n"))
    text = (f"id: m\ntenant: acme\nquery: |\n{body}\nevery: 30s\n"
            "detection:\n  type: change\n  metric: l\n  direction: below\n  change: 50%\n  history: 1d\n")
    result = check(text)
    assert result.ok, [d.message for d in result.diagnostics]
    [m] = result.lowered.values()
    assert m.evaluate.trigger == ir.Lit(True, "bool")
    assert m.evaluate.params == (("detection_change", 0.5),)
    assert m.config.trigger_text == "l below its 1d average - 50%"


def test_a_summarize_reading_the_device_uid_does_not_carry_it_twice():
    """Found by the property test: `collector.uid` in a summarize after compute is the
    per-device key already; carried again, the objects view had two `device_collector_uid`."""
    m = lowered("devices during past 30min\n| compute q = cpu_queue_length.avg()"
                "\n| summarize n = countif(collector.uid != \"x\") by virtualization.desktop_pool", "n > 0",
                every="5min")
    keys = m.evaluate.input.input.keys
    assert [k.expr.name for k in keys] == ["device_collector_uid", "device_virtualization_desktop_pool"]
