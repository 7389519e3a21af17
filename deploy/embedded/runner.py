"""Run generated Flink SQL on the local PyFlink mini-cluster, on bounded JSONL files.

    from nql_flink.deploy.embedded import create_table_env, run_job
    t_env = create_table_env(parallelism=1)               # reusable across runs
    result = run_job(compiled.job, {"src_session_vdi_events": "events.jsonl", ...},
                     "out/alerts.jsonl", t_env=t_env)
    result.alerts        # alert JSON lines, sorted
    result.dead_letters  # dead-letter JSON lines, sorted

The job is exactly what the generator emits for Kafka (DDL, views, CREATE FUNCTION, one
EXECUTE STATEMENT SET), with each table's connector moved onto files on the job's structure
(codegen.Job.on_files); nothing else changes.

Bounded files in streaming mode: each filesystem source finishes at end of file and emits a
final MAX watermark, which fires every pending window, temporal join and event-time sort,
so the job ends by itself after flushing everything (verified, see docs/flink-job-shape.md).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nql_flink.deploy import pyfiles
from nql_flink.deploy.embedded import scratch

# Session options every embedded run uses (also what sql-client must SET).
DEFAULT_CONFIG = {
    "table.local-time-zone": "UTC",
    # Bounded files end with a MAX watermark, so a finished inventory or config file never
    # holds the joint watermark back: no idleness needed, and none wanted, since marking a
    # busy-but-backpressured event source idle would make results depend on timing.
    "table.exec.source.idle-timeout": "0 ms",
    # A watermark after every record (not every 200 ms): whether a record is 'late' then
    # depends on the file's order only, so runs are reproducible.
    "pipeline.auto-watermark-interval": "0 ms",
    # keep SQL operator uids stable for savepoint compatibility across re-generation
    "table.exec.uid.generation": "PLAN_ONLY",
    # one parsing Calc per raw-line source for all its consumers (the generated SET; see
    # translator/flink/codegen.py session_options and docs/flink-job-shape.md "Parse once")
    "table.optimizer.reuse-optimize-block-with-digest-enabled": "true",
    # no row copied between chained operators (the generated SET; codegen.session_options)
    "pipeline.object-reuse": "true",
}

# ---------------------------------------------------------------------- environment --
def _stage_udfs() -> str:
    """A directory holding the shipped Python functions (deploy/pyfiles.py), for add_python_file:
    in the process's scratch folder (scratch.py), staged once per process."""
    staged = scratch.process_dir() / "pyfiles"
    if not staged.exists():
        pyfiles.stage(staged)
    return str(staged)


# The mini-cluster's JVM heap, as a TaskManager has one (Flink never runs on the JVM's default
# of a quarter of the machine's memory): $NQL_FLINK_HEAP (e.g. 2g), unless JVM_ARGS already
# sets -Xmx. With the default, the JVM's peak resident set follows its garbage, not its live
# data (docs/benchmarks.md "Measured (3d)": 2,424 MB resident for 267 MB of live heap).
HEAP_ENV = "NQL_FLINK_HEAP"
DEFAULT_HEAP = "1g"


def jvm_args(env: dict[str, str], tmpdir: str | None = None) -> str:
    """The JVM_ARGS the PyFlink gateway (and the mini-cluster in it) is started with: a heap,
    and `tmpdir` as its java.io.tmpdir (the process's scratch folder), unless JVM_ARGS already
    sets them."""
    args = env.get("JVM_ARGS", "")
    if "-Xmx" not in args:
        args = f"{args} -Xmx{env.get(HEAP_ENV) or DEFAULT_HEAP}"
    if tmpdir and "-Djava.io.tmpdir=" not in args:
        args = f"{args} -Djava.io.tmpdir={tmpdir}"
    return args.strip()


def create_table_env(parallelism: int = 1, config: dict[str, str] | None = None):
    """A streaming TableEnvironment on the local mini-cluster with the UDF package
    registered (worker python files). Reuse it across runs. The first one in a process
    starts the JVM, with a bounded heap (jvm_args)."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    os.environ["JVM_ARGS"] = jvm_args(os.environ, str(scratch.jvm_tmpdir()))
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("parallelism.default", str(parallelism))
    for k, v in {**DEFAULT_CONFIG, **(config or {})}.items():
        conf.set(k, v)
    t_env.add_python_file(_stage_udfs())
    from nql_flink.deploy.jars import add_jars, udfs_jar

    add_jars(t_env, [udfs_jar()])              # the Java functions (per-tenant windows)
    return t_env


# ------------------------------------------------------------------------------- run --
@dataclass
class RunResult:
    alerts: list[str] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)
    output_dir: str = ""


_run_ids = itertools.count(1)


def _read_lines(directory: Path) -> list[str]:
    lines: list[str] = []
    if directory.exists():
        for p in sorted(directory.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                lines.extend(_unwrap(l) for l in p.read_text(encoding="utf-8").splitlines() if l.strip())
    return sorted(lines)


def _unwrap(line: str) -> str:
    """A keyed alert sink written to a file is {"alert_id": ..., "record": "<json>"}: the
    alert record is the `record` text."""
    if line.startswith('{"alert_id"'):
        import json

        obj = json.loads(line)
        if set(obj) == {"alert_id", "record"}:
            return obj["record"]
    return line


# Session options of a streaming job on real Kafka (start_job), over the embedded defaults.
KAFKA_CONFIG = {
    # periodic watermark emission drives idleness detection ('scan.watermark.idle-timeout');
    # with 0 ms (the file runs' setting) an idle partition or topic would never be marked idle
    "pipeline.auto-watermark-interval": "200 ms",
    # exactly-once Kafka sinks commit (make alerts visible) at each checkpoint
    "execution.checkpointing.interval": "1 s",
}


class FlinkError(Exception):
    """Flink refused or failed a statement of the job: `statement` is its text, `message` the
    deepest Java cause in one line, `stack` the whole Java trace (shown on request only)."""

    def __init__(self, statement: str, message: str, stack: str):
        super().__init__(message)
        self.statement, self.message, self.stack = statement, message, stack


def flink_message(stack: str) -> str:
    """The deepest cause of a Java trace, without its exception class, on one line."""
    lines = [line.removeprefix(": ") for line in stack.strip().splitlines()
             if not line.startswith("An error occurred while calling")] or [""]
    starts = [i for i, line in enumerate(lines) if line.startswith("Caused by: ")] or [0]
    message = [lines[starts[-1]].removeprefix("Caused by: ")]
    for line in lines[starts[-1] + 1:]:  # a message may go on over lines, up to the stack
        if line.lstrip().startswith(("at ", "... ", "Caused by: ", "Suppressed: ")):
            break
        message.append(line)
    text = " ".join(message)
    head, sep, rest = text.partition(": ")
    if sep and re.fullmatch(r"[\w.$]+(Exception|Error)", head):
        text = rest
    return " ".join(text.split())


def execute(t_env, statement: str, shown: str | None = None):
    """t_env.execute_sql(statement), a Java failure raised as FlinkError."""
    with flink_errors(shown or statement):
        return t_env.execute_sql(statement)


@contextlib.contextmanager
def flink_errors(statement: str):
    """A Java failure inside (pyflink's JavaException or a raw Py4JJavaError) re-raised as a
    FlinkError about `statement`; any other exception as it is."""
    try:
        yield
    except Exception as exc:
        err = _flink_error(exc, statement)
        if err is exc:
            raise
        raise err from exc


def _flink_error(exc: Exception, statement: str) -> Exception:
    stack = getattr(exc, "stack_trace", None)
    java = getattr(exc, "java_exception", None)
    if stack is None and java is not None:
        stack = str(exc)
    if stack is None:
        return exc
    return FlinkError(statement, flink_message(stack), stack)


def start_job(statements: list[str], *, t_env, config: dict[str, str] | None = None,
              database: str | None = None):
    """Submit the generated job unchanged (real Kafka connectors) on the embedded mini-cluster
    and return at once with its TableResult: a streaming job on Kafka never ends by itself,
    so the caller watches the output topics and cancels it
    (`result.get_job_client().cancel().result()`). `config` (e.g. the generated SET options
    and KAFKA_CONFIG) is applied for this submission only and the previous values restored."""
    db = database or f"job_{os.getpid()}_{next(_run_ids)}"
    t_env.execute_sql(f"CREATE DATABASE IF NOT EXISTS `{db}`")
    t_env.use_database(db)
    try:
        with session_options(t_env, {**KAFKA_CONFIG, **(config or {})}):
            result = None
            for stmt in statements:
                result = t_env.execute_sql(stmt)
            return result
    finally:
        t_env.use_database("default_database")


@contextlib.contextmanager
def session_options(t_env, options: dict[str, str]):
    """`options` set on t_env's configuration for one submission, the previous values restored
    after it in the table configuration. Not a full undo: the options a job was submitted with
    stay in the environment's execution settings (verified on 2.3: `rest.bind-port` set for one
    job was used by every later one), so never pass options that would harm a later job of a
    shared environment (a fixed port, say)."""
    conf = t_env.get_config()
    before = {k: (conf.get(k, "") if conf.get_configuration().contains_key(k) else None) for k in options}
    try:
        for k, v in options.items():
            conf.set(k, v)
        yield
    finally:
        for k, v in before.items():
            if v is None:
                conf.get_configuration().remove_config(k)
            else:
                conf.set(k, v)


def _history_jar(t_env, job) -> None:
    """A job writing the alert history (it stays on PostgreSQL in a file run) needs the JDBC
    connector and driver of the connector jar (docs/history.md)."""
    from nql_flink.translator.flink import history

    if history.in_job(job):
        from nql_flink.deploy.jars import add_jars, connector_jar

        add_jars(t_env, [connector_jar()])


def run_job(job, inputs: dict[str, str], output_path: str, *,
            t_env=None, parallelism: int = 1, config: dict[str, str] | None = None,
            alerts_table: str = "sink_alerts", dead_letters_table: str = "sink_dead_letters",
            database: str | None = None, watch=None) -> RunResult:
    """Run the generated job to completion on bounded files.

    job:        the generated job (codegen.Job), run with its tables on files (Job.on_files);
                or statements already on files, run as they are;
    inputs:     source table name -> JSONL file;
    output_path: alerts are written there as sorted JSON lines; dead letters next to it
                 (<output_path>.dead_letters.jsonl); raw sink files under <output_path>.d/.
    t_env:      a TableEnvironment to reuse (tests share one); each run gets its own
                database (`database` or a fresh run_<n>) so table names never collide.
    config:     session options of a new environment (ignored with `t_env`: options a job
                ran with stay in its environment, see session_options).
    watch:      called with the alert sink's folder once the job is submitted; the context
                manager it returns is held while the job runs (deploy/embedded/progress.py).
    """
    t_env = t_env or create_table_env(parallelism, config)
    out = Path(output_path)
    sink_dir = Path(str(out) + ".d")
    if sink_dir.exists():
        shutil.rmtree(sink_dir)
    sink_dir.mkdir(parents=True)
    statements = job if isinstance(job, list) else job.on_files(inputs, str(sink_dir)).executable()
    if not isinstance(job, list):
        _history_jar(t_env, job)
    db = database or f"run_{os.getpid()}_{next(_run_ids)}"
    t_env.execute_sql(f"CREATE DATABASE IF NOT EXISTS `{db}`")
    t_env.use_database(db)
    try:
        result = None
        for stmt in statements:
            result = execute(t_env, stmt)
        if result is not None:
            with flink_errors(statements[-1]):  # the job failed while running
                with watch(sink_dir / alerts_table) if watch else contextlib.nullcontext():
                    result.wait()
    finally:
        t_env.use_database("default_database")
    res = RunResult(alerts=_read_lines(sink_dir / alerts_table),
                    dead_letters=_read_lines(sink_dir / dead_letters_table),
                    output_dir=str(sink_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(a + "\n" for a in res.alerts), encoding="utf-8")
    Path(str(out) + ".dead_letters.jsonl").write_text(
        "".join(d + "\n" for d in res.dead_letters), encoding="utf-8")
    return res
