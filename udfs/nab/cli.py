"""`nql-flink bench nab`: run the baseline detector on NAB and print scores beside the scoreboard."""

from __future__ import annotations

import argparse
import json
import os
import sys

# the detector and runner (numpy, pandas) load in format_report/main only: `bench --help` stays fast


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=os.path.join("..", "shared", "data", "nab"),
                        help="NAB root holding data/, labels/ and config/ (default: ../shared/data/nab)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: min(2, cores))")
    parser.add_argument("--json", metavar="FILE", help="also write the full result as JSON")
    parser.add_argument("--quiet", action="store_true", help="no per-file progress on stderr")
    parser.add_argument("--results", metavar="DIR",
                        help="also write NAB-format result files (DIR/nqlflinkSeasonal/<category>/"
                             "nqlflinkSeasonal_<file>.csv: timestamp,value,anomaly_score,label) to rescore with NAB")


def _published(cell) -> tuple[float, str]:
    """A scoreboard cell -> (sort key, text): a number, or NAB's (high, low) range."""
    if isinstance(cell, tuple):
        return cell[0], f"{cell[0]:.1f}-{cell[1]:.1f}"
    return cell, f"{cell:.1f}"


def format_report(res: dict) -> str:
    from .runner import PROFILES, SCOREBOARD

    lines = []
    lines.append(f"{'detector':<30}{'standard':>10}{'low_FP':>10}{'low_FN':>10}")
    ours = ("nql-flink baseline (this run)", *(_published(res[p]) for p in PROFILES))
    rows = [ours] + [(k, *map(_published, v)) for k, v in SCOREBOARD.items()]
    rows.sort(key=lambda r: -r[1][0])
    for name, *cells in rows:
        mark = " <==" if name == ours[0] else ""
        lines.append(f"{name:<30}" + "".join(f"{text:>10}" for _, text in cells) + mark)
    lines.append("")
    lines.append("per category (normalised per category; artificialNoAnomaly has no windows: raw FP cost)")
    cats = sorted(res["categories"]["standard"])
    lines.append(f"{'category':<30}{'standard':>10}{'low_FP':>10}{'low_FN':>10}")
    for c in cats:
        vals = [res["categories"][p][c] for p in PROFILES]
        lines.append(f"{c:<30}" + "".join(f"{v:>10.1f}" for v in vals))
    lines.append("")
    lines.append("thresholds: " + ", ".join(f"{p}={res['thresholds'][p]:.6f}" for p in PROFILES))
    lines.append(f"elapsed: {res['seconds']:.1f}s")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from .detector import DetectorParams
    from .runner import run_nab, stderr_progress

    data = args.data
    if not os.path.isdir(os.path.join(data, "data")) or not os.path.exists(
            os.path.join(data, "labels", "combined_windows.json")):
        print(f"error: {data} does not look like a NAB root (data/, labels/combined_windows.json)", file=sys.stderr)
        return 2
    res = run_nab(data, DetectorParams(), workers=args.workers,
                  progress=None if args.quiet else stderr_progress, results_dir=args.results)
    print(format_report(res))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":  # python -m nql_flink.udfs.nab.cli
    p = argparse.ArgumentParser(prog="python -m nql_flink.udfs.nab.cli")
    add_arguments(p)
    sys.exit(main(p.parse_args()))
