"""`nql-flink history init --jdbc URL`: the alert history's PostgreSQL table, its default
partition, indexes and the partitions of today and the next days (deploy/history,
docs/history.md). Exit 0 done, 1 the database refused or was not reached, 2 usage."""

from __future__ import annotations

import datetime
import sys


def add_arguments(parser):
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="create (or complete) the history table and the days' partitions; "
                                       "safe to run again, e.g. daily")
    init.add_argument("--jdbc", required=True, metavar="URL", help="jdbc:postgresql://HOST:PORT/DB, as given to "
                      "--history-jdbc; credentials from $NQL_HISTORY_USER and $NQL_HISTORY_PASSWORD")
    init.add_argument("--days", type=int, default=7, help="partitions for this many days after the first (default 7)")
    init.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="the first day (default today, UTC)")
    init.add_argument("--table", default="nql_alert_history", help="the table (default %(default)s), as the "
                      "job's history_table setting")


def main(args) -> int:
    from nql_flink.deploy import history

    first = None
    if args.first:
        try:
            first = datetime.date.fromisoformat(args.first)
        except ValueError:
            print(f"nql-flink history: --from {args.first!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return 2
    try:
        made = history.init(args.jdbc, table=args.table, first=first, days=args.days)
    except history.HistoryError as e:
        print(f"nql-flink history: [{e.code}] {e}", file=sys.stderr)
        return 2 if e.code in ("bad-url", "bad-days") else 1
    print(f"history table {args.table} ready; {made} new daily partition(s)", file=sys.stderr)
    return 0
