"""How long compiling takes per monitor: check + lower + generate + render the whole job.

Prints ms per monitor and the ratio to a reference run in the same process (checking the
same files only), so the figure means something on any machine. Goal (issue #3): under
50 ms per monitor.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nql_flink.translator.pipeline import check_paths, compile_paths

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_rate import best_of, make_corpus  # noqa: E402
from measure import temporary_folder  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--monitors", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with temporary_folder() as tmp:
        make_corpus(Path(tmp), args.monitors)
        compiled = compile_paths([tmp])
        assert compiled.ok, "the corpus must compile"
        sql_bytes = len(compiled.sql())
        compile_s = best_of(args.runs, lambda: compile_paths([tmp]).sql())
        check_s = best_of(args.runs, lambda: check_paths([tmp]))
    per = compile_s / args.monitors * 1000
    print(f"monitors compiled        : {args.monitors} ({sql_bytes / 1024:.0f} KiB of SQL)")
    print(f"compile + render (best {args.runs}): {compile_s * 1000:8.1f} ms = {per:6.2f} ms per monitor")
    print(f"reference: check only    : {check_s * 1000:8.1f} ms = {check_s / args.monitors * 1000:6.2f} ms per monitor")
    print(f"ratio compile / check    : {compile_s / check_s:8.1f}x")
    print(f"goal (< 50 ms per monitor): {'met' if per < 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
