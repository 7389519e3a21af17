"""`nql-flink deploy sql-client PATH... [--kafka HOST:PORT]`: compile, write the init and job
scripts, create the job's topics, publish the monitor-config records (keyed tenant/monitor) and
submit the job with `sql-client.sh -i init.sql -f job.sql`, shipping the `udfs` package.

Kafka servers and secrets are not in the scripts: the SQL references ${env:NQL_KAFKA_...}
(or a properties file, --credentials file:PATH), resolved inside the Flink JobManager and
TaskManagers, which must have those variables (docs/kafka-and-cluster.md). --kafka is the
address this command itself uses to create topics and publish the config.

A deployment resumes the previous one of the same --job-name: from the newest checkpoint retained
in <checkpoint dir>/<job name>/ (or --from-savepoint PATH). It refuses while a job of that name
is still running, and refuses to start without state when the alert topic already holds alerts
(they would be written again), unless --fresh.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from nql_flink.deploy.kafka.client import resolve_bootstrap
from nql_flink.deploy.submit import DEFAULT_CHECKPOINT_INTERVAL
from nql_flink.translator.commands.common import add_compile_arguments
from nql_flink.translator.syntax.durations import option_duration

TARGETS = ("sql-client", "managed-flink")


def add_arguments(parser):
    parser.add_argument("target", choices=TARGETS, help="how to submit (sql-client: sql-client.sh -i -f; "
                        "managed-flink: Amazon Managed Service for Apache Flink, translator/commands/deploy_managed.py)")
    add_compile_arguments(parser)
    # no address in the SQL unless asked for: the default is the ${env:...} reference
    parser.set_defaults(bootstrap_servers=None)
    parser.add_argument("--kafka", metavar="HOST:PORT", help="Kafka for topics and config records (default: "
                        "$NQL_KAFKA_BOOTSTRAP_SERVERS, else the local broker of `python -m nql_flink.deploy.kafka start`)")
    parser.add_argument("--out", default="build/deploy", metavar="DIR", help="where init.sql, job.sql, "
                        "monitor-config.jsonl and pyfiles/ are written (default %(default)s)")
    parser.add_argument("--job-name", default="nql-flink", help="Flink job name (default %(default)s)")
    parser.add_argument("--checkpoint-interval", default=DEFAULT_CHECKPOINT_INTERVAL,
                        help="exactly-once sinks make alerts visible at each checkpoint, so it adds up to itself "
                        "to an alert's delay (default '%(default)s')")
    parser.add_argument("--parallelism", type=int, default=1, help="operators run this many subtasks (the "
                        "topics need as many partitions to keep them all busy; default %(default)s)")
    parser.add_argument("--from-savepoint", metavar="PATH", help="start from this savepoint or checkpoint "
                        "(default: the newest checkpoint retained by earlier deployments of --job-name)")
    parser.add_argument("--fresh", action="store_true", help="start without state even if earlier deployments of "
                        "--job-name left checkpoints (moved to <folder>.replaced-<time>) or the alert topic holds "
                        "alerts (they may be written again)")
    parser.add_argument("--checkpoint-dir", metavar="DIR|URL", help="base folder of checkpoints; this job's go to "
                        "DIR/<job name> (default: the local cluster's <state dir>/checkpoints, else "
                        "execution.checkpointing.dir of --flink-home's conf)")
    parser.add_argument("--alert-retention", default="30d", metavar="DURATION",
                        help="retention.ms of the alert topic when this command creates it (default '%(default)s'; "
                             "cleanup.policy=delete: every triggered/recovered record is kept that long)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another Flink option for the init script (repeatable)")
    parser.add_argument("--flink-home", metavar="DIR", help="a Flink distribution whose conf/ points at the "
                        "cluster (default: the local cluster of `python -m nql_flink.deploy.cluster start`)")
    parser.add_argument("--cluster-state", default=os.environ.get("NQL_FLINK_STATE_DIR"), metavar="DIR",
                        help="state folder of the local cluster (default build/flink-cluster)")
    parser.add_argument("--python", default=sys.executable, help="Python with pyflink for the UDF workers "
                        "(-pyexec; default: this interpreter)")
    parser.add_argument("--partitions", type=int, default=1, help="partitions of the topics it creates")
    parser.add_argument("--no-config", action="store_true", help="do not publish the monitor-config records")
    parser.add_argument("--dry-run", action="store_true", help="write the scripts and print the command only")
    from nql_flink.translator.flink.connectors import add_kafka_arguments

    if not any(a.dest == "kafka_config" for a in parser._actions):  # common.py may add them one day
        add_kafka_arguments(parser)
    from nql_flink.translator.commands import deploy_managed

    deploy_managed.add_arguments(parser)


def compile_for_deploy(args):
    """Compile with the Kafka settings of args; returns (compiled, options) or an exit code."""
    from nql_flink.translator.commands.common import compile_options, compile_or_report

    options = compile_options(args)
    if isinstance(options, int):
        return options
    compiled = compile_or_report(args, options)
    if isinstance(compiled, int):
        return compiled
    return compiled, options


def plan_job(compiled, options, verbose: bool = False) -> dict | int:
    """The plan that will run (deploy/plan.py: stable operator ids, bounded state); the exit
    code when Flink refuses the job (reported as diagnostics)."""
    from nql_flink.deploy import submit
    from nql_flink.deploy.embedded.runner import FlinkError
    from nql_flink.translator.commands.common import report_flink_failure

    print("planning the job with a local Flink (stable operator ids) ...", file=sys.stderr)
    try:
        return submit.stable_plan(compiled.statements(), options)
    except FlinkError as err:
        return report_flink_failure(compiled, err, verbose)


def main(args, prepared: tuple | None = None) -> int:
    """``prepared``: (compiled, options, plan) when the caller made them already (upgrade:
    before it stops the running job, so the job is down only while the new one starts)."""
    if args.target == "managed-flink":
        from nql_flink.translator.commands import deploy_managed

        return deploy_managed.main(args)
    from nql_flink.deploy import recovery, submit
    from nql_flink.deploy.kafka import client as kc

    result = prepared[:2] if prepared else compile_for_deploy(args)
    if isinstance(result, int):
        return result
    compiled, options = result
    planned = prepared[2] if prepared else None
    extra = {}
    for kv in args.set:
        k, sep, v = kv.partition("=")
        if not sep:
            return _usage(f"--set {kv!r}: expected KEY=VALUE")
        extra[k.strip()] = v.strip()
    retention_ms = option_duration(args.alert_retention)
    if retention_ms is None or retention_ms <= 0:
        return _usage(f"--alert-retention {args.alert_retention!r} is not a duration (e.g. 30d, 12h)")
    if args.fresh and args.from_savepoint:
        return _usage("--fresh and --from-savepoint exclude each other")
    home, cluster = (None, None) if args.dry_run else _flink_home(args)
    if home is None and not args.dry_run:
        return 2
    base = args.checkpoint_dir or _checkpoint_base(args)
    try:
        dirs = recovery.job_state_dirs(base, args.job_name) if base else (None, None)
    except ValueError as e:
        return _usage(f"--job-name: {e}")

    bootstrap = None
    if not args.dry_run:
        rest = cluster.rest_url if cluster is not None else _rest_url(home)
        try:
            running = submit.active_jobs(rest, args.job_name) if rest else []
        except OSError as e:
            print(f"nql-flink deploy: Flink REST API at {rest} not answering: {e}", file=sys.stderr)
            return 1
        if running:
            j = running[0]
            print(f"nql-flink deploy: refused [job-running]: job {args.job_name!r} is {j['state']} on {rest} as "
                  f"{j['jid']}. Cancel it first (its checkpoints are retained; this command then resumes from "
                  f"the newest): python -m nql_flink.deploy.cluster cancel {j['jid']}", file=sys.stderr)
            return 1
        bootstrap = resolve_bootstrap(args.kafka)
        if not bootstrap:
            return _usage("no Kafka address: --kafka HOST:PORT, $NQL_KAFKA_BOOTSTRAP_SERVERS or a running "
                          "`python -m nql_flink.deploy.kafka start`")
    alerts_topic = options.topic(options.alerts_topic)
    try:
        output = kc.record_count(bootstrap, alerts_topic) if bootstrap and not args.fresh else None
        start = submit.start_point(job_name=args.job_name, checkpoint_dir=dirs[0], savepoint_dir=dirs[1],
                                   from_savepoint=args.from_savepoint, fresh=args.fresh,
                                   output_records=output, output_topic=alerts_topic)
    except submit.DeployError as e:
        if not (args.dry_run and e.code == "no-checkpoint-dir"):
            print(f"nql-flink deploy: refused [{e.code}]: {e}", file=sys.stderr)
            return 1
        start = submit.StartPoint(None, f"no checkpoint folder known (--checkpoint-dir): {e}")
    except Exception as e:  # noqa: BLE001 - any client error ends the command with its message
        print(f"nql-flink deploy: Kafka at {bootstrap}: {e}", file=sys.stderr)
        return 1
    if args.fresh and not args.dry_run and dirs[0] and recovery.retained(*dirs):
        moved = submit.set_aside(dirs[0])
        if moved is not None:
            print(f"earlier checkpoints of {args.job_name!r} moved to {moved}", file=sys.stderr)
    new_plan = planned if planned is not None else plan_job(compiled, options, getattr(args, "verbose", False))
    if isinstance(new_plan, int):
        return new_plan
    deployed = _deployed_plan(dirs[0], args.out)
    if start.path and not _state_maps(deployed, new_plan):
        # Flink refuses a start that leaves savepoint state unclaimed unless told
        extra.setdefault("execution.state-recovery.ignore-unclaimed-state", "true")
    settings = submit.Settings(job_name=args.job_name, checkpoint_interval=args.checkpoint_interval,
                               parallelism=args.parallelism, from_savepoint=start.path,
                               checkpoint_dir=dirs[0], savepoint_dir=dirs[1], extra=extra)
    scripts = submit.write_scripts(compiled, args.out, settings, plan=new_plan)
    print(f"wrote {scripts.init}, {scripts.job}, {scripts.config}, {scripts.pyfiles}/udfs", file=sys.stderr)
    print(start.note, file=sys.stderr)

    if args.dry_run:
        print(" ".join(submit.sql_client_command(args.flink_home or "$FLINK_HOME", scripts, python=args.python)))
        return 0
    try:
        done = submit.prepare_kafka(bootstrap, compiled, options, partitions=args.partitions,
                                    records=[] if args.no_config else None, alert_retention_ms=retention_ms)
    except Exception as e:  # noqa: BLE001 - any client error ends the command with its message
        print(f"nql-flink deploy: Kafka at {bootstrap}: {e}", file=sys.stderr)
        return 1
    for note in done["changed"]:
        print(f"changed topic {note}", file=sys.stderr)
    for note in submit.idle_source_notes(done["source_partitions"], args.parallelism):
        print(f"notice: {note}", file=sys.stderr)
    print(f"topics ready on {bootstrap}: {', '.join(done['topics'])}; "
          f"{done['config_records']} monitor-config record(s) published", file=sys.stderr)
    try:
        job_id, _ = submit.sql_client(scripts, flink_home=home, python=args.python)
    except submit.DeployError as e:
        print(f"nql-flink deploy: {e}", file=sys.stderr)
        return 1
    where = f" on {cluster.rest_url}" if cluster is not None else ""
    print(f"submitted job {job_id} ({args.job_name}){where}", file=sys.stderr)
    if deployed is not None and deployed.parent != scripts.directory:
        shutil.copyfile(scripts.plan, deployed)     # the state's plan, beside the state
    print(job_id)
    return 0


def _deployed_plan(checkpoint_dir: str | None, out_dir: str) -> Path | None:
    """Where the plan of the job whose state a deployment resumes is kept: beside that state
    (<checkpoint dir>/plan.json, whichever --out wrote the scripts), else in --out."""
    from nql_flink.deploy import recovery, submit

    folder = recovery.local_path(checkpoint_dir) if checkpoint_dir else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        return folder / submit.PLAN_FILE
    return Path(out_dir) / submit.PLAN_FILE


def _state_maps(previous: Path | None, new_plan: dict) -> bool:
    """Print what the state of the previous deployment (its plan at ``previous``) becomes
    under ``new_plan``; True when every piece of it is claimed (nothing removed or reset)."""
    import json

    from nql_flink.deploy import plan

    if previous is None or not previous.is_file():
        print("no plan of the previous deployment: state whose operator ids differ is dropped", file=sys.stderr)
        return False
    old = json.loads(previous.read_text(encoding="utf-8"))
    print("state of the previous deployment:\n" + plan.describe(plan.compare(old, new_plan)), file=sys.stderr)
    return not plan.drops_state(old, new_plan)


def _usage(message: str) -> int:
    print(f"nql-flink deploy: {message}", file=sys.stderr)
    return 2


def _checkpoint_base(args) -> str | None:
    """The checkpoint base folder of the target cluster: execution.checkpointing.dir of
    --flink-home's conf, else the local cluster's <state dir>/checkpoints (running or not)."""
    from nql_flink.deploy import submit
    from nql_flink.deploy.cluster.cluster import CHECKPOINTS, DEFAULT_STATE_DIR

    if args.flink_home:
        return submit.flink_conf(args.flink_home).get("execution.checkpointing.dir")
    return str(Path(args.cluster_state or DEFAULT_STATE_DIR).resolve() / CHECKPOINTS)


def _rest_url(home) -> str | None:
    from nql_flink.deploy import submit

    conf = submit.flink_conf(home)
    address = conf.get("rest.address", "localhost")
    return f"http://{address}:{conf.get('rest.port', '8081')}"


def _flink_home(args):
    """(FLINK_HOME, local cluster or None); (None, None) after printing why."""
    if args.flink_home:
        home = Path(args.flink_home)
        if not (home / "bin" / "sql-client.sh").is_file():
            print(f"nql-flink deploy: no bin/sql-client.sh in {home}", file=sys.stderr)
            return None, None
        return home, None
    from nql_flink.deploy.cluster import FlinkCluster

    cluster = FlinkCluster.load(args.cluster_state)
    if cluster is None or not cluster.alive():
        print("nql-flink deploy: no local Flink cluster: start one (python -m nql_flink.deploy.cluster start) or give "
              "--flink-home", file=sys.stderr)
        return None, None
    return cluster.home, cluster
