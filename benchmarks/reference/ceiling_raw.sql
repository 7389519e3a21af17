-- Ceiling 1: the session.vdi_events file read as raw lines, nothing parsed, into a blackhole:
-- what reading the records alone costs. ${sink} is the sink's connector options
-- ('connector' = 'blackhole' when timed; a file when benchmarks/job_cost.py counts the rows).

CREATE TABLE vdi_lines (
  line STRING
) WITH (
  'connector' = 'filesystem',
  'path' = '${events}',
  'format' = 'raw'
);

CREATE TABLE passthrough (
  line STRING
) WITH (${sink});

INSERT INTO passthrough SELECT line FROM vdi_lines;
