"""`nql-flink run PATH... --input TABLE=FILE.jsonl ...`: compile, then run the job on
embedded Flink (the PyFlink local mini-cluster) with files in place of Kafka topics.
`--input maintenance=FILE` reads maintenance windows (docs/processing.md) and
`--notifications FILE` writes the processed notification records.

The SQL is the generated job; only each table's WITH (...) changes (deploy/embedded).
Bounded input ends the job and flushes every window. Alerts go to --output or stdout.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from nql_flink.translator.commands.common import (add_compile_arguments, compile_options, compile_or_report,
                                                  report_flink_failure)
from nql_flink.translator.flink import processing
from nql_flink.translator.flink.monitor_config import config_lines
from nql_flink.translator.semantic.schema import load_catalog


def add_arguments(parser):
    add_compile_arguments(parser)
    parser.add_argument("--input", action="append", default=[], metavar="TABLE=FILE",
                        help="JSONL records of a catalog table (e.g. session.vdi_events=events.jsonl); repeat per table")
    parser.add_argument("--config", metavar="FILE", help="monitor-config records to use instead of the compiled ones "
                        "(JSONL; later versions change thresholds from their updated_at on)")
    parser.add_argument("--output", metavar="FILE", help="alert records as JSON lines (default: stdout)")
    parser.add_argument("--notifications", metavar="FILE", help="the notification records of a job with alert "
                        "processing (monitors with flapping: / grouping:, or --input maintenance=FILE) as JSON lines")
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--state-backend", choices=("hashmap", "rocksdb"), default="hashmap",
                        help="where the job keeps its state: the JVM heap (default; fastest for small runs) or "
                             "RocksDB, as a deployed job does (state off the heap, bounded memory)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="while the job runs, show records read and watermark per input and alerts so far "
                             "on stderr (default: when stderr is a terminal)")


def progress_printer(stream, terminal: bool):
    """How a status line is shown: rewritten in place on a terminal, one line each otherwise."""
    if terminal:
        return lambda line: (stream.write("\r\x1b[K  " + line), stream.flush())
    return lambda line: print("  " + line, file=stream, flush=True)


def parse_inputs(pairs: list[str]) -> dict[str, str] | str:
    catalog = load_catalog()
    out: dict[str, str] = {}
    for pair in pairs:
        table, sep, path = pair.partition("=")
        if not sep or not path:
            return f"--input {pair!r}: expected TABLE=FILE"
        if table == processing.MAINTENANCE_SOURCE and Path(path).is_file():
            out[table] = path       # maintenance windows (docs/processing.md), not a catalog table
            continue
        t = catalog.lookup(table)
        if t is None:
            return f"--input {pair!r}: unknown table {table!r} (tables: {', '.join(sorted(catalog.tables))})"
        if not Path(path).is_file():
            return f"--input {pair!r}: no such file {path}"
        out[t.name] = path
    return out


def missing_inputs(compiled, inputs: dict[str, str], command: str) -> set[str] | None:
    """The catalog tables the job reads; None (after saying which) when an --input is missing."""
    needed = {t for t in compiled.job.source_tables if t != "monitor_config"}
    missing = sorted(needed - set(inputs))
    if missing:
        print(f"nql-flink {command}: the monitors read " + ", ".join(missing) + "; give each with --input TABLE=FILE",
              file=sys.stderr)
        return None
    return needed


def inputs_and_job(args, command: str):
    """The --input files and the compiled job of a command that runs one; an int is the
    exit code when either is unusable (the reason already printed)."""
    inputs = parse_inputs(args.input)
    if isinstance(inputs, str):
        print(f"nql-flink {command}: {inputs}", file=sys.stderr)
        return 2
    options = compile_options(args)
    if isinstance(options, int):
        return options
    if processing.MAINTENANCE_SOURCE in inputs and options.maintenance_topic is None:
        options = options.replace(maintenance_topic="nql.maintenance")  # read from the file given
    compiled = compile_or_report(args, options)
    return compiled if isinstance(compiled, int) else (inputs, compiled)


def main(args) -> int:
    ready = inputs_and_job(args, "run")
    if isinstance(ready, int):
        return ready
    inputs, compiled = ready
    needed = missing_inputs(compiled, inputs, "run")
    if needed is None:
        return 2
    from nql_flink.deploy.embedded.runner import FlinkError, run_job  # PyFlink only when running

    terminal = sys.stderr.isatty()
    show_progress = terminal if args.progress is None else args.progress

    with tempfile.TemporaryDirectory(prefix="nql-flink-run-") as tmp:
        config = args.config
        if config is None:
            config = str(Path(tmp) / "monitor-config.jsonl")
            Path(config).write_text(config_lines(compiled.job.config_records), encoding="utf-8")
        sources = {compiled.job.source_tables[t]: inputs[t] for t in needed}
        sources[compiled.job.source_tables["monitor_config"]] = config
        output = args.output or str(Path(tmp) / "alerts.jsonl")
        n = len(compiled.result.monitors)
        print(f"running {n} monitor(s) on embedded Flink over {', '.join(sorted(needed))} ...", file=sys.stderr)
        t0 = time.monotonic()
        session, watch = {"state.backend.type": args.state_backend}, None
        if show_progress:
            from nql_flink.deploy.embedded import progress
            from nql_flink.deploy.local_service import free_port

            port = free_port()
            session.update(progress.progress_config(port))
            tables = {compiled.job.source_tables[t]: t for t in sorted(needed)}
            show = progress_printer(sys.stderr, terminal)
            watch = lambda alerts_dir: progress.Watcher(f"http://127.0.0.1:{port}", tables, alerts_dir, show)  # noqa: E731
        try:
            result = run_job(compiled.job, sources, output, parallelism=args.parallelism,
                             config=session, watch=watch)
        except FlinkError as err:
            if show_progress and terminal:
                print(file=sys.stderr)
            return report_flink_failure(compiled, err, args.verbose)
        if show_progress and terminal:
            print(file=sys.stderr)
        print(f"done in {time.monotonic() - t0:.0f}s: {len(result.alerts)} alert record(s), "
              f"{len(result.dead_letters)} dead letter(s)", file=sys.stderr)
        if result.dead_letters:
            print(f"dead letters: {output}.dead_letters.jsonl" if args.output else
                  "dead letters (first 5):\n" + "\n".join(result.dead_letters[:5]), file=sys.stderr)
        if args.notifications:
            written = processing.notification_records(result.output_dir)
            Path(args.notifications).write_text("".join(n + "\n" for n in written), encoding="utf-8")
            print(f"{len(written)} notification record(s): {args.notifications}", file=sys.stderr)
        if not args.output:
            sys.stdout.write("".join(a + "\n" for a in result.alerts))
    return 0
