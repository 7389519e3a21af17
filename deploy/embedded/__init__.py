"""Embedded runner: the generated Flink SQL on a local PyFlink mini-cluster (nql-flink run)."""
from deploy.embedded.runner import (RunResult, connector_substitution, create_table_env,
                                    run_job, split_statements)

__all__ = ["RunResult", "connector_substitution", "create_table_env", "run_job",
           "split_statements"]
