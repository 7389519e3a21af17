"""Prometheus alerting rules for operating an nql-flink job (nql-flink-rules.yml) and the checks
that keep them honest (rules.py): a YAML structure check, and the metric selectors of each rule,
which a test matches against the samples a running job exports."""
