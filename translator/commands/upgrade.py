"""`nql-flink upgrade sql-client PATH... [deploy options]`: replace the running job of --job-name
with the monitors in PATH, keeping the state of every monitor whose state did not change.

    1. compile and plan the new monitors (nothing is stopped if they do not compile);
    2. stop the running job with a savepoint (no drain: open windows stay open, so nothing
       is evaluated early; the exactly-once alert sink commits what the savepoint covers);
    3. deploy the new job from that savepoint (`nql-flink deploy`, which plans it with stable
       operator ids and says, per monitor, which state it keeps: deploy/plan.py).

If step 3 fails, the savepoint path is printed: `nql-flink deploy ... --from-savepoint PATH`
resumes from it. Which monitor changes keep or reset state: docs/upgrades.md.
"""
from __future__ import annotations

import sys

from nql_flink.translator.commands import deploy


def add_arguments(parser):
    deploy.add_arguments(parser)


def main(args) -> int:
    from nql_flink.deploy import recovery, submit

    if args.target != "sql-client" or args.dry_run or args.fresh or args.from_savepoint:
        return _usage("upgrades the job of a local or --flink-home cluster (target sql-client), "
                      "without --dry-run, --fresh or --from-savepoint")
    result = deploy.compile_for_deploy(args)
    if isinstance(result, int):
        return result
    home, cluster = deploy._flink_home(args)
    if home is None:
        return 2
    rest = cluster.rest_url if cluster is not None else deploy._rest_url(home)
    running = [j for j in submit.active_jobs(rest, args.job_name) if j.get("state") == "RUNNING"]
    if len(running) != 1:
        return _usage(f"no single RUNNING job named {args.job_name!r} on {rest} ({len(running)} found): "
                      "start one with `nql-flink deploy`")
    planned = deploy.plan_job(*result, getattr(args, "verbose", False))  # before stopping: down only while the new one starts
    if isinstance(planned, int):
        return planned                      # Flink refused the new job: the running one goes on
    base = args.checkpoint_dir or deploy._checkpoint_base(args)
    savepoints = recovery.job_state_dirs(base, args.job_name)[1]
    jid = running[0]["jid"]
    print(f"stopping job {jid} ({args.job_name}) with a savepoint into {savepoints} ...", file=sys.stderr)
    try:
        location = submit.stop_with_savepoint(rest, jid, savepoints)
    except (submit.DeployError, OSError) as e:
        print(f"nql-flink upgrade: {e}; the job keeps running", file=sys.stderr)
        return 1
    print(f"savepoint {location}", file=sys.stderr)
    args.from_savepoint = location
    code = deploy.main(args, (*result, planned))
    if code != 0:
        print(f"nql-flink upgrade: the new job did not start; resume with `nql-flink deploy sql-client ... "
              f"--from-savepoint {location}`", file=sys.stderr)
    return code


def _usage(message: str) -> int:
    print(f"nql-flink upgrade: {message}", file=sys.stderr)
    return 2
