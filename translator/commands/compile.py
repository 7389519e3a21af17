"""`nql-flink compile PATH... -o DIR`: the sql-client job script and the monitor-config records.

Output is deterministic byte for byte for the same input, so the SQL can be reviewed in diffs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from translator.commands.common import add_compile_arguments, compile_or_report

JOB_FILE = "job.sql"
CONFIG_FILE = "monitor-config.jsonl"


def add_arguments(parser):
    add_compile_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for job.sql and monitor-config.jsonl")


def config_lines(records) -> str:
    return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records)


def main(args) -> int:
    compiled = compile_or_report(args)
    if isinstance(compiled, int):
        return compiled
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / JOB_FILE).write_text(compiled.sql(), encoding="utf-8")
    (out / CONFIG_FILE).write_text(config_lines(compiled.job.config_records), encoding="utf-8")
    n = len(compiled.result.monitors)
    print(f"compiled {n} monitor(s) -> {out / JOB_FILE}, {out / CONFIG_FILE}", file=sys.stderr)
    return 0
