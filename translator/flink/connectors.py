"""Connector options of the generated tables: where the job reads and writes.

Only this module decides WITH (...) contents. Never secrets: credentials come from the
environment at run time (see docs/kafka-and-cluster.md), never from generated files.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from translator.flink.dialect import to_sql


@dataclass(frozen=True)
class CompileOptions:
    bootstrap_servers: str = "localhost:9092"
    group_id: str = "nql-flink"
    startup_mode: str = "earliest-offset"
    lateness_ms: int = 10_000
    idle_timeout: str = "1 min"
    config_topic: str = "nql.monitor.config"
    alerts_topic: str = "nql.alerts"
    dead_letters_topic: str = "nql.dead_letters"


def _lit(value: str) -> str:
    return to_sql(exp.Literal.string(value))


def kafka_options(o: CompileOptions, topic: str, fmt: str, source: bool = False) -> list[tuple[str, str]]:
    """Sorted, quoted (key, value) pairs for a Kafka table."""
    opts = {"connector": "kafka", "topic": topic, "properties.bootstrap.servers": o.bootstrap_servers, "format": fmt}
    if source:
        opts |= {"properties.group.id": o.group_id, "scan.startup.mode": o.startup_mode,
                 "scan.watermark.emit.strategy": "on-event", "scan.watermark.idle-timeout": o.idle_timeout}
    if fmt == "json" and source:
        opts["json.ignore-parse-errors"] = "true"
    return [(_lit(k), _lit(v)) for k, v in sorted(opts.items())]


def alert_sink_options(o: CompileOptions) -> list[tuple[str, str]]:
    """Alert records keyed by alert id: a triggered and its recovered record share a key,
    so a compacted topic keeps each alert's latest state."""
    opts = {"connector": "kafka", "topic": o.alerts_topic, "properties.bootstrap.servers": o.bootstrap_servers,
            "key.format": "raw", "key.fields": "alert_id", "value.format": "raw", "value.fields-include": "EXCEPT_KEY"}
    return [(_lit(k), _lit(v)) for k, v in sorted(opts.items())]
