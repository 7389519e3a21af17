"""Every rule of the front end, shown by the exact diagnostic a bad monitor gets:
code, file line and column (in the YAML file), and message. Messages are written by hand
from the rule; positions are found in the input text, independently of the program."""

import pytest

from tests.frontend.helpers import at, check, diags, monitor

VDI = "session.vdi_events during past 5min"


def one(text, code, needle, message, nth=1, **kw):
    line, col = at(text, needle, nth)
    assert diags(text, **kw) == [(code, line, col, message)]


# -- names ---------------------------------------------------------------------------------


def test_unknown_field_points_into_the_query_block_with_did_you_mean():
    text = monitor(f"{VDI}\n| summarize avg_lag = network_lag.avg()", trigger="avg_lag > 100ms")
    one(text, "NQL0203", "network_lag", "'network_lag' is not a field of session.vdi_events")
    d = check(text).diagnostics[0]
    assert d.hint == "did you mean 'network_latency'?"


def test_unknown_table():
    text = "id: m\ntenant: acme\nquery: sessions.vdi_events during past 5min | summarize c = count()\ntrigger: {when: c > 1}\n"
    one(text, "NQL0201", "sessions.vdi_events", "unknown table 'sessions.vdi_events'")


def test_unknown_inventory_field_through_device_link():
    text = monitor(f"{VDI}\n| summarize c = count() by device.virtualization.pool")
    one(text, "NQL0203", "device.virtualization.pool", "'device.virtualization.pool' is not a field of session.vdi_events")


# -- types ---------------------------------------------------------------------------------


def test_duration_compared_with_a_bare_number():
    text = monitor(f"{VDI}\n| where network_latency > 300\n| summarize c = count()")
    one(text, "NQL0204", "300", "cannot compare duration with int")
    assert check(text).diagnostics[0].hint == "write the threshold with a unit, e.g. 300ms or 5s"


def test_byte_compared_with_a_bare_number():
    text = monitor("device_performance.events during past 15min\n| where free_memory < 1000\n| summarize c = count()")
    one(text, "NQL0204", "1000", "cannot compare byte with int")


def test_unknown_enum_value():
    text = monitor(f"{VDI}\n| where protocol == citrix\n| summarize c = count()")
    one(text, "NQL0206", "citrix", "'citrix' is not a value of protocol (ica, blast, rdp, pcoip)")


def test_enum_values_are_case_insensitive():
    text = monitor(f"{VDI}\n| where protocol == ICA and context.location.type in [Remote, on_site]\n| summarize c = count()")
    assert diags(text) == []


def test_string_compared_with_number():
    text = monitor(f"{VDI}\n| where client.location.site == 3\n| summarize c = count()")
    one(text, "NQL0204", "3\n", "cannot compare string with int")


def test_operator_not_defined_for_type():
    text = monitor(f"{VDI}\n| where client.location.site > \"a\"\n| summarize c = count()")
    one(text, "NQL0205", "> ", "operator '>' is not defined for string")


def test_contains_needs_a_string_array():
    text = monitor(f"{VDI}\n| where client.location.site contains \"HQ\"\n| summarize c = count()")
    one(text, "NQL0205", "contains", "operator 'contains' is not defined for string")


def test_wildcard_against_an_enum():
    text = monitor(f"{VDI}\n| where protocol == \"ic*\"\n| summarize c = count()")
    one(text, "NQL0217", '"ic*"', "wildcards need a string operand, not enum")


def test_aggregate_on_wrong_type():
    text = monitor(f"{VDI}\n| summarize c = client.location.site.avg()")
    one(text, "NQL0208", "avg", "avg() cannot aggregate string values")


def test_arithmetic_on_incompatible_types():
    text = monitor(f"{VDI}\n| summarize c = network_latency.avg() + frame_rate.avg()")
    one(text, "NQL0210", "+", "cannot apply '+' to duration and float")


def test_unknown_function_with_did_you_mean():
    text = monitor(f"{VDI}\n| summarize c = network_latency.average()")
    one(text, "NQL0207", "average", "unknown function 'average()'")
    assert check(text).diagnostics[0].hint == "did you mean 'avg'?"


def test_unsupported_function_is_loud():
    text = monitor(f"{VDI}\n| where end_time.hour() > 8\n| summarize c = count()")
    one(text, "NQL0216", "hour", "hour() is not supported in a streaming monitor: "
        "time-of-day logic is what `detection: seasonal` is for")


def test_aggregate_in_where_before_summarize():
    text = monitor(f"{VDI}\n| where network_latency.avg() > 1s\n| summarize c = count()")
    one(text, "NQL0211", "avg", "avg() aggregates; it is allowed only in `compute` and `summarize`")


def test_field_not_aggregated_in_summarize():
    text = monitor(f"{VDI}\n| summarize c = frame_rate")
    one(text, "NQL0215", "frame_rate", "'frame_rate' must be aggregated (or be a `by` key) in `summarize`")


def test_duplicate_output_name():
    text = monitor(f"{VDI}\n| summarize c = count(), c = frame_rate.avg()")
    one(text, "NQL0212", "c =", "'c' is defined twice", nth=2)


# -- grouping and structure ---------------------------------------------------------------


@pytest.mark.parametrize("key,type_name", [("frame_rate", "float"), ("end_time", "datetime"), ("bandwidth", "bitrate"),
                                           ("device.hardware.memory", "byte")])
def test_no_numeric_datetime_or_byte_group_keys(key, type_name):
    text = monitor(f"{VDI}\n| summarize c = count() by {key}")
    one(text, "NQL0303", key, f"cannot group by '{key}': {type_name} values are not allowed as `by` keys")


def test_at_most_one_period_key():
    text = monitor(f"{VDI}\n| summarize c = count() by protocol, 15min, 1h")
    one(text, "NQL0304", "1h", "at most one time period is allowed in `by`")


def test_period_minutes_multiple_of_15():
    text = monitor(f"{VDI}\n| summarize c = count() by 20min")
    one(text, "NQL0305", "20min", "period 20min is not allowed: minutes must be a multiple of 15")


PERIOD_NOT_COMPILED = "a period key in `by` cannot be compiled to Flink SQL yet"


def test_period_with_a_space_is_read_then_refused_by_the_back_end_at_the_period():
    text = monitor(f"{VDI}\n| summarize c = count() by protocol, 15 min")
    assert diags(text) == [("NQL0601", *at(text, "15 min"), PERIOD_NOT_COMPILED)]


def test_sub_15_minute_period_is_an_extension_warning_and_an_error_when_strict():
    text = monitor(f"{VDI}\n| summarize c = count() by 1min")
    line, col = at(text, "1min")
    message = "a period under 15 min (`by 1min`) is an nql-flink extension (rejected with --strict)"
    assert diags(text) == [("NQL0503", line, col, message), ("NQL0601", line, col, PERIOD_NOT_COMPILED)]
    result = check(text, strict=True)
    assert [d.as_tuple() for d in result.diagnostics] == [("NQL0503", line, col, message)]
    assert result.diagnostics[0].is_error and not result.ok


def test_summarize_after_compute_with_a_change_detection_is_refused_at_the_summarize():
    text = monitor("devices during past 30min\n| compute q = cpu_queue_length.avg()\n"
                   "| summarize n = countif(q > 2) by virtualization.desktop_pool", trigger="n > 0",
                   extra="detection:\n  type: change\n  metric: n\n  change: 50%\n")
    assert diags(text) == [("NQL0601", *at(text, "summarize"),
                            "a change detection over `summarize` after `compute` cannot be compiled to Flink SQL yet")]


def test_compute_without_with_or_include():
    text = monitor(f"{VDI}\n| compute c = count()")
    one(text, "NQL0302", "compute", "`compute` can be used only after `with` or `include`")


def test_query_without_compute_or_summarize():
    text = monitor(f"{VDI}\n| where protocol == ica")
    one(text, "NQL0301", "where", "a monitor query must end in a `compute` or `summarize` clause")


def test_with_after_an_event_table():
    text = monitor(f"{VDI}\n| with session.logins\n| summarize c = count()")
    one(text, "NQL0306", "with", "`with` needs an object table (e.g. devices) before it, not session.vdi_events")


def test_fixed_time_selection_rejected():
    text = monitor("session.vdi_events from 2026-11-01 to 2026-11-02\n| summarize c = count()")
    one(text, "NQL0307", "from", "a monitor evaluates a sliding window; `from … to` selects a fixed period")


def test_missing_time_selection():
    text = monitor("session.vdi_events\n| summarize c = count()")
    one(text, "NQL0308", "session.vdi_events", "a monitor query needs `during past <duration>` after the table")


def test_list_and_sort_are_parsed_but_ignored_with_a_warning():
    text = monitor(f"{VDI}\n| summarize c = count() by protocol\n| sort c desc")
    one(text, "NQL0501", "sort", "`sort` is ignored when a monitor is evaluated")
    assert check(text).ok


def test_by_device_name_warns():
    text = monitor(f"{VDI}\n| summarize c = count() by device.name")
    one(text, "NQL0502", "device.name", "alerts per device need `by device.collector.uid`; `device.name` is not unique")


# -- lexing and parsing ------------------------------------------------------------------------


def test_not_is_not_nql():
    text = monitor(f"{VDI}\n| where not protocol == ica\n| summarize c = count()")
    one(text, "NQL0108", "not", "`not` is not an NQL operator")


def test_double_dash_is_not_a_comment():
    text = monitor(f"{VDI} -- recent\n| summarize c = count()")
    one(text, "NQL0109", "--", "'--' does not start a comment in NQL")


def test_block_comments_are_skipped():
    assert diags(monitor(f"{VDI} /* the last\n five minutes */\n| summarize c = count()")) == []


def test_unterminated_comment():
    text = monitor(f"{VDI} /* open\n| summarize c = count()")
    one(text, "NQL0103", "/*", "comment is not closed (missing */)")


def test_comment_between_pipe_and_keyword():
    text = monitor(f"{VDI}\n| /* c */ summarize c = count()")
    one(text, "NQL0114", "summarize", "a comment is not allowed between `|` and its keyword")


def test_unterminated_string():
    text = "id: m\ntenant: acme\nquery: 'session.vdi_events during past 5min | where client.location.site == \"HQ'\ntrigger: {when: c > 1}\n"
    one(text, "NQL0102", '"HQ', "string literal is not closed")


def test_unknown_clause_with_did_you_mean():
    text = monitor(f"{VDI}\n| summarise c = count()")
    one(text, "NQL0110", "summarise", "unknown clause 'summarise'")
    assert check(text).diagnostics[0].hint == "did you mean 'summarize'?"


def test_bad_duration_unit_gets_a_hint():
    text = monitor("session.vdi_events during past 5m\n| summarize c = count()")
    one(text, "NQL0107", "5m", "invalid number literal '5m'")
    assert check(text).diagnostics[0].hint == "write 5min"


def test_unexpected_token():
    text = monitor(f"{VDI}\n| summarize c = count() by")
    line, col = at(text, "by")  # the query ends right after `by`
    assert diags(text) == [("NQL0104", line, col + 2, "expected a field or a period after `by`, found end of query")]


def test_bad_escape_in_string():
    text = monitor(f'{VDI}\n| where client.location.site == "a\\qb"\n| summarize c = count()')
    one(text, "NQL0112", "\\q", "unknown escape sequence '\\q' in string")


def test_query_longer_than_16000_characters():
    padding = "/*" + "x" * 16_000 + "*/"
    text = monitor(f"{VDI} {padding}\n| summarize c = count()")
    one(text, "NQL0105", "session", f"query is {16_000 + len(VDI) + 5 + 24} characters long; NQL allows at most 16000")


def test_deeply_nested_expression():
    text = monitor(f"{VDI}\n| where " + "(" * 200 + "frame_rate > 1" + ")" * 200 + "\n| summarize c = count()")
    line, col = at(text, "(")
    assert diags(text) == [("NQL0106", line, col + 64, "expression is nested more than 64 levels deep")]


def test_strings_with_quotes_semicolons_and_comment_marks_are_plain_values():
    text = monitor(f'{VDI}\n| where client.location.site == "O\'Brien\\"s; DROP TABLE x; -- /* */"\n| summarize c = count()')
    assert diags(text) == []


# -- all diagnostics of a file are reported ------------------------------------------------------


def test_every_problem_in_a_file_is_reported_in_order():
    text = (
        "id: Bad-Id\n"
        "tenant: acme\n"
        "priority: urgent\n"
        "tagz: [a]\n"
        "query: |\n"
        "  session.vdi_events during past 5min\n"
        "  | where protocol == icaa and rtt > 300\n"
        "  | summarize avg_lag = network_lag.avg()\n"
        "trigger:\n"
        "  when: avg_lag > 1s\n"
    )
    assert [(c, line) for c, line, _, _ in diags(text)] == [
        ("NQL0401", 1), ("NQL0402", 3), ("NQL0004", 4), ("NQL0206", 7), ("NQL0204", 7), ("NQL0203", 8)]
