"""Alert processing after the alert topic (docs/processing.md): every monitor's transitions,
exactly the records of the alert topic, become notification records on their own topic
(`CompileOptions.notifications_topic`), decided in event time by one Java process table
function per job (udfs/jvm AlertProcessing): flapping groups suppressed, alerts inside a
maintenance window muted (windows as data on `CompileOptions.maintenance_topic`, a versioned
topic read with the transitions, partitioned by tenant), one notification per monitor and
grouping interval, open alerts repeated.

Only when some monitor asks for it (`flapping:`, `grouping:`; ir.Processing) or a maintenance
topic is configured; otherwise `statements` adds nothing and the job is exactly the one
without this module. The function's input is the job's alert transitions with their alert
records, partitioned by tenant: the threshold monitors' (codegen's `job__alerts`, the alert
state function's 'alert' rows) and each seasonal or change monitor's (its `__alerts` view,
from its Python state aggregate). Those have no time attribute (a Python aggregate's result
has none), so the function reads each transition's time from its `at` column and its timers
follow the watermark, which reaches it behind the transitions it passes (each operator before
it emits a transition before the watermark that passes its time). Its spec literal lists each
monitor's options, its uid names no monitor (adding or changing a monitor's options restores
the state of every group).
"""

from __future__ import annotations

from nql_flink.translator.flink.codegen import (JOB, JOB_ALERTS, TIME_FORMAT, Connector, Statement, alert_query,
                                                 alert_values, detection_alerts, lit, pipelines, q, sink, state_uid)
from nql_flink.translator.flink.connectors import CompileOptions, kafka_options, sink_options

FUNCTION = "nql_alert_processing"
FUNCTION_CLASS = "dev.nqlflink.udfs.AlertProcessing"
INPUT, OUTPUT = f"{JOB}__processing_input", f"{JOB}__processing"
SINK = "sink_notifications"
MAINTENANCE = "src_maintenance"
MAINTENANCE_SOURCE = "maintenance"  # the dead letters' source
# A maintenance record's version time: updated_at in the catalog's time format; a record without
# one (or without tenant or id) is dead-lettered and has the epoch as its rowtime (a NULL rowtime
# stops the job).
UPDATED_AT = "TO_TIMESTAMP(JSON_VALUE(`line`, '$.updated_at'), " + lit(TIME_FORMAT) + ")"
# What the function's state means (its uid hashes it): AlertProcessing.GROUP_TYPE per group and
# ENTRY_TYPE per waiting transition, in maps per tenant.
LAYOUT = ("MAP<tenant/monitor/group, ROW<changes ARRAY<BIGINT>, flapping BOOLEAN, status STRING, alert_id STRING, "
          "record STRING, notified STRING, notified_id STRING, within BIGINT, options ARRAY<BIGINT>, repeats BIGINT>>, "
          "MAP<entry, ROW<due BIGINT, at BIGINT, tenant STRING, monitor STRING, group_json STRING, status STRING, "
          "alert_id STRING, record STRING, settled BOOLEAN, options ARRAY<BIGINT>, repeat BIGINT>>, "
          "MAP<id/version, STRING>, ROW<seen BIGINT> by tenant")


def processed(monitors) -> list:
    """The monitors with options: those asking for processing."""
    return [m for m in monitors if m.processing is not None]


def wanted(monitors, options: CompileOptions) -> bool:
    """Whether the job processes its transitions: a monitor asks, or a maintenance topic is set
    (then every monitor's transitions are)."""
    return bool(processed(monitors)) or (bool(monitors) and options.maintenance_topic is not None)


def spec(monitors) -> str:
    """The function's spec literal: each processed monitor's options, by tenant/monitor."""
    return " | ".join(f"{m.tenant}/{m.id}: {m.processing.spec()}"
                      for m in sorted(processed(monitors), key=lambda m: (m.tenant, m.id)))


def notification_sink_options(o: CompileOptions) -> dict[str, str]:
    """Notification records keyed by tenant/monitor: one monitor's notifications on one
    partition, in order. Exactly once, like the alert topic (its own transactional prefix)."""
    return sink_options(o, o.notifications_topic, "notifications", o.delivery_guarantee) | {
        "key.format": "raw", "key.fields": "monitor_key", "value.format": "raw", "value.fields-include": "EXCEPT_KEY"}


def statements(monitors, options: CompileOptions, inserts: list[dict]) -> list[Statement]:
    """The processing's function, views, sink and maintenance source, and its INSERTs added to
    `inserts`; nothing when the job does not process its transitions."""
    if not wanted(monitors, options):
        return []
    alerts = "\nUNION ALL\n".join(_transitions(pipelines(monitors)))
    inserts.append({"target": q(SINK), "query": f"SELECT CONCAT(`tenant`, '/', `monitor`), `record`\n"
                                                f"FROM {q(OUTPUT)}"})
    maintenance = _maintenance(options, inserts)
    return maintenance + [
        Statement("ddl/function.sql.j2", {"name": q(FUNCTION), "path": lit(FUNCTION_CLASS), "language": "JAVA"}),
        Statement("views/processing_input.sql.j2", {"name": q(INPUT), "alerts": alerts,
                                                    "windows": q(MAINTENANCE) if maintenance else ""}),
        Statement("views/processing.sql.j2", {"name": q(OUTPUT), "function": q(FUNCTION), "input": q(INPUT),
                                              "spec": lit(spec(monitors)), "uid": lit(state_uid(JOB, "processing", LAYOUT))}),
        sink(SINK, {"monitor_key": "STRING", "record": "STRING"},
             notification_sink_options(options)),
    ]


def _transitions(pipes) -> list[str]:
    """Each source of transitions as the processing reads it: tenant, kind 'alert', monitor,
    group, status, its time `at`, then the alert record exactly as on the alert topic (one
    query for every threshold monitor, one per seasonal or change monitor)."""
    head = ["`tenant`", "'alert' AS `nql_kind`", "`monitor`", "`group_json`", "`status`"]
    threshold = [p for p in pipes if p.evaluate.detection is None]
    out = [alert_query(q(JOB_ALERTS), alert_values(threshold), head + ["`at`"])] if threshold else []
    at = f"TO_TIMESTAMP(JSON_VALUE(`payload`, '$.at'), {lit(TIME_FORMAT)}) AS `at`"
    return out + [alert_query(q(detection_alerts(p)), None, head + [at]) for p in pipes if p.evaluate.detection is not None]


def sources(statements) -> dict[str, str]:
    """The job's maintenance source, as Job.source_tables names it ('maintenance'), if it has one."""
    has = any(s.connector is not None and s.connector.table == MAINTENANCE for s in statements)
    return {MAINTENANCE_SOURCE: MAINTENANCE} if has else {}


def notification_records(output_dir: str) -> list[str]:
    """The notification records an embedded run wrote (its sink folder `output_dir`, where a
    file sink writes each row as JSON), in the order written; none without processing."""
    import json
    from pathlib import Path

    out = []
    for f in sorted(Path(output_dir, SINK).rglob("*")):
        if f.is_file() and not f.name.startswith("."):
            out += [json.loads(line)["record"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def topics(job, o: CompileOptions) -> dict[str, list[str]]:
    """The job's processing topics (prefixed) for deploy to create: {'notifications': [...],
    'maintenance': [...]}, empty lists when it has no processing."""
    tables = {s.connector.table for s in job.statements if s.connector is not None}
    return {"notifications": [o.topic(o.notifications_topic)] if SINK in tables else [],
            "maintenance": [o.topic(o.maintenance_topic)] if MAINTENANCE in tables else []}


def _maintenance(o: CompileOptions, inserts: list[dict]) -> list[Statement]:
    """The maintenance topic as raw lines, versioned by updated_at (read from its start, like
    every versioned topic), its records without tenant, id or version time dead-lettered."""
    if o.maintenance_topic is None:
        return []
    reason = ("CASE WHEN JSON_VALUE(`line`, '$.tenant') IS NULL THEN 'missing_tenant' "
              "WHEN JSON_VALUE(`line`, '$.id') IS NULL THEN 'missing_key:id' "
              f"WHEN {UPDATED_AT} IS NULL THEN 'bad_version_time:updated_at' END")
    inserts.append({"target": q("sink_dead_letters"),
                    "query": f"SELECT {lit(MAINTENANCE_SOURCE)}, `reject_reason`, `line`\nFROM {q(MAINTENANCE)}\n"
                             "WHERE `reject_reason` IS NOT NULL"})
    columns = [{"name": q("tenant"), "expr": "JSON_VALUE(`line`, '$.tenant')"},
               {"name": q("reject_reason"), "expr": reason},
               {"name": q("updated_at"), "expr": f"COALESCE({UPDATED_AT}, TO_TIMESTAMP('1970-01-01 00:00:00'))"}]
    return [Statement("ddl/raw_source.sql.j2", {
        "comment": "Maintenance windows and silences (docs/processing.md), versioned by updated_at: a new record\n"
                   "-- of an id takes effect from its updated_at on, without a redeploy.",
        "name": q(MAINTENANCE), "columns": columns, "time_column": q("updated_at"), "lateness": "INTERVAL '0' SECOND"},
        Connector(MAINTENANCE, kafka_options(o, o.maintenance_topic, "raw", source=True, versioned=True)))]
