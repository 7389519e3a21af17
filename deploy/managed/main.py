"""The driver of an nql-flink Managed Flink package (`nql-flink package managed-flink`).

Amazon Managed Service for Apache Flink runs it as the application's `python` file
(property group `kinesis.analytics.flink.run.options`); locally `python main.py` runs the same
job on PyFlink's mini-cluster. It needs the runtime's PyFlink and the standard library only:
the compiled job is data (job.json), the Python functions are lib/python/nql_flink/udfs, the Java ones
and the Kafka connector are in the package's one jar.

What it does:
  1. reads the runtime properties: /etc/flink/application_properties.json on Managed Flink,
     else $NQL_APPLICATION_PROPERTIES, else application_properties.json next to this file;
     the format is the service's: a list of {"PropertyGroupId", "PropertyMap"};
  2. applies the job's settings (the generated session options; locally also the jar, the
     Python files and checkpointing, which Managed Flink configures itself and refuses to
     have set from code);
  3. fills the Kafka connection into the statements: the bootstrap servers and the JAAS line
     are references in the compiled SQL (never values); they come from the property group
     `nql.kafka` (and a SCRAM password from there or $NQL_KAFKA_SASL_PASSWORD), never from
     the package; so do the alert history's credentials (group `nql.history`: `username`,
     `password`), when the job writes one;
  4. runs the statements (DDL, CREATE FUNCTION, ...) and submits the statement set
     (`submit`). On Managed Flink it returns once the job is submitted; locally it waits.
Bad or missing properties end it with a one-line `nql-flink main.py: [code] ...` message
and exit status 2, not a traceback.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANAGED_PROPERTIES = Path("/etc/flink/application_properties.json")
LOCAL_PROPERTIES_ENV = "NQL_APPLICATION_PROPERTIES"
JOB_FILE = "job.json"
PLAN_MODULE = "nql_plan"   # deploy/plan.py, shipped beside this file
PYTHON_DIR = "lib/python"
KAFKA_GROUP = "nql.kafka"
LOCAL_GROUP = "nql.local"
PASSWORD_ENV = "NQL_KAFKA_SASL_PASSWORD"
# The alert history's credentials (docs/history.md): references in the compiled SQL, which
# EnvCredentialsDriver resolves from the TaskManager's environment; Managed Flink has no such
# environment, so they come from this property group (the password also from $NQL_HISTORY_PASSWORD).
HISTORY_GROUP = "nql.history"
HISTORY_REFERENCES = {"username": "${env:NQL_HISTORY_USER}", "password": "${env:NQL_HISTORY_PASSWORD}"}
HISTORY_PASSWORD_ENV = "NQL_HISTORY_PASSWORD"
# Shaded kafka-clients inside the connector: JAAS login modules go by their shaded names.
SHADED = "org.apache.flink.kafka.shaded."
# Kafka authentication -> the JAAS line built from the properties (None: no JAAS line).
JAAS = {
    "plaintext": None,
    "scram": lambda p: (f"{SHADED}org.apache.kafka.common.security.scram.ScramLoginModule required "
                        f"username=\"{p['sasl.username']}\" password=\"{p['sasl.password']}\";"),
    "iam": lambda p: "software.amazon.msk.auth.iam.IAMLoginModule required;",
}
# Options Managed Flink sets itself (checkpointing) or that only a local run needs.
LOCAL_DEFAULTS = {"execution.checkpointing.interval": "2 s", "parallelism.default": "1"}  # as deployed


class PropertyError(ValueError):
    """A runtime property that is missing or unusable; ``code`` names which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def properties_file() -> tuple[Path, bool]:
    """(the runtime properties file, whether this runs on Managed Flink)."""
    if MANAGED_PROPERTIES.is_file():
        return MANAGED_PROPERTIES, True
    return Path(os.environ.get(LOCAL_PROPERTIES_ENV) or HERE / "application_properties.json"), False


def property_groups(path: Path) -> dict[str, dict[str, str]]:
    """The service's list of {"PropertyGroupId", "PropertyMap"} as {group id: map}."""
    try:
        groups = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PropertyError("no-properties", f"no runtime properties file at {path}") from None
    except ValueError as e:
        raise PropertyError("bad-properties", f"{path} is not JSON: {e}") from None
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "PropertyGroupId" in g for g in groups):
        raise PropertyError("bad-properties", f"{path}: expected a list of {{PropertyGroupId, PropertyMap}}")
    return {g["PropertyGroupId"]: {str(k): str(v) for k, v in (g.get("PropertyMap") or {}).items()} for g in groups}


def connection_values(job: dict, groups: dict[str, dict[str, str]]) -> dict[str, str]:
    """{reference in the compiled SQL: its value} for the job's Kafka authentication."""
    kafka = dict(groups.get(KAFKA_GROUP, {}))
    if not kafka.get("bootstrap.servers"):
        raise PropertyError("no-bootstrap", f"property group {KAFKA_GROUP!r} has no 'bootstrap.servers'")
    values = {job["references"]["bootstrap.servers"]: kafka["bootstrap.servers"]}
    auth = job["kafka_auth"]
    if auth == "scram":
        kafka.setdefault("sasl.password", os.environ.get(PASSWORD_ENV, ""))
        missing = [k for k in ("sasl.username", "sasl.password") if not kafka.get(k)]
        if missing:
            raise PropertyError("no-credentials", f"SCRAM needs {' and '.join(missing)} in property group "
                                f"{KAFKA_GROUP!r} (the password may come from ${PASSWORD_ENV} instead)")
    if JAAS[auth] is not None:
        values[job["references"]["sasl.jaas.config"]] = JAAS[auth](kafka)
    return values | history_values(job, groups)


def history_values(job: dict, groups: dict[str, dict[str, str]]) -> dict[str, str]:
    """{reference: value} for the alert history's credentials, when the job writes one."""
    if not any(HISTORY_REFERENCES["password"] in s for s in job.get("statements", ())):
        return {}
    history = dict(groups.get(HISTORY_GROUP, {}))
    history.setdefault("password", os.environ.get(HISTORY_PASSWORD_ENV, ""))
    missing = [k for k in HISTORY_REFERENCES if not history.get(k)]
    if missing:
        raise PropertyError("no-history-credentials", f"the job writes the alert history: property group "
                            f"{HISTORY_GROUP!r} needs {' and '.join(missing)} (the password may come from "
                            f"${HISTORY_PASSWORD_ENV} instead)")
    return {ref: history[k] for k, ref in HISTORY_REFERENCES.items()}


def resolve(statement: str, values: dict[str, str]) -> str:
    """The statement with each reference replaced by its value, quoted for the SQL string
    literal the reference sits in."""
    for ref, value in values.items():
        statement = statement.replace(ref, value.replace("'", "''"))
    return statement


def settings(job: dict, groups: dict[str, dict[str, str]], managed: bool) -> dict[str, str]:
    """The configuration to set: the job's own settings; locally also where the jar and the
    Python files are and checkpointing (exactly-once sinks commit at checkpoints), with the
    `nql.local` group's overrides."""
    out = dict(job["settings"])
    if not managed:
        out |= LOCAL_DEFAULTS | groups.get(LOCAL_GROUP, {}) | {
            "pipeline.jars": (HERE / job["jarfile"]).as_uri(),
            "python.executable": sys.executable,
            "python.client.executable": sys.executable}
    return out


def submit(t_env, statements: list[str], bounds: dict | None = None):
    """Run the job from its compiled plan with stable operator ids (nql_plan.py, the project's
    deploy/plan.py): a snapshot of the previous version of the application restores the state
    of every monitor whose state did not change (UpdateApplication, docs/upgrades.md). The
    one place the job is submitted; returns its TableResult."""
    import importlib

    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    plan = importlib.import_module(PLAN_MODULE)
    return plan.execute_plan(t_env, plan.job_plan(t_env, statements, bounds))


def main() -> int:
    path, managed = properties_file()
    job = json.loads((HERE / JOB_FILE).read_text(encoding="utf-8"))
    try:
        groups = property_groups(path)
        values = connection_values(job, groups)
    except PropertyError as e:
        print(f"nql-flink main.py: [{e.code}] {e}", file=sys.stderr)
        return 2
    python_dir = str(HERE / PYTHON_DIR)
    if python_dir not in sys.path:  # the driver imports the Python functions' module too
        sys.path.insert(0, python_dir)
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    for key, value in settings(job, groups, managed).items():
        try:
            conf.set(key, value)
        except Exception as e:  # noqa: BLE001 - Managed Flink refuses options it does not allow from code
            print(f"nql-flink main.py: [setting-refused] {key} = {value}: {str(e).splitlines()[0]} (on Managed "
                  "Flink, ask AWS support to set it: docs/managed-flink.md)", file=sys.stderr)
            return 2
    if not managed:  # on Managed Flink the `pyFiles` run option ships them
        t_env.add_python_file(python_dir)
    result = submit(t_env, [resolve(s, values) for s in job["statements"]], job.get("state_bounds"))
    print(f"nql-flink: submitted {job['name']} ({len(job['monitors'])} monitor(s))", file=sys.stderr, flush=True)
    if not managed and result is not None:
        result.wait()  # a local run is the job's client: returning would end the mini-cluster
    return 0


if __name__ == "__main__":
    sys.exit(main())
