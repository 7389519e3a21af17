"""The monitor-config record, in one place: the fields of a record on the config topic, their
SQL types in the source table, and the columns the versioned config view keeps all come from
CONFIG_FIELDS. The job reads a monitor's config as of each window's time (spec/monitors.md:
thresholds, `for` durations, enablement, priority, name and tags change without a redeploy).

The topic is read as raw lines, each read once by nql_read (udfs/jvm ReadRecord) as `read`
says: a record that is not a JSON object, lacks its tenant, monitor or a valid `updated_at`, or
holds a field not of its type goes to the dead-letter topic with its reason, never silently
dropped or half applied.
"""

from __future__ import annotations

import json
from typing import Callable, NamedTuple

from nql_flink.translator.ir import relational as ir

EPOCH = "1970-01-01T00:00:00.000Z"  # a compiled record is in force from the start of time


class ConfigField(NamedTuple):
    name: str
    read: tuple[str, str]                  # nql_read's role and argument for the field
    value: Callable[[ir.Monitor], object]  # the compiled record's value


CONFIG_FIELDS = (
    ConfigField("tenant", ("tenant", "string"), lambda m: m.tenant),
    ConfigField("monitor", ("key", "string"), lambda m: m.id),
    ConfigField("updated_at", ("version", ""), lambda m: EPOCH),
    ConfigField("enabled", ("field", "bool"), lambda m: m.config.enabled),
    ConfigField("priority", ("field", "string"), lambda m: m.config.priority),
    ConfigField("name", ("field", "string"), lambda m: m.config.name),
    ConfigField("tags", ("field", "strings"), lambda m: list(m.config.tags)),
    ConfigField("params", ("field", "numbers"), lambda m: dict(m.evaluate.params)),
    ConfigField("for_ms", ("field", "int"), lambda m: m.config.for_ms),
    ConfigField("recover_for_ms", ("field", "int"), lambda m: m.config.recover_for_ms),
    ConfigField("trigger_condition", ("field", "string"), lambda m: m.config.trigger_text),
    ConfigField("recover_condition", ("field", "string"), lambda m: m.config.recover_text),
)
# The dead letters' `source` for a rejected config record
SOURCE = "monitor.config"
# The record's key, computed by the checked view, and the time it takes effect (the source's
# rowtime: `updated_at` as read, the epoch when it is bad)
KEY_COLUMN = "config_key"
TIME_COLUMN = "version_time"
# The fields the checked view passes on: all but the raw time (the rowtime replaces it)
CHECKED_FIELDS = tuple(f.name for f in CONFIG_FIELDS if f.name != "updated_at")
# What the versioned view keeps: the record's fields but its raw time, and the computed ones
VIEW_COLUMNS = (KEY_COLUMN, *CHECKED_FIELDS, TIME_COLUMN)


# The SQL type nql_read gives a config field of each type (udfs/jvm ReadRecord)
SQL_TYPES = {"string": "STRING", "bool": "BOOLEAN", "strings": "ARRAY<STRING>", "numbers": "MAP<STRING, DOUBLE>",
             "int": "BIGINT"}
# What a windows function keeps of a monitor's config and puts on its evaluations (udfs/jvm
# Configs.TYPE, in this order): the checked fields but the key's
CARRIED_FIELDS = tuple(f for f in CONFIG_FIELDS if f.name in CHECKED_FIELDS and f.name not in ("tenant", "monitor"))


def carried_type(with_monitor: bool = False) -> str:
    """The ROW type of a config a windows function reads (with its monitor first) or emits."""
    fields = [f"`{f.name}` {SQL_TYPES[f.read[1]]}" for f in CARRIED_FIELDS]
    return "ROW<" + ", ".join((["`monitor` STRING"] if with_monitor else []) + fields) + ">"


def read_entries() -> list[tuple[str, str, str, str]]:
    """The config record as nql_read entries (column, role, path, argument); `updated_at` is
    read as the rowtime column."""
    return [(TIME_COLUMN if f.name == "updated_at" else f.name, f.read[0], f.name, f.read[1]) for f in CONFIG_FIELDS]


def config_record(m: ir.Monitor) -> dict:
    """The monitor's compiled config record (published to the config topic by deploy)."""
    return {f.name: f.value(m) for f in CONFIG_FIELDS}


def config_lines(records) -> str:
    """Config records as the JSONL the config topic and monitor-config.jsonl hold."""
    return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records)
