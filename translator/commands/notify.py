"""`nql-flink notify PATH... --receivers FILE`: deliver the alert topic's transitions to the
receivers named in the monitors' `notify:` lists and defined in the receivers file (webhook,
email, Alertmanager), at least once, each delivery with its transition's idempotency key
(deploy/notify, docs/notify.md).

Checks first (monitor files, receivers file, every `notify:` name, the secrets' environment
variables) and starts nothing on an error. Then one line per delivery or retry until
SIGTERM / SIGINT, or --once / --idle-timeout.
"""

from __future__ import annotations

import signal
import sys

from nql_flink.translator.commands.common import add_topic_arguments, kafka_address


def add_arguments(parser):
    parser.add_argument("paths", nargs="+", metavar="PATH", help="monitor files or folders (their `notify:` lists)")
    parser.add_argument("--receivers", required=True, metavar="FILE", help="the receivers file (docs/notify.md)")
    parser.add_argument("--tenant", help="tenant for monitors that do not name one")
    add_topic_arguments(parser, "nql.alerts", "alert topic")
    parser.add_argument("--name", default="nql-notify", help="this notifier's name: receiver R's consumer group is "
                        "NAME.R (default %(default)s)")
    parser.add_argument("--start", choices=("earliest", "latest"), default="earliest",
                        help="where a receiver without committed offsets starts (default %(default)s)")
    parser.add_argument("--once", action="store_true", help="deliver what the topic holds now, then stop")
    parser.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                        help="stop once every receiver is at the topic's end and no record came for this long")
    parser.add_argument("--metrics", metavar="HOST:PORT", help="serve the counters (Prometheus text) at "
                        "http://HOST:PORT/metrics")
    parser.add_argument("--check", action="store_true", help="check the files and the environment, deliver nothing")


def main(args) -> int:
    from nql_flink.deploy.notify.receivers import read_receivers, routes
    from nql_flink.translator.diagnostics.render import render_all_text
    from nql_flink.translator.pipeline import check_paths, monitor_files

    files, missing = monitor_files(args.paths)
    if missing or not files:
        for p in missing or args.paths:
            print(f"nql-flink notify: no monitor files at {p}", file=sys.stderr)
        return 2
    checked = check_paths(args.paths, tenant=args.tenant)
    receivers, diags = read_receivers(args.receivers)
    table, more = routes(checked.monitors, receivers, args.receivers)
    diags = checked.diagnostics + diags + more
    if diags:
        print(render_all_text(diags), file=sys.stderr)
    if any(d.is_error for d in diags):
        print("nql-flink notify: nothing started: fix the errors above", file=sys.stderr)
        return 1
    used = {name: receivers[name] for names in table.values() for name in names}
    if not used:
        print(f"nql-flink notify: no monitor names a receiver of {args.receivers} in `notify:`: nothing to deliver",
              file=sys.stderr)
        return 1
    unused = sorted(set(receivers) - set(used))
    print(f"{len(table)} monitor(s); receivers: " + ", ".join(f"{r.name} ({r.kind})" for r in used.values())
          + (f"; named by no monitor: {', '.join(unused)}" if unused else ""), flush=True)
    if args.check:
        return 0
    return _run(args, used, table)


def _run(args, receivers, table) -> int:
    from nql_flink.deploy.notify.service import Notifier, Settings

    bootstrap = kafka_address(args.kafka, args.command)
    if not bootstrap:
        return 2
    settings = Settings(bootstrap=bootstrap, topic=args.topic_prefix + args.topic, name=args.name, start=args.start,
                        once=args.once, idle_timeout=args.idle_timeout)
    notifier = Notifier(settings, receivers, table)
    server = None
    if args.metrics:
        host, _, port = args.metrics.rpartition(":")
        try:
            server = notifier.metrics.serve(host or "127.0.0.1", int(port))
        except (OSError, ValueError) as exc:
            print(f"nql-flink notify: --metrics {args.metrics}: {exc}", file=sys.stderr)
            return 2
        notifier.say(f"metrics at http://{args.metrics}/metrics")

    def stop(signum, _frame):
        notifier.say(f"{signal.Signals(signum).name}: stopping (what is not delivered yet is not committed)")
        notifier.stop.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        ok = notifier.run()
    finally:
        for sig, handler in previous.items():  # main() may run inside another program (the tests)
            signal.signal(sig, handler)
        if server is not None:
            server.shutdown()
    return 0 if ok else 1
