"""The `nql-flink` command line: argument parsing and dispatch only.

Each sub-command lives in its own module exposing `add_arguments(parser)` and
`main(args) -> int`; this table is the only place that lists them, and modules are
imported lazily so `nql-flink check` never pays for PyFlink.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("translator.commands.demo", "run the bundled monitors on the bundled telemetry on embedded Flink and print the alerts"),
    "check": ("translator.commands.check", "type-check monitor files and report diagnostics"),
    "compile": ("translator.commands.compile", "compile monitors to a Flink SQL job script and monitor-config records"),
    "run": ("translator.commands.run", "compile and run monitors on embedded Flink over JSONL files"),
    "deploy": ("translator.commands.deploy", "deploy the job: sql-client (local/standalone cluster) or managed-flink (AWS)"),
    "upgrade": ("translator.commands.upgrade", "stop the deployed job with a savepoint and start the new monitors from it, keeping every unchanged monitor's state"),
    "package": ("translator.commands.package", "compile monitors into a zip for Amazon Managed Service for Apache Flink"),
    "tail-alerts": ("translator.commands.tail_alerts", "print alert records from the Kafka alert topic"),
    "status": ("translator.commands.status", "print what each group of a running deployment is doing now (the alert-state topic)"),
    "simulate": ("simulator.cli", "generate deterministic telemetry (one JSONL file per catalog table)"),
    "bench": ("translator.commands.bench", "benchmarks: `bench nab` scores the seasonal detector on NAB"),
    "explain": ("translator.commands.explain", "run one monitor on embedded Flink over files and plot a group's metric, baseline band and alerts (PNG)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nql-flink", description="NQL monitors -> Flink SQL alerting jobs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
