"""Prometheus alerting rules for operating an nql-flink job (nql-flink-rules.yml), promtool unit
tests of when each fires (nql-flink-rules.test.yml), and the checks that keep them honest
(rules.py; `python -m nql_flink.deploy.prometheus check`): a layout check, promtool where installed, and
the metric selectors of each rule, which a test matches against the samples a running job exports."""
