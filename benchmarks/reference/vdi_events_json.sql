-- session.vdi_events as a Flink engineer declares it: the JSON format with the table's schema
-- (translator/catalog/tables.yaml, every field), nested objects as ROWs, the event time
-- `end_time` parsed by the format (ISO-8601 with a Z: TIMESTAMP_LTZ(3)) and the rowtime with a
-- watermark 10 s behind (the monitor's allowed lateness, as in the generated job).
-- Shared by the JSON ceiling (ceiling_json.sql) and the hand-written seed monitor
-- (seed_monitor.sql); ${events} is the JSONL file (benchmarks/job_cost.py fills it in).

CREATE TABLE vdi_events (
  tenant           STRING,
  start_time       TIMESTAMP_LTZ(3),
  end_time         TIMESTAMP_LTZ(3),
  device           ROW<collector ROW<uid STRING>, name STRING>,
  `user`           ROW<name STRING>,
  `session`        ROW<uid STRING>,
  network_latency  DOUBLE,            -- duration, ms
  rtt              DOUBLE,            -- duration, ms
  user_input_delay DOUBLE,            -- duration, ms
  frame_rate       DOUBLE,
  bandwidth        DOUBLE,            -- bitrate
  cpu_queue_length DOUBLE,
  protocol         STRING,            -- enum ica | blast | rdp | pcoip
  event_type       STRING,            -- enum sample | connect | ...
  context          ROW<location ROW<country STRING, `type` STRING>>,
  client           ROW<location ROW<site STRING>, ip STRING>,
  WATERMARK FOR end_time AS end_time - INTERVAL '10' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '${events}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601'
);
