"""How fast `nql-flink check` is: 1,000 monitor files, checked in this process.

Prints the rate and the ratio to a reference run in the same process (reading and
composing the same YAML files with libyaml, no NQL work), so the figure means something
on any machine. Goal (issue #2): 1,000 monitors in under a second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from nql_flink.translator.pipeline import check_paths

from measure import temporary_folder  # benchmarks/, the script's folder

ROOT = Path(__file__).resolve().parents[1]


def make_corpus(folder: Path, count: int) -> list[Path]:
    examples = sorted((ROOT / "examples" / "monitors").glob("*.yaml"))
    single = [p.read_text() for p in examples if "monitors:" not in p.read_text()]
    files = []
    for i in range(count):
        text = single[i % len(single)]
        text = text.replace("\nid: ", f"\nid: m{i:04d}_", 1) if "\nid: " in text else text.replace("id: ", f"id: m{i:04d}_", 1)
        f = folder / f"m{i:04d}.yaml"
        f.write_text(text)
        files.append(f)
    return files


def best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--monitors", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with temporary_folder() as tmp:
        files = make_corpus(Path(tmp), args.monitors)
        result = check_paths([tmp])
        assert result.ok and len(result.monitors) == args.monitors, "the corpus must be valid"
        check_s = best_of(args.runs, lambda: check_paths([tmp]))
        ref_s = best_of(args.runs, lambda: [yaml.compose(f.read_text(), Loader=yaml.CSafeLoader) for f in files])
    print(f"monitors checked      : {args.monitors}")
    print(f"check (best of {args.runs})     : {check_s * 1000:8.1f} ms  = {args.monitors / check_s:8.0f} monitors/s "
          f"({check_s / args.monitors * 1e6:.0f} us each)")
    print(f"reference: YAML only  : {ref_s * 1000:8.1f} ms  = {args.monitors / ref_s:8.0f} files/s")
    print(f"ratio check / YAML    : {check_s / ref_s:8.1f}x")
    print(f"goal (< 1 s per 1,000): {'met' if check_s * 1000 / args.monitors < 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
