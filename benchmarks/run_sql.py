"""Run Flink SQL scripts on embedded Flink (the PyFlink local mini-cluster, streaming mode,
parallelism 1, UTC) until their last INSERT ends: the hand-written jobs of
benchmarks/job_cost.py, each in a process of its own.

    .venv/bin/python benchmarks/run_sql.py SCRIPT.sql... [--var NAME=VALUE ...]

The scripts run in order, as one session; `${NAME}` in them is replaced by VALUE first. A
statement ends at a `;`, `--` comments are dropped. Flink's other session options keep their
defaults (a watermark every 200 ms): these are jobs as a Flink user writes them."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

SESSION = {"parallelism.default": "1", "table.local-time-zone": "UTC"}


def statements(text: str, variables: dict[str, str]) -> list[str]:
    """The statements of a script, its ${NAME}s replaced (an unknown one is an error)."""
    def value(m: re.Match) -> str:
        if m.group(1) not in variables:
            raise SystemExit(f"no value for ${{{m.group(1)}}} (--var {m.group(1)}=...)")
        return variables[m.group(1)]

    text = re.sub(r"--[^\n]*", "", text)
    text = re.sub(r"\$\{(\w+)\}", value, text)
    return [s.strip() for s in text.split(";") if s.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scripts", nargs="+", type=Path)
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args(argv)
    variables = dict(v.split("=", 1) for v in args.var)
    todo = [s for script in args.scripts for s in statements(script.read_text(), variables)]

    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    for k, v in SESSION.items():
        t_env.get_config().set(k, v)
    result = None
    for stmt in todo:
        result = t_env.execute_sql(stmt)
    if result is not None and result.get_job_client() is not None:
        result.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
