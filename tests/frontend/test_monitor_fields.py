"""Monitor files, field by field (spec/monitors.md), and the YAML-level bad input."""

from tests.frontend.helpers import at, check, diags, monitor

GOOD_QUERY = "session.vdi_events during past 5min\n| summarize c = count(), lat = network_latency.avg() by protocol"


def one(text, code, needle, message, nth=1, **kw):
    line, col = at(text, needle, nth)
    assert diags(text, **kw) == [(code, line, col, message)]


def test_a_valid_monitor_has_no_diagnostics():
    assert diags(monitor(GOOD_QUERY)) == []


def test_id_pattern():
    text = monitor(GOOD_QUERY).replace("id: m", "id: VDI-latency")
    one(text, "NQL0401", "VDI-latency", "monitor id 'VDI-latency' must match [a-z0-9_]{1,64}")


def test_id_longer_than_64():
    long_id = "a" * 65
    text = monitor(GOOD_QUERY).replace("id: m", f"id: {long_id}")
    one(text, "NQL0401", long_id, f"monitor id '{long_id}' must match [a-z0-9_]{{1,64}}")


def test_priority_values():
    text = monitor(GOOD_QUERY, extra="priority: urgent\n")
    one(text, "NQL0402", "urgent", "priority 'urgent' is not one of critical, high, medium, low")


def test_priority_defaults_to_medium():
    assert check(monitor(GOOD_QUERY)).monitors[0].spec.priority == "medium"


def test_durations_need_a_unit():
    text = monitor(GOOD_QUERY).replace("every: 30s", "every: 30")
    one(text, "NQL0403", "30\n", "'30' is not a duration (e.g. 30s, 5min, 1h, 7d)")
    assert check(text).diagnostics[0].hint == "add a unit: ms, s, min, h or d"


def test_bad_duration_text():
    text = monitor(GOOD_QUERY, extra="recover:\n  for: soon\n")
    one(text, "NQL0403", "soon", "'soon' is not a duration (e.g. 30s, 5min, 1h, 7d)")


def test_window_must_be_a_whole_multiple_of_every():
    text = monitor(GOOD_QUERY).replace("every: 30s", "every: 45s")
    one(text, "NQL0404", "45s", "the window (5min) must be a whole multiple of `every` (45s)")


def test_every_defaults_to_the_table_cadence():
    text = monitor(GOOD_QUERY).replace("every: 30s\n", "")
    assert check(text).monitors[0].every_ms == 30_000  # session.vdi_events samples every 30 s


def test_default_every_that_does_not_divide_the_window_points_at_the_window():
    query = "device_performance.events during past 12min\n| summarize c = count()"
    text = monitor(query).replace("every: 30s\n", "")  # cadence 5min does not divide 12min
    one(text, "NQL0404", "during past 12min", "the window (12min) must be a whole multiple of `every` (5min)")


def test_at_most_ten_tags():
    tags = ", ".join(f"t{i}" for i in range(11))
    text = monitor(GOOD_QUERY, extra=f"tags: [{tags}]\n")
    one(text, "NQL0405", "[t0", "a monitor has at most 10 tags, this one has 11")


def test_unknown_key_with_did_you_mean():
    text = monitor(GOOD_QUERY, extra="notfy: [x]\n")
    one(text, "NQL0004", "notfy", "unknown key 'notfy' in a monitor")
    assert check(text).diagnostics[0].hint == "did you mean 'notify'?"


def test_unknown_key_inside_trigger():
    text = monitor(GOOD_QUERY, trigger="c > 0\n  four: 2min")
    one(text, "NQL0004", "four", "unknown key 'four' in trigger")


def test_missing_query():
    text = "id: m\ntenant: acme\ntrigger: {when: c > 1}\n"
    one(text, "NQL0005", "id", "missing required key 'query' in a monitor")


def test_missing_tenant_unless_given_on_the_command_line():
    text = monitor(GOOD_QUERY).replace("tenant: acme\n", "")
    one(text, "NQL0412", "id", "monitor 'm' has no tenant; set `tenant:` or pass --tenant")
    assert diags(text, tenant="acme") == []


def test_wrong_value_type():
    text = monitor(GOOD_QUERY, extra="tags: VDI\n")
    one(text, "NQL0006", "VDI", "'tags' must be a list of names, not text")


def test_duplicate_key():
    text = monitor(GOOD_QUERY, extra="every: 1min\n")
    one(text, "NQL0007", "every", "duplicate key 'every'", nth=2)


def test_trigger_when_required_for_threshold_monitors():
    text = monitor(GOOD_QUERY).replace("trigger:\n  when: c > 0\n", "")
    one(text, "NQL0409", "id", "`trigger.when` is required for a threshold monitor")


def test_trigger_condition_names_an_unknown_column():
    text = monitor(GOOD_QUERY, trigger="latency > 300ms")
    one(text, "NQL0213", "latency >", "'latency' is not an output column of the query")
    assert check(text).diagnostics[0].hint == "did you mean 'lat'?"


def test_trigger_condition_type_mismatch():
    text = monitor(GOOD_QUERY, trigger="lat > 300")
    one(text, "NQL0204", "300", "cannot compare duration with int")


def test_trigger_condition_must_be_boolean():
    text = monitor(GOOD_QUERY, trigger="lat")
    one(text, "NQL0214", "lat\n", "`trigger.when` must be a condition (true or false), not duration")


def test_trigger_condition_cannot_aggregate():
    text = monitor(GOOD_QUERY, trigger="c.max() > 3")
    one(text, "NQL0410", "max", "a condition compares output columns; max() belongs in the query")


def test_trigger_condition_on_a_group_key():
    assert diags(monitor(GOOD_QUERY, trigger="c > 3 and protocol == ica")) == []


def test_recover_condition_is_typed_too():
    text = monitor(GOOD_QUERY, extra="recover:\n  when: lat <= 250\n")
    one(text, "NQL0204", "250", "cannot compare duration with int")


def test_for_not_a_multiple_of_every_warns():
    text = monitor(GOOD_QUERY, trigger="c > 0\n  for: 45s")
    one(text, "NQL0504", "45s", "`for: 45s` is not a multiple of `every` (30s); it acts as 1min")


def test_detection_metric_must_be_a_numeric_output_column():
    text = monitor(GOOD_QUERY, extra="detection:\n  type: seasonal\n  metric: protocol\n")
    one(text, "NQL0407", "protocol\n", "detection metric 'protocol' is not a numeric output column of the query", nth=2)


def test_detection_type_choice():
    text = monitor(GOOD_QUERY, extra="detection:\n  type: seasonl\n  metric: lat\n")
    one(text, "NQL0406", "seasonl", "'type' must be one of threshold, change, seasonal, not 'seasonl'")


def test_detection_direction_and_deviations():
    text = monitor(GOOD_QUERY, extra="detection:\n  type: seasonal\n  metric: lat\n  direction: up\n  deviations: -1\n")
    (l1, c1), (l2, c2) = at(text, "up"), at(text, "-1")
    assert diags(text) == [
        ("NQL0406", l1, c1, "'direction' must be one of above, below, both, not 'up'"),
        ("NQL0408", l2, c2, "'deviations' must be a number above zero, not -1"),
    ]


def test_seasonal_slot_must_divide_a_day():
    text = monitor(GOOD_QUERY, extra="detection:\n  type: seasonal\n  metric: lat\n  slot: 7min\n")
    one(text, "NQL0411", "7min", "slot 7min must divide one day into whole slots")


def test_change_percentage():
    text = monitor(GOOD_QUERY, extra="detection:\n  type: change\n  metric: lat\n  change: lots\n")
    one(text, "NQL0408", "lots", "'change' must be a percentage above 0%, not lots")
    ok = monitor(GOOD_QUERY, extra="detection:\n  type: change\n  metric: lat\n  change: 50%\n")
    assert check(ok).monitors[0].spec.detection.change == 0.5


def test_seasonal_monitor_needs_no_trigger_condition():
    text = monitor(GOOD_QUERY, extra="detection:\n  type: seasonal\n  metric: lat\n").replace("trigger:\n  when: c > 0\n", "")
    assert diags(text) == []


# -- files ----------------------------------------------------------------------------------


def test_a_list_of_monitors_under_monitors():
    text = ("monitors:\n"
            "  - {id: a, tenant: acme, query: 'session.logins during past 15min | summarize c = count()', trigger: {when: c > 1}}\n"
            "  - {id: b, tenant: acme, query: 'session.logins during past 15min | summarize c = count()', trigger: {when: c > 2}}\n")
    result = check(text)
    assert result.ok and [m.id for m in result.monitors] == ["a", "b"]


def test_two_monitors_with_the_same_id_and_tenant_in_one_folder(tmp_path):
    from nql_flink.translator.pipeline import check_paths

    for name in ("one.yaml", "two.yaml"):
        (tmp_path / name).write_text(monitor(GOOD_QUERY))
    result = check_paths([str(tmp_path)])
    first = tmp_path / "one.yaml"
    assert [d.as_tuple() for d in result.diagnostics] == [
        ("NQL0008", 1, 5, f"monitor id 'm' is already used for tenant 'acme' (first at {first}:1:1)")]
    assert [m.spec.path for m in result.monitors] == [str(first)]


def test_same_id_for_two_tenants_is_fine(tmp_path):
    from nql_flink.translator.pipeline import check_paths

    (tmp_path / "a.yaml").write_text(monitor(GOOD_QUERY))
    (tmp_path / "b.yaml").write_text(monitor(GOOD_QUERY).replace("acme", "globex"))
    assert check_paths([str(tmp_path)]).ok


def test_malformed_yaml():
    text = "id: m\ntenant: acme\nquery: [unclosed\ntrigger: {when: c > 1}\n"
    result = check(text)
    assert [d.code for d in result.diagnostics] == ["NQL0002"]
    assert result.diagnostics[0].location[1] == 4  # libyaml notices at the next key


def test_tab_indentation_is_malformed_yaml():
    result = check("id: m\ntenant: acme\n\tquery: x\n")
    assert [d.code for d in result.diagnostics] == ["NQL0002"]


def test_not_utf8():
    result = check_bytes(b"id: m\ntenant: acme\nname: caf\xe9\n")
    assert [d.as_tuple() for d in result.diagnostics] == [("NQL0001", 3, 10, "file is not valid UTF-8 (byte 0xe9)")]


def test_empty_file():
    assert [d.code for d in check("").diagnostics] == ["NQL0010"]


def test_a_scalar_document_is_not_a_monitor():
    assert diags("just text\n") == [("NQL0003", 1, 1, "a monitor file holds one monitor (a mapping) or a list under `monitors:`, not text")]


def test_yaml_anchors_do_not_break_the_checker():
    text = "x: &a [1, 2]\nid: m\n"
    assert {d.code for d in check(text).diagnostics} == {"NQL0004", "NQL0005", "NQL0409", "NQL0412"}


def check_bytes(data: bytes):
    from nql_flink.translator.pipeline import check_text

    return check_text("m.yaml", data)
