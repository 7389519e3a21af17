"""The alert processing options of a monitor (`flapping:`, docs/processing.md): each bad
value is one coded diagnostic at its place; good ones reach the IR; a monitor without them
has none."""
from __future__ import annotations

from nql_flink.translator.ir.relational import Processing
from tests.frontend.helpers import check, diags

HEAD = ("id: m\ntenant: acme\nquery: session.vdi_events during past 5min | summarize c = count()\n"
        "trigger: {when: c > 1}\n")


def test_flapping_options_are_checked_each_where_it_stands():
    # line 5: "flapping: {changes: " is 20 characters: 0 at column 21; "within: " then -5 ...
    assert diags(HEAD + "flapping: {changes: 0, within: 0s}\n") == [
        ("NQL0417", 5, 21, "`flapping.changes` must be a whole number from 1 to 1000, not 0"),
        ("NQL0418", 5, 32, "`flapping.within` must be a duration above zero, not 0s"),
    ]


def test_flapping_needs_both_keys_and_whole_changes():
    assert [d[0] for d in diags(HEAD + "flapping: {changes: 2.5}\n")] == ["NQL0005", "NQL0006"]
    assert [d[0] for d in diags(HEAD + "flapping: {chnages: 2, within: 1h}\n")] == ["NQL0005", "NQL0004"]
    assert [d[0] for d in diags(HEAD + "flapping: {changes: 1001, within: 400d}\n")] == ["NQL0417", "NQL0408"]
    assert [d[0] for d in diags(HEAD + "flapping: 3\n")] == ["NQL0006"]


def test_detection_monitors_take_the_same_options():
    from nql_flink.translator.ir.lower import lower

    text = ("id: m\ntenant: acme\nquery: session.vdi_events during past 5min | summarize c = count()\n"
            "detection: {type: change, metric: c, history: 1h}\nflapping: {changes: 2, within: 1h}\n"
            "grouping: {interval: 5min}\n")
    checked = check(text)
    assert checked.diagnostics == []
    assert [lower(m)[0].processing for m in checked.monitors] == [Processing(2, 3_600_000, 300_000, 0)]


def test_good_options_reach_the_ir_and_none_without_them():
    from nql_flink.translator.ir.lower import lower

    with_options = check(HEAD + "flapping: {changes: 3, within: 30min}\n")
    assert with_options.diagnostics == []
    assert [lower(m)[0].processing for m in with_options.monitors] == [Processing(3, 1_800_000, 0, 0)]
    assert [lower(m)[0].processing for m in check(HEAD).monitors] == [None]


def test_grouping_durations_are_checked_and_reach_the_ir():
    from nql_flink.translator.ir.lower import lower

    assert diags(HEAD + "grouping: {interval: 0, repeat: 1h}\n") == [
        ("NQL0418", 5, 22, "`grouping.interval` must be a duration above zero, not 0")]
    assert [d[0] for d in diags(HEAD + "grouping: {interval: 5, every: 1h}\n")] == ["NQL0403", "NQL0004"]
    ok = check(HEAD + "grouping: {interval: 5min, repeat: 4h}\nflapping: {changes: 2, within: 1h}\n")
    assert [lower(m)[0].processing for m in ok.monitors] == [Processing(2, 3_600_000, 300_000, 14_400_000)]
    assert Processing(2, 3_600_000, 300_000, 14_400_000).spec() == "flap=2/3600000;group=300000;repeat=14400000"
