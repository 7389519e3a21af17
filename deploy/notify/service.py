"""The long-running notifier: one worker thread per receiver, each with its own Kafka
consumer group (``<name>.<receiver>``) reading every partition of the alert topic
(read_committed), delivering the transitions routed to its receiver one at a time and
committing a record's offset only once it is done with it (delivered, rejected, or skipped
as bad or not routed here). A receiver that is down holds back only its own worker.

Partitions are assigned, not subscribed: no group rebalance, so a restarted notifier resumes
at once from its committed offsets; run one notifier per name (docs/notify.md).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.notify.alert import Alert, delivery_key, parse_deliveries
from nql_flink.deploy.notify.receivers import Receiver
from nql_flink.deploy.notify.senders import attempt, backoff

METRICS = {  # name -> (type, help)
    "nql_notify_delivered_total": ("counter", "transitions the receiver accepted"),
    "nql_notify_failed_attempts_total": ("counter", "delivery attempts that failed and will be retried"),
    "nql_notify_rejected_total": ("counter", "transitions the receiver refused as such (reported, skipped)"),
    "nql_notify_bad_records_total": ("counter", "records of the alert topic that are not alerts (reported, skipped)"),
    "nql_notify_unrouted_total": ("counter", "alerts of monitors the notifier was not given"),
    "nql_notify_receiver_failing": ("gauge", "1 while the receiver's current transition is being retried"),
}


@dataclass
class Settings:
    bootstrap: str
    topic: str
    name: str = "nql-notify"
    start: str = "earliest"            # where a consumer group without committed offsets starts
    once: bool = False                 # stop when every partition's end (as at start) is reached
    idle_timeout: float | None = None  # stop this long after the last record, once at the end
    kafka: dict = field(default_factory=dict)  # extra consumer settings


class Metrics:
    """Counters and gauges per receiver, printed in Prometheus' text format."""

    def __init__(self, receivers):
        self.lock = threading.Lock()
        self.values: dict[tuple[str, str], float] = {(m, r): 0 for m in METRICS for r in receivers}

    def add(self, metric: str, receiver: str, n: float = 1) -> None:
        with self.lock:
            self.values[(metric, receiver)] = self.values.get((metric, receiver), 0) + n

    def set(self, metric: str, receiver: str, value: float) -> None:
        with self.lock:
            self.values[(metric, receiver)] = value

    def get(self, metric: str, receiver: str) -> float:
        with self.lock:
            return self.values.get((metric, receiver), 0)

    def text(self) -> str:
        with self.lock:
            values = dict(self.values)
        out = []
        for metric, (kind, help_text) in METRICS.items():
            out += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
            out += [f'{metric}{{receiver="{r}"}} {v:g}' for (m, r), v in sorted(values.items()) if m == metric]
        return "\n".join(out) + "\n"

    def serve(self, host: str, port: int) -> ThreadingHTTPServer:
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = metrics.text().encode()
                self.send_response(200 if self.path in ("/metrics", "/") else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # no access log on the progress output
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=server.serve_forever, name="notify-metrics", daemon=True).start()
        return server


class Notifier:
    def __init__(self, settings: Settings, receivers: Mapping[str, Receiver],
                 routes: Mapping[tuple[str, str], tuple[str, ...]], print_line=print):
        self.settings, self.receivers, self.routes = settings, dict(receivers), routes
        self.stop = threading.Event()
        self.metrics = Metrics(self.receivers)
        self._print, self._lock = print_line, threading.RLock()  # RLock: the signal handler says a line too
        self._reported: set = set()

    def say(self, text: str) -> None:
        now = datetime.now(timezone.utc).strftime("%H:%M:%S")
        with self._lock:
            self._print(f"{now}  {text}", flush=True)

    def say_once(self, key, text: str) -> None:
        """Something every worker meets (a bad record, an unrouted monitor) is said once."""
        with self._lock:
            if key in self._reported:
                return
            self._reported.add(key)
        self.say(text)

    def run(self) -> bool:
        """Deliver until stopped (or, with once / idle_timeout, until every worker is done);
        False when a worker ended on an error."""
        workers = [Worker(self, r) for r in self.receivers.values()]
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers):
            for w in workers:
                w.join(0.2)
        for r in self.receivers:
            self.say(f"{r}: " + ", ".join(f"{self.metrics.get(m, r):g} {what}" for m, what in (
                ("nql_notify_delivered_total", "delivered"), ("nql_notify_failed_attempts_total", "failed attempts"),
                ("nql_notify_rejected_total", "rejected"), ("nql_notify_bad_records_total", "bad records skipped"))))
        return not any(w.failed for w in workers)


class Worker(threading.Thread):
    """One receiver: its consumer, its deliveries, its commits."""

    def __init__(self, notifier: Notifier, receiver: Receiver):
        super().__init__(name=f"notify-{receiver.name}", daemon=True)
        self.n, self.r, self.s = notifier, receiver, notifier.settings
        self.group = f"{self.s.name}.{receiver.name}"
        self.failed: str | None = None

    def run(self) -> None:
        from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

        c = Consumer(kc.client_config(self.s.bootstrap, **{
            "group.id": self.group, "enable.auto.commit": False, "enable.partition.eof": True,
            "isolation.level": "read_committed", "auto.offset.reset": self.s.start, **self.s.kafka}))
        try:
            parts = self._partitions()
            if not parts:
                return
            c.assign(self._positions(c, parts))
            self.n.say(f"{self.r.name}: consumer group {self.group} on {self.s.topic} ({len(parts)} partition(s))")
            at_end: set[int] = set()
            last = time.monotonic()
            while not self.n.stop.is_set():
                m = c.poll(0.2)
                if m is None:
                    if len(at_end) == len(parts) and (self.s.once or self.s.idle_timeout is not None
                                                      and time.monotonic() - last >= self.s.idle_timeout):
                        return
                    continue
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        at_end.add(m.partition())
                    else:
                        self.n.say(f"{self.r.name}: Kafka: {m.error()}")
                    continue
                at_end.discard(m.partition())
                if not self._handle(m):
                    return  # stopped while retrying: not committed, delivered again on restart
                try:
                    c.commit(offsets=[TopicPartition(m.topic(), m.partition(), m.offset() + 1)], asynchronous=False)
                except KafkaException as exc:  # delivered again after a restart: at least once, same key
                    self.n.say(f"{self.r.name}: offset {m.offset() + 1} of partition {m.partition()} not committed: {exc}")
                last = time.monotonic()
        except Exception as exc:  # a worker that dies says why (no traceback); the others go on
            self.failed = f"{exc.__class__.__name__}: {exc}"
            self.n.say(f"{self.r.name}: stopped on {self.failed}")
        finally:
            c.close()

    def _positions(self, c, parts: list[int]) -> list:
        """Where to start on each partition: the group's committed offset, else --start. Asked
        here, until the group coordinator answers: assign() alone gave up for good on a
        NOT_COORDINATOR answer (a broker still loading its offsets topic) and never fetched."""
        from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, KafkaException, TopicPartition

        default = OFFSET_BEGINNING if self.s.start == "earliest" else OFFSET_END
        while not self.n.stop.is_set():
            try:
                committed = c.committed([TopicPartition(self.s.topic, p) for p in parts], timeout=10)
            except KafkaException as exc:
                self.n.say(f"{self.r.name}: committed offsets of {self.group} not read yet: {exc}")
                self.n.stop.wait(0.5)
                continue
            return [TopicPartition(self.s.topic, tp.partition, tp.offset if tp.offset >= 0 else default)
                    for tp in committed]
        return []

    def _partitions(self) -> list[int]:
        from confluent_kafka import KafkaException

        while not self.n.stop.is_set():
            try:
                parts = kc.partitions(self.s.bootstrap, self.s.topic)
            except KafkaException as exc:  # the broker is not there (yet)
                self.n.say(f"{self.r.name}: partitions of {self.s.topic} not read: {exc}")
                self.n.stop.wait(1.0)
                continue
            if parts or self.s.once:
                if not parts:
                    self.n.say_once("no-topic", f"topic {self.s.topic} does not exist: nothing to deliver")
                return parts
            self.n.say_once("wait-topic", f"waiting for topic {self.s.topic} to exist")
            self.n.stop.wait(1.0)
        return []

    def _handle(self, m) -> bool:
        """False when stopped before the record's alerts were delivered (then all of them are
        delivered again after a restart, with the same keys). The alerts of one record (a
        grouped notification: one monitor's) routed here go as one delivery."""
        where = f"{m.topic()}[{m.partition()}]@{m.offset()}"
        alerts = parse_deliveries(m.value())
        if isinstance(alerts, str):
            self.n.metrics.add("nql_notify_bad_records_total", self.r.name)
            self.n.say_once(("bad", where), f"bad record {where} skipped: {alerts}")
            return True
        routed = [alert for alert in alerts if self._routed_here(alert)]
        return not routed or self._deliver(routed, where)

    def _routed_here(self, alert: Alert) -> bool:
        if alert.route_key not in self.n.routes:
            self.n.metrics.add("nql_notify_unrouted_total", self.r.name)
            self.n.say_once(("unrouted", alert.route_key),
                            f"no monitor file for {alert.tenant}/{alert.monitor}: its alerts are not delivered")
            return False
        return self.r.name in self.n.routes[alert.route_key]

    def _deliver(self, alerts: list[Alert], where: str) -> bool:
        first = alerts[0]
        what = (f"{first.status} {first.tenant}/{first.monitor} {first.group_text()} at {first.at}" if len(alerts) == 1
                else f"{len(alerts)} alerts of {first.tenant}/{first.monitor} ("
                + ", ".join(f"{a.status} {a.group_text()} at {a.at}" for a in alerts) + ")")
        what += f" key={delivery_key(alerts)}"
        failures = 0
        while True:
            outcome = attempt(self.r, alerts)
            if outcome.kind != "retry":
                self.n.metrics.set("nql_notify_receiver_failing", self.r.name, 0)
                metric = "nql_notify_delivered_total" if outcome.kind == "delivered" else "nql_notify_rejected_total"
                self.n.metrics.add(metric, self.r.name, len(alerts))
                self.n.say(f"{self.r.name}  {outcome.kind}  {what}  ({where}, {outcome.detail})")
                return True
            failures += 1
            delay = backoff(failures, self.r)
            self.n.metrics.add("nql_notify_failed_attempts_total", self.r.name)
            self.n.metrics.set("nql_notify_receiver_failing", self.r.name, 1)
            self.n.say(f"{self.r.name}  retry {failures} in {delay:g}s  {what}: {outcome.detail}")
            if self.n.stop.wait(delay):
                return False
