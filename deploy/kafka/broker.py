"""A real single-node Apache Kafka (KRaft broker+controller in one JVM) on 127.0.0.1.

The jars come from Maven Central through deploy/kafka/pom.xml (see deploy.jars); no Docker,
no tarball. The JVM is small (-Xmx512m, SerialGC), the data lives in ``state_dir`` and the
process is stopped by the pid this module wrote. The first start formats storage and picks free
ports; later starts keep the data, the cluster id and the ports (broker.json), so a Flink
cluster started with the broker's address keeps working across broker restarts.

Python API (pytest session fixture)::

    from nql_flink.deploy.kafka import KafkaBroker
    broker = KafkaBroker.start(tmp_dir)      # formats storage, starts, waits for a metadata answer
    broker.bootstrap                         # '127.0.0.1:PORT'
    broker.restart()                         # same data, cluster id and ports (kill=True: SIGKILL first)
    broker.stop()                            # broker.json stays (pid 0) for the next start
    KafkaBroker.start(tmp_dir, fresh=True)   # empty data, new cluster id and ports

CLI::

    python -m nql_flink.deploy.kafka start [--fresh] [--state-dir build/kafka]   # prints host:port
    python -m nql_flink.deploy.kafka restart [--kill] | status | stop | bootstrap
    python -m nql_flink.deploy.kafka produce TOPIC [--key tenant] < records.jsonl
    python -m nql_flink.deploy.kafka tail TOPIC [--timeout 10]
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nql_flink.deploy import jars
from nql_flink.deploy.local_service import (C1_ONLY, StateFile, cmdline_has, end_processes, free_port, launch, pid_alive, port_free,
                                  tail, wait_until)

KAFKA_DIR = Path(__file__).resolve().parent
DEFAULT_STATE_DIR = jars.REPO_ROOT / "build" / "kafka"
STATE_FILE = "broker.json"

# C1 only cuts JVM warm-up for a short-lived test broker.
DEFAULT_JVM_OPTS = [
    "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", C1_ONLY,
    "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8",
]

# flink.md section 5.3, plus the loopback listeners filled in at start.
SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}{sasl_listener}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}{sasl_listener}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs={log_dirs}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
# Flink's KafkaSink default transaction timeout is 1 h; the broker default cap is 15 min.
transaction.max.timeout.ms=3600000
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
# After a kill, the restarted broker cannot register until the controller's session of the old
# one expires (DUPLICATE_BROKER_REGISTRATION); defaults 2 s / 9 s made a crash restart 13 s.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
auto.create.topics.enable=true
delete.topic.enable=true
"""


class BrokerError(RuntimeError):
    pass


def _random_cluster_id() -> str:
    # Kafka's Uuid.toString(): URL-safe base64 of 16 bytes without padding; ids starting
    # with '-' are avoided by Kafka itself (they look like CLI flags).
    while True:
        cid = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


# ---------------------------------------------------------------- wire protocol (readiness)

def _request(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client = b"nql-flink-probe"
    header = struct.pack(">hhih", api_key, version, corr, len(client)) + client
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", _recv(sock, 4))[0]
    data = _recv(sock, size)
    if struct.unpack(">i", data[:4])[0] != corr:
        raise BrokerError("correlation id mismatch")
    return data[4:]


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def probe_metadata(host: str, port: int, timeout: float = 2.0) -> list[tuple[int, str, int]]:
    """Ask the broker for cluster metadata; return its broker list [(node_id, host, port)].

    ApiVersions v0 first (every broker answers it), then the lowest non-flexible Metadata
    version the broker accepts (Kafka 4 removed the oldest versions, KIP-896).
    Raises OSError/BrokerError if the broker is not serving yet.
    """
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        r = _request(s, 18, 0, 1, b"")
        err, n = struct.unpack(">hi", r[:6])
        if err:
            raise BrokerError(f"ApiVersions error {err}")
        ranges = {}
        for i in range(n):
            k, lo, hi = struct.unpack(">hhh", r[6 + 6 * i: 12 + 6 * i])
            ranges[k] = (lo, hi)
        lo, hi = ranges.get(3, (0, -1))
        v = max(lo, 1)
        if v > min(hi, 8):
            raise BrokerError(f"no non-flexible Metadata version in {lo}..{hi}")
        body = struct.pack(">i", -1)  # all topics (null array)
        if v >= 4:
            body += b"\x00"  # allow_auto_topic_creation=false
        if v >= 8:
            body += b"\x00\x00"  # include_*_authorized_operations=false
        r = _request(s, 3, v, 2, body)
        off = 4 if v >= 3 else 0  # throttle_time_ms
        (nb,) = struct.unpack(">i", r[off: off + 4])
        off += 4
        brokers = []
        for _ in range(nb):
            node, hl = struct.unpack(">ih", r[off: off + 6])
            off += 6
            h = r[off: off + hl].decode()
            off += hl
            (p,) = struct.unpack(">i", r[off: off + 4])
            off += 4
            (rl,) = struct.unpack(">h", r[off: off + 2])
            off += 2 + max(rl, 0)
            brokers.append((node, h, p))
        return brokers


# ---------------------------------------------------------------- broker

@dataclass
class KafkaBroker(StateFile):
    state_dir: Path
    pid: int
    host: str
    port: int
    controller_port: int
    cluster_id: str
    log_file: Path
    sasl_port: int | None = None

    STATE_FILE = STATE_FILE
    DEFAULT_STATE_DIR = DEFAULT_STATE_DIR
    PATH_FIELDS = ("state_dir", "log_file")

    @property
    def bootstrap(self) -> str:
        """``host:port`` of the PLAINTEXT listener (Flink 'properties.bootstrap.servers')."""
        return f"{self.host}:{self.port}"

    @property
    def sasl_bootstrap(self) -> str | None:
        """``host:port`` of the SASL_PLAINTEXT/PLAIN listener, if started with ``sasl_users``."""
        return f"{self.host}:{self.sasl_port}" if self.sasl_port else None

    # -- lifecycle -------------------------------------------------------
    @classmethod
    def start(cls, state_dir: str | os.PathLike | None = None, *, fresh: bool = False, timeout: float = 90.0,
              jvm_opts: list[str] | None = None, extra_properties: dict[str, str] | None = None,
              sasl_users: dict[str, str] | None = None, quiet: bool = False) -> "KafkaBroker":
        """Start the broker of ``state_dir``, wait until it answers a metadata request, write
        broker.json.

        Data is kept: when the data dir was formatted before (a stopped or crashed broker), the
        broker comes back with its records, its cluster id and the ports of the previous
        broker.json (the address the Flink cluster's jobs and the clients still use); storage is
        not formatted again. ``fresh=True``, or no earlier broker, wipes the data dir, formats
        it with a new cluster id and picks free loopback ports.

        ``sasl_users`` ({user: password}) adds a SASL_PLAINTEXT listener with mechanism PLAIN
        (``sasl_bootstrap``), to test client/connector authentication settings end to end.

        If ``state_dir`` already holds a live broker, raise BrokerError (stop it first). If a
        previous port is taken by another process now, raise BrokerError (``fresh=True`` picks
        new ones).
        """
        state = Path(state_dir) if state_dir else DEFAULT_STATE_DIR
        state.mkdir(parents=True, exist_ok=True)
        old = cls.load(state)
        if old is not None and old.alive():
            raise BrokerError(f"a broker already runs from {state} (pid {old.pid}, {old.bootstrap})")
        if fresh:
            old = None
        data = state / "data"
        cid = None if fresh else formatted_cluster_id(data)
        if cid is None and data.exists():
            import shutil
            shutil.rmtree(data)
        taken: set[int] = set()

        def port_for(previous: int | None) -> int:
            if previous:
                if not port_free(previous):
                    raise BrokerError(f"port {previous} of the previous broker ({state / STATE_FILE}) is taken by "
                                      "another process; free it, or start fresh (empty data, new ports)")
                p = previous
            else:
                p = free_port()
                while p in taken:
                    p = free_port()
            taken.add(p)
            return p

        port = port_for(old and old.port)
        cport = port_for(old and old.controller_port)
        sport = port_for(old and old.sasl_port) if sasl_users else None
        props = SERVER_PROPERTIES.format(port=port, controller_port=cport, log_dirs=data,
                                         sasl_listener=f",SASL_PLAINTEXT://127.0.0.1:{sport}" if sport else "")
        if sasl_users:
            users = " ".join(f'user_{u}="{pw}"' for u, pw in sasl_users.items())
            props += ("sasl.enabled.mechanisms=PLAIN\n"
                      "listener.name.sasl_plaintext.plain.sasl.jaas.config="
                      f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};\n")
        for k, v in (extra_properties or {}).items():
            props += f"{k}={v}\n"
        (state / "server.properties").write_text(props)
        classpath, opts = _jvm(state, jvm_opts, quiet)
        if cid is None:
            cid = _random_cluster_id()
            fmt = subprocess.run(
                [_java(), *opts, "-cp", classpath, "kafka.tools.StorageTool", "format",
                 "-t", cid, "-c", str(state / "server.properties"), "--ignore-formatted"],
                capture_output=True, text=True)
            if fmt.returncode != 0:
                raise BrokerError(f"kafka-storage format failed:\n{fmt.stdout}\n{fmt.stderr}")
        broker = cls(state, 0, "127.0.0.1", port, cport, cid, state / "logs" / "stdout.log", sport)
        return broker._run(timeout, classpath, opts)

    def restart(self, *, kill: bool = False, down_for: float = 0.0, timeout: float = 90.0,
                jvm_opts: list[str] | None = None, quiet: bool = False) -> "KafkaBroker":
        """Stop this broker (SIGTERM, a controlled shutdown; ``kill=True``: SIGKILL, as a crash),
        leave it down for ``down_for`` seconds (an outage, for tests) and start it again with the
        same data, cluster id, ports and server.properties (SASL users included); returns this
        broker (its new pid) once it answers a metadata request. Transactions left open by a
        crash are aborted by their producer's next init_transactions (or time out), as on any
        broker."""
        self.stop(kill=kill)
        time.sleep(down_for)
        if not formatted_cluster_id(self.state_dir / "data"):
            raise BrokerError(f"no formatted data in {self.state_dir / 'data'}: start it instead")
        for p in (self.port, self.controller_port, self.sasl_port):
            if p and not port_free(p):
                raise BrokerError(f"port {p} of {self.bootstrap} is taken by another process")
        classpath, opts = _jvm(self.state_dir, jvm_opts, quiet)
        return self._run(timeout, classpath, opts)

    def _run(self, timeout: float, classpath: str, opts: list[str]) -> "KafkaBroker":
        """Launch the JVM on server.properties, record it, wait for a metadata answer."""
        state, log_file = self.state_dir, self.log_file
        proc = launch([_java(), *opts, "-cp", classpath, "kafka.Kafka", str(state / "server.properties")],
                      log_file, cwd=state)
        self.pid = proc.pid
        self._save()
        last: list[Exception] = []

        def exited() -> None:
            if proc.poll() is not None:
                self._stopped()
                raise BrokerError(f"broker exited with {proc.returncode}; see {log_file}:\n"
                                  + tail(log_file) + tail(state / "logs" / "server.log"))

        def answers() -> bool:
            try:
                return bool(probe_metadata(self.host, self.port))
            except (OSError, BrokerError) as e:
                last[:] = [e]
                return False

        if wait_until(answers, timeout, 0.2, check=exited):
            return self
        self.stop()
        raise BrokerError(f"broker did not answer within {timeout}s ({last[0] if last else None}); "
                          f"see {state / 'logs'}")

    def alive(self) -> bool:
        return self.pid > 0 and pid_alive(self.pid) and cmdline_has(self.pid, "kafka.Kafka")

    def ready(self) -> bool:
        try:
            return bool(probe_metadata(self.host, self.port))
        except (OSError, BrokerError):
            return False

    def stop(self, timeout: float = 30.0, *, kill: bool = False) -> None:
        """SIGTERM (controlled shutdown), then SIGKILL after ``timeout``; ``kill=True``: SIGKILL
        at once (a crash). Only our own pid. broker.json stays, with pid 0: the next start
        reuses its ports and the data."""
        if self.pid > 0:
            end_processes([self.pid], sig=signal.SIGKILL if kill else signal.SIGTERM, timeout=timeout,
                          kill_wait=float("inf"), needle="kafka.Kafka")
        self._stopped()

    # -- persistence -----------------------------------------------------
    def _save(self) -> None:
        super()._save()
        (self.state_dir / "broker.pid").write_text(f"{self.pid}\n")

    def _stopped(self) -> None:
        """broker.json with pid 0 (its ports and cluster id for the next start), no broker.pid."""
        self.pid = 0
        self._save()
        (self.state_dir / "broker.pid").unlink(missing_ok=True)


def formatted_cluster_id(data: Path) -> str | None:
    """The cluster id of a formatted KRaft data dir (its meta.properties), else None."""
    try:
        text = (Path(data) / "meta.properties").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip() == "cluster.id":
            return v.strip() or None
    return None


def _jvm(state: Path, jvm_opts: list[str] | None, quiet: bool) -> tuple[str, list[str]]:
    """(classpath, JVM options) of the broker and the storage tool."""
    classpath = os.pathsep.join(str(p) for p in jars.kafka_classpath(quiet=quiet))
    logs = state / "logs"
    logs.mkdir(exist_ok=True)
    return classpath, list(jvm_opts or DEFAULT_JVM_OPTS) + [
        f"-Dkafka.logs.dir={logs}", f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}"]


def _java() -> str:
    from nql_flink.deploy.jars import BuildError, jdk_tool

    try:
        return jdk_tool("java")
    except BuildError:
        raise BrokerError("java not found (Kafka 4 needs Java 17+)") from None


# ---------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m nql_flink.deploy.kafka",
                                description="Single-node Kafka (KRaft) on 127.0.0.1 for development and tests.")
    p.add_argument("command", choices=["start", "restart", "stop", "status", "bootstrap", "produce", "tail"],
                   help="start: keeps earlier data, cluster id and ports (--fresh: empty); restart: stop, then "
                        "start on the same data and ports; produce: JSON lines from stdin to TOPIC; tail: print "
                        "TOPIC's records")
    p.add_argument("topic", nargs="?", help="topic for produce/tail")
    p.add_argument("--state-dir", default=os.environ.get("NQL_KAFKA_STATE_DIR", str(DEFAULT_STATE_DIR)),
                   help="data, logs and broker.json (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=None,
                   help="start: seconds to wait for the broker (90); tail: stop after this many seconds")
    p.add_argument("--fresh", action="store_true", help="start: wipe the data dir, new cluster id and ports")
    p.add_argument("--kill", action="store_true", help="restart: SIGKILL instead of a controlled shutdown "
                                                     "(a crash)")
    p.add_argument("--key", help="produce: JSON field whose value is the record key")
    p.add_argument("--key-template", help="produce: record key from fields, e.g. '{tenant}/{monitor}' "
                                          "(the monitor-config topic's key)")
    p.add_argument("--bootstrap", help="produce/tail: another cluster (default: the local broker, "
                                         "or $NQL_KAFKA_BOOTSTRAP_SERVERS)")
    a = p.parse_args(argv)
    try:
        return _command(a, p)
    except (BrokerError, jars.BuildError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _command(a, p) -> int:
    state = Path(a.state_dir)
    b = KafkaBroker.load(state)
    if a.command in ("produce", "tail"):
        from nql_flink.deploy.kafka import client

        if not a.topic:
            p.error(f"{a.command} needs a topic")
        bs = a.bootstrap or os.environ.get(client.ENV_BOOTSTRAP) or (b.bootstrap if b and b.alive() else None)
        if not bs:
            print("no broker: start one or pass --bootstrap", file=sys.stderr)
            return 3
        if a.command == "produce":
            recs = (json.loads(line) for line in sys.stdin if line.strip())
            keyf = ((lambda r: a.key_template.format(**r)) if a.key_template
                    else (lambda r: r.get(a.key)) if a.key else None)
            n = client.produce(bs, a.topic, recs, key=keyf)
            print(f"produced {n} records to {a.topic}", file=sys.stderr)
            return 0
        try:
            for k, v in client.tail(bs, a.topic, timeout=a.timeout):
                print((k.decode(errors="replace") + "\t" if k else "") + v.decode(errors="replace"), flush=True)
        except KeyboardInterrupt:
            pass
        return 0
    if a.command == "start":
        if b is not None and b.alive():
            print(b.bootstrap)
            print(f"already running (pid {b.pid})", file=sys.stderr)
            return 0
        t0 = time.monotonic()
        kept = not a.fresh and formatted_cluster_id(state / "data") is not None
        b = KafkaBroker.start(state, fresh=a.fresh, timeout=a.timeout or 90.0)
        print(b.bootstrap)
        print(f"started pid {b.pid} in {time.monotonic() - t0:.1f}s "
              f"({'earlier data kept, cluster ' + b.cluster_id if kept else 'empty data dir'}); "
              f"logs in {b.log_file.parent}", file=sys.stderr)
        return 0
    if a.command == "restart":
        if b is None:
            print(f"no broker in {state}: start one", file=sys.stderr)
            return 3
        t0 = time.monotonic()
        b.restart(kill=a.kill, timeout=a.timeout or 90.0)
        print(b.bootstrap)
        print(f"restarted as pid {b.pid} in {time.monotonic() - t0:.1f}s, same data and ports", file=sys.stderr)
        return 0
    if b is None or (a.command == "stop" and not b.alive()):
        print("not running", file=sys.stderr)
        if b is not None and b.pid:
            b.stop()  # a crashed broker: forget its pid, keep its ports and data
        return 0 if a.command == "stop" else 3
    if a.command == "stop":
        pid = b.pid
        b.stop()
        print(f"stopped pid {pid}; data kept in {b.state_dir / 'data'}", file=sys.stderr)
        return 0
    if not b.alive():
        print(f"not running ({'crashed, pid ' + str(b.pid) if b.pid else 'stopped'}); `start` brings it back "
              f"on {b.bootstrap} with its data", file=sys.stderr)
        return 3
    if a.command == "bootstrap":
        print(b.bootstrap)
        return 0
    ok = b.ready()
    print(b.bootstrap)
    print(f"pid {b.pid}: {'ready' if ok else 'not answering'}", file=sys.stderr)
    return 0 if ok else 1
