-- The seed monitor (examples/monitors/vdi_latency_by_pool.yaml) written by hand in Flink SQL,
-- as a Flink engineer would: the reference that issue 15 measures the generated job against
-- (benchmarks/job_cost.py). Run after vdi_events_json.sql (the event table, JSON format with
-- a watermark). ${devices} is the inventory's JSONL file, ${out} the folder of the breaching
-- windows, ${tenants} the condition on the tenant (`tenant = 'acme'`: the seed monitor, its
-- tenant's rows only; TRUE: its shape over every tenant of the input, one group per tenant and
-- pool, as benchmarks/many_monitors.py --handwritten runs it) and ${sessions} the trigger's
-- least number of devices (5: the seed monitor's).
--
--   session.vdi_events during past 5min
--   | where device.virtualization.desktop_pool != null
--   | summarize avg_latency = network_latency.avg(), sessions = device.count()
--     by device.virtualization.desktop_pool
--   every: 30s, trigger when avg_latency > 300ms and sessions >= 5; tenant acme
--
-- What it omits compared with the generated job (docs/flink-job-shape.md §1): the `for`
-- durations (5 min to trigger, 2 min to recover), hysteresis and alert records (it writes
-- every breaching window, not transitions), thresholds from the monitor-config topic (they
-- are literals here), validation and dead letters (a record the JSON format cannot read
-- fails the job; a late record is dropped silently), event time per tenant (one watermark
-- for all tenants), impact counts (users), the alert-state topic and state eviction. It runs
-- with Flink's default session options (a watermark every 200 ms) but UTC and parallelism 1
-- (benchmarks/run_sql.py).

-- The device inventory: one record per device and version, `last_seen` its version time.
CREATE TABLE device_records (
  tenant         STRING,
  collector      ROW<uid STRING>,
  virtualization ROW<desktop_pool STRING, environment STRING>,
  last_seen      TIMESTAMP_LTZ(3),
  WATERMARK FOR last_seen AS last_seen
) WITH (
  'connector' = 'filesystem',
  'path' = '${devices}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601'
);

-- The inventory as a versioned table: the latest record per device (primary key tenant, uid,
-- inferred by the planner from the deduplication) with its event time. An append-only source
-- with a nested key cannot declare the primary key itself (a key must be a physical column),
-- so it is Flink's versioned view: a deduplication on the rowtime.
CREATE VIEW devices AS
SELECT tenant, uid, desktop_pool, last_seen
FROM (
  SELECT tenant, collector.uid AS uid, virtualization.desktop_pool AS desktop_pool, last_seen,
         ROW_NUMBER() OVER (PARTITION BY tenant, collector.uid ORDER BY last_seen DESC) AS version
  FROM device_records
)
WHERE version = 1;

-- Each VDI sample with its device's desktop pool as of the sample's end time (event-time
-- temporal join).
CREATE VIEW samples AS
SELECT e.tenant, e.device.collector.uid AS uid, e.network_latency, d.desktop_pool, e.end_time
FROM vdi_events AS e
JOIN devices FOR SYSTEM_TIME AS OF e.end_time AS d
  ON e.tenant = d.tenant AND e.device.collector.uid = d.uid;

-- The breaching windows: 5-minute windows every 30 s per tenant and pool.
CREATE TABLE breaching_windows (
  tenant       STRING,
  desktop_pool STRING,
  window_start TIMESTAMP(3),
  window_end   TIMESTAMP(3),
  avg_latency  DOUBLE,
  sessions     BIGINT
) WITH (
  'connector' = 'filesystem',
  'path' = '${out}',
  'format' = 'json'
);

INSERT INTO breaching_windows
SELECT tenant, desktop_pool, window_start, window_end, avg_latency, sessions
FROM (
  SELECT tenant, desktop_pool, window_start, window_end,
         AVG(network_latency) AS avg_latency,
         COUNT(DISTINCT uid) AS sessions
  FROM TABLE(HOP(TABLE samples, DESCRIPTOR(end_time), INTERVAL '30' SECOND, INTERVAL '5' MINUTE))
  WHERE ${tenants} AND desktop_pool IS NOT NULL
  GROUP BY tenant, desktop_pool, window_start, window_end
)
WHERE avg_latency > 300 AND sessions >= ${sessions};
