"""Deploy a compiled job to a Flink cluster through sql-client, with its config on Kafka.

    from deploy import submit
    scripts = submit.write_scripts(compiled, "build/deploy", settings)   # init.sql, job.sql, ...
    submit.prepare_kafka(bootstrap, compiled, options)                  # topics + config records
    job_id = submit.sql_client(scripts, flink_home=..., python=...)     # sql-client.sh -i -f

The job script is exactly `nql-flink compile`'s job.sql; what belongs to one deployment (job
name, checkpointing, parallelism, savepoint to start from) is in the init script, so the same
job.sql can be reviewed once and deployed to several environments. Python UDFs (the `udfs`
package) are shipped with -pyfs from a staged folder that holds only that package.
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

REPO_ROOT = Path(__file__).resolve().parents[1]
UDF_PACKAGE = REPO_ROOT / "udfs"
INIT_FILE, JOB_FILE, CONFIG_FILE, PYFILES = "init.sql", "job.sql", "monitor-config.jsonl", "pyfiles"
JOB_ID = re.compile(r"Job ID:\s*([0-9a-f]{32})")
# Alerts are events (each 'triggered' and 'recovered' transition is kept), deleted by age only.
ALERT_RETENTION_MS = 30 * 24 * 3600 * 1000


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    """One deployment's session settings (the init script)."""
    job_name: str = "nql-flink"
    checkpoint_interval: str = "10 s"      # exactly-once sinks commit alerts at each checkpoint
    parallelism: int = 1
    from_savepoint: str | None = None      # start from this savepoint/checkpoint path
    extra: dict = field(default_factory=dict)

    def options(self) -> dict[str, str]:
        opts = {"pipeline.name": self.job_name, "execution.runtime-mode": "streaming",
                "execution.checkpointing.interval": self.checkpoint_interval,
                "parallelism.default": str(self.parallelism),
                # submit and return: a streaming job never ends
                "table.dml-sync": "false"}
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


def stage_udfs(dest: str | os.PathLike) -> Path:
    """dest/udfs = a copy of the project's udfs package (what -pyfs ships; the SQL names
    'udfs.flink.alert_state.alert_transitions'). Returns dest."""
    dest = Path(dest)
    if (dest / "udfs").exists():
        shutil.rmtree(dest / "udfs")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(UDF_PACKAGE, dest / "udfs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


@dataclass(frozen=True)
class Scripts:
    directory: Path
    init: Path
    job: Path
    config: Path
    pyfiles: Path


def config_key(record: dict) -> str:
    """Kafka key of a monitor-config record: one per tenant + monitor (compacted topic)."""
    return f"{record['tenant']}/{record['monitor']}"


def write_scripts(compiled, directory: str | os.PathLike, settings: Settings = Settings()) -> Scripts:
    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    s = Scripts(d, d / INIT_FILE, d / JOB_FILE, d / CONFIG_FILE, d / PYFILES)
    s.init.write_text(init_script(settings), encoding="utf-8")
    s.job.write_text(compiled.sql(), encoding="utf-8")
    s.config.write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n"
                                for r in compiled.job.config_records), encoding="utf-8")
    stage_udfs(s.pyfiles)
    return s


def catalog_topics(compiled) -> list[str]:
    """The catalog topics the job reads (events and inventory), unprefixed."""
    from translator.semantic.schema import load_catalog

    catalog = load_catalog()
    return sorted(catalog.tables[t].topic for t in compiled.job.source_tables if t in catalog.tables)


def prepare_kafka(bootstrap: str | None, compiled, options, *, partitions: int = 1,
                  records: list[dict] | None = None, alert_retention_ms: int = ALERT_RETENTION_MS) -> dict:
    """Create the job's topics if missing and publish the monitor-config records keyed by
    tenant/monitor. Config and inventory topics are compacted (the current version per key);
    events and dead letters use the broker's defaults; the alert topic keeps every transition
    (cleanup.policy=delete, retention.ms = ``alert_retention_ms``): its key, the alert id, is
    shared by an alert's 'triggered' and 'recovered' records, which compaction would reduce to
    the last one. An existing alert topic that is compacted (as earlier versions created it) is
    switched to delete. Returns {'topics': [...], 'config_records': n, 'changed': [notes]}."""
    from deploy.kafka import client as kc
    from translator.flink.connectors import topics

    t = topics(options, catalog_topics(compiled))
    alerts = options.topic(options.alerts_topic)
    alert_config = {"cleanup.policy": "delete", "retention.ms": str(alert_retention_ms)}
    kc.create_topics(bootstrap, t["events"] + [options.topic(options.dead_letters_topic)], partitions=partitions)
    kc.create_topics(bootstrap, t["versioned"], partitions=partitions, compacted=True)
    kc.create_topics(bootstrap, [alerts], partitions=partitions, config=alert_config)
    changed = []
    if "compact" in kc.topic_config(bootstrap, alerts).get("cleanup.policy", ""):
        kc.alter_topic_config(bootstrap, alerts, alert_config)
        changed.append(f"{alerts}: cleanup.policy compact -> delete, retention.ms {alert_retention_ms}")
    recs = compiled.job.config_records if records is None else records
    n = kc.publish_config(bootstrap, options.topic(options.config_topic),
                          [(config_key(r), json.dumps(r, sort_keys=True)) for r in recs])
    return {"topics": t["events"] + t["versioned"] + t["sinks"], "config_records": n, "changed": changed}


def sql_client_command(flink_home: str | os.PathLike, scripts: Scripts, *, python: str | None = None,
                       jars: list[str] = (), defines: dict[str, str] | None = None) -> list[str]:
    python = python or sys.executable
    cmd = [str(Path(flink_home) / "bin" / "sql-client.sh"), "embedded", "-i", str(scripts.init),
           "-f", str(scripts.job), "-pyfs", str(scripts.pyfiles.resolve()), "-pyexec", python, "-pyclientexec", python]
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
    from deploy.cluster.cluster import _env

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
