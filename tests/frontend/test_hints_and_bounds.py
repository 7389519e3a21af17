"""One mistake, one diagnostic, with the hint that fixes it; bounds checked at check time.

The monitor() helper puts the query from file line 4, indented two spaces: query line k,
column c is file line 3 + k, column 2 + c. Positions below are counted by hand."""

from tests.frontend.helpers import check, diags, monitor

VDI = "session.vdi_events during past 5min"
COUNT = "| summarize c = count()"


def only(text):
    [d] = check(text).diagnostics
    return d.as_tuple(), d.hint


# -- operators and characters from other languages ------------------------------------------


def test_double_ampersand_is_and():
    text = monitor(f"{VDI}\n| where network_latency > 100ms && protocol == ica\n{COUNT}")
    # "| where network_latency > 100ms " is 32 characters: && at 33, file column 35
    assert only(text) == (("NQL0116", 5, 35, "'&&' is not an NQL operator"), "use `and`")


def test_single_ampersand_is_and_too():
    text = monitor(f"{VDI}\n| where network_latency > 100ms & protocol == ica\n{COUNT}")
    assert only(text) == (("NQL0116", 5, 35, "'&' is not an NQL operator"), "use `and`")


def test_double_bar_in_a_condition():
    text = monitor(f"{VDI}\n{COUNT}", trigger="c > 1 || c < 0")
    # line 8 is "  when: c > 1 || c < 0": || at column 15
    assert only(text) == (("NQL0116", 8, 15, "'||' is not an NQL operator"), "use `or`")


def test_double_bar_is_or():
    text = monitor(f"{VDI}\n| where network_latency > 100ms || protocol == ica\n{COUNT}")
    assert only(text) == (("NQL0116", 5, 35, "'||' is not an NQL operator"), "use `or`")


def test_smart_quotes_are_one_error_with_the_hint():
    text = monitor(f"{VDI}\n| where client.location.site == \u201cHQ\u201d\n{COUNT}")
    # "| where client.location.site == " is 32 characters: the quote at 33, file column 35
    assert only(text) == (("NQL0101", 5, 35, "unexpected character '\u201c'"), "use straight quotes: \" or '")


def test_single_smart_quotes_too():
    text = monitor(f"{VDI}\n| where client.location.site == \u2018HQ\u2019\n{COUNT}")
    assert only(text) == (("NQL0101", 5, 35, "unexpected character '\u2018'"), "use straight quotes: \" or '")


def test_non_breaking_space_reads_as_a_space():
    text = monitor(f"{VDI}\n| where\u00a0protocol == ica\n{COUNT}")
    # "| where" is 7 characters: the no-break space at 8, file column 10
    assert only(text) == (("NQL0101", 5, 10, "unexpected character '\\xa0'"), "use a plain space")


def test_sql_in_list_in_parentheses():
    text = monitor(f"{VDI}\n| where protocol in (ica, rdp)\n{COUNT}")
    # "| where protocol in " is 20 characters: ( at 21, file column 23
    assert only(text) == (("NQL0104", 5, 23, "expected a list [a, b, …], found '('"), "write the list in brackets: [a, b]")


# -- calls without parentheses -----------------------------------------------------------------


def test_count_without_parentheses_suggests_the_call():
    text = monitor(f"{VDI}\n| summarize c = count")
    # "| summarize c = " is 16 characters: count at 17, file column 19
    assert only(text) == (("NQL0203", 5, 19, "'count' is not a field of session.vdi_events"), "did you mean 'count()'?")


def test_aggregate_without_parentheses_suggests_the_call():
    text = monitor(f"{VDI}\n| summarize c = network_latency.avg")
    assert only(text) == (("NQL0203", 5, 19, "'network_latency.avg' is not a field of session.vdi_events"),
                          "did you mean 'network_latency.avg()'?")


# -- durations written with a space ---------------------------------------------------------


def test_spaced_duration_in_the_window():
    text = monitor(f"session.vdi_events during past 30 s\n{COUNT}")
    # "session.vdi_events during past " is 31 characters: 30 at 32, file column 34
    assert only(text) == (("NQL0107", 4, 34, "invalid duration literal '30 s'"), "write 30s (no space)")


def test_spaced_duration_in_a_comparison():
    text = monitor(f"{VDI}\n| where network_latency > 300 ms\n{COUNT}")
    # "| where network_latency > " is 26 characters: 300 at 27, file column 29
    assert only(text) == (("NQL0107", 5, 29, "invalid duration literal '300 ms'"), "write 300ms (no space)")


# -- numbers out of range ----------------------------------------------------------------------


def test_float_beyond_double_is_one_error():
    text = monitor(f"{VDI}\n{COUNT}\n| where c > 1e400")
    # "| where c > " is 12 characters: 1e400 at 13, file column 15, query line 3
    assert only(text) == (("NQL0115", 6, 15, "1e400 is out of range for a DOUBLE"), "at most about 1.8e308")


def test_scientific_notation_within_range_is_a_float():
    assert diags(monitor(f"{VDI}\n{COUNT}\n| where c > 1e3")) == []


def test_integer_beyond_bigint():
    text = monitor(f"{VDI}\n{COUNT}\n| where c > 9223372036854775808")
    assert only(text) == (("NQL0115", 6, 15, "9223372036854775808 is out of range for a BIGINT"),
                          "at most 9223372036854775807")


def test_largest_bigint_is_fine():
    assert diags(monitor(f"{VDI}\n{COUNT}\n| where c > 9223372036854775807")) == []


def test_smallest_bigint_is_fine_after_a_sign():
    assert diags(monitor(f"{VDI}\n{COUNT}\n| where c > -9223372036854775808")) == []


def test_after_a_subtraction_the_same_number_is_out_of_range():
    text = monitor(f"{VDI}\n{COUNT}\n| where c > 1 - 9223372036854775808")
    # "| where c > 1 - " is 16 characters: the number at 17, file column 19
    assert only(text)[0] == ("NQL0115", 6, 19, "9223372036854775808 is out of range for a BIGINT")


def test_ipv4_part_over_255():
    text = monitor(f"{VDI}\n| where client.ip == 10.256.0.1\n{COUNT}")
    # "| where client.ip == " is 21 characters: the address at 22, file column 24
    assert only(text) == (("NQL0107", 5, 24, "invalid IP address literal '10.256.0.1'"),
                          "each part is 0 to 255 and a prefix at most /32")


def test_ipv4_prefix_over_32():
    text = monitor(f"{VDI}\n| where client.ip in [10.0.0.0/8, 10.20.0.0/33]\n{COUNT}")
    # "| where client.ip in [10.0.0.0/8, " is 34 characters: the subnet at 35, file column 37
    assert only(text)[0] == ("NQL0107", 5, 37, "invalid IP address literal '10.20.0.0/33'")


def test_ipv6_prefix_over_128():
    text = monitor(f"{VDI}\n| where client.ip == f164:b28c::/129\n{COUNT}")
    assert only(text) == (("NQL0107", 5, 24, "invalid IP address literal 'f164:b28c::/129'"), "an IPv6 prefix is at most /128")


def test_long_decimal_beyond_double_is_shortened_in_the_message():
    text = monitor(f"{VDI}\n{COUNT}\n| where c > 1{'0' * 400}.5")
    assert only(text)[0] == ("NQL0115", 6, 15, "10000000000000000000… is out of range for a DOUBLE")


def test_duration_beyond_bigint_milliseconds():
    text = monitor(f"{VDI}\n| where network_latency > 999999999999999d\n{COUNT}")
    assert only(text) == (("NQL0115", 5, 29, "999999999999999d is out of range for a duration (a BIGINT of milliseconds)"),
                          "at most 9223372036854775807")


# -- windows --------------------------------------------------------------------------------------


def test_huge_window_is_rejected_at_its_position():
    text = monitor(f"session.vdi_events during past 99999999999d\n{COUNT}")
    assert only(text) == (("NQL0311", 4, 34, "window `during past 99999999999d` is not allowed: it must be at most 7d"), None)


def test_window_over_a_week():
    text = monitor(f"session.vdi_events during past 8d\n{COUNT}", extra="")
    assert only(text)[0] == ("NQL0311", 4, 34, "window `during past 8d` is not allowed: it must be at most 7d")


def test_week_window_is_fine():
    assert diags(monitor(f"session.vdi_events during past 7d\n{COUNT}")) == []


def test_data_resolution_suffix_is_rejected():
    text = monitor(f"session.vdi_events during past 5min by 30s\n{COUNT}")
    # "session.vdi_events during past 5min by " is 39 characters: 30s at 40, file column 42
    assert only(text) == (("NQL0312", 4, 42, "`by 30s` after the time selection chooses a data resolution; a monitor reads every record"),
                          "remove it; `every:` sets how often the monitor is evaluated")


def test_for_beyond_a_year():
    text = monitor(f"{VDI}\n{COUNT}").replace("  when: c > 0\n", "  when: c > 0\n  for: 99999999999d\n")
    # lines 6-9: every, trigger:, when, then "  for: 99999999999d": the value at column 8
    assert only(text) == (("NQL0408", 9, 8, "'for' must be a duration of at most 366d, not 99999999999d"), None)


def test_infinite_deviations():
    text = monitor(f"{VDI}\n| summarize c = count()", extra="detection: {type: seasonal, metric: c, deviations: 1.0e+400}\n")
    # last line is "detection: {type: seasonal, metric: c, deviations: 1.0e+400}": the value at column 52
    assert only(text) == (("NQL0408", 9, 52, "'deviations' must be a finite number, not 1.0e+400"), None)


def test_seasonal_history_under_a_day_is_reported_at_the_history():
    text = monitor(f"{VDI}\n| summarize c = count()", extra="detection: {type: seasonal, metric: c, history: 12h}\n")
    # last line is "detection: {type: seasonal, metric: c, history: 12h}": the value at column 49
    assert only(text) == (("NQL0408", 9, 49, "'history' must be a duration from 1d to 98d for a seasonal detection, not 12h"),
                          None)


def test_change_history_over_98_days():
    text = monitor(f"{VDI}\n| summarize c = count()", extra="detection: {type: change, metric: c, history: 99d}\n")
    assert only(text)[0] == ("NQL0408", 9, 47, "'history' must be a duration of at most 98d for a change detection, not 99d")


def test_seasonal_history_of_98_days_is_fine():
    text = monitor(f"{VDI}\n| summarize c = count()", extra="detection: {type: seasonal, metric: c, history: 98d}\n")
    assert diags(text) == []


# -- null --------------------------------------------------------------------------------------------


def test_ordering_against_null_is_an_error():
    text = monitor(f"{VDI}\n| where network_latency > null\n{COUNT}")
    # "| where network_latency " is 24 characters: > at 25, file column 27
    assert only(text) == (("NQL0218", 5, 27, "'>' has no meaning against null"), "test for a missing value with == null or != null")


def test_null_on_the_left_too():
    text = monitor(f"{VDI}\n| where null <= network_latency\n{COUNT}")
    # "| where null " is 13 characters: <= at 14, file column 16
    assert only(text)[0] == ("NQL0218", 5, 16, "'<=' has no meaning against null")


def test_equality_with_null_keeps_its_meaning():
    assert diags(monitor(f"{VDI}\n| where network_latency == null or network_latency != null\n{COUNT}")) == []


# -- monitor fields --------------------------------------------------------------------------------


def test_yaml_boolean_tenant_is_one_diagnostic_about_its_type():
    text = "id: m\ntenant: NO\nquery: session.vdi_events during past 5min | summarize c = count()\ntrigger: {when: c > 1}\n"
    assert only(text) == (("NQL0006", 2, 9, "'tenant' must be text, not true/false"), "YAML reads NO as true/false; write it in quotes: 'NO'")


def test_each_bad_tag_is_reported_where_it_stands():
    text = ("id: m\ntenant: acme\nquery: session.vdi_events during past 5min | summarize c = count()\n"
            "trigger: {when: c > 1}\ntags: [VDI, VDI, '', 123]\n")
    # line 5: "tags: [" 1-7, VDI 8-10, ", " , VDI 13-15, ", ", '' 18-19, ", ", 123 22-24
    assert diags(text) == [
        ("NQL0415", 5, 13, "tag 'VDI' is listed twice"),
        ("NQL0416", 5, 18, "a tag must be non-empty text, not empty text"),
        ("NQL0416", 5, 22, "a tag must be non-empty text, not a whole number"),
    ]


def test_period_key_over_a_week():
    text = monitor(f"{VDI}\n| summarize c = count() by 8d")
    # "| summarize c = count() by " is 27 characters: 8d at 28, file column 30
    assert only(text) == (("NQL0305", 5, 30, "period 8d is not allowed: it must be at most 7d"), None)


def test_resolution_suffix_on_the_joined_events_too():
    text = monitor("devices\n| with session.vdi_events during past 5min by 30s\n| compute c = count()")
    # "| with session.vdi_events during past 5min by " is 46 characters: 30s at 47, file column 49
    assert only(text)[0][:3] == ("NQL0312", 5, 49)
