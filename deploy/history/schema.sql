-- The alert history (docs/history.md): one row per alert transition, the alert topic's
-- records as typed columns and the whole record, written by the Flink job's JDBC sink
-- (translator/flink/history.py), which upserts on the primary key.
-- Applied by `nql-flink history init --jdbc URL` (idempotent: run it again at any time).
-- :'table' is the table name (psql variable; default nql_alert_history).

CREATE TABLE IF NOT EXISTS :"table" (
  alert_id       text        NOT NULL,
  status         text        NOT NULL,              -- triggered | recovered
  at             timestamptz NOT NULL,              -- the transition's window end
  tenant         text        NOT NULL,
  monitor        text        NOT NULL,
  group_values   jsonb       NOT NULL,              -- the record's "group"
  measure_values jsonb,                             -- the record's "values"
  window_start   timestamptz,
  window_end     timestamptz,
  condition      text,
  baseline       jsonb,                             -- seasonal and change monitors
  impact         jsonb,
  impact_devices bigint,
  impact_users   bigint,
  impact_share   double precision,                  -- when the record has one
  priority       text,
  name           text,
  tags           jsonb,
  record         jsonb       NOT NULL,              -- the whole alert record
  -- A primary key of a partitioned table must hold the partition column. A transition is one
  -- (alert id, status), and its `at` never changes (the window end of the evaluation that made
  -- it, fixed by the alert id's trigger time and the data), so this key is still one row per
  -- transition: a replay upserts the same row.
  PRIMARY KEY (alert_id, status, at)
) PARTITION BY RANGE (at);

-- Rows of a day without its partition land here, never rejected; creating that day's
-- partition later moves them (nql_alert_history_partitions below).
CREATE TABLE IF NOT EXISTS :"table_default" PARTITION OF :"table" DEFAULT;

-- Grafana: a tenant's (and monitor's) alerts over a time range; partitions prune by `at`.
CREATE INDEX IF NOT EXISTS :"table_tma" ON :"table" (tenant, monitor, at);
CREATE INDEX IF NOT EXISTS :"table_at" ON :"table" (at);

-- One partition per UTC day, [first, first + days], named <table>_YYYYMMDD; a day that exists
-- is left alone; rows of the day already in the default partition move into the new one.
-- Returns how many partitions it created. Run daily (cron, pg_cron) or through
-- `nql-flink history init` ahead of time.
CREATE OR REPLACE FUNCTION nql_alert_history_partitions(parent regclass, first date, days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  base text := (SELECT relname FROM pg_class WHERE oid = parent);
  schema text := (SELECT nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid WHERE c.oid = parent);
  made integer := 0;
  day date;
  part text;
  lo timestamptz;
  hi timestamptz;
BEGIN
  FOR i IN 0..days LOOP
    day := first + i;
    part := base || '_' || to_char(day, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(format('%I.%I', schema, part)) IS NOT NULL;
    lo := day::timestamp AT TIME ZONE 'UTC';
    hi := (day + 1)::timestamp AT TIME ZONE 'UTC';
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', schema, part, parent);
    EXECUTE format('WITH moved AS (DELETE FROM %I.%I WHERE at >= %L AND at < %L RETURNING *) '
                   'INSERT INTO %I.%I SELECT * FROM moved', schema, base || '_default', lo, hi, schema, part);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)', parent, schema, part, lo, hi);
    made := made + 1;
  END LOOP;
  RETURN made;
END $$;
