"""`nql-flink check PATH...`: exit 0 when every monitor is valid, 1 on any error, 2 on usage."""

from __future__ import annotations

import sys

from nql_flink.translator.diagnostics.render import render_all_text, render_json
from nql_flink.translator.pipeline import check_paths, monitor_files


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="PATH", help="monitor files or folders")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--tenant", help="tenant for monitors that do not name one")
    parser.add_argument("--strict", action="store_true", help="reject nql-flink extensions to NQL")
    parser.add_argument("--ir", action="store_true",
                        help="print each valid monitor's relational IR (what code generation receives)")


def main(args) -> int:
    files, missing = monitor_files(args.paths)
    if missing:
        for p in missing:
            print(f"nql-flink check: no such file or folder: {p}", file=sys.stderr)
        return 2
    if not files:
        print("nql-flink check: no .yaml monitor files found", file=sys.stderr)
        return 2
    result = check_paths(args.paths, tenant=args.tenant, strict=args.strict)
    errors = sum(d.is_error for d in result.diagnostics)
    warnings = len(result.diagnostics) - errors
    if args.format == "json":
        print(render_json(result.diagnostics))
    else:
        if result.diagnostics:
            print(render_all_text(result.diagnostics), flush=True)  # before the summary on stderr
        if args.ir:
            from nql_flink.translator.ir.dump import monitor

            print("\n".join(monitor(ir) for ir in result.lowered.values()), end="", flush=True)
        status = "ok" if not errors else "failed"
        print(f"{status}: {result.files} file(s), {len(result.monitors)} valid monitor(s), {errors} error(s), {warnings} warning(s)",
              file=sys.stderr)
    return 1 if errors else 0
