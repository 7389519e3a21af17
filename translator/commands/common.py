"""What the compile-based commands share: options, compiling with diagnostics printed."""

from __future__ import annotations

import sys

from nql_flink.translator.diagnostics.render import render_all_text
from nql_flink.translator.flink.connectors import CompileOptions, add_kafka_arguments, options_from_args
from nql_flink.translator.pipeline import Compiled, compile_paths, flink_failure, monitor_files
from nql_flink.translator.syntax.durations import option_duration


def add_compile_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="monitor files or folders")
    parser.add_argument("--tenant", help="tenant for monitors that do not name one")
    parser.add_argument("--strict", action="store_true", help="reject nql-flink extensions to NQL")
    add_verbose_argument(parser)
    parser.add_argument("--lateness", default="10s", help="allowed lateness of events (watermark delay), default 10s")
    parser.add_argument("--idle-timeout", default="1 min", help="source idleness before a quiet source stops holding "
                        "back the watermark, default '1 min'")
    # the bounds of event time per tenant (docs/guarantees.md)
    parser.add_argument("--max-tenant-lag", default="10min", help="a tenant this far behind the event table loses "
                        "nothing; further behind: dead-lettered lag_exceeded, and a silent tenant's last windows are "
                        "evaluated this long after the table passed them, default 10min")
    parser.add_argument("--partition-idle", default="1min", help="a Kafka partition that brought a tenant nothing "
                        "while the table progressed this much stops holding the tenant's clock, default 1min")
    parser.add_argument("--max-clock-skew", default="10min", help="records with an event time further ahead of the "
                        "processing clock are dead-lettered future, default 10min")
    parser.add_argument("--evict-after", default="7d", help="a group without an open alert is forgotten (its "
                        "state freed, a tombstone on the state topic) this long after its last evaluation; 0: never; "
                        "default 7d (docs/guarantees.md, \"Bounded state\")")
    parser.add_argument("--bootstrap-servers", default=None, help="Kafka bootstrap servers written in the DDL "
                        "(default: a ${env:NQL_KAFKA_BOOTSTRAP_SERVERS} reference resolved by Flink at run time)")
    add_kafka_arguments(parser)


def compile_options(args) -> CompileOptions | int:
    """The job's settings from the command line; an int is the exit code of a usage error."""
    files, missing = monitor_files(args.paths)
    if missing or not files:
        for p in missing or args.paths:
            print(f"nql-flink {args.command}: no monitor files at {p}", file=sys.stderr)
        return 2
    durations = {}
    for flag, field in (("lateness", "lateness_ms"), ("max_tenant_lag", "max_tenant_lag_ms"),
                        ("partition_idle", "partition_idle_ms"), ("max_clock_skew", "max_clock_skew_ms"),
                        ("evict_after", "evict_after_ms")):
        text = getattr(args, flag)
        durations[field] = option_duration(text)
        if durations[field] is None:
            print(f"nql-flink {args.command}: --{flag.replace('_', '-')} {text!r} is not a duration (e.g. 10s, 10min)",
                  file=sys.stderr)
            return 2
    try:
        return options_from_args(args, idle_timeout=args.idle_timeout, bootstrap_servers=args.bootstrap_servers,
                                 **durations)
    except (ValueError, OSError) as exc:  # a bad --kafka-config file or value
        print(f"nql-flink {args.command}: {exc}", file=sys.stderr)
        return 2


def compile_or_report(args, options: CompileOptions | None = None) -> Compiled | int:
    """Compile, print diagnostics; an int is the exit code when there is no job."""
    options = compile_options(args) if options is None else options
    if isinstance(options, int):
        return options
    compiled = compile_paths(args.paths, tenant=args.tenant, strict=args.strict, options=options)
    if compiled.result.diagnostics:
        print(render_all_text(compiled.result.diagnostics), file=sys.stderr)
    if not compiled.ok:
        print(f"nql-flink {args.command}: no SQL generated: fix the errors above", file=sys.stderr)
        return 1
    return compiled


KAFKA_HELP = "default: $NQL_KAFKA_BOOTSTRAP_SERVERS, else the local broker of `python -m nql_flink.deploy.kafka start`"


def add_topic_arguments(parser, topic: str, what: str) -> None:
    """--kafka, --topic (default ``topic``), --topic-prefix: for the commands that read a topic."""
    parser.add_argument("--kafka", metavar="HOST:PORT", help=KAFKA_HELP)
    parser.add_argument("--topic", default=topic, help=f"{what} (default %(default)s)")
    parser.add_argument("--topic-prefix", default="", help="as given to deploy (default none)")


def kafka_address(address: str | None, command: str) -> str | None:
    """The broker a reading command talks to (--kafka, else the environment, else the local
    broker); None after saying how to give one."""
    from nql_flink.deploy.kafka import client as kc

    bootstrap = kc.resolve_bootstrap(address)
    if not bootstrap:
        print(f"nql-flink {command}: no Kafka address: --kafka HOST:PORT, $NQL_KAFKA_BOOTSTRAP_SERVERS or a "
              "running `python -m nql_flink.deploy.kafka start`", file=sys.stderr)
    return bootstrap


def add_verbose_argument(parser) -> None:
    parser.add_argument("--verbose", action="store_true", help="on a Flink failure, print the Java stack too")


def report_flink_failure(compiled: Compiled, err, verbose: bool) -> int:
    """A FlinkError (deploy/embedded/runner.py) as diagnostics naming the monitors; the Java
    stack only when verbose. Returns the exit code."""
    print(render_all_text(flink_failure(compiled, err.statement, err.message)), flush=True)
    if verbose:
        print(err.stack, file=sys.stderr)
    else:
        print("(the Java stack: --verbose)", file=sys.stderr)
    return 1
