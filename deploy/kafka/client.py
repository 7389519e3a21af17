"""Small Kafka client helpers (confluent-kafka) for tests and CLI commands:
produce telemetry, tail the alert topic, publish config records (compacted topics).

Connection settings come from arguments or the environment, never from generated files:

    NQL_KAFKA_BOOTSTRAP_SERVERS   host:port[,host:port]
    NQL_KAFKA_SECURITY_PROTOCOL   PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL   (default PLAINTEXT)
    NQL_KAFKA_SASL_MECHANISM      PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 ...
    NQL_KAFKA_SASL_USERNAME / NQL_KAFKA_SASL_PASSWORD   (Python clients, librdkafka style)
    NQL_KAFKA_SASL_JAAS_CONFIG    (Flink JVMs: a JAAS line with the SHADED login module class,
                                   see plain_jaas(); referenced from SQL as ${env:...})

For Flink SQL, flink_properties() returns connector options that only *reference* these
(Kafka config providers), so the generated SQL can be committed and shipped.
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

ENV_BOOTSTRAP = "NQL_KAFKA_BOOTSTRAP_SERVERS"


def resolve_bootstrap(bootstrap: str | None = None, env: Mapping[str, str] = os.environ) -> str | None:
    """The Kafka address for a CLI command: the argument, else $NQL_KAFKA_BOOTSTRAP_SERVERS, else
    the local development broker if one runs (python -m nql_flink.deploy.kafka start), else None."""
    if bootstrap:
        return bootstrap
    if env.get(ENV_BOOTSTRAP):
        return env[ENV_BOOTSTRAP]
    from nql_flink.deploy.kafka.broker import KafkaBroker

    b = KafkaBroker.load(env.get("NQL_KAFKA_STATE_DIR") or None)
    return b.bootstrap if b is not None and b.alive() else None


def client_config(bootstrap: str | None = None, env: Mapping[str, str] = os.environ, **extra: Any) -> dict:
    """librdkafka/confluent-kafka configuration from ``bootstrap`` or the environment."""
    bs = bootstrap or env.get(ENV_BOOTSTRAP)
    if not bs:
        raise ValueError(f"no bootstrap servers: pass one or set {ENV_BOOTSTRAP}")
    conf: dict[str, Any] = {"bootstrap.servers": bs}
    proto = env.get("NQL_KAFKA_SECURITY_PROTOCOL")
    if proto:
        conf["security.protocol"] = proto
    mech = env.get("NQL_KAFKA_SASL_MECHANISM")
    if mech:
        conf["sasl.mechanism"] = mech
    if env.get("NQL_KAFKA_SASL_USERNAME"):
        conf["sasl.username"] = env["NQL_KAFKA_SASL_USERNAME"]
        conf["sasl.password"] = env.get("NQL_KAFKA_SASL_PASSWORD", "")
    conf.update(extra)
    return conf


# kafka-clients is shaded inside flink-sql-connector-kafka, and so are its config providers.
SHADED_PROVIDER_PKG = "org.apache.flink.kafka.shaded.org.apache.kafka.common.config.provider"


def flink_properties(*, security_protocol: str | None = None, sasl_mechanism: str | None = None,
                     provider: str = "env", file_path: str | None = None,
                     bootstrap_var: str = ENV_BOOTSTRAP) -> dict[str, str]:
    """``properties.*`` WITH-options for Flink's Kafka connector that hold NO value, only
    Kafka config-provider references resolved by the Kafka client inside the Flink JVMs at run
    time, so generated SQL files never contain servers or secrets in clear.

    provider='env'  -> ``${env:NQL_KAFKA_BOOTSTRAP_SERVERS}`` etc. (EnvVarConfigProvider: the
                       JobManager/TaskManager processes must have these variables);
    provider='file' -> ``${file:<file_path>:bootstrap.servers}`` etc. (FileConfigProvider: a
                       Java properties file with keys bootstrap.servers, sasl.jaas.config ...,
                       e.g. a mounted secret).
    Which keys exist (security protocol, SASL) is decided here, at generation time; values at
    run time. Verified with the connector uber-jar on Flink 2.3 (tests/kafka).
    """
    if provider == "env":
        ref = {"bootstrap.servers": bootstrap_var, "sasl.jaas.config": "NQL_KAFKA_SASL_JAAS_CONFIG"}
        props = {"properties.config.providers": "env",
                 "properties.config.providers.env.class": f"{SHADED_PROVIDER_PKG}.EnvVarConfigProvider"}

        def val(key: str) -> str:
            return "${env:" + ref[key] + "}"
    elif provider == "file":
        if not file_path:
            raise ValueError("provider='file' needs file_path")
        props = {"properties.config.providers": "file",
                 "properties.config.providers.file.class": f"{SHADED_PROVIDER_PKG}.FileConfigProvider"}

        def val(key: str) -> str:
            return "${file:" + file_path + ":" + key + "}"
    else:
        raise ValueError(f"unknown provider {provider!r}")
    props["properties.bootstrap.servers"] = val("bootstrap.servers")
    if security_protocol:
        props["properties.security.protocol"] = security_protocol  # not a secret
    if sasl_mechanism:
        props["properties.sasl.mechanism"] = sasl_mechanism
        props["properties.sasl.jaas.config"] = val("sasl.jaas.config")
    return props


def plain_jaas(user: str, password: str) -> str:
    """A Java JAAS line for SASL/PLAIN (what NQL_KAFKA_SASL_JAAS_CONFIG holds)."""
    return ("org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule "
            f'required username="{user}" password="{password}";')


def with_options(options: dict[str, str]) -> str:
    """Render options as the inside of a WITH (...) clause."""
    def q(x: str) -> str:
        return "'" + x.replace("'", "''") + "'"
    return ", ".join(f"{q(k)} = {q(v)}" for k, v in options.items())


def _encode(v: Any) -> bytes | None:
    if v is None or isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode()
    return json.dumps(v, separators=(",", ":"), default=str).encode()


def create_topics(bootstrap: str | None, topics: Iterable[str], *, partitions: int = 1,
                  compacted: bool = False, config: Mapping[str, str] | None = None,
                  timeout: float = 30.0) -> dict[str, int]:
    """Create topics (idempotent: an existing topic is left as it is). ``compacted`` for
    config/upsert topics (cleanup.policy=compact); ``config``: other topic settings, e.g.
    {'cleanup.policy': 'delete', 'retention.ms': '2592000000'}. Returns {topic: its partition
    count} as the broker's metadata has it (an existing topic keeps its own count)."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_config(bootstrap))
    cfg = ({"cleanup.policy": "compact"} if compacted else {}) | dict(config or {})
    futures = admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1, config=cfg)
                                   for t in topics], operation_timeout=timeout)
    for t, f in futures.items():
        try:
            f.result(timeout)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    # The controller has the topics now; a broker may answer "unknown topic" for a moment more
    # (seen on a broker started seconds before): return once the broker's metadata has them.
    wanted, deadline = set(futures), time.monotonic() + timeout
    while True:
        md = admin.list_topics(timeout=timeout).topics
        ready = {t for t in wanted if t in md and md[t].error is None and md[t].partitions
                 and all(p.leader >= 0 for p in md[t].partitions.values())}
        if ready == wanted or time.monotonic() > deadline:
            return {t: len(md[t].partitions) if t in md else 0 for t in futures}
        time.sleep(0.1)


def topic_config(bootstrap: str | None, topic: str, timeout: float = 30.0) -> dict[str, str]:
    """The effective configuration of ``topic`` (name -> value, broker defaults included)."""
    from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

    admin = AdminClient(client_config(bootstrap))
    [f] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)], request_timeout=timeout).values()
    return {name: entry.value for name, entry in f.result(timeout).items()}


def alter_topic_config(bootstrap: str | None, topic: str, config: Mapping[str, str], timeout: float = 30.0) -> None:
    """Set some of ``topic``'s settings, leaving the others as they are."""
    from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                       ResourceType)

    admin = AdminClient(client_config(bootstrap))
    entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in config.items()]
    [f] = admin.incremental_alter_configs([ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)],
                                          request_timeout=timeout).values()
    f.result(timeout)


def record_count(bootstrap: str | None, topic: str, timeout: float = 10.0) -> int:
    """Offsets held by ``topic`` over all partitions (high - low watermark): records, plus the
    markers of transactions; 0 if the topic does not exist or retention emptied it."""
    from confluent_kafka import Consumer, TopicPartition

    parts = partitions(bootstrap, topic, timeout)
    if not parts:
        return 0
    c = Consumer(client_config(bootstrap, **{"group.id": f"nql-count-{uuid.uuid4().hex[:8]}",
                                             "enable.auto.commit": False}))
    try:
        total = 0
        for p in parts:
            low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
            total += max(high - low, 0)
        return total
    finally:
        c.close()


def produce(bootstrap: str | None, topic: str, records: Iterable[Any], *,
            key: Any = None, timeout: float = 30.0, partition: int | None = None) -> int:
    """Send records (dict -> JSON, str, bytes, or (key, value) tuples); flush; return count.

    ``key``: a callable record -> key, or None. ``partition``: all records to this partition
    (default: by key hash). Raises if any delivery failed.
    """
    from confluent_kafka import Producer

    p = Producer(client_config(bootstrap, **{"linger.ms": 5, "enable.idempotence": True}))
    errors: list[str] = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))

    n = 0
    for r in records:
        if isinstance(r, tuple) and len(r) == 2:
            k, v = r
        else:
            k, v = (key(r) if callable(key) else None), r
        while True:
            try:
                if partition is None:
                    p.produce(topic, value=_encode(v), key=_encode(k), on_delivery=on_delivery)
                else:
                    p.produce(topic, value=_encode(v), key=_encode(k), partition=partition,
                              on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        n += 1
        p.poll(0)
    left = p.flush(timeout)
    if left or errors:
        raise RuntimeError(f"{left} undelivered, errors: {errors[:5]}")
    return n


def publish_config(bootstrap: str | None, topic: str, records: Mapping[str, Any] | Iterable[tuple[str, Any]],
                   **kw) -> int:
    """Keyed records for a compacted config topic (upsert-kafka); value None = tombstone."""
    items = records.items() if isinstance(records, Mapping) else records
    return produce(bootstrap, topic, ((k, v) for k, v in items), **kw)


def tail(bootstrap: str | None, topic: str, *, from_beginning: bool = True, timeout: float | None = None,
         idle_timeout: float | None = None, read_committed: bool = True,
         partitions: Iterable[int] | None = None,
         stop: threading.Event | None = None) -> Iterator[tuple[bytes | None, bytes]]:
    """Yield (key, value) from every partition of ``topic`` (no consumer group, nothing committed)
    until ``timeout`` seconds in total, or ``idle_timeout`` seconds without a record once the
    first one came (None = no limit), or ``stop`` is set (by another thread: a reader that
    waits for records ends within a poll). read_committed hides aborted/open Flink
    exactly-once transactions, as production consumers should."""
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, TopicPartition

    c = Consumer(client_config(bootstrap, **{
        "group.id": f"nql-tail-{uuid.uuid4().hex[:8]}",  # required by librdkafka; never joined
        "enable.auto.commit": False,
        "isolation.level": "read_committed" if read_committed else "read_uncommitted",
    }))
    start = time.monotonic()
    last: float | None = None
    try:
        if partitions is None:
            while True:
                md = c.list_topics(topic, timeout=10).topics.get(topic)
                if md is not None and md.error is None and md.partitions:
                    partitions = sorted(md.partitions)
                    break
                if timeout is not None and time.monotonic() - start > timeout:
                    return
                time.sleep(0.2)
        offset = OFFSET_BEGINNING if from_beginning else OFFSET_END
        c.assign([TopicPartition(topic, p, offset) for p in partitions])
        while True:
            now = time.monotonic()
            if timeout is not None and now - start > timeout or stop is not None and stop.is_set():
                return
            if idle_timeout is not None and last is not None and now - last > idle_timeout:
                return
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    continue
                raise RuntimeError(str(m.error()))
            last = time.monotonic()
            yield m.key(), m.value()
    finally:
        c.close()


def read_latest(bootstrap: str | None, topic: str, *, timeout: float = 30.0,
                read_committed: bool = True) -> dict[bytes, bytes | None]:
    """The latest value per key of a compacted ``topic``, read from the beginning to the end of
    every partition as it is now (read_committed: to the last stable offset, so an open Flink
    transaction does not hold the read up); a tombstone gives None. {} if the topic does not
    exist. Raises RuntimeError when the end is not reached within ``timeout`` seconds."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    parts = partitions(bootstrap, topic)
    if not parts:
        return {}
    c = Consumer(client_config(bootstrap, **{
        "group.id": f"nql-read-{uuid.uuid4().hex[:8]}",  # required by librdkafka; never joined
        "enable.auto.commit": False, "enable.partition.eof": True,
        "isolation.level": "read_committed" if read_committed else "read_uncommitted",
    }))
    latest: dict[bytes, bytes | None] = {}
    open_parts = set(parts)
    deadline = time.monotonic() + timeout
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        while open_parts:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{topic}: end not reached in {timeout:g} s")
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    open_parts.discard(m.partition())
                    continue
                raise RuntimeError(str(m.error()))
            latest[m.key()] = m.value()
        return latest
    finally:
        c.close()


def consume(bootstrap: str | None, topic: str, n: int, *, timeout: float = 60.0, **kw) -> list[bytes]:
    """The first ``n`` values of ``topic`` (fewer if ``timeout`` passes first)."""
    out: list[bytes] = []
    for _, v in tail(bootstrap, topic, timeout=timeout, **kw):
        out.append(v)
        if len(out) >= n:
            break
    return out


def partitions(bootstrap: str | None, topic: str, timeout: float = 10.0) -> list[int]:
    """The partition ids of ``topic`` ([] if it does not exist; the lookup does not create it,
    as a metadata request would on a broker with auto.create.topics.enable)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(client_config(bootstrap, **{"allow.auto.create.topics": False}))
    md = admin.list_topics(topic, timeout=timeout).topics.get(topic)
    return sorted(md.partitions) if md is not None and md.error is None else []
