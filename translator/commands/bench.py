"""`nql-flink bench nab --data DIR`: benchmarks that score or time the product.

Each benchmark is a module with add_arguments(parser) and main(args); this only dispatches.
"""

from __future__ import annotations

import importlib

BENCHMARKS = {"nab": ("nql_flink.udfs.nab.cli", "score the seasonal detector on the Numenta Anomaly Benchmark")}


def add_arguments(parser):
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, (module, help_text) in BENCHMARKS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
        p.set_defaults(_bench_module=module)


def main(args) -> int:
    return int(importlib.import_module(args._bench_module).main(args) or 0)
