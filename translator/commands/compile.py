"""`nql-flink compile PATH... -o DIR`: the sql-client job script and the monitor-config records.

Output is deterministic byte for byte for the same input, so the SQL can be reviewed in diffs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nql_flink.translator.commands.common import add_compile_arguments, compile_or_report



def add_arguments(parser):
    add_compile_arguments(parser)
    parser.add_argument("--target", choices=("flink", "clickhouse"), default="flink",
                        help="flink (default): job.sql and monitor-config.jsonl; clickhouse: the polling SQL for "
                             "review, tables.sql and one <tenant>__<id>.sql per monitor (docs/polling.md)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for job.sql and monitor-config.jsonl")
    parser.add_argument("--against", metavar="PREVIOUS_DIR",
                        help="say which monitors keep their state when this job replaces the one in PREVIOUS_DIR "
                             "(an earlier -o folder or a deploy --out folder) from its savepoint; also writes the "
                             "job's compiled plan, plan.json (plans with a local Flink: some seconds)")


def main(args) -> int:
    if args.target == "clickhouse":
        from nql_flink.translator.commands.poll import write_polling_sql

        return write_polling_sql(args)
    compiled = compile_or_report(args)
    if isinstance(compiled, int):
        return compiled
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    from nql_flink.deploy.submit import CONFIG_FILE, write_job
    from nql_flink.translator.flink.monitor_config import config_lines

    job = write_job(compiled, out)
    config = out / CONFIG_FILE
    config.write_text(config_lines(compiled.job.config_records), encoding="utf-8")
    n = len(compiled.result.monitors)
    print(f"compiled {n} monitor(s) -> {job}, {config}", file=sys.stderr)
    return against(args.against, compiled, args, out) if args.against else 0


def against(previous_dir: str, compiled, args, out: Path) -> int:
    """Plan both jobs and print, per monitor and shared state, what a savepoint upgrade keeps."""
    from nql_flink.deploy import plan, submit
    from nql_flink.translator.commands.common import compile_options

    if not Path(previous_dir).is_dir():
        print(f"nql-flink compile: --against {previous_dir}: no such folder", file=sys.stderr)
        return 2
    print("planning both jobs with a local Flink ...", file=sys.stderr)
    options = compile_options(args)
    old = submit.previous_plan(previous_dir, options)
    if old is None:
        print(f"nql-flink compile: --against {previous_dir}: neither {submit.PLAN_FILE} nor {submit.STATEMENTS_FILE} there",
              file=sys.stderr)
        return 2
    from nql_flink.deploy.embedded.runner import FlinkError
    from nql_flink.translator.commands.common import report_flink_failure

    try:
        new = submit.stable_plan(compiled.statements(), options)
    except FlinkError as err:
        return report_flink_failure(compiled, err, args.verbose)
    plan.write_plan(new, out / submit.PLAN_FILE)
    print(f"state against {previous_dir} (upgrade from its savepoint):")
    print(plan.describe(plan.compare(old, new)))
    return 0
