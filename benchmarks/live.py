"""A generated job running on a real broker on loopback and the embedded mini-cluster, fed
live: what the benchmarks that measure a running job share (benchmarks/tenant_delay.py,
alert_latency.py, state_bytes.py).

    with broker_and_flink(None) as (bootstrap, t_env):        # a broker of its own
        job = LiveJob.start(t_env, bootstrap, monitors, inventory_lines, config={...})
        watcher = AlertWatcher(bootstrap, job.alerts_topic, read_committed=True)
        job.produce(lines)                                        # telemetry, now
        ...
        job.cancel()

The job is the generated one, unchanged, on Kafka (deploy/embedded/runner.py start_job); its
topics get a prefix of their own, so several jobs of one process (or of a test session's
shared broker) never read each other's records."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from measure import temporary_folder  # benchmarks/, the script's folder

EVENTS, INVENTORY = "session.vdi_events", "device.devices"


@contextlib.contextmanager
def broker_and_flink(bootstrap: str | None, config: dict[str, str] | None = None):
    """(bootstrap, t_env): the broker at `bootstrap`, or one started here in a temporary
    folder and stopped afterwards; and a streaming TableEnvironment (session `config`) with
    the Kafka connector."""
    from nql_flink.deploy.embedded.runner import create_table_env
    from nql_flink.deploy.jars import add_jars
    from nql_flink.deploy.kafka import KafkaBroker

    with temporary_folder(prefix="nql-bench-live-") as d:
        broker = None
        if bootstrap is None:
            print("starting a broker ...", file=sys.stderr, flush=True)
            broker = KafkaBroker.start(Path(d) / "kafka", quiet=True)
            bootstrap = broker.bootstrap
        try:
            print("starting the mini-cluster ...", file=sys.stderr, flush=True)
            t_env = create_table_env(config=config)
            add_jars(t_env)
            yield bootstrap, t_env
        finally:
            if broker is not None:
                broker.stop()


@dataclass
class LiveJob:
    bootstrap: str
    compiled: object      # translator.pipeline.Compiled
    options: object       # CompileOptions
    result: object        # the TableResult of the submitted statement set
    folder: Path          # its Kafka properties file's, removed by cancel()

    @classmethod
    def start(cls, t_env, bootstrap: str, monitors: Path | list[Path], inventory: list[str], *,
              config: dict[str, str] | None = None, **options) -> "LiveJob":
        """Compile `monitors` (CompileOptions `options` over a topic prefix and consumer group
        of their own), create the topics with the monitors' config records, produce the
        `inventory` lines, and submit the job with the generated session options, Flink's
        restarts off, and `config` over them. The job's Kafka clients read the bootstrap
        servers from a properties file in a folder of its own, removed by cancel() (or here,
        if the job does not start): every run left one in /tmp."""
        from nql_flink.deploy.embedded.runner import start_job
        from nql_flink.deploy.submit import prepare_kafka
        from nql_flink.translator.flink.codegen import session_options
        from nql_flink.translator.flink.connectors import CompileOptions
        from nql_flink.translator.pipeline import compile_paths

        prefix = f"bench{int(time.time() * 1000) % 10**8}."
        folder = Path(tempfile.mkdtemp(prefix="nql-bench-props-"))
        try:
            props = folder / "kafka.properties"
            props.write_text(f"bootstrap.servers={bootstrap}\n")
            o = CompileOptions(topic_prefix=prefix, group_id=prefix + "nql", credentials=f"file:{props}", **options)
            paths = [str(p) for p in (monitors if isinstance(monitors, list) else [monitors])]
            compiled = compile_paths(paths, options=o)
            if not compiled.ok:
                raise SystemExit("; ".join(d.message for d in compiled.result.diagnostics))
            prepare_kafka(bootstrap, compiled, o)
            job = cls(bootstrap, compiled, o, None, folder)
            job.produce(inventory, INVENTORY)
            job.result = start_job(compiled.statements(), t_env=t_env,
                                   config={**session_options(o), "restart-strategy.type": "none", **(config or {})})
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return job

    def topic(self, table: str) -> str:
        return self.options.topic(f"nql.{table}")

    @property
    def alerts_topic(self) -> str:
        return self.options.topic(self.options.alerts_topic)

    @property
    def alert_state_topic(self) -> str:
        return self.options.topic(self.options.alert_state_topic)

    def produce(self, lines: list[str], table: str = EVENTS) -> float:
        """Produce `lines` (JSON records of the catalog `table`) keyed as the telemetry is;
        returns the monotonic time once the broker acknowledged them all."""
        from nql_flink.deploy.kafka import client as kc
        from nql_flink.deploy.kafka.telemetry import record_key

        key = record_key(table)
        kc.produce(self.bootstrap, self.topic(table), [(key(x.encode()), x.encode()) for x in lines])
        return time.monotonic()

    def job_id(self) -> str:
        return str(self.result.get_job_client().get_job_id())

    def cancel(self) -> None:
        """Cancel the job, then remove its properties file (even if the cancel failed)."""
        try:
            self.result.get_job_client().cancel().result()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class AlertWatcher:
    """A consumer of the alert topic in a thread of its own, from its start until stop():
    the monotonic time each alert record (by tenant, monitor, group, status, at) was first
    read. read_committed: what production readers see (an alert becomes
    visible when the checkpoint after its write completes); read_uncommitted: when the job
    wrote it."""

    def __init__(self, bootstrap: str, topic: str, *, read_committed: bool):
        self.bootstrap, self.topic, self.read_committed = bootstrap, topic, read_committed
        self.seen: dict[tuple, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    @staticmethod
    def key(alert: dict) -> tuple:
        return alert["tenant"], alert["monitor"], json.dumps(alert["group"], sort_keys=True), alert["status"], \
            alert["at"]

    def _watch(self) -> None:
        from nql_flink.deploy.kafka import client as kc

        for _, value in kc.tail(self.bootstrap, self.topic, read_committed=self.read_committed, stop=self._stop):
            self.seen.setdefault(self.key(json.loads(value)), time.monotonic())

    def wait(self, done: Callable[[dict[tuple, float]], bool], timeout: float) -> bool:
        """Whether `done(seen)` came true within `timeout` seconds."""
        end = time.monotonic() + timeout
        while not done(dict(self.seen)):
            if time.monotonic() > end:
                return False
            time.sleep(0.2)
        return True

    def stop(self) -> None:
        """End the consumer (within a poll of kc.tail, 0.2 s)."""
        self._stop.set()
        self._thread.join(timeout=10)
