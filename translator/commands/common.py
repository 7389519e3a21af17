"""What the compile-based commands share: options, compiling with diagnostics printed."""

from __future__ import annotations

import sys

from translator.diagnostics.render import render_all_text
from translator.flink.connectors import CompileOptions, add_kafka_arguments, options_from_args
from translator.monitors.spec import parse_duration
from translator.pipeline import Compiled, compile_paths, monitor_files


def add_compile_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="monitor files or folders")
    parser.add_argument("--tenant", help="tenant for monitors that do not name one")
    parser.add_argument("--strict", action="store_true", help="reject nql-flink extensions to NQL")
    parser.add_argument("--lateness", default="10s", help="allowed lateness of events (watermark delay), default 10s")
    parser.add_argument("--idle-timeout", default="1 min", help="source idleness before a quiet source stops holding "
                        "back the watermark, default '1 min'")
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
    lateness = parse_duration(args.lateness)
    if lateness is None:
        print(f"nql-flink {args.command}: --lateness {args.lateness!r} is not a duration (e.g. 10s)", file=sys.stderr)
        return 2
    try:
        return options_from_args(args, lateness_ms=lateness, idle_timeout=args.idle_timeout,
                                 bootstrap_servers=args.bootstrap_servers)
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
