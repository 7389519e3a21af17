"""deploy/plan.py on small hand-built plans (the shape of Flink 2.3's compiled-plan JSON, only
the fields the module reads): which operator keeps its id, and so its savepoint state, when
the job around it changes. The real round trip (savepoint, upgrade, alerts) is
tests/kafka/test_upgrade.py."""
from __future__ import annotations

from nql_flink.deploy import plan

ROW = {"type": "ROW", "fields": [{"name": "tenant", "fieldType": "VARCHAR(2147483647)"},
                                 {"name": "ts", "fieldType": "TIMESTAMP(3)"}]}


class Plan:
    """A plan under construction; every node is named (its description) for the assertions."""

    def __init__(self):
        self.nodes, self.edges = [], []

    def add(self, name: str, type_: str, *inputs: int, **fields) -> int:
        i = len(self.nodes) + 1
        self.nodes.append({"id": i, "type": type_ + "_1", "outputType": fields.pop("out", ROW),
                           "description": name, **fields})
        self.edges += [{"source": j, "target": i} for j in inputs]
        return i

    def table(self, kind: str, table: str, *inputs: int) -> int:
        field = "scanTableSource" if kind == "source" else "dynamicTableSink"
        return self.add(f"{kind} {table}", f"stream-exec-{'table-source-scan' if kind == 'source' else 'sink'}",
                        *inputs, **{field: {"table": {
                            "identifier": f"`default_catalog`.`default_database`.`{table}`",
                            "resolvedTable": {"options": {"connector": "kafka", "topic": table}}}}})

    def pipeline(self, name: str, events: int, config: int, layout: str) -> int:
        """A monitor's rows, windows and config join, as jobs had them before one windows
        function per table (issue 15)."""
        rows = self.add(f"{name} rows", "stream-exec-calc", events, condition="the tenants of " + name)
        windows = self.add(f"{name} windows", "stream-exec-process-table-function", rows,
                           uid=f"{name}--windows--{layout}")
        return self.add(f"{name} config join", "stream-exec-temporal-join", windows, config,
                        joinSpec={"joinType": "INNER"})

    def table_windows(self, rows: int, layouts: dict[str, str]) -> int:
        """The table's one windows function: a shape per distinct layout, named in its spec
        with the pipelines it serves (translator/flink/codegen.py _table_windows)."""
        served: dict[str, list[str]] = {}
        for m, layout in layouts.items():
            served.setdefault("s_" + layout.encode().hex(), []).append(m)
        spec = " | ".join(["lag=1;idle=1"] + [f"{s} (acme: {', '.join(sorted(m[2:] for m in ms))}): size=1;slide=1;pop=0;aggs="
                                              for s, ms in sorted(served.items())])
        windows_input = self.add("windows input", "stream-exec-calc", rows, condition="every monitor's tenants")
        return self.add("windows", "stream-exec-process-table-function", windows_input, uid="t_events--windows--s",
                        functionCall={"operands": [{"kind": "LITERAL", "value": spec}]})

    def monitor(self, name: str, windows: int) -> int:
        """A monitor's evaluations: its shape's rows, its id a constant."""
        return self.add(f"{name} eval", "stream-exec-calc", windows, condition="the shape of " + name,
                        projection=[{"kind": "LITERAL", "value": name[2:]}])


def job(monitors=("m_a", "m_b"), *, event_columns=("tenant", "ts"), layouts=None, inventory=ROW,
        old_shape=False, per_monitor_windows=False, judged_here=False) -> dict:
    """events -> parse -> clock -> inventory join -> the table's windows function (a shape per
    layout) -> per monitor: eval -> the union of every monitor's evaluations -> the job's config
    join -> the job's alert states -> one alert sink. The shape of a generated job, in
    small. `per_monitor_windows`: as jobs were before one windows function per table, a windows
    function per monitor; `old_shape` (implies it): as jobs were before the job's alert states
    too, one alert state per monitor. `judged_here`: every monitor judged by the windows
    function, which keeps their alert states (no config join, no alert state function)."""
    p = Plan()
    parsed = p.add("parse", "stream-exec-calc", p.table("source", "src_events"), projection=list(event_columns))
    clock = p.add("clock", "stream-exec-over-aggregate", parsed, out={"type": "ROW", "fields": list(event_columns)},
                  overSpec={"partition": {"fields": [event_columns.index("tenant")]},
                            "groups": [{"aggCalls": [{"internalName": "$MAX$1", "type": "TIMESTAMP(3)"}]}]})
    versions = p.add("versions", "stream-exec-deduplicate", p.table("source", "src_devices"), out=inventory)
    rows = p.add("inventory join", "stream-exec-temporal-join", clock, versions, joinSpec={"joinType": "LEFT"})
    config = p.add("config versions", "stream-exec-deduplicate", p.table("source", "src_monitor_config"))
    layout = {m: (layouts or {}).get(m, "a") for m in monitors}
    if old_shape:
        judged = [p.pipeline(m, rows, config, layout[m]) for m in monitors]
        states = [p.add(f"{m} alerts", "stream-exec-process-table-function", j, uid=f"{m}--alerts--s")
                  for m, j in zip(monitors, judged)]
        p.table("sink", "sink_alerts", *states)
    elif judged_here:
        windows = p.table_windows(rows, layout)
        p.table("sink", "sink_alerts", *(p.monitor(m, windows) for m in monitors))
    else:
        if per_monitor_windows:
            judged = p.add("union", "stream-exec-union", *(p.pipeline(m, rows, config, layout[m]) for m in monitors))
        else:
            windows = p.table_windows(rows, layout)
            evaluations = p.add("union", "stream-exec-union", *(p.monitor(m, windows) for m in monitors))
            judged = p.add("config join", "stream-exec-temporal-join", evaluations, config, joinSpec={"joinType": "INNER"})
        states = p.add("job alerts", "stream-exec-process-table-function", judged, uid="job--alerts--s")
        p.table("sink", "sink_alerts", *(p.add(f"{m} records", "stream-exec-calc", states, condition=m)
                                         for m in monitors))
    return {"flinkVersion": "2.3", "nodes": p.nodes, "edges": p.edges}


def ids(p: dict) -> dict[str, int]:
    """node name -> its stable id."""
    return {n["description"]: n["id"] for n in plan.stabilize(p)["nodes"]}


def same(a: dict, b: dict) -> set[str]:
    """Names of the nodes of both plans whose ids are equal: their state restores."""
    x, y = ids(a), ids(b)
    return {k for k in x if y.get(k) == x[k]}


STATEFUL_A = {"source src_events", "source src_devices", "source src_monitor_config", "clock", "versions",
              "inventory join", "config versions", "windows", "config join", "job alerts",
              "sink sink_alerts"}


def test_adding_a_monitor_keeps_every_id_of_the_others():
    before, after = job(("m_a",)), job(("m_a", "m_b"))
    assert STATEFUL_A <= same(before, after)
    changes = {c.owner: c.verdict for c in plan.compare(before, after)}
    assert changes["m_a"] == "keeps" and changes["m_b"] == "new"
    assert not plan.drops_state(before, after)


def test_removing_a_monitor_drops_only_its_state():
    before, after = job(("m_a", "m_b")), job(("m_a",))
    assert STATEFUL_A <= same(before, after)
    changes = {c.owner: c.verdict for c in plan.compare(before, after)}
    assert changes == {**{o: "keeps" for o in changes if o != "m_b"}, "m_b": "removed"}
    # its only state was its shape's part of the table's windows, which the function drops:
    # Flink finds every operator's state claimed
    assert not plan.drops_state(before, after)


def test_new_window_layout_resets_that_monitors_windows_only():
    """Another shape of one monitor: the table's windows function restores (its other shapes
    continue), the monitor's part of it starts empty."""
    before, after = job(), job(layouts={"m_b": "b"})
    kept = same(before, after)
    assert {"windows", "config join", "job alerts"} <= kept
    changes = {c.owner: (c.verdict, c.kinds) for c in plan.compare(before, after)}
    assert changes["m_b"] == ("resets", ("windows",))
    assert changes["m_a"] == ("keeps", ())
    assert not plan.drops_state(before, after)          # the function drops the shape itself


def test_monitors_of_one_shape_share_it_and_keep_it_when_one_goes():
    before, after = job(("m_a", "m_b", "m_c")), job(("m_a", "m_c"))
    assert plan.shapes(next(n for n in before["nodes"] if n["description"] == "windows")) == \
        {"s_61": ["m_a", "m_b", "m_c"]}
    changes = {c.owner: c.verdict for c in plan.compare(before, after)}
    assert changes["m_a"] == changes["m_c"] == "keeps" and changes["m_b"] == "removed"


def test_from_a_job_with_windows_per_monitor_the_windows_reset_once():
    """A savepoint of a job from before one windows function per table: every monitor's
    windows start empty, its alert states (the job's) stay."""
    before, after = job(per_monitor_windows=True), job()
    changes = {c.owner: (c.verdict, c.kinds) for c in plan.compare(before, after)}
    assert changes["m_a"][0] == changes["m_b"][0] == "resets"
    assert "windows" in changes["m_a"][1] and "alerts" not in changes["m_a"][1]
    # the job's one config join replaces the monitors' (deploy publishes every config record
    # again: it fills up before the first window is judged)
    assert changes["job"] == ("resets", ("join",))
    assert "  new      windows function of table events: starts without state" in \
        plan.describe(plan.compare(before, after)).splitlines()


def test_the_jobs_alert_states_belong_to_no_monitor():
    """One function holds the alert states of every monitor: adding, removing or changing a
    monitor keeps it (its owner is the job, not the pipelines that feed it)."""
    for before, after in ((job(("m_a",)), job(("m_a", "m_b"))), (job(("m_a", "m_b")), job(("m_b",))),
                          (job(), job(layouts={"m_a": "z", "m_b": "y"}))):
        assert "job alerts" in same(before, after)
        assert {c.owner: c.verdict for c in plan.compare(before, after)}["job"] == "keeps"


def test_a_removed_monitor_says_its_groups_stay_in_the_alert_states():
    """docs/upgrades.md, "monitor removed": its own state goes, its groups' alert states are the
    job's and stay (an open alert is never recovered), and the report says so."""
    text = plan.describe(plan.compare(job(("m_a", "m_b")), job(("m_b",)))).splitlines()
    assert "  removed  monitor a: its own state is dropped; its groups stay in the alert states " \
           "(an open alert is never recovered)" in text
    assert "  keeps    alert states of every threshold monitor: keeps its state" in text


def test_alert_states_moved_into_the_windows_function_say_the_open_alerts_are_not_recovered():
    """docs/upgrades.md, the release whose windows functions keep the alert states of the
    monitors they judge (docs/sharing.md, step 3): the job's alert state function goes, with its
    open alerts, and the report says what that means; the windows are kept."""
    before, after = job(), job(judged_here=True)
    assert "windows" in same(before, after)
    changes = {c.owner: c.verdict for c in plan.compare(before, after)}
    assert changes["job"] == "removed"
    assert plan.drops_state(before, after)
    assert "  removed  alert states of every threshold monitor: its state is dropped: its open alerts never get a " \
           "`recovered` record (the windows functions keep the alert states of the monitors they judge)" in \
        plan.describe(plan.compare(before, after)).splitlines()


def test_from_a_job_with_an_alert_state_per_monitor_the_alert_states_reset_once():
    """A savepoint of a job from before the job's alert states: every monitor keeps its windows
    and says that its alert state starts empty; the job's alert states are new."""
    before, after = job(old_shape=True), job(per_monitor_windows=True)
    assert {"m_a windows", "m_b windows", "m_a config join"} <= same(before, after)
    changes = {c.owner: (c.verdict, c.kinds) for c in plan.compare(before, after)}
    assert changes["m_a"] == changes["m_b"] == ("resets", ("alerts",))
    assert changes["job"] == ("new", ())
    assert plan.drops_state(before, after)
    text = plan.describe(plan.compare(before, after)).splitlines()
    assert text[:2] == ["  resets   monitor a: starts without: alerts", "  resets   monitor b: starts without: alerts"]
    assert "  new      alert states of every threshold monitor: starts without state" in text


def test_a_new_event_field_keeps_offsets_and_clocks():
    """A monitor reading one more field widens the parsed rows; offsets and the per-tenant
    clock mean the same, so they restore."""
    before, after = job(), job(event_columns=("tenant", "ts", "network_latency"))
    assert {"source src_events", "clock", "job alerts"} <= same(before, after)


def test_new_inventory_columns_reset_the_versions_and_read_the_inventory_again():
    """The versions' rows change type: they cannot restore, so the inventory source starts
    without offsets too and reads the compacted topic from the start."""
    wider = {"type": "ROW", "fields": ROW["fields"] + [{"name": "pool", "fieldType": "VARCHAR(2147483647)"}]}
    before, after = job(), job(inventory=wider)
    kept = same(before, after)
    assert "versions" not in kept and "source src_devices" not in kept
    assert {"source src_events", "source src_monitor_config", "windows"} <= kept
    verdicts = {c.owner: c.verdict for c in plan.compare(before, after)}
    assert verdicts["source:src_devices"] == "resets"


def test_ids_are_unique_positive_ints_and_the_edges_follow_them():
    p = job(("m_a", "m_b", "m_c"))
    stable = plan.stabilize(p)
    new = [n["id"] for n in stable["nodes"]]
    assert len(set(new)) == len(new) and all(0 < i <= 0x7FFFFFFF for i in new)
    name = {n["id"]: n["description"] for n in p["nodes"]}
    stable_name = {n["id"]: n["description"] for n in stable["nodes"]}
    assert sorted((name[e["source"]], name[e["target"]]) for e in p["edges"]) == \
        sorted((stable_name[e["source"]], stable_name[e["target"]]) for e in stable["edges"])


def test_the_order_of_monitors_in_the_job_does_not_matter():
    assert ids(job(("m_a", "m_b"))) == ids(job(("m_b", "m_a")))


def test_describe_names_monitors_first():
    text = plan.describe(plan.compare(job(("m_a",)), job(("m_a", "m_b"), layouts={"m_a": "z"})))
    lines = text.splitlines()
    assert lines[0] == "  resets   monitor a: starts without: windows"
    assert lines[1] == "  new      monitor b: starts without state"
    assert "  keeps    source src_events: keeps its state" in lines


def ttl_of(node: dict) -> str | None:
    return (node.get("state") or [{}])[0].get("ttl") or node.get("configuration", {}).get("table.exec.state.ttl")


def test_device_and_clock_state_get_a_ttl_and_monitor_configs_never():
    p = job()
    for n in p["nodes"]:
        if n["description"] in ("versions", "config versions"):
            n["state"] = [{"index": 0, "ttl": "0 ms", "name": "deduplicateState"}]
    bounded = {n["description"]: ttl_of(n) for n in plan.bound_state(p, 7 * 86_400_000, ("src_monitor_config",))["nodes"]}
    week = "604800000 ms"
    assert bounded["versions"] == bounded["inventory join"] == bounded["clock"] == week
    assert bounded["config versions"] == "0 ms"                 # as Flink wrote it: no TTL
    assert bounded["config join"] is None and bounded["job alerts"] is None and bounded["windows"] is None


def test_a_windows_function_keeping_the_inventory_gets_no_ttl():
    """A windows function that keeps the inventory's versions itself (InventoryWindows: its
    spec's table segment names an inventory digest) forgets devices by its own rule (forget=,
    in event time) and declares all its state without TTL: the plan sets none on it, and its
    identity is the same with any --evict-after."""
    p = job()
    [windows] = [n for n in p["nodes"] if n["description"] == "windows"]
    operand = windows["functionCall"]["operands"][0]
    # the table segment as the code generator writes it (late=: the function keeps the clocks)
    operand["value"] = operand["value"].replace("lag=1;idle=1", "lag=1;idle=1;late=1;forget=1;inv=0123abcd", 1)
    a, b = plan.bound_state(p, 1000, ("src_monitor_config",)), plan.bound_state(p, 2000, ("src_monitor_config",))
    assert ttl_of(next(n for n in a["nodes"] if n["description"] == "windows")) is None
    assert "windows" in same(a, b) and "windows" in same(p, a)


def test_a_new_ttl_is_a_new_identity():
    """State written without TTL does not restore into an operator with one."""
    p = job()
    a, b = plan.bound_state(p, 1000, ("src_monitor_config",)), plan.bound_state(p, 2000, ("src_monitor_config",))
    assert "inventory join" not in same(a, b)
    assert {"windows", "job alerts", "source src_events"} <= same(a, b)


def configs_job(windows_uid: str) -> dict:
    """events and the monitor-config records -> one input -> the table's windows function,
    which keeps the configs (udfs/jvm Configs) -> the job's alert states -> a sink."""
    p = Plan()
    events = p.add("parse", "stream-exec-calc", p.table("source", "src_events"), condition="records")
    configs = p.add("config rows", "stream-exec-calc", p.table("source", "src_monitor_config"), condition="good")
    windows_input = p.add("windows input", "stream-exec-union", events, configs)
    windows = p.add("windows", "stream-exec-process-table-function", windows_input, uid=windows_uid,
                    functionCall={"operands": [{"kind": "LITERAL", "value": "lag=1;idle=1 | s_a (acme: a@m_a): aggs="}]})
    states = p.add("job alerts", "stream-exec-process-table-function", windows, uid="job--alerts--s")
    p.table("sink", "sink_alerts", states)
    return {"flinkVersion": "2.3", "nodes": p.nodes, "edges": p.edges}


def test_the_config_topic_is_read_again_when_a_windows_function_keeping_it_starts_empty():
    """The windows functions keep the configs' versions: a new windows uid (its state starts
    empty) makes the config source start without offsets, so the compacted topic is read
    again from its start; the event source keeps its offsets either way."""
    before = configs_job("t_events--windows--a")
    assert {"source src_monitor_config", "source src_events", "windows"} <= same(before, configs_job("t_events--windows--a"))
    kept = same(before, configs_job("t_events--windows--b"))
    assert "windows" not in kept and "source src_monitor_config" not in kept
    assert {"source src_events", "job alerts"} <= kept
    verdicts = {c.owner: c.verdict for c in plan.compare(before, configs_job("t_events--windows--b"))}
    assert verdicts["source:src_monitor_config"] == "resets"
