"""The alert history sink (docs/history.md): every alert record the job writes to the alert
topic, also upserted into a PostgreSQL table through Flink's JDBC connector, typed columns
and the whole record.

Only with `CompileOptions.history_jdbc`; then `statements` adds one sink table and one INSERT
to the job, over the same alert queries as the alert topic's INSERT (the planner reuses their
common plan: one alert state function feeds both sinks). The sink's primary key is the
PostgreSQL table's (alert id, status, at), so a replayed transition (a restart from a
checkpoint, a redeployment over the same topics) overwrites its row with the same values:
idempotent. Credentials are references resolved where the job runs (`EnvCredentialsDriver`,
deploy/maven/src), never values.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from nql_flink.translator.flink.codegen import Connector, Statement, lit, q

SINK = "sink_alert_history"
URL_PREFIX = "jdbc:postgresql://"
DRIVER = "dev.nqlflink.history.EnvCredentialsDriver"
ENV_USER, ENV_PASSWORD = "NQL_HISTORY_USER", "NQL_HISTORY_PASSWORD"
# Query parameters that would put a secret into the SQL (and the plan, and job.sql)
SECRET_PARAMS = ("password", "sslpassword", "sslkey")

# The sink's columns in the PostgreSQL table's order (deploy/history/schema.sql): every value
# is the alert record's text, typed by PostgreSQL on insert (the URL's stringtype=unspecified:
# jsonb, timestamptz, bigint, double precision), so the row holds exactly what the topic got.
# (column, JSON path in the record, JSON_QUERY for objects and arrays else JSON_VALUE)
COLUMNS = (
    ("alert_id", "$.alert_id", False),
    ("status", "$.status", False),
    ("at", "$.at", False),
    ("tenant", "$.tenant", False),
    ("monitor", "$.monitor", False),
    ("group_values", "$.group", True),
    ("measure_values", "$.values", True),
    ("window_start", "$.window.start", False),
    ("window_end", "$.window.end", False),
    ("condition", "$.condition", False),
    ("baseline", "$.baseline", True),
    ("impact", "$.impact", True),
    ("impact_devices", "$.impact.devices", False),
    ("impact_users", "$.impact.users", False),
    ("impact_share", "$.impact.share", False),
    ("priority", "$.priority", False),
    ("name", "$.name", False),
    ("tags", "$.tags", True),
)
KEY = ("alert_id", "status", "at")
ON_CONFLICT = "ON CONFLICT DO NOTHING"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be the history's JDBC URL, or None."""
    if not url.startswith(URL_PREFIX):
        return f"expected {URL_PREFIX}HOST[:PORT]/DATABASE"
    parts = urlsplit(url.removeprefix("jdbc:"))
    try:
        parts.port
    except ValueError:
        return "the port is not a number"
    if not parts.hostname or not parts.path.strip("/"):
        return f"expected {URL_PREFIX}HOST[:PORT]/DATABASE (a host and a database)"
    if parts.username or parts.password:
        return f"no credentials in the URL: they come from ${ENV_USER} and ${ENV_PASSWORD}"
    secret = [k for k, _ in parse_qsl(parts.query) if k.lower() in SECRET_PARAMS]
    if secret:
        return f"{secret[0]!r} in the URL is a secret: it comes from ${ENV_PASSWORD} (docs/history.md)"
    return None


def sink_url(url: str) -> str:
    """The URL the sink connects with: strings sent untyped (stringtype=unspecified), so
    PostgreSQL casts the record's texts to the columns' types (jsonb, timestamptz, numbers)."""
    if "stringtype=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "stringtype=unspecified"


def sink_options(url: str, table: str) -> dict[str, str]:
    """The JDBC sink's options: upserts on the primary key (Postgres dialect: INSERT ... ON
    CONFLICT DO UPDATE), a flush at least every second and at each checkpoint, credentials as
    ${env:...} references that EnvCredentialsDriver resolves in the JVM that connects."""
    return {"connector": "jdbc", "url": sink_url(url), "table-name": table, "driver": DRIVER,
            "username": "${env:" + ENV_USER + "}", "password": "${env:" + ENV_PASSWORD + "}",
            "sink.buffer-flush.max-rows": "100", "sink.buffer-flush.interval": "1 s", "sink.max-retries": "3"}


def statements(options, inserts: list[dict]) -> list[Statement]:
    """With options.history_jdbc: the history sink table; its INSERT (the records of every
    INSERT into the alert topic) is added to `inserts`. Without it: nothing."""
    if not options.history_jdbc:
        return []
    alerts = [i["query"] for i in inserts if i["target"] == q("sink_alerts")]
    if not alerts:
        return []
    from nql_flink.translator.flink.render import render

    columns = [{"name": q(c), "type": "STRING NOT NULL" if c in KEY else "STRING"} for c, _, _ in COLUMNS]
    values = [{"name": q(c), "function": "JSON_QUERY" if obj else "JSON_VALUE", "path": lit(path)}
              for c, path, obj in COLUMNS]
    inserts.append({"target": q(SINK), "query": render("history_record.sql.j2", {
        "columns": values, "alerts": alerts, "on_conflict": ON_CONFLICT}).rstrip()})
    table = Statement("ddl/history_sink.sql.j2", {
        "name": q(SINK), "columns": columns + [{"name": q("record"), "type": "STRING"}],
        "key": [q(c) for c in KEY]}, Connector(SINK, sink_options(options.history_jdbc, options.history_table)))
    return [table]


def in_job(job) -> bool:
    """Whether a job writes the history (its runner then needs the JDBC connector's jar)."""
    return any(s.connector is not None and s.connector.table == SINK for s in job.statements)
