"""The `nql-flink` command line: argument parsing and dispatch only.

Each sub-command lives in its own module exposing `add_arguments(parser)` and
`main(args) -> int`; this table is the only place that lists them. Only the module of the
command being run is imported (`--help` imports none), so `nql-flink check` never pays for
PyFlink, Kafka, numpy or sqlglot (benchmarks/cli_startup.py measures it).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("nql_flink.translator.commands.demo", "run the bundled monitors on the bundled telemetry on embedded Flink and print the alerts"),
    "check": ("nql_flink.translator.commands.check", "type-check monitor files and report diagnostics"),
    "compile": ("nql_flink.translator.commands.compile", "compile monitors to a Flink SQL job script and monitor-config records"),
    "run": ("nql_flink.translator.commands.run", "compile and run monitors on embedded Flink over JSONL files"),
    "test": ("nql_flink.translator.commands.monitor_test", "run monitor unit tests: input records and the alert transitions expected from them"),
    "deploy": ("nql_flink.translator.commands.deploy", "deploy the job: sql-client (local/standalone cluster) or managed-flink (AWS)"),
    "upgrade": ("nql_flink.translator.commands.upgrade", "stop the deployed job with a savepoint and start the new monitors from it, keeping every unchanged monitor's state"),
    "package": ("nql_flink.translator.commands.package", "compile monitors into a zip for Amazon Managed Service for Apache Flink"),
    "tail-alerts": ("nql_flink.translator.commands.tail_alerts", "print alert records from the Kafka alert topic"),
    "notify": ("nql_flink.translator.commands.notify", "deliver alert transitions to the receivers named in the monitors' `notify:` (webhook, email, Alertmanager)"),
    "receivers": ("nql_flink.translator.commands.receivers", "local receivers on loopback for a receivers file: `receivers up --receivers FILE` (SMTP server, webhook, Alertmanager), `show`, `down`"),
    "history": ("nql_flink.translator.commands.history", "set up the PostgreSQL alert history: `history init --jdbc URL` (table, daily partitions, indexes)"),
    "status": ("nql_flink.translator.commands.status", "print what each group of a running deployment is doing now (the alert-state topic)"),
    "load": ("nql_flink.translator.commands.load", "load JSONL telemetry into the catalog's tables on ClickHouse (chdb) for `poll`"),
    "poll": ("nql_flink.translator.commands.poll", "backtest monitors on ClickHouse (chdb) over a time range: the alert records `run` would write"),
    "simulate": ("nql_flink.simulator.cli", "generate deterministic telemetry (one JSONL file per catalog table)"),
    "bench": ("nql_flink.translator.commands.bench", "benchmarks: `bench nab` scores the seasonal detector on NAB"),
    "explain": ("nql_flink.translator.commands.explain", "run one monitor on embedded Flink over files and plot a group's metric, baseline band and alerts (PNG)"),
}


def chosen_command(argv: list[str]) -> str | None:
    """The sub-command named on the command line: the first word that is not an option
    (the top-level parser has no option taking a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every command listed; a command's own arguments are added (and its
    module imported) only for the command named in `argv`, or for all when `argv` is None."""
    chosen = chosen_command(argv) if argv is not None else None
    parser = argparse.ArgumentParser(prog="nql-flink", description="NQL monitors -> Flink SQL alerting jobs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if argv is None or name == chosen:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    return int(importlib.import_module(args._module).main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
