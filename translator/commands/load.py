"""`nql-flink load --clickhouse URL --input TABLE=FILE.jsonl ...`: telemetry into the
catalog's tables on ClickHouse (translator/clickhouse/tables.py, docs/polling.md), for `poll`.

Records the streaming job would dead-letter (not JSON, no tenant or time, a field of the wrong
type) are not loaded; their reasons are counted on stderr. Exit 0 done, 1 the engine failed,
2 usage or unreadable input."""

from __future__ import annotations

import sys

from nql_flink.translator.clickhouse.connection import DEFAULT_URL


def add_clickhouse_argument(parser) -> None:
    parser.add_argument("--clickhouse", default=DEFAULT_URL, metavar="URL",
                        help="chdb:///FOLDER (embedded ClickHouse, data kept in FOLDER), chdb:memory; "
                             f"default {DEFAULT_URL} (relative to the working directory)")


def add_arguments(parser):
    add_clickhouse_argument(parser)
    parser.add_argument("--input", action="append", default=[], required=True, metavar="TABLE=FILE",
                        help="JSONL records of a catalog table (e.g. session.vdi_events=events.jsonl); repeat per table")


def load_inputs(conn, pairs: list[str], command: str) -> int:
    """--input pairs into the connection's tables (created when missing); 0, or the exit code
    after saying why."""
    from nql_flink.translator.clickhouse import poll
    from nql_flink.translator.commands.run import parse_inputs
    from nql_flink.translator.semantic.schema import load_catalog

    inputs = parse_inputs(pairs)
    if isinstance(inputs, str):
        print(f"nql-flink {command}: {inputs}", file=sys.stderr)
        return 2
    catalog = load_catalog()
    poll.create_tables(conn, catalog)
    for table, path in inputs.items():
        loaded = poll.load_file(conn, catalog, table, path)
        rejected = "".join(f", {n} rejected {reason}" for reason, n in sorted(loaded.rejected.items()))
        print(f"{table}: {len(loaded.rows)} record(s) loaded from {path}{rejected}", file=sys.stderr)
    return 0


def main(args) -> int:
    from nql_flink.translator.clickhouse.connection import ClickHouseError, connect

    try:
        with connect(args.clickhouse) as conn:
            return load_inputs(conn, args.input, "load")
    except ClickHouseError as e:
        print(f"nql-flink load: [{e.code}] {e}", file=sys.stderr)
        return 2 if e.code in ("bad-url", "unsupported-url", "bad-input") else 1
