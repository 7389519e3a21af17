"""`nql-flink tail-alerts [--kafka HOST:PORT]`: print alert records (one JSON per line) from
the alert topic, as a consumer of the exactly-once sink sees them (read_committed).

Follows the topic until interrupted, unless --timeout / --idle-timeout / --max end it.
"""

from __future__ import annotations

import sys

from nql_flink.translator.commands.common import add_topic_arguments, kafka_address


def add_arguments(parser):
    add_topic_arguments(parser, "nql.alerts", "alert topic")
    parser.add_argument("--dead-letters", action="store_true", help="tail the dead-letter topic (nql.dead_letters)")
    parser.add_argument("--from-end", action="store_true", help="only records arriving from now on")
    parser.add_argument("--timeout", type=float, help="stop after this many seconds")
    parser.add_argument("--idle-timeout", type=float, help="stop this many seconds after the last record")
    parser.add_argument("--max", type=int, help="stop after this many records")
    parser.add_argument("--keys", action="store_true", help="print KEY<TAB>VALUE")


def main(args) -> int:
    from nql_flink.deploy.kafka import client as kc

    bootstrap = kafka_address(args.kafka, args.command)
    if not bootstrap:
        return 2
    topic = args.topic_prefix + ("nql.dead_letters" if args.dead_letters else args.topic)
    n = 0
    try:
        for key, value in kc.tail(bootstrap, topic, from_beginning=not args.from_end, timeout=args.timeout,
                                  idle_timeout=args.idle_timeout, read_committed=True):
            text = value.decode("utf-8", errors="replace")
            if args.keys:
                text = (key or b"").decode("utf-8", errors="replace") + "\t" + text
            print(text, flush=True)
            n += 1
            if args.max is not None and n >= args.max:
                break
    except KeyboardInterrupt:
        pass
    except RuntimeError as e:
        print(f"nql-flink tail-alerts: {e}", file=sys.stderr)
        return 1
    print(f"{n} record(s) from {topic}", file=sys.stderr)
    return 0
