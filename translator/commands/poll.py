"""`nql-flink poll PATH... --clickhouse URL --from T1 --to T2 [--input TABLE=FILE ...] --output FILE`:
a backtest on ClickHouse (docs/polling.md). Each monitor is evaluated at every window end in
(T1, T2] over the tables at URL (loaded by `nql-flink load`, or by --input here first); the
alert records are the streaming job's (`nql-flink run`), sorted as its runner writes them.

Exit 0 done, 1 a monitor has errors or the engine failed, 2 usage."""

from __future__ import annotations

import datetime as dt
import sys

from nql_flink.translator.commands.load import add_clickhouse_argument


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="PATH", help="monitor files or folders")
    parser.add_argument("--tenant", help="tenant for monitors that do not name one")
    parser.add_argument("--strict", action="store_true", help="reject nql-flink extensions to NQL")
    add_clickhouse_argument(parser)
    parser.add_argument("--from", dest="start", required=True, metavar="T1",
                        help="evaluate window ends after T1 (ISO-8601 UTC, e.g. 2026-11-26T14:00:00Z)")
    parser.add_argument("--to", dest="end", required=True, metavar="T2", help="... up to and including T2")
    parser.add_argument("--input", action="append", default=[], metavar="TABLE=FILE",
                        help="load these JSONL records first (as `nql-flink load`); repeat per table")
    parser.add_argument("--output", metavar="FILE", help="alert records as JSON lines (default: stdout)")


def parse_instant(text: str) -> int | None:
    """Milliseconds since the epoch of an ISO-8601 time (UTC when it names no offset)."""
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() * 1000)


def evaluations_of(paths: list[str], tenant: str | None = None, strict: bool = False):
    """The monitors' evaluation queries and the diagnostics (NQL0801 for what this back end
    cannot evaluate yet); the queries are None when any diagnostic is an error."""
    from nql_flink.translator.clickhouse import codegen
    from nql_flink.translator.clickhouse.expressions import Unsupported
    from nql_flink.translator.diagnostics.diagnostic import diag
    from nql_flink.translator.pipeline import check_paths, monitor_key
    from nql_flink.translator.semantic.schema import load_catalog

    result = check_paths(paths, tenant=tenant, strict=strict)
    diagnostics = list(result.diagnostics)
    catalog = load_catalog()
    evaluations = []
    for m in result.monitors:
        lowered = result.lowered[monitor_key(m)]
        try:
            evaluations.append(codegen.generate(lowered, catalog))
        except Unsupported as exc:
            diagnostics.append(diag("NQL0801", m.spec.file, m.spec.span, what=str(exc)))
    ok = result.ok and not any(d.is_error for d in diagnostics)
    return (evaluations if ok else None), diagnostics


def checked_monitors(args, command: str):
    """The monitors' IR, each evaluable on ClickHouse; an int is the exit code after the
    diagnostics."""
    from nql_flink.translator.diagnostics.render import render_all_text
    from nql_flink.translator.pipeline import monitor_files

    files, missing = monitor_files(args.paths)
    if missing or not files:
        for p in missing or args.paths:
            print(f"nql-flink {command}: no monitor files at {p}", file=sys.stderr)
        return 2
    evaluations, diagnostics = evaluations_of(args.paths, args.tenant, args.strict)
    if diagnostics:
        print(render_all_text(diagnostics), file=sys.stderr)
    if evaluations is None:
        print(f"nql-flink {command}: fix the errors above", file=sys.stderr)
        return 1
    return evaluations


def main(args) -> int:
    from nql_flink.translator.clickhouse import poll
    from nql_flink.translator.clickhouse.connection import ClickHouseError, connect
    from nql_flink.translator.commands.load import load_inputs
    from nql_flink.translator.semantic.schema import load_catalog

    start, end = parse_instant(args.start), parse_instant(args.end)
    for flag, text, value in (("--from", args.start, start), ("--to", args.end, end)):
        if value is None:
            print(f"nql-flink poll: {flag} {text!r} is not an ISO-8601 time (e.g. 2026-11-26T14:00:00Z)", file=sys.stderr)
            return 2
    if end <= start:
        print(f"nql-flink poll: --to {args.end} is not after --from {args.start}", file=sys.stderr)
        return 2
    evaluations = checked_monitors(args, "poll")
    if isinstance(evaluations, int):
        return evaluations
    try:
        with connect(args.clickhouse) as conn:
            if args.input:
                code = load_inputs(conn, args.input, "poll")
                if code:
                    return code
            poll.create_tables(conn, load_catalog())  # (none loaded yet: no evaluations)
            lines = poll.backtest(conn, evaluations, start, end)
    except ClickHouseError as e:
        print(f"nql-flink poll: [{e.code}] {e}", file=sys.stderr)
        return 2 if e.code in ("bad-url", "unsupported-url", "bad-input") else 1
    print(f"{len(evaluations)} monitor(s) polled over ({args.start}, {args.end}]: {len(lines)} alert record(s)",
          file=sys.stderr)
    if args.output:
        poll.write_lines(args.output, lines)
    else:
        sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def write_polling_sql(args) -> int:
    """`compile --target clickhouse -o DIR`: the catalog's tables (tables.sql) and each monitor's
    evaluation query (<tenant>__<id>.sql, every window end; poll narrows it to (from, to])."""
    from pathlib import Path

    from nql_flink.translator.clickhouse import poll, tables
    from nql_flink.translator.semantic.schema import load_catalog

    evaluations = checked_monitors(args, "compile")
    if isinstance(evaluations, int):
        return evaluations
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog()
    ddl = [poll.render_sql("clickhouse/create_database.sql.j2", {"database": tables.ident(tables.DATABASE)})]
    ddl += [poll.render_sql("clickhouse/create_table.sql.j2", tables.ddl_context(t)) for t in tables.catalog_tables(catalog)]
    (out / "tables.sql").write_text("".join(s.rstrip() + ";\n\n" for s in ddl), encoding="utf-8")
    for e in evaluations:
        name = f"{e.monitor.tenant}__{e.monitor.id}.sql"
        (out / name).write_text(e.sql(ALL_TIME[0], ALL_TIME[1]).rstrip() + ";\n", encoding="utf-8")
    print(f"compiled {len(evaluations)} monitor(s) for ClickHouse -> {out}", file=sys.stderr)
    return 0


# compile --target clickhouse: every window end from the epoch to the year 9999
ALL_TIME = (0, 253_402_300_799_999)
