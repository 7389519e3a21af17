"""The monitor-config record, in one place: the fields of a record on the config topic, their
SQL types in the source table, and the columns the versioned config view keeps all come from
CONFIG_FIELDS. The job reads a monitor's config as of each window's time (spec/monitors.md:
thresholds, `for` durations, enablement, priority, name and tags change without a redeploy).
"""

from __future__ import annotations

import json
from typing import Callable, NamedTuple

from nql_flink.translator.ir import relational as ir

EPOCH = "1970-01-01T00:00:00.000Z"  # a compiled record is in force from the start of time


class ConfigField(NamedTuple):
    name: str
    sql_type: str
    value: Callable[[ir.Monitor], object]  # the compiled record's value


CONFIG_FIELDS = (
    ConfigField("tenant", "STRING", lambda m: m.tenant),
    ConfigField("monitor", "STRING", lambda m: m.id),
    ConfigField("updated_at", "STRING", lambda m: EPOCH),
    ConfigField("enabled", "BOOLEAN", lambda m: m.config.enabled),
    ConfigField("priority", "STRING", lambda m: m.config.priority),
    ConfigField("name", "STRING", lambda m: m.config.name),
    ConfigField("tags", "ARRAY<STRING>", lambda m: list(m.config.tags)),
    ConfigField("params", "MAP<STRING, DOUBLE>", lambda m: dict(m.evaluate.params)),
    ConfigField("for_ms", "BIGINT", lambda m: m.config.for_ms),
    ConfigField("recover_for_ms", "BIGINT", lambda m: m.config.recover_for_ms),
    ConfigField("trigger_condition", "STRING", lambda m: m.config.trigger_text),
    ConfigField("recover_condition", "STRING", lambda m: m.config.recover_text),
)
# Computed by the source table: the record's key and the time it takes effect
KEY_COLUMN = "config_key"
TIME_COLUMN = "version_time"
# Identify a record; the versioned view keeps only records that have them
REQUIRED = ("tenant", "monitor", TIME_COLUMN)
# What the versioned view keeps: the record's fields but its raw time, and the computed ones
VIEW_COLUMNS = (KEY_COLUMN, *(f.name for f in CONFIG_FIELDS if f.name != "updated_at"), TIME_COLUMN)


def config_record(m: ir.Monitor) -> dict:
    """The monitor's compiled config record (published to the config topic by deploy)."""
    return {f.name: f.value(m) for f in CONFIG_FIELDS}


def config_lines(records) -> str:
    """Config records as the JSONL the config topic and monitor-config.jsonl hold."""
    return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records)
