"""Embedded runner: the generated Flink SQL on a local PyFlink mini-cluster (nql-flink run)."""
from nql_flink.deploy.embedded.runner import RunResult, create_table_env, run_job

__all__ = ["RunResult", "create_table_env", "run_job"]
