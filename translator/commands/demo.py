"""`nql-flink demo`: check the bundled example monitors and show what they mean.

(Running them on embedded Flink over the bundled telemetry comes with `nql-flink run`.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from translator.diagnostics.render import render_all_text
from translator.dump import dump_monitor
from translator.pipeline import check_paths

ROOT = Path(__file__).resolve().parents[2]


def add_arguments(parser):
    parser.add_argument("--examples", default=str(ROOT / "examples" / "monitors"), help="folder of monitor files")


def main(args) -> int:
    result = check_paths([args.examples])
    if result.diagnostics:
        print(render_all_text(result.diagnostics))
    print(f"== {len(result.monitors)} monitors checked in {result.files} files: "
          f"{'all valid' if result.ok else 'errors above'}\n", file=sys.stderr)
    for m in result.monitors:
        print(dump_monitor(m))
    return 0 if result.ok else 1
