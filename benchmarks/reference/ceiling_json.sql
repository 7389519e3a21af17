-- Ceiling 2: session.vdi_events read with the JSON format and the table's schema
-- (vdi_events_json.sql, run before this script: every field parsed, the event time too, and
-- the watermark), every column into a blackhole: what parsing the records costs.
-- ${sink}: as in ceiling_raw.sql.

CREATE TABLE passthrough WITH (${sink}) LIKE vdi_events (EXCLUDING ALL);

INSERT INTO passthrough SELECT * FROM vdi_events;
