"""Positions are the file's in every YAML scalar style, for the query and the conditions.

Each expected (line, column) is counted by hand in the text above it (1-based)."""

from tests.frontend.helpers import check, diags

UNKNOWN_NOPE = "'nope' is not a field of session.vdi_events"
UNKNOWN_COLUMN = "'nope' is not an output column of the query"


def test_plain_one_line_query():
    text = "id: m\ntenant: acme\nquery: session.vdi_events during past 5min | summarize c = count() by nope\ntrigger: {when: c > 0}\n"
    # "session...5min" 8-42, " | summarize c = count() by " 43-70, nope at 71
    assert diags(text) == [("NQL0203", 3, 71, UNKNOWN_NOPE)]


def test_plain_multi_line_query():
    text = ("id: m\ntenant: acme\nquery: session.vdi_events during past 5min\n"
            "  | summarize c = count() by nope\ntrigger: {when: c > 0}\n")
    assert diags(text) == [("NQL0203", 4, 30, UNKNOWN_NOPE)]


def test_single_quoted_query_with_doubled_quotes_before_the_error():
    text = ("id: m\ntenant: acme\n"
            "query: 'session.vdi_events during past 5min | where client.location.site == ''HQ'' | summarize c = count() by nope'\n"
            "trigger: {when: c > 0}\n")
    # ' at 8; "session...5min" 9-43; " | where " 44-52; client.location.site 53-72; " == " 73-76;
    # ''HQ'' 77-82; " | summarize c = count() by " 83-110; nope at 111
    assert diags(text) == [("NQL0203", 3, 111, UNKNOWN_NOPE)]


def test_double_quoted_query_with_escapes_before_the_error():
    text = ("id: m\ntenant: acme\n"
            'query: "session.vdi_events during past 5min | where client.location.site == \\"H\\\\\\\\Q\\" | summarize c = count() by nope"\n'
            "trigger: {when: c > 0}\n")
    # line 3 is: query: "session.vdi_events during past 5min | where client.location.site == \"H\\\\Q\" | summarize ...
    # \"H\\\\Q\" is 10 file characters at 77-86 (NQL's "H\\Q"); " | summarize c = count() by " 87-114; nope at 115
    assert diags(text) == [("NQL0203", 3, 115, UNKNOWN_NOPE)]


def test_double_quoted_query_with_a_newline_escape():
    text = ("id: m\ntenant: acme\n"
            'query: "session.vdi_events during past 5min\\n| summarize c = count() by nope"\n'
            "trigger: {when: c > 0}\n")
    # \n at 44-45; "| summarize c = count() by " 46-72; nope at 73
    assert diags(text) == [("NQL0203", 3, 73, UNKNOWN_NOPE)]


def test_multi_line_double_quoted_query_reports_the_errors_file_line():
    text = ('id: m\ntenant: acme\nquery: "session.vdi_events\n'
            "  during past 5min\n"
            '  | where client.location.site == \\"HQ\\"\n'
            "\n"
            "  | summarize c = count() by nope\"\n"
            "trigger: {when: c > 0}\n")
    # the query's 5th line is file line 7; two spaces, then "| summarize c = count() by " (27), nope at 30
    assert diags(text) == [("NQL0203", 7, 30, UNKNOWN_NOPE)]


def test_multi_line_single_quoted_query():
    text = ("id: m\ntenant: acme\nquery: 'session.vdi_events during past 5min\n"
            "    | where client.location.site == ''HQ''\n"
            "    | summarize c = count() by nope'\n"
            "trigger: {when: c > 0}\n")
    assert diags(text) == [("NQL0203", 5, 32, UNKNOWN_NOPE)]


def test_folded_query():
    text = ("id: m\ntenant: acme\nquery: >\n  session.vdi_events during past 5min\n"
            "  | summarize c = count() by nope\ntrigger: {when: c > 0}\n")
    assert diags(text) == [("NQL0203", 5, 30, UNKNOWN_NOPE)]


def test_literal_query_with_deeper_lines():
    text = ("id: m\ntenant: acme\nquery: |-\n    session.vdi_events during past 5min\n"
            "      | summarize c = count() by nope\ntrigger: {when: c > 0}\n")
    assert diags(text) == [("NQL0203", 5, 34, UNKNOWN_NOPE)]


QUERY_BY_SITE = "query: session.vdi_events during past 5min | summarize c = count() by client.location.site\n"


def test_single_quoted_condition_with_doubled_quotes():
    text = f"id: m\ntenant: acme\n{QUERY_BY_SITE}trigger:\n  when: 'client.location.site == ''HQ'' and nope > 1'\n"
    # line 5: two spaces, "when: '" 3-9, client.location.site 10-29, " == " 30-33, ''HQ'' 34-39, " and " 40-44, nope 45
    assert diags(text) == [("NQL0213", 5, 45, UNKNOWN_COLUMN)]


def test_double_quoted_condition_with_escapes():
    text = f'id: m\ntenant: acme\n{QUERY_BY_SITE}trigger:\n  when: "client.location.site == \\"HQ\\" and nope > 1"\n'
    # \"HQ\" is 6 file characters at 34-39, as above: nope at 45
    assert diags(text) == [("NQL0213", 5, 45, UNKNOWN_COLUMN)]


def test_multi_line_double_quoted_condition():
    text = f'id: m\ntenant: acme\n{QUERY_BY_SITE}recover:\n  when: "c > 0\n    and nope > 1"\ntrigger: {{when: c > 0}}\n'
    assert diags(text) == [("NQL0213", 6, 9, UNKNOWN_COLUMN)]


def test_folded_condition():
    text = f"id: m\ntenant: acme\n{QUERY_BY_SITE}trigger:\n  when: >\n    c > 0\n    and nope > 1\n"
    assert diags(text) == [("NQL0213", 7, 9, UNKNOWN_COLUMN)]


def test_unclosed_double_quote_is_reported_where_the_string_opens():
    text = 'id: m\ntenant: acme\nquery: "session.vdi_events during past 5min\ntrigger: {when: c > 1}\n'
    assert diags(text) == [("NQL0002", 3, 8, "malformed YAML: the quoted string opened here is not closed")]
    assert check(text).diagnostics[0].hint == "close it with the same quote"


def test_unclosed_single_quote_is_reported_where_the_string_opens():
    text = "id: m\ntenant: acme\ntrigger:\n  when: 'c > 1\n"
    assert diags(text) == [("NQL0002", 4, 9, "malformed YAML: the quoted string opened here is not closed")]


def test_tab_indent_gets_the_hint():
    text = "id: m\ntenant: acme\nquery: |\n\tsession.vdi_events during past 5min | summarize c = count()\n"
    assert diags(text) == [("NQL0002", 4, 1, "malformed YAML: found a tab character where an indentation space is expected")]
    assert check(text).diagnostics[0].hint == "indent with spaces; YAML does not allow tabs for indentation"
