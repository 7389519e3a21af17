"""A backtest over a week of simulated telemetry on chdb (issue 17's goal: 20 monitors in under a
minute): `nql-flink simulate` for 7 days, `load` into a chdb folder (timed apart), then `poll`
of 20 monitors (the bundled examples, renamed, repeated to 20 as benchmarks/check_rate.py
builds its corpus) over the whole week, in this process.

    .venv/bin/python benchmarks/poll_week.py [--devices 20] [--days 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_rate import make_corpus  # noqa: E402
from measure import figures_path, temporary_folder, write_figures  # noqa: E402

from nql_flink.translator.clickhouse import poll  # noqa: E402
from nql_flink.translator.clickhouse.connection import connect  # noqa: E402
from nql_flink.translator.commands.poll import checked_monitors  # noqa: E402
from nql_flink.translator.semantic.schema import load_catalog  # noqa: E402

START = "2026-11-23T00:00:00Z"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=20, help="simulated devices per tenant (default 20)")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--monitors", type=int, default=20)
    ap.add_argument("--json", default=figures_path("poll_week.json"))
    args = ap.parse_args()
    with temporary_folder(prefix="nql-poll-week-") as tmp:
        data, corpus = Path(tmp, "data"), Path(tmp, "monitors")
        corpus.mkdir()
        subprocess.run([sys.executable, "-m", "nql_flink.translator.cli", "simulate", "--out", str(data), "--start", START,
                        "--duration", f"{args.days}d", "--devices", str(args.devices), "--tenants", "acme,globex",
                        "--quiet"], check=True)
        make_corpus(corpus, args.monitors)
        evaluations = checked_monitors(argparse.Namespace(paths=[str(corpus)], tenant=None, strict=False), "poll")
        if isinstance(evaluations, int):
            return evaluations
        catalog = load_catalog()
        with connect(f"chdb://{Path(tmp, 'db')}") as conn:
            t0 = time.perf_counter()
            poll.create_tables(conn, catalog)
            records = 0
            for f in sorted(data.glob("*.jsonl")):
                records += len(poll.load_file(conn, catalog, f.stem, str(f)).rows)
            load_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            lines = poll.backtest(conn, evaluations, 0, 253_402_300_799_999)
            poll_s = time.perf_counter() - t0
    result = {"monitors": len(evaluations), "days": args.days, "devices_per_tenant": args.devices,
              "records": records, "load_s": round(load_s, 2), "poll_s": round(poll_s, 2), "alert_records": len(lines)}
    print(f"{result['monitors']} monitors over {args.days} days ({records} records, {args.devices} devices per tenant): "
          f"load {load_s:.1f} s, poll {poll_s:.1f} s, {len(lines)} alert records (goal: poll < 60 s)")
    write_figures(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
