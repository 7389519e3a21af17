-- Reference Flink SQL job (Flink 2.3) for the monitor:
--   id: vdi_latency_by_pool   tenant: (any; tenant is data)   every: 30s
--   query: session.vdi_events during past 5min
--          | where device.virtualization.desktop_pool != null
--          | summarize avg_latency = network_latency.avg(), sessions = device.count()
--            by device.virtualization.desktop_pool
--   trigger: when avg_latency > 300ms and sessions >= 2   for: 5min   (thresholds/for are DATA)
--   recover: default (NOT trigger.when), for 0                        (recover_for is DATA)
--
-- Shape: see docs/flink-job-shape.md. This file is the template the code generator emits.
-- Connector options are written for Kafka; deploy/embedded/runner.py swaps every WITH (...)
-- for a filesystem one (connector_substitution), nothing else changes.
-- Statements are separated by a line ending with ';' (the statement set is one statement).
-- Session options (not SQL: set by the driver through TableConfig, or SET in sql-client):
--   table.local-time-zone = UTC ; table.exec.source.idle-timeout = 1 min
--   (all times below are TIMESTAMP(3) = UTC wall clock, so nothing depends on the zone)

CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS alert_transitions
  AS 'udfs.flink.alert_state.alert_transitions' LANGUAGE PYTHON;

-- ---------------------------------------------------------------- sources (raw lines) --
-- One STRING per record, every field parsed by a computed column that yields NULL instead
-- of failing. NOTE: JSON_VALUE(... RETURNING DOUBLE NULL ON ERROR) crashes the job on an
-- integer JSON value (ClassCastException Integer -> BigDecimal, Flink 2.3), so numbers are
-- read as strings and TRY_CAST.
CREATE TABLE src_session_vdi_events (
  line STRING,
  tenant AS JSON_VALUE(line, '$.tenant'),
  end_time_raw AS JSON_VALUE(line, '$.end_time'),
  ts_parsed AS TO_TIMESTAMP(JSON_VALUE(line, '$.end_time'), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
  -- the rowtime must never be NULL: WatermarkAssignerOperator throws "RowTime field should
  -- not be null" BEFORE any WHERE runs. Unparsable times get the epoch (then rejected).
  ts AS COALESCE(TO_TIMESTAMP(JSON_VALUE(line, '$.end_time'), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), TIMESTAMP '1970-01-01 00:00:00.000'),
  device_collector_uid AS JSON_VALUE(line, '$.device.collector.uid'),
  user_name AS JSON_VALUE(line, '$.user.name'),
  network_latency_raw AS JSON_VALUE(line, '$.network_latency'),
  network_latency AS TRY_CAST(JSON_VALUE(line, '$.network_latency') AS DOUBLE),
  WATERMARK FOR ts AS ts - INTERVAL '10' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'nql.session.vdi_events',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'nql-flink.vdi_latency_by_pool',
  'scan.startup.mode' = 'earliest-offset',
  'scan.watermark.emit.strategy' = 'on-event',
  'scan.watermark.idle-timeout' = '1 min',
  'format' = 'raw'
);

-- Inventory: compacted topic read as an append stream, turned into a versioned view below
-- (PK = tenant + collector uid, version time = last_seen). Same DDL for file and Kafka.
CREATE TABLE src_device_devices (
  line STRING,
  tenant AS JSON_VALUE(line, '$.tenant'),
  collector_uid AS JSON_VALUE(line, '$.collector.uid'),
  virtualization_desktop_pool AS JSON_VALUE(line, '$.virtualization.desktop_pool'),
  last_seen_parsed AS TO_TIMESTAMP(JSON_VALUE(line, '$.last_seen'), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
  last_seen AS COALESCE(TO_TIMESTAMP(JSON_VALUE(line, '$.last_seen'), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), TIMESTAMP '1970-01-01 00:00:00.000'),
  WATERMARK FOR last_seen AS last_seen
) WITH (
  'connector' = 'kafka',
  'topic' = 'nql.device.devices',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'nql-flink.vdi_latency_by_pool',
  'scan.startup.mode' = 'earliest-offset',
  'scan.watermark.emit.strategy' = 'on-event',
  'scan.watermark.idle-timeout' = '1 min',
  'format' = 'raw'
);

-- Monitor config (thresholds, for/recover durations in ms, enabled, priority, name, tags,
-- condition texts) keyed by tenant + monitor, version time = updated_at. Written by the
-- deploy tooling, so a typed JSON format; bad lines are skipped by the format.
CREATE TABLE src_monitor_config (
  tenant STRING,
  monitor STRING,
  updated_at STRING,
  enabled BOOLEAN,
  priority STRING,
  name STRING,
  tags ARRAY<STRING>,
  params MAP<STRING, DOUBLE>,
  for_ms BIGINT,
  recover_for_ms BIGINT,
  trigger_condition STRING,
  recover_condition STRING,
  version_time_parsed AS TO_TIMESTAMP(updated_at, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
  version_time AS COALESCE(TO_TIMESTAMP(updated_at, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), TIMESTAMP '1970-01-01 00:00:00.000'),
  WATERMARK FOR version_time AS version_time
) WITH (
  'connector' = 'kafka',
  'topic' = 'nql.monitor.config',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'nql-flink.vdi_latency_by_pool',
  'scan.startup.mode' = 'earliest-offset',
  'scan.watermark.emit.strategy' = 'on-event',
  'scan.watermark.idle-timeout' = '1 min',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true'
);

-- ---------------------------------------------------------------------------- sinks --
CREATE TABLE sink_alerts (
  record STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'nql.alerts',
  'properties.bootstrap.servers' = 'localhost:9092',
  'format' = 'raw'
);

CREATE TABLE sink_dead_letters (
  `source` STRING,
  reason STRING,
  line STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'nql.dead_letters',
  'properties.bootstrap.servers' = 'localhost:9092',
  'format' = 'json'
);

-- ------------------------------------------------------------- validation + versions --
-- reject_reason: first failing check; NULL = good record. 'late' = event time at or below
-- the current watermark: such a record could land in an already fired window, so it is
-- never applied (deterministic) and goes to the dead letters instead.
CREATE TEMPORARY VIEW chk_session_vdi_events AS
SELECT line, tenant, ts, device_collector_uid, user_name, network_latency,
  CASE
    WHEN NOT (line IS JSON OBJECT) THEN 'not_json'
    WHEN tenant IS NULL OR tenant = '' THEN 'missing_tenant'
    WHEN end_time_raw IS NULL THEN 'missing_event_time'
    WHEN ts_parsed IS NULL THEN 'bad_event_time'
    WHEN network_latency_raw IS NOT NULL AND network_latency IS NULL THEN 'bad_type:network_latency'
    WHEN ts <= CURRENT_WATERMARK(ts) THEN 'late'
    ELSE CAST(NULL AS STRING)
  END AS reject_reason
FROM src_session_vdi_events;

CREATE TEMPORARY VIEW ok_session_vdi_events AS
SELECT tenant, ts, device_collector_uid, user_name, network_latency
FROM chk_session_vdi_events
WHERE reject_reason IS NULL;

CREATE TEMPORARY VIEW ver_device_devices AS
SELECT tenant, collector_uid, virtualization_desktop_pool, last_seen
FROM (
  SELECT tenant, collector_uid, virtualization_desktop_pool, last_seen,
    ROW_NUMBER() OVER (PARTITION BY tenant, collector_uid ORDER BY last_seen DESC) AS rn
  FROM src_device_devices
  WHERE tenant IS NOT NULL AND collector_uid IS NOT NULL AND last_seen_parsed IS NOT NULL
) WHERE rn = 1;

CREATE TEMPORARY VIEW ver_monitor_config AS
SELECT tenant, monitor, enabled, priority, name, tags, params, for_ms, recover_for_ms,
  trigger_condition, recover_condition, version_time
FROM (
  SELECT tenant, monitor, enabled, priority, name, tags, params, for_ms, recover_for_ms,
    trigger_condition, recover_condition, version_time,
    ROW_NUMBER() OVER (PARTITION BY tenant, monitor ORDER BY version_time DESC) AS rn
  FROM src_monitor_config
  WHERE tenant IS NOT NULL AND monitor IS NOT NULL AND version_time_parsed IS NOT NULL
) WHERE rn = 1;

-- ------------------------------------------------------------------ the monitor itself --
-- device.* attributes not carried by the event: temporal join as of the event time.
CREATE TEMPORARY VIEW m_vdi_latency_by_pool__rows AS
SELECT e.tenant, e.ts, e.device_collector_uid, e.user_name, e.network_latency,
  d.virtualization_desktop_pool AS device_virtualization_desktop_pool
FROM ok_session_vdi_events AS e
JOIN ver_device_devices FOR SYSTEM_TIME AS OF e.ts AS d
  ON e.tenant = d.tenant AND e.device_collector_uid = d.collector_uid
WHERE d.virtualization_desktop_pool IS NOT NULL;

-- during past 5min, every 30s: HOP(slide = every, size = during); tenant in every key.
CREATE TEMPORARY VIEW m_vdi_latency_by_pool__eval AS
SELECT tenant, 'vdi_latency_by_pool' AS monitor, window_start, window_end, window_time,
  JSON_OBJECT('device.virtualization.desktop_pool' VALUE device_virtualization_desktop_pool) AS group_json,
  AVG(network_latency) AS avg_latency,
  COUNT(DISTINCT device_collector_uid) AS sessions,
  COUNT(DISTINCT device_collector_uid) AS impact_devices,
  COUNT(DISTINCT user_name) AS impact_users
FROM TABLE(HOP(TABLE m_vdi_latency_by_pool__rows, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '5' MINUTE))
GROUP BY tenant, window_start, window_end, window_time, device_virtualization_desktop_pool;

-- Monitor config as of the evaluation time; conditions evaluated with the DATA thresholds.
CREATE TEMPORARY VIEW m_vdi_latency_by_pool__judged AS
SELECT v.tenant, v.monitor, v.group_json, v.window_start, v.window_end, v.window_time,
  (v.avg_latency > c.params['trigger_1'] AND v.sessions >= c.params['trigger_2']) AS trig,
  NOT (v.avg_latency > c.params['trigger_1'] AND v.sessions >= c.params['trigger_2']) AS rec,
  c.for_ms, c.recover_for_ms,
  JSON_OBJECT(
    'at' VALUE DATE_FORMAT(v.window_end, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    'values' VALUE JSON_OBJECT('avg_latency' VALUE v.avg_latency, 'sessions' VALUE v.sessions),
    'window' VALUE JSON_OBJECT(
       'start' VALUE DATE_FORMAT(v.window_start, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
       'end' VALUE DATE_FORMAT(v.window_end, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')),
    'impact' VALUE JSON_OBJECT('devices' VALUE v.impact_devices, 'users' VALUE v.impact_users),
    'priority' VALUE c.priority, 'name' VALUE c.name, 'tags' VALUE c.tags,
    'trigger_condition' VALUE c.trigger_condition,
    'recover_condition' VALUE c.recover_condition
    NULL ON NULL) AS payload
FROM m_vdi_latency_by_pool__eval AS v
JOIN ver_monitor_config FOR SYSTEM_TIME AS OF v.window_time AS c
  ON v.tenant = c.tenant AND v.monitor = c.monitor
WHERE c.enabled IS NOT FALSE;

-- Event-time sort per group: the OVER operator buffers until the watermark and emits in
-- window_time order, so the state machine sees evaluations in event time whatever the
-- arrival order. eval_seq is passed on so the planner keeps this step.
CREATE TEMPORARY VIEW m_vdi_latency_by_pool__ordered AS
SELECT tenant, monitor, group_json, window_end, trig, rec, for_ms, recover_for_ms, payload,
  COUNT(*) OVER (PARTITION BY tenant, monitor, group_json ORDER BY window_time
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS eval_seq
FROM m_vdi_latency_by_pool__judged;

-- The state machine: general Python UDAF in a plain GROUP BY (one state per group). Its
-- value is the list of transitions produced since the last emission (see alert_state.py).
CREATE TEMPORARY VIEW m_vdi_latency_by_pool__state AS
SELECT tenant, monitor, group_json,
  alert_transitions(eval_seq, window_end, trig, rec, for_ms, recover_for_ms,
                    CAST(30000 AS BIGINT), tenant, monitor, group_json, payload) AS trs
FROM m_vdi_latency_by_pool__ordered
GROUP BY tenant, monitor, group_json;

-- Updating table -> append-only stream of transitions.
CREATE TEMPORARY VIEW m_vdi_latency_by_pool__alerts AS
SELECT s.tenant, s.monitor, s.group_json, t.status, t.alert_id, t.payload
FROM TO_CHANGELOG(input => TABLE m_vdi_latency_by_pool__state) AS s
CROSS JOIN UNNEST(s.trs) AS t (status, alert_id, at_ms, since_ms, payload)
WHERE s.op IN ('INSERT', 'UPDATE_AFTER');

EXECUTE STATEMENT SET
BEGIN
INSERT INTO sink_dead_letters
SELECT 'session.vdi_events', reject_reason, line
FROM chk_session_vdi_events
WHERE reject_reason IS NOT NULL;
INSERT INTO sink_alerts
SELECT JSON_OBJECT(
  'alert_id' VALUE alert_id,
  'tenant' VALUE tenant,
  'monitor' VALUE monitor,
  'status' VALUE status,
  'at' VALUE JSON_VALUE(payload, '$.at'),
  'group' VALUE JSON(group_json),
  'values' VALUE JSON(JSON_QUERY(payload, '$.values')),
  'window' VALUE JSON(JSON_QUERY(payload, '$.window')),
  'condition' VALUE CASE status WHEN 'triggered' THEN JSON_VALUE(payload, '$.trigger_condition')
                                ELSE JSON_VALUE(payload, '$.recover_condition') END,
  'baseline' VALUE CAST(NULL AS STRING),
  'impact' VALUE JSON(JSON_QUERY(payload, '$.impact')),
  'priority' VALUE JSON_VALUE(payload, '$.priority'),
  'name' VALUE JSON_VALUE(payload, '$.name'),
  'tags' VALUE JSON(JSON_QUERY(payload, '$.tags'))
  NULL ON NULL)
FROM m_vdi_latency_by_pool__alerts;
END;
