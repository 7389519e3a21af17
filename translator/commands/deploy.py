"""`nql-flink deploy sql-client PATH... [--kafka HOST:PORT]`: compile, write the init and job
scripts, create the job's topics, publish the monitor-config records (keyed tenant/monitor) and
submit the job with `sql-client.sh -i init.sql -f job.sql`, shipping the `udfs` package.

Kafka servers and secrets are not in the scripts: the SQL references ${env:NQL_KAFKA_...}
(or a properties file, --credentials file:PATH), resolved inside the Flink JobManager and
TaskManagers, which must have those variables (docs/kafka-and-cluster.md). --kafka is the
address this command itself uses to create topics and publish the config.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from translator.commands.common import add_compile_arguments

TARGETS = ("sql-client",)


def add_arguments(parser):
    parser.add_argument("target", choices=TARGETS, help="how to submit (sql-client: sql-client.sh -i -f)")
    add_compile_arguments(parser)
    # no address in the SQL unless asked for: the default is the ${env:...} reference
    parser.set_defaults(bootstrap_servers=None)
    parser.add_argument("--kafka", metavar="HOST:PORT", help="Kafka for topics and config records (default: "
                        "$NQL_KAFKA_BOOTSTRAP_SERVERS, else the local broker of `python -m deploy.kafka start`)")
    parser.add_argument("--out", default="build/deploy", metavar="DIR", help="where init.sql, job.sql, "
                        "monitor-config.jsonl and pyfiles/ are written (default %(default)s)")
    parser.add_argument("--job-name", default="nql-flink", help="Flink job name (default %(default)s)")
    parser.add_argument("--checkpoint-interval", default="10 s",
                        help="exactly-once sinks make alerts visible at each checkpoint (default '%(default)s')")
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--from-savepoint", metavar="PATH", help="start from this savepoint")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another Flink option for the init script (repeatable)")
    parser.add_argument("--flink-home", metavar="DIR", help="a Flink distribution whose conf/ points at the "
                        "cluster (default: the local cluster of `python -m deploy.cluster start`)")
    parser.add_argument("--cluster-state", default=os.environ.get("NQL_FLINK_STATE_DIR"), metavar="DIR",
                        help="state folder of the local cluster (default build/flink-cluster)")
    parser.add_argument("--python", default=sys.executable, help="Python with pyflink for the UDF workers "
                        "(-pyexec; default: this interpreter)")
    parser.add_argument("--partitions", type=int, default=1, help="partitions of the topics it creates")
    parser.add_argument("--no-config", action="store_true", help="do not publish the monitor-config records")
    parser.add_argument("--dry-run", action="store_true", help="write the scripts and print the command only")
    from translator.flink.connectors import add_kafka_arguments

    if not any(a.dest == "kafka_config" for a in parser._actions):  # common.py may add them one day
        add_kafka_arguments(parser)


def compile_for_deploy(args):
    """Compile with the Kafka settings of args; returns (compiled, options) or an exit code."""
    from translator.commands.common import compile_options, compile_or_report

    options = compile_options(args)
    if isinstance(options, int):
        return options
    compiled = compile_or_report(args, options)
    if isinstance(compiled, int):
        return compiled
    return compiled, options


def main(args) -> int:
    from deploy import submit
    from deploy.kafka.client import resolve_bootstrap

    result = compile_for_deploy(args)
    if isinstance(result, int):
        return result
    compiled, options = result
    extra = {}
    for kv in args.set:
        k, sep, v = kv.partition("=")
        if not sep:
            print(f"nql-flink deploy: --set {kv!r}: expected KEY=VALUE", file=sys.stderr)
            return 2
        extra[k.strip()] = v.strip()
    settings = submit.Settings(job_name=args.job_name, checkpoint_interval=args.checkpoint_interval,
                               parallelism=args.parallelism, from_savepoint=args.from_savepoint, extra=extra)
    scripts = submit.write_scripts(compiled, args.out, settings)
    print(f"wrote {scripts.init}, {scripts.job}, {scripts.config}, {scripts.pyfiles}/udfs", file=sys.stderr)

    if args.dry_run:
        home = args.flink_home or "$FLINK_HOME"
        print(" ".join(submit.sql_client_command(home, scripts, python=args.python)))
        return 0
    home, cluster = _flink_home(args)
    if home is None:
        return 2
    bootstrap = resolve_bootstrap(args.kafka)
    if not bootstrap:
        print("nql-flink deploy: no Kafka address: --kafka HOST:PORT, $NQL_KAFKA_BOOTSTRAP_SERVERS or a running "
              "`python -m deploy.kafka start`", file=sys.stderr)
        return 2
    try:
        done = submit.prepare_kafka(bootstrap, compiled, options, partitions=args.partitions,
                                    records=[] if args.no_config else None)
    except Exception as e:  # noqa: BLE001 - any client error ends the command with its message
        print(f"nql-flink deploy: Kafka at {bootstrap}: {e}", file=sys.stderr)
        return 1
    print(f"topics ready on {bootstrap}: {', '.join(done['topics'])}; "
          f"{done['config_records']} monitor-config record(s) published", file=sys.stderr)
    try:
        job_id, _ = submit.sql_client(scripts, flink_home=home, python=args.python)
    except submit.DeployError as e:
        print(f"nql-flink deploy: {e}", file=sys.stderr)
        return 1
    where = f" on {cluster.rest_url}" if cluster is not None else ""
    print(f"submitted job {job_id} ({args.job_name}){where}", file=sys.stderr)
    print(job_id)
    return 0


def _flink_home(args):
    """(FLINK_HOME, local cluster or None); (None, None) after printing why."""
    if args.flink_home:
        home = Path(args.flink_home)
        if not (home / "bin" / "sql-client.sh").is_file():
            print(f"nql-flink deploy: no bin/sql-client.sh in {home}", file=sys.stderr)
            return None, None
        return home, None
    from deploy.cluster import FlinkCluster

    cluster = FlinkCluster.load(args.cluster_state)
    if cluster is None or not cluster.alive():
        print("nql-flink deploy: no local Flink cluster: start one (python -m deploy.cluster start) or give "
              "--flink-home", file=sys.stderr)
        return None, None
    return cluster.home, cluster
