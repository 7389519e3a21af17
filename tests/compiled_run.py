"""The plumbing of the engine tests with hand-derived timelines: monitor files compiled, their
job run on the shared mini-cluster over given records and the compiled config records."""

from __future__ import annotations

import json
import textwrap

from nql_flink.deploy.embedded.runner import run_job
from nql_flink.translator.pipeline import compile_paths


def jsonl(rows) -> bytes:
    """Records as a JSONL file's bytes."""
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def run_monitors(tmp, monitors: dict[str, str], tables: dict[str, bytes], t_env, config: bytes = b"", options=None):
    """`monitors` (file name -> YAML text, dedented) written into `tmp` and compiled (with
    `options`, a CompileOptions, when given), then the job run over `tables` (catalog table, or
    `maintenance` -> the bytes of its file) and the compiled config records followed by
    `config` (more lines of the config topic). Returns (compiled, RunResult)."""
    for name, text in monitors.items():
        (tmp / name).write_text(textwrap.dedent(text))
    paths = [str(tmp / name) for name in monitors]
    compiled = compile_paths(paths) if options is None else compile_paths(paths, options=options)
    assert compiled.ok, [d.message for d in compiled.result.diagnostics]
    files = {}
    for table, data in {**tables, "monitor_config": jsonl(compiled.job.config_records) + config}.items():
        f = tmp / f"{table}.jsonl"
        f.write_bytes(data)
        files[compiled.job.source_tables[table]] = str(f)
    return compiled, run_job(compiled.job, files, str(tmp / "alerts.jsonl"), t_env=t_env)
