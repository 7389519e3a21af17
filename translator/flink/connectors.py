"""Connector options of the generated tables: where the job reads and writes.

Only this module decides WITH (...) contents. Never secrets, and by default not even the
Kafka address: the generated options *reference* values through Kafka config providers
(`${env:NQL_KAFKA_BOOTSTRAP_SERVERS}`, `${env:NQL_KAFKA_SASL_JAAS_CONFIG}`, or a mounted
properties file with `${file:/path:key}`), resolved by the Kafka clients inside the Flink
JVMs at run time (docs/kafka-and-cluster.md). Which keys exist (security protocol, SASL
mechanism) is decided here at generation time; values (servers, credentials) at run time.

Every knob is a CompileOptions field, settable from a settings file (`from_mapping`, YAML
keys = field names) or the command line (`add_kafka_arguments` / `options_from_args`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

ENV_BOOTSTRAP = "NQL_KAFKA_BOOTSTRAP_SERVERS"
ENV_JAAS = "NQL_KAFKA_SASL_JAAS_CONFIG"
# kafka-clients is shaded inside flink-sql-connector-kafka, and so are its config providers
SHADED_PROVIDERS = "org.apache.flink.kafka.shaded.org.apache.kafka.common.config.provider"
PROVIDER_CLASSES = {"env": "EnvVarConfigProvider", "file": "FileConfigProvider"}
STARTUP_MODES = ("earliest-offset", "latest-offset", "group-offsets", "timestamp")
DELIVERY = ("exactly-once", "at-least-once", "none")
# Versioned tables (compacted topics holding the current version per key) are always read
# from the beginning, whatever the startup mode of event topics: starting them at the
# group's offsets after a restart without state would lose every device / monitor config.
VERSIONED_TOPICS = ("nql.device.devices",)


@dataclass(frozen=True)
class CompileOptions:
    # --- connection: references by default, nothing in clear -------------------------
    bootstrap_servers: str | None = None      # None: ${env:NQL_KAFKA_BOOTSTRAP_SERVERS} / file key
    credentials: str = "env"                  # Kafka config provider: 'env' or 'file:<path>'
    security_protocol: str | None = None      # e.g. SASL_SSL (None: client default PLAINTEXT)
    sasl_mechanism: str | None = None         # e.g. SCRAM-SHA-512; adds sasl.jaas.config reference
    kafka_properties: tuple[tuple[str, str], ...] = ()  # other non-secret client properties
    # --- sources -----------------------------------------------------------------------
    group_id: str = "nql-flink"
    startup_mode: str = "earliest-offset"     # event topics; versioned topics: always earliest
    startup_timestamp_ms: int | None = None   # for startup_mode 'timestamp'
    partition_discovery: str = "5 min"        # new partitions of event topics picked up this often
    lateness_ms: int = 10_000                 # allowed out-of-orderness within a tenant's partition
    idle_timeout: str = "1 min"
    # --- event time per tenant (docs/flink-job-shape.md, "Event time per tenant") ----------
    max_tenant_lag_ms: int = 600_000          # a tenant this far behind the table loses nothing
    partition_idle_ms: int = 60_000           # a partition silent for a tenant this long stops holding its clock
    max_clock_skew_ms: int = 600_000          # event times further ahead of the processing clock: `future`
    # --- sinks -------------------------------------------------------------------------
    delivery_guarantee: str = "exactly-once"  # alerts; needs checkpointing: visible per checkpoint
    # Dead letters: at-least-once (a duplicate there is harmless), and several INSERTs write
    # that table: with exactly-once each would be its own KafkaSink with the same transactional
    # id prefix, which the connector rejects ("Found duplicate transactionalIdPrefix").
    dead_letters_delivery: str = "at-least-once"
    transactional_id_prefix: str | None = None  # None: group_id; must be unique per job
    transaction_timeout_ms: int = 900_000     # <= broker transaction.max.timeout.ms (15 min default)
    # --- topics ------------------------------------------------------------------------
    topic_prefix: str = ""                    # prepended to every topic (environments, tests)
    config_topic: str = "nql.monitor.config"
    alerts_topic: str = "nql.alerts"
    dead_letters_topic: str = "nql.dead_letters"
    alert_state_topic: str = "nql.alert_state"  # compacted: each group's current state (nql-flink status)
    notifications_topic: str = "nql.notifications"  # processed alerts (docs/processing.md), when a monitor asks
    # maintenance windows and silences as data (docs/processing.md): a versioned topic; None: none
    maintenance_topic: str | None = None
    # --- state ---------------------------------------------------------------------------
    # a group without an open alert is forgotten this long after its last evaluation
    # (docs/guarantees.md, "Bounded state"); 0: never
    evict_after_ms: int = 7 * 86_400_000
    versioned_topics: tuple[str, ...] = VERSIONED_TOPICS
    # --- alert history (docs/history.md) ---------------------------------------------------
    # jdbc:postgresql://host:port/db: every alert record also upserted into PostgreSQL; None: off
    history_jdbc: str | None = None
    history_table: str = "nql_alert_history"

    def __post_init__(self):
        if self.startup_mode not in STARTUP_MODES:
            raise ValueError(f"startup_mode {self.startup_mode!r}: one of {', '.join(STARTUP_MODES)}")
        if self.startup_mode == "timestamp" and self.startup_timestamp_ms is None:
            raise ValueError("startup_mode 'timestamp' needs startup_timestamp_ms")
        for name in ("delivery_guarantee", "dead_letters_delivery"):
            if getattr(self, name) not in DELIVERY:
                raise ValueError(f"{name} {getattr(self, name)!r}: one of {', '.join(DELIVERY)}")
        provider, _, path = self.credentials.partition(":")
        if provider not in PROVIDER_CLASSES or (provider == "file") != bool(path):
            raise ValueError(f"credentials {self.credentials!r}: 'env' or 'file:<path of a properties file>'")
        for name in ("lateness_ms", "max_tenant_lag_ms", "partition_idle_ms", "max_clock_skew_ms", "evict_after_ms"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} {getattr(self, name)!r}: a number of milliseconds >= 0")
        if self.history_jdbc is not None:
            from nql_flink.translator.flink.history import url_problem

            problem = url_problem(self.history_jdbc)
            if problem:
                raise ValueError(f"history_jdbc {self.history_jdbc!r}: {problem}")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.history_table):
            raise ValueError(f"history_table {self.history_table!r}: a lower-case SQL name (letters, digits, _)")
        for k, _ in self.kafka_properties:
            if any(s in k.lower() for s in ("password", "jaas", "secret", "token")):
                raise ValueError(f"kafka property {k!r} looks secret: reference it from the environment instead")

    def topic(self, name: str) -> str:
        """The Kafka topic of a catalog topic name or one of the job's own topics."""
        return self.topic_prefix + name

    @property
    def txn_prefix(self) -> str:
        return self.transactional_id_prefix or self.group_id

    @classmethod
    def from_mapping(cls, values: dict) -> "CompileOptions":
        """From a settings mapping (YAML/JSON keys = field names; '-' may replace '_')."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        kw = {}
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in names:
                raise ValueError(f"unknown Kafka setting {key!r} (known: {', '.join(sorted(names))})")
            if name == "kafka_properties" and isinstance(value, dict):
                value = tuple(sorted((str(k), str(v)) for k, v in value.items()))
            elif name == "versioned_topics":
                value = tuple(value)
            kw[name] = value
        return cls(**kw)

    def replace(self, **changes) -> "CompileOptions":
        return dataclasses.replace(self, **changes)


def load_settings(path: str | Path) -> dict:
    """A Kafka settings file (YAML or JSON mapping; see docs/kafka-and-cluster.md)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings")
    return data


def connection_properties(o: CompileOptions) -> dict[str, str]:
    """'properties.*' options that connect a Kafka table: references, never values."""
    provider, _, path = o.credentials.partition(":")

    def ref(env_name: str, key: str) -> str:
        return "${env:" + env_name + "}" if provider == "env" else "${file:" + path + ":" + key + "}"

    props = {"properties.bootstrap.servers": o.bootstrap_servers or ref(ENV_BOOTSTRAP, "bootstrap.servers")}
    if o.security_protocol:
        props["properties.security.protocol"] = o.security_protocol
    if o.sasl_mechanism:
        props["properties.sasl.mechanism"] = o.sasl_mechanism
        props["properties.sasl.jaas.config"] = ref(ENV_JAAS, "sasl.jaas.config")
    for k, v in o.kafka_properties:
        props["properties." + k] = v
    if any("${" in v for v in props.values()):
        props["properties.config.providers"] = provider
        props[f"properties.config.providers.{provider}.class"] = f"{SHADED_PROVIDERS}.{PROVIDER_CLASSES[provider]}"
    return props


def source_options(o: CompileOptions, topic: str, fmt: str, versioned: bool | None = None) -> dict[str, str]:
    if versioned is None:
        versioned = topic == o.config_topic or topic in o.versioned_topics
    opts = {"connector": "kafka", "topic": o.topic(topic), "format": fmt, **connection_properties(o),
            "properties.group.id": o.group_id,
            "scan.watermark.emit.strategy": "on-event", "scan.watermark.idle-timeout": o.idle_timeout}
    if versioned:
        opts["scan.startup.mode"] = "earliest-offset"
    else:
        opts["scan.startup.mode"] = o.startup_mode
        if o.startup_mode == "timestamp":
            opts["scan.startup.timestamp-millis"] = str(o.startup_timestamp_ms)
        opts["scan.topic-partition-discovery.interval"] = o.partition_discovery
    if fmt == "json":
        opts["json.ignore-parse-errors"] = "true"
    return opts


def sink_options(o: CompileOptions, topic: str, name: str, delivery: str) -> dict[str, str]:
    opts = {"connector": "kafka", "topic": o.topic(topic), **connection_properties(o),
            "sink.delivery-guarantee": delivery}
    if delivery == "exactly-once":
        # one prefix per sink: two sinks of one job sharing a prefix would fence each other
        opts["sink.transactional-id-prefix"] = f"{o.txn_prefix}.{name}"
        opts["properties.transaction.timeout.ms"] = str(o.transaction_timeout_ms)
    return opts


def kafka_options(o: CompileOptions, topic: str, fmt: str, source: bool = False,
                  versioned: bool | None = None) -> dict[str, str]:
    """The options of a Kafka table. `topic` is the catalog topic (or one of o.config_topic /
    o.dead_letters_topic); o.topic_prefix is applied here."""
    if source:
        return source_options(o, topic, fmt, versioned)
    dead = topic == o.dead_letters_topic
    opts = sink_options(o, topic, "dead-letters" if dead else topic, o.dead_letters_delivery if dead else o.delivery_guarantee)
    opts["format"] = fmt
    return opts


def alert_sink_options(o: CompileOptions) -> dict[str, str]:
    """Alert records keyed by alert id: an alert's 'triggered' and 'recovered' records share the
    key, so they land on one partition in order. The topic keeps every transition: deploy
    creates it with cleanup.policy=delete and a retention (30 days by default, deploy
    --alert-retention), never compacted, which would keep only each alert's last record."""
    opts = sink_options(o, o.alerts_topic, "alerts", o.delivery_guarantee) | {
        "key.format": "raw", "key.fields": "alert_id", "value.format": "raw", "value.fields-include": "EXCEPT_KEY"}
    return opts


def alert_state_sink_options(o: CompileOptions) -> dict[str, str]:
    """Each group's state keyed by tenant/monitor/group on a compacted topic (deploy creates it
    so): the topic holds every group's latest state, and a NULL value (raw format) is a
    tombstone, the record of an evicted group, which compaction eventually removes."""
    opts = sink_options(o, o.alert_state_topic, "alert-state", o.delivery_guarantee) | {
        "key.format": "raw", "key.fields": "key", "value.format": "raw", "value.fields-include": "EXCEPT_KEY"}
    return opts


# Options that belong to the format, kept when a table is moved onto files
FORMAT_KEYS = ("format", "json.", "raw.", "csv.")


def file_options(kafka: dict[str, str], path: str) -> dict[str, str]:
    """A generated Kafka table's options for a file in its place (embedded runs, planning):
    the filesystem connector on `path`, the records parsed and written exactly as on Kafka
    (the format options kept). A keyed sink (key.fields + value.format) has no key on a
    file: the file sink writes every column as JSON. A table that is not on Kafka (the alert
    history's JDBC sink) keeps its options."""
    if kafka.get("connector") != "kafka":
        return kafka  # not a topic (the history's database): stays where it is
    opts = {"connector": "filesystem", "path": path}
    opts |= {k: v for k, v in kafka.items() if k.startswith(FORMAT_KEYS)}
    if "value.format" in kafka and "format" not in opts:
        opts["format"] = "json"
    return opts


def topics(o: CompileOptions, source_topics: list[str]) -> dict[str, list[str]]:
    """The job's Kafka topics by role, prefixed: {'events': [...], 'versioned': [...], 'sinks': [...]}."""
    events = [o.topic(t) for t in source_topics if t not in o.versioned_topics]
    versioned = [o.topic(t) for t in source_topics if t in o.versioned_topics] + [o.topic(o.config_topic)]
    return {"events": events, "versioned": versioned, "sinks": [o.topic(o.alerts_topic), o.topic(o.dead_letters_topic),
                                                                  o.topic(o.alert_state_topic)]}


# ------------------------------------------------------------------------ command line


def add_kafka_arguments(parser) -> None:
    """Kafka settings as options (all optional; --kafka-config FILE gives them as YAML)."""
    g = parser.add_argument_group("Kafka settings of the generated job (defaults: CompileOptions)")
    g.add_argument("--kafka-config", metavar="FILE", help="YAML settings file (keys = the options below, with _)")
    g.add_argument("--credentials", help="where Flink's Kafka clients read servers/secrets: 'env' (default: "
                   f"${ENV_BOOTSTRAP}, ${ENV_JAAS}) or 'file:<path of a properties file>'")
    g.add_argument("--security-protocol", help="e.g. SASL_SSL (default: PLAINTEXT)")
    g.add_argument("--sasl-mechanism", help="e.g. SCRAM-SHA-512, PLAIN (JAAS line from the credentials)")
    g.add_argument("--group-id", help="consumer group of the job's sources (default nql-flink)")
    g.add_argument("--startup-mode", choices=STARTUP_MODES, help="where event topics start (default earliest-offset)")
    g.add_argument("--partition-discovery", help="partition discovery interval of event topics (default '5 min')")
    g.add_argument("--delivery-guarantee", choices=DELIVERY, help="alert sink (default exactly-once; dead letters are at-least-once)")
    g.add_argument("--transactional-id-prefix", help="unique per job (default: the group id)")
    g.add_argument("--topic-prefix", help="prepended to every topic name (default none)")
    g.add_argument("--history-jdbc", metavar="URL", help="also write every alert record to the PostgreSQL alert "
                   "history at jdbc:postgresql://HOST:PORT/DB (docs/history.md; credentials from $NQL_HISTORY_USER "
                   "and $NQL_HISTORY_PASSWORD where the job runs); default off")
    g.add_argument("--maintenance-topic", metavar="TOPIC", help="maintenance windows and silences as data on this "
                   "versioned topic, applied to every threshold monitor's notifications (docs/processing.md); default off")


_ARG_FIELDS = ("credentials", "security_protocol", "sasl_mechanism", "group_id", "startup_mode",
               "partition_discovery", "delivery_guarantee", "transactional_id_prefix", "topic_prefix", "history_jdbc",
               "maintenance_topic")


def options_from_args(args, **base) -> CompileOptions:
    """CompileOptions from: defaults < base (e.g. lateness) < --kafka-config file < options given."""
    values = dict(base)
    if getattr(args, "kafka_config", None):
        values.update(load_settings(args.kafka_config))
    for name in _ARG_FIELDS:
        v = getattr(args, name, None)
        if v is not None:
            values[name] = v
    return CompileOptions.from_mapping(values)
