"""The alerting rules for operating a job (deploy/prometheus): their layout, the selector matcher
the scrape test relies on (tests/kafka/test_scale_out.py matches every selector against a
running job), and, where promtool is installed (`make promtool`), its PromQL check and the
unit tests that say when each rule fires (nql-flink-rules.test.yml)."""
from __future__ import annotations

import pytest

from nql_flink.deploy.cluster import metrics as pm
from nql_flink.deploy.prometheus import rules as pr
from nql_flink.deploy.prometheus.__main__ import find_promtool, promtool_checks


def test_the_rules_file_is_laid_out_as_prometheus_loads_it():
    assert pr.problems(pr.load()) == []


def test_rules_check_finds_what_prometheus_would_refuse():
    assert pr.problems({"groups": [{"name": "g", "rules": [
        {"alert": "A", "expr": "flink_x > 0", "for": "5 minutes"},
        {"alert": "B c", "expr": "sum(flink_y", "labels": {"severity": 1}}]}]}) == [
        "g[0]: 'for' '5 minutes' is not a duration",
        "g[1]: 'alert' must be a metric-like name",
        "g[1]: 'expr': unbalanced parentheses or no flink_ metric",
        "g[1]: 'labels': a mapping of strings"]
    [s] = pr.selectors('rate(flink_a{operator_name=~"sink_.*_Writer", job_name!="x"}[5m])')
    assert (s.name, s.matchers) == ("flink_a", (("operator_name", "=~", "sink_.*_Writer"), ("job_name", "!=", "x")))
    sample = pm.parse('flink_a{job_name="nql_flink",operator_name="sink_alerts_68_:_Writer",} 3.0\n')[0]
    assert pr.matches(s, sample) and sample.value == 3.0
    assert not pr.matches(s, pm.Sample("flink_a", {"job_name": "x", "operator_name": "sink_alerts_68_:_Writer"}, 1))


@pytest.mark.skipif(find_promtool() is None, reason="promtool not installed (make test installs it from the OS packages)")
def test_promtool_accepts_the_rules_and_their_unit_tests_pass():
    check, unit = promtool_checks(find_promtool())
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 11 rules found" in check.stdout
    assert unit.returncode == 0, unit.stdout + unit.stderr
