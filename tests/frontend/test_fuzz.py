"""Generated inputs: no text makes the front end crash or hang (hypothesis)."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nql_flink.translator.pipeline import check_text
from nql_flink.translator.source import Source
from nql_flink.translator.syntax.parser import parse_condition, parse_query

FAST = settings(max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

NQL_WORDS = ["session.vdi_events", "devices", "during", "past", "5min", "|", "where", "summarize", "compute", "with",
             "include", "by", "and", "or", "not", "in", "!in", "contains", "==", "!=", "<", ">=", "=", "(", ")", "[", "]",
             ",", ".", "avg()", "count()", "countif(", "network_latency", "device.virtualization.desktop_pool",
             "protocol", "ica", "300ms", "1GB", "v1.2", "10.0.0.1/8", '"a*b"', "'x'", "/*", "*/", "--", "null",
             "true", "1.5", "-", "+", "*", "/", "list", "sort", "limit", "10", "from", "to", "ago", "on", "2026-11-26"]


def source(text: str) -> Source:
    return Source.whole_file("fuzz.yaml", text)


@FAST
@given(st.text(alphabet=string.printable + "é€\u0000\ufeff", max_size=300))
def test_any_text_parses_to_a_tree_or_diagnostics(text):
    tree, diags = parse_query(source(text))
    assert tree is not None or diags
    for d in diags:
        d.location  # every diagnostic has a position that resolves


@FAST
@given(st.lists(st.sampled_from(NQL_WORDS), max_size=40).map(" ".join))
def test_token_soup_never_crashes(text):
    parse_query(source(text))
    parse_condition(source(text))


@FAST
@given(st.lists(st.sampled_from(NQL_WORDS), max_size=30).map(" ".join))
def test_whole_pipeline_on_token_soup_queries(query):
    yaml_text = "id: m\ntenant: acme\nquery: |\n  " + query.replace("\n", " ") + "\ntrigger:\n  when: c > 1\n"
    result = check_text("fuzz.yaml", yaml_text.encode())
    assert result.ok or result.diagnostics


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_as_a_monitor_file(data):
    result = check_text("fuzz.yaml", data)
    assert result.ok or result.diagnostics


@settings(max_examples=30, deadline=2000)
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["(", "[", "- ", "a.count(", "countif("]))
def test_deep_nesting_is_a_diagnostic_not_a_recursion_error(depth, opener):
    text = opener * depth + "x"
    tree, diags = parse_condition(source(text))
    if len(text) > 16_000:
        assert [d.code for d in diags] == ["NQL0105"]
    elif depth > 64:
        assert "NQL0106" in {d.code for d in diags}
