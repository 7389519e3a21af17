"""Deploy a compiled job to a Flink cluster through sql-client, with its config on Kafka.

    from nql_flink.deploy import submit
    scripts = submit.write_scripts(compiled, "build/deploy", settings)   # init.sql, job.sql, ...
    submit.prepare_kafka(bootstrap, compiled, options)                  # topics + config records
    job_id = submit.sql_client(scripts, flink_home=..., python=...)     # sql-client.sh -i -f

The job script is exactly `nql-flink compile`'s job.sql; what belongs to one deployment (job
name, checkpointing, parallelism, restart strategy, where its checkpoints go, the checkpoint or
savepoint to resume from) is in the init script, so the same job.sql can be reviewed once and
deployed to several environments. Python UDFs (nql_flink.udfs, deploy/pyfiles.py) are shipped with -pyfs from a
staged folder that holds only them.

Restart safety: the checkpoints of every deployment of a job name go to one folder,
``<checkpoint base>/<job name>/<job id>/chk-<n>`` (retained on cancel), so the next deployment of
that name resumes from the newest one (``start_point``) instead of reading the topics again and
writing every alert twice; starting without state over existing output is refused unless asked.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nql_flink.deploy import pyfiles, recovery

INIT_FILE, JOB_FILE, CONFIG_FILE, PYFILES = "init.sql", "job.sql", "monitor-config.jsonl", "pyfiles"
# What sql-client runs: the job's compiled plan with stable operator ids (deploy/plan.py)
PLAN_FILE, PLAN_SCRIPT = "plan.json", "plan.sql"
# The job's statements as Flink executes them (a JSON list), next to job.sql: an upgrade is
# planned from them, never from job.sql's text (compile --against, deploy)
STATEMENTS_FILE = "statements.json"
JOB_ID = re.compile(r"Job ID:\s*([0-9a-f]{32})")
# Alerts are events (each 'triggered' and 'recovered' transition is kept), deleted by age only.
ALERT_RETENTION_MS = 30 * 24 * 3600 * 1000
TERMINAL_STATES = ("FINISHED", "CANCELED", "FAILED")


class DeployError(RuntimeError):
    """A deployment that cannot or must not go ahead; ``code`` names the reason:
    'sql-client', 'job-running', 'output-exists', 'no-checkpoint-dir'."""

    def __init__(self, message: str, code: str = "sql-client"):
        super().__init__(message)
        self.code = code


# Exactly-once sinks make alerts visible (to read_committed readers: the notifier, the history,
# `tail-alerts`) when the checkpoint after their write completes, so the interval adds up to
# itself to every alert's delay: 2 s keeps p95 within issue 15's 5 s beyond the lateness
# (docs/benchmarks.md 4f, with what it costs).
DEFAULT_CHECKPOINT_INTERVAL = "2 s"


@dataclass(frozen=True)
class Settings:
    """One deployment's session settings (the init script)."""
    job_name: str = "nql-flink"
    checkpoint_interval: str = DEFAULT_CHECKPOINT_INTERVAL  # exactly-once sinks commit alerts at each one
    parallelism: int = 1
    from_savepoint: str | None = None      # start from this savepoint/checkpoint path
    checkpoint_dir: str | None = None      # this job name's checkpoints (recovery.job_state_dirs)
    savepoint_dir: str | None = None
    extra: dict = field(default_factory=dict)

    def options(self) -> dict[str, str]:
        opts = {"pipeline.name": self.job_name, "execution.runtime-mode": "streaming",
                "execution.checkpointing.interval": self.checkpoint_interval,
                "parallelism.default": str(self.parallelism),
                # submit and return: a streaming job never ends
                "table.dml-sync": "false",
                # restart by itself; RocksDB, incremental checkpoints retained on cancel
                **recovery.recovery_options(self.checkpoint_dir, self.savepoint_dir)}
        if self.from_savepoint:
            opts["execution.state-recovery.path"] = self.from_savepoint
        return opts | {k: str(v) for k, v in self.extra.items()}


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def init_script(settings: Settings) -> str:
    lines = ["-- nql-flink deploy: session settings of this deployment (sql-client -i).",
             "-- The job itself is job.sql, unchanged from `nql-flink compile`."]
    lines += [f"SET {_q(k)} = {_q(v)};" for k, v in settings.options().items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Scripts:
    directory: Path
    init: Path
    job: Path           # the generated SQL, for review (what the plan was compiled from)
    config: Path
    pyfiles: Path
    plan: Path          # its compiled plan, operator ids stable across versions
    run: Path           # what sql-client runs: options, functions, EXECUTE PLAN


def planning_env(options):
    """A local Flink to plan jobs with: PyFlink's JVM with the Kafka connector and the
    project's functions on its class path, the generated session options set."""
    from nql_flink.deploy.embedded.runner import create_table_env
    from nql_flink.deploy.jars import add_jars, connector_jar
    from nql_flink.translator.flink.codegen import session_options

    t_env = create_table_env(config=session_options(options))
    add_jars(t_env, [connector_jar(quiet=True)])
    return t_env


def stable_plan(statements: list[str], options) -> dict:
    """The plan that runs for a generated job's statements (deploy/plan.py job_plan), planned
    in a TableEnvironment of its own: two jobs have tables of the same names."""
    from nql_flink.deploy import plan
    from nql_flink.translator.flink.codegen import state_bounds

    return plan.job_plan(planning_env(options), statements, state_bounds(options))


def previous_plan(directory: str | os.PathLike, options) -> dict | None:
    """The stable plan of the job in ``directory`` (a deploy's or compile's output): its
    plan.json, else planned from its statements.json; None when there is neither."""
    d = Path(directory)
    if (d / PLAN_FILE).is_file():
        return json.loads((d / PLAN_FILE).read_text(encoding="utf-8"))
    if (d / STATEMENTS_FILE).is_file():
        return stable_plan(json.loads((d / STATEMENTS_FILE).read_text(encoding="utf-8")), options)
    return None


def write_job(compiled, directory: Path) -> Path:
    """job.sql (for review and sql-client) and statements.json (what plans are made from)."""
    (directory / STATEMENTS_FILE).write_text(json.dumps(compiled.statements(), indent=1) + "\n", encoding="utf-8")
    job = directory / JOB_FILE
    job.write_text(compiled.sql(), encoding="utf-8")
    return job


def config_key(record: dict) -> str:
    """Kafka key of a monitor-config record: one per tenant + monitor (compacted topic)."""
    return f"{record['tenant']}/{record['monitor']}"


def write_scripts(compiled, directory: str | os.PathLike, settings: Settings = Settings(),
                  plan: dict | None = None) -> Scripts:
    """The deployment's files; ``plan`` (stable_plan) is what sql-client runs."""
    from nql_flink.deploy.plan import write_plan
    from nql_flink.translator.flink.monitor_config import config_lines

    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    s = Scripts(d, d / INIT_FILE, d / JOB_FILE, d / CONFIG_FILE, d / PYFILES, d / PLAN_FILE, d / PLAN_SCRIPT)
    s.init.write_text(init_script(settings), encoding="utf-8")
    write_job(compiled, d)
    if plan is not None:
        write_plan(plan, s.plan)
        s.run.write_text(compiled.plan_script(s.plan.as_uri()), encoding="utf-8")
    else:                                 # no stale plan of an earlier deployment runs instead
        for f in (s.plan, s.run):
            f.unlink(missing_ok=True)
    s.config.write_text(config_lines(compiled.job.config_records), encoding="utf-8")
    pyfiles.stage(s.pyfiles)
    return s


def catalog_topics(compiled) -> list[str]:
    """The catalog topics the job reads (events and inventory), unprefixed."""
    from nql_flink.translator.semantic.schema import load_catalog

    catalog = load_catalog()
    return sorted(catalog.tables[t].topic for t in compiled.job.source_tables if t in catalog.tables)


def prepare_kafka(bootstrap: str | None, compiled, options, *, partitions: int = 1,
                  records: list[dict] | None = None, alert_retention_ms: int = ALERT_RETENTION_MS) -> dict:
    """Create the job's topics if missing and publish the monitor-config records keyed by
    tenant/monitor. Config, inventory, alert-state and maintenance topics are compacted (the current version per key);
    events and dead letters use the broker's defaults; the alert topic keeps every transition
    (cleanup.policy=delete, retention.ms = ``alert_retention_ms``): its key, the alert id, is
    shared by an alert's 'triggered' and 'recovered' records, which compaction would reduce to
    the last one; so does the notifications topic of a job with alert processing (keyed by
    tenant/monitor). An existing alert topic that is compacted (as earlier versions created it) is
    switched to delete. Returns {'topics': [...], 'config_records': n, 'changed': [notes],
    'source_partitions': {source topic: its partition count}}."""
    from nql_flink.deploy.kafka import client as kc
    from nql_flink.translator.flink import processing
    from nql_flink.translator.flink.connectors import topics

    t = topics(options, catalog_topics(compiled))
    alerts = options.topic(options.alerts_topic)
    alert_config = {"cleanup.policy": "delete", "retention.ms": str(alert_retention_ms)}
    counts = kc.create_topics(bootstrap, t["events"] + [options.topic(options.dead_letters_topic)],
                              partitions=partitions)
    counts |= kc.create_topics(bootstrap, t["versioned"] + [options.topic(options.alert_state_topic)],
                               partitions=partitions, compacted=True)
    kc.create_topics(bootstrap, [alerts], partitions=partitions, config=alert_config)
    # alert processing (docs/processing.md): notifications kept like alerts, maintenance versioned
    own = processing.topics(compiled.job, options)
    if own["notifications"]:
        kc.create_topics(bootstrap, own["notifications"], partitions=partitions, config=alert_config)
    if own["maintenance"]:
        counts |= kc.create_topics(bootstrap, own["maintenance"], partitions=partitions, compacted=True)
    changed = []
    if "compact" in kc.topic_config(bootstrap, alerts).get("cleanup.policy", ""):
        kc.alter_topic_config(bootstrap, alerts, alert_config)
        changed.append(f"{alerts}: cleanup.policy compact -> delete, retention.ms {alert_retention_ms}")
    recs = compiled.job.config_records if records is None else records
    n = kc.publish_config(bootstrap, options.topic(options.config_topic),
                          [(config_key(r), json.dumps(r, sort_keys=True)) for r in recs])
    return {"topics": t["events"] + t["versioned"] + t["sinks"] + own["notifications"] + own["maintenance"],
            "config_records": n, "changed": changed,
            "source_partitions": {topic: counts[topic] for topic in t["events"] + t["versioned"] + own["maintenance"]}}


def idle_source_notes(source_partitions: dict[str, int], parallelism: int) -> list[str]:
    """A note per source topic with fewer partitions than the job's parallelism: its source
    subtasks without a partition read nothing, and the job's watermark waits for them until they
    are marked idle (the topic's idle timeout), after every start; then, if the events go quiet
    before the inventory or config, the joins run on those (docs/guarantees.md, "An idle event
    topic beside a live inventory or config"). Seen at parallelism 2 on one partition: the first
    alerts waited the whole idle timeout (tests/kafka/test_isolation.py)."""
    return [f"{topic} has {n} partition(s) for parallelism {parallelism}: {parallelism - n} of its source subtasks "
            "read nothing, and the job's watermark waits for them until the idle timeout after every start "
            "(alerts wait as long); give it at least as many partitions as the parallelism"
            for topic, n in sorted(source_partitions.items()) if 0 < n < parallelism]


@dataclass(frozen=True)
class StartPoint:
    """Where a deployment starts: ``path`` (execution.state-recovery.path) or None = no state."""
    path: str | None
    note: str                              # one line for the operator: what and why
    retained: recovery.Retained | None = None


def start_point(*, job_name: str, checkpoint_dir: str | None, savepoint_dir: str | None = None,
                from_savepoint: str | None = None, fresh: bool = False,
                output_records: int | None = None, output_topic: str = "") -> StartPoint:
    """Decide where a deployment of ``job_name`` starts.

    * ``from_savepoint``: there;
    * else the newest retained checkpoint or savepoint of earlier deployments of the name (in
      ``checkpoint_dir`` / ``savepoint_dir``, see recovery.job_state_dirs);
    * ``fresh``: no state, even if there are some (moved aside by ``set_aside``);
    * nothing retained: no state, unless the alert topic already holds records
      (``output_records``), which an earlier run wrote: then DeployError 'output-exists',
      since running again from the earliest offsets would write those alerts a second time.
    A checkpoint folder that is not local (e.g. s3://) cannot be searched: DeployError
    'no-checkpoint-dir' unless ``from_savepoint`` or ``fresh`` says what to do."""
    if from_savepoint:
        return StartPoint(from_savepoint, f"resuming from the given savepoint {from_savepoint}")
    if fresh:
        return StartPoint(None, "starting without state (--fresh)")
    if checkpoint_dir is None or recovery.local_path(checkpoint_dir) is None:
        raise DeployError(f"cannot look for the checkpoints of {job_name!r} in {checkpoint_dir or '(no folder)'}: "
                          "give --from-savepoint PATH (or --fresh to start without state)", "no-checkpoint-dir")
    latest = recovery.latest(checkpoint_dir, savepoint_dir)
    if latest is not None:
        what = (f"checkpoint {latest.number} of job {latest.job_id}" if latest.kind == "checkpoint"
                else "savepoint")
        return StartPoint(latest.url, f"resuming from {latest.url} ({what}, the newest retained)", latest)
    if output_records:
        raise DeployError(
            f"{output_topic} is not empty ({output_records} offsets) but no checkpoint of {job_name!r} is retained "
            f"in {checkpoint_dir}: starting without state would read the topics from the start again and write "
            "those alerts twice. Give --from-savepoint PATH, or --fresh to start without state anyway",
            "output-exists")
    seen = "alert topic not checked" if output_records is None else f"{output_topic} empty"
    return StartPoint(None, f"starting without state (no earlier checkpoint of {job_name!r}; {seen})")


def set_aside(checkpoint_dir: str) -> Path | None:
    """Rename a job name's local checkpoint folder to '<folder>.replaced-<UTC time>' (kept, not
    deleted), so the next deployment does not resume from the state a --fresh start replaced."""
    import datetime

    folder = recovery.local_path(checkpoint_dir)
    if folder is None or not folder.exists():
        return None
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = folder.with_name(f"{folder.name}.replaced-{stamp}")
    folder.rename(target)
    return target


def active_jobs(rest_url: str, job_name: str, timeout: float = 10.0) -> list[dict]:
    """Jobs named ``job_name`` on the cluster at ``rest_url`` that have not ended."""
    import urllib.request

    with urllib.request.urlopen(rest_url.rstrip("/") + "/jobs/overview", timeout=timeout) as r:
        jobs = json.loads(r.read()).get("jobs", [])
    return [j for j in jobs if j.get("name") == job_name and j.get("state") not in TERMINAL_STATES]


def flink_conf(flink_home: str | os.PathLike) -> dict[str, str]:
    """FLINK_HOME/conf/config.yaml as flat 'a.b.c' keys (nested or flat YAML)."""
    import yaml

    f = Path(flink_home) / "conf" / "config.yaml"
    data = yaml.safe_load(f.read_text(encoding="utf-8")) if f.is_file() else None
    out: dict[str, str] = {}

    def walk(prefix: str, node) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = str(node)

    walk("", data or {})
    return out


def sql_client_command(flink_home: str | os.PathLike, scripts: Scripts, *, python: str | None = None,
                       jars: list[str] = (), defines: dict[str, str] | None = None) -> list[str]:
    from nql_flink.deploy.jars import UDFS_JAR, udfs_jar

    python = python or sys.executable
    if not (Path(flink_home) / "lib" / UDFS_JAR).exists():  # the project's cluster has it in lib/
        jars = [str(udfs_jar(quiet=True)), *jars]
    script = scripts.run if scripts.run.exists() else scripts.job
    cmd = [str(Path(flink_home) / "bin" / "sql-client.sh"), "embedded", "-i", str(scripts.init),
           "-f", str(script), "-pyfs", str(scripts.pyfiles.resolve()), "-pyexec", python, "-pyclientexec", python]
    for j in jars:
        cmd += ["-j", str(j)]
    for k, v in (defines or {}).items():
        cmd.append(f"-D{k}={v}")
    return cmd


def sql_client(scripts: Scripts, *, flink_home: str | os.PathLike, python: str | None = None,
               jars: list[str] = (), defines: dict[str, str] | None = None, env: dict[str, str] | None = None,
               timeout: float = 300.0) -> tuple[str, str]:
    """Run sql-client.sh -i init.sql -f job.sql; return (job id, sql-client output).
    Raises DeployError when sql-client reports an error or prints no job id."""
    from nql_flink.deploy.cluster.cluster import _env

    e = _env(Path(flink_home))
    e.update(env or {})
    cmd = sql_client_command(flink_home, scripts, python=python, jars=jars, defines=defines)
    try:
        r = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, cwd=scripts.directory)
    except subprocess.TimeoutExpired as exc:
        raise DeployError(f"sql-client did not finish within {timeout}s") from exc
    out = r.stdout + r.stderr
    ids = JOB_ID.findall(r.stdout)
    if r.returncode != 0 or "[ERROR]" in r.stdout or not ids:
        raise DeployError(f"sql-client failed (exit {r.returncode}):\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}")
    return ids[-1], out


def stop_with_savepoint(rest_url: str, job_id: str, target_dir: str, *, timeout: float = 300.0) -> str:
    """Stop ``job_id`` with a savepoint (no drain: windows stay open, nothing is fired early)
    and return the savepoint's location. The exactly-once sinks commit what the savepoint
    covers, so the next job starting from it writes nothing twice and loses nothing."""
    import time
    import urllib.request

    def call(path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(rest_url.rstrip("/") + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    trigger = call(f"/jobs/{job_id}/stop", {"targetDirectory": target_dir, "drain": False})["request-id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = call(f"/jobs/{job_id}/savepoints/{trigger}")
        if status.get("status", {}).get("id") == "COMPLETED":
            op = status.get("operation", {})
            if "location" in op:
                return op["location"]
            raise DeployError(f"stop-with-savepoint of {job_id} failed: {op.get('failure-cause', op)}", "savepoint")
        time.sleep(1.0)
    raise DeployError(f"stop-with-savepoint of {job_id} did not complete within {timeout:.0f}s", "savepoint")
