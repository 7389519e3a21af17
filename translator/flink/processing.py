"""Alert processing after the alert topic (docs/processing.md): the threshold monitors'
transitions, exactly the records of the alert topic, become notification records on their own
topic (`CompileOptions.notifications_topic`), decided in event time by one Java process table
function per job (udfs/jvm AlertProcessing): flapping groups suppressed.

Only when some monitor asks for it (`flapping:`, `grouping:`; ir.Processing); otherwise
`statements` adds nothing and the job is exactly the one without this module. The function's
input is the job's alert transitions (codegen's `job__alerts`, the alert state function's
'alert' rows, which keep its rowtime: the evaluation's window time) with their alert records,
partitioned by tenant; its spec literal lists each monitor's options, its uid names no monitor
(adding or changing a monitor's options restores the state of every group).
"""

from __future__ import annotations

from nql_flink.translator.flink.codegen import (JOB, JOB_ALERTS, TIME_FORMAT, Connector, Statement, lit, pipelines, q,
                                                 sink, state_uid, values_pairs)
from nql_flink.translator.flink.connectors import CompileOptions, sink_options

FUNCTION = "nql_alert_processing"
FUNCTION_CLASS = "dev.nqlflink.udfs.AlertProcessing"
INPUT, OUTPUT = f"{JOB}__processing_input", f"{JOB}__processing"
SINK = "sink_notifications"
# What the function's state means (its uid hashes it): AlertProcessing.GROUP_TYPE per group and
# ENTRY_TYPE per waiting transition, in maps per tenant.
LAYOUT = ("MAP<tenant/monitor/group, ROW<changes ARRAY<BIGINT>, flapping BOOLEAN, status STRING, alert_id STRING, "
          "record STRING, notified STRING, notified_id STRING, within BIGINT>>, MAP<entry, ROW<due BIGINT, at BIGINT, "
          "tenant STRING, monitor STRING, group_json STRING, status STRING, alert_id STRING, record STRING, "
          "settled BOOLEAN, options ARRAY<BIGINT>>> by tenant")


def processed(monitors) -> list:
    """The monitors whose transitions are processed: threshold monitors asking for it."""
    return [m for m in monitors if m.processing is not None and m.evaluate.detection is None]


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
    """The processing's function, views and sink, and its INSERT added to `inserts`; nothing
    when no monitor asks for processing."""
    if not processed(monitors):
        return []
    from nql_flink.translator.flink.render import render

    threshold = [p for p in pipelines(monitors) if p.evaluate.detection is None]
    whens = "".join(f"\n    WHEN {lit(p.name)} THEN JSON_OBJECT({', '.join(values_pairs(p.evaluate.input.measures))})"
                    for p in threshold)
    extra = ["`tenant`", "'alert' AS `nql_kind`", "`monitor`", "`group_json`", "`status`", "`at`", "`rowtime`"]
    alerts = render("alert_record.sql.j2", {"alerts": q(JOB_ALERTS), "payload": False, "extra": extra,
                                            "values": f"JSON(CASE `nql_pipeline`{whens} END)",
                                            "time_format": lit(TIME_FORMAT)}).rstrip()
    inserts.append({"target": q(SINK), "query": f"SELECT CONCAT(`tenant`, '/', `monitor`), `record`\n"
                                                f"FROM {q(OUTPUT)}"})
    return [
        Statement("ddl/function.sql.j2", {"name": q(FUNCTION), "path": lit(FUNCTION_CLASS), "language": "JAVA"}),
        Statement("views/processing_input.sql.j2", {"name": q(INPUT), "alerts": alerts}),
        Statement("views/processing.sql.j2", {"name": q(OUTPUT), "function": q(FUNCTION), "input": q(INPUT),
                                              "spec": lit(spec(monitors)), "uid": lit(state_uid(JOB, "processing", LAYOUT))}),
        sink(SINK, {"monitor_key": "STRING", "record": "STRING"},
             notification_sink_options(options)),
    ]
