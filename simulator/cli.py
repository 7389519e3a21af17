"""`nql-flink simulate`: write deterministic telemetry, one JSONL file per catalog table.

Imports stay light here (no numpy) so building the `nql-flink` parser stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", help="output folder (created if missing); or --kafka")
    parser.add_argument("--kafka", metavar="HOST:PORT", nargs="?", const="", default=None,
                        help="produce to Kafka instead of files: topic per table = the catalog's topic, key = "
                             "tenant|entity id (address: the option's value, else $NQL_KAFKA_BOOTSTRAP_SERVERS, "
                             "else the local broker of `python -m nql_flink.deploy.kafka start`)")
    parser.add_argument("--topic-prefix", default="", help="--kafka: prepended to every topic name")
    parser.add_argument("--partitions", type=int, default=1, help="--kafka: partitions of topics it creates")
    parser.add_argument("--flush", action="store_true",
                        help="--kafka: end with a record of tenant __flush__ at the current time on every "
                             "partition, so the job's windows fire for all the data (for data sets older than the "
                             "tenant lag bound, 10 min by default)")
    parser.add_argument("--start", default="2026-11-26T07:00:00Z", help="first event time, ISO-8601 (default %(default)s)")
    parser.add_argument("--duration", default="1h", help="e.g. 30min, 2h, 1d (default %(default)s)")
    parser.add_argument("--devices", type=int, default=2000, help="devices per tenant (default %(default)s)")
    parser.add_argument("--vdi-share", type=float, default=0.6,
                        help="fraction of devices that are VDI desktops in pools (default %(default)s)")
    parser.add_argument("--pools", default=None,
                        help="comma-separated desktop pools (default: all pools of the fleet profile)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default %(default)s)")
    parser.add_argument("--tenants", default="acme,globex",
                        help="comma-separated tenants, each optionally name:+HH:MM (UTC offset) (default %(default)s)")
    parser.add_argument("--tables", default=None,
                        help="comma-separated catalog tables to write (default: all)")
    parser.add_argument("--incident", action="append", default=[], metavar="SPEC",
                        help="e.g. 'pool=Finance-Win11,metric=network_latency,start=2026-11-26T10:00:00Z,"
                             "minutes=12,add_ms=250' (tenant= defaults to the first tenant); repeatable")
    parser.add_argument("--incidents", metavar="YAML", help="incidents file: {incidents: [ {pool: ..., ...} ]}")
    parser.add_argument("--gzip", action="store_true", help="write .jsonl.gz instead of .jsonl")
    parser.add_argument("--out-of-order", type=float, default=0.0, metavar="FRACTION",
                        help="fraction of records delivered late (default 0 = sorted by event time)")
    parser.add_argument("--lateness", default="10s", help="maximum delay of late records (default %(default)s)")
    parser.add_argument("--bad-records", type=float, default=0.0, metavar="FRACTION",
                        help="fraction of extra bad records (malformed JSON, missing tenant, missing time, wrong "
                             "types, NaN, 1e400, number as object/array, invalid UTF-8) inserted for "
                             "dead-letter tests (default 0)")
    parser.add_argument("--inventory-every", default="1h",
                        help="re-emit each device's inventory version this often (default %(default)s)")
    parser.add_argument("--profile", default=None, metavar="YAML", help="fleet profile (default: simulator/profiles.yaml)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


# --kafka options do not change the data: the manifest (and its bytes) stays the same
_NOT_IN_MANIFEST = ("out", "quiet", "command", "kafka", "topic_prefix", "partitions", "flush")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .config import SimConfig, load_incidents, parse_duration, parse_incident
    from .engine import Simulation
    from .output import write_table

    tenants = [t.strip() for t in args.tenants.split(",") if t.strip()]
    first = tenants[0].split(":")[0] if tenants else None
    try:
        incidents = [parse_incident(s, first, i) for i, s in enumerate(args.incident)]
        if args.incidents:
            incidents += load_incidents(args.incidents, first, len(incidents))
        cfg = SimConfig(start=args.start, duration=args.duration, devices=args.devices, seed=args.seed,
                        tenants=tuple(tenants), vdi_share=args.vdi_share,
                        pools=tuple(p.strip() for p in args.pools.split(",")) if args.pools else None,
                        incidents=incidents,
                        tables=tuple(t.strip() for t in args.tables.split(",")) if args.tables else None,
                        profile=args.profile, inventory_every=args.inventory_every)
        lateness = parse_duration(args.lateness)
        sim = Simulation(cfg)
    except (ValueError, KeyError) as exc:
        print(f"nql-flink simulate: error: {exc}", file=sys.stderr)
        return 2

    if args.kafka is not None:
        return _to_kafka(args, sim, lateness)
    if not args.out:
        print("nql-flink simulate: give --out DIR or --kafka [HOST:PORT]", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    def progress(table, i, n, count):
        if not args.quiet and n > 1:
            print(f"  {table}: hour {i}/{n} ({count:,} records, {time.perf_counter() - t_start:.1f}s)",
                  file=sys.stderr, flush=True)

    files = {}
    for table in sim.tables:
        t0 = time.perf_counter()
        path, stats = write_table(sim, table, out, compress=args.gzip, out_of_order=args.out_of_order,
                                  lateness_ms=lateness, bad_fraction=args.bad_records, progress=progress)
        files[path.name] = {"table": table, **stats}
        if not args.quiet:
            print(f"{path}: {stats['records']:,} records"
                  + (f", {len(stats['bad_records'])} bad" if stats["bad_records"] else "")
                  + (f", {stats['out_of_order']} out of order" if stats["out_of_order"] else "")
                  + f" ({time.perf_counter() - t0:.1f}s)", file=sys.stderr, flush=True)
    manifest = {
        "generator": "nql-flink simulate",
        "arguments": {k: v for k, v in sorted(vars(args).items()) if not k.startswith("_") and k not in _NOT_IN_MANIFEST},
        "simulation": sim.describe(),
        "out_of_order": {"fraction": args.out_of_order, "lateness_ms": lateness},
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    if not args.quiet:
        total = sum(f["records"] for f in files.values())
        print(f"wrote {total:,} records to {out}/ in {time.perf_counter() - t_start:.1f}s", file=sys.stderr)
    return 0


def _to_kafka(args: argparse.Namespace, sim, lateness: int) -> int:
    from nql_flink.deploy.kafka.client import resolve_bootstrap
    from nql_flink.deploy.kafka.telemetry import produce_simulation

    bootstrap = resolve_bootstrap(args.kafka or None)
    if not bootstrap:
        print("nql-flink simulate: no Kafka address: --kafka HOST:PORT, $NQL_KAFKA_BOOTSTRAP_SERVERS "
              "or a running `python -m nql_flink.deploy.kafka start`", file=sys.stderr)
        return 2
    t0 = time.perf_counter()

    def progress(table, topic, n):
        if not args.quiet:
            print(f"{topic}: {n:,} records ({table}, {time.perf_counter() - t0:.1f}s)", file=sys.stderr, flush=True)

    counts = produce_simulation(sim, bootstrap, topic_prefix=args.topic_prefix, partitions=args.partitions,
                                out_of_order=args.out_of_order, lateness_ms=lateness,
                                bad_fraction=args.bad_records, flush_after=args.flush, progress=progress)
    if not args.quiet:
        print(f"produced {sum(counts.values()):,} records to {len(counts)} topics on {bootstrap}"
              + (" (+ flush records)" if args.flush else ""), file=sys.stderr)
    return 0
