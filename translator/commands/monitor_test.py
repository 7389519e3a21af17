"""`nql-flink test FILE...`: monitor unit tests (docs/monitor-tests.md). Each test file names
monitor files and holds cases: input records per catalog table and the alert transitions
expected from them. Each case runs the monitors on an engine (`--engine flink`: the
generated job on embedded Flink, one mini-cluster for every case; `--engine clickhouse`: the
polling back end on an in-memory chdb) and compares the transitions; a failure prints what is missing, what was not expected, and which fields of a
near match differ.

Exit status: 0 every case passed, 1 a case failed, 2 a test or monitor file has errors.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from nql_flink.translator.diagnostics.render import render_all_text
from nql_flink.translator.flink.connectors import CompileOptions
from nql_flink.translator.pipeline import TEST_SUFFIXES
from nql_flink.translator.syntax.durations import option_duration
from nql_flink.translator.testing.compare import compare, describe

ENGINES = ("flink", "clickhouse")


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE", help="monitor test files, or folders holding *.test.yaml")
    parser.add_argument("--engine", choices=ENGINES, default="flink",
                        help="what evaluates the monitors: flink (the generated job on embedded Flink, default) or "
                             "clickhouse (the polling back end on an in-memory chdb, docs/polling.md)")
    parser.add_argument("--lateness", default="10s", help="allowed lateness of events, as the job is compiled with; "
                        "default 10s")
    parser.add_argument("--tenant", help="tenant for monitors that do not name one")


def test_files(paths: list[str]) -> tuple[list[str], list[str]]:
    found, missing = [], []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found += sorted(str(f) for f in path.rglob("*") if f.name.endswith(TEST_SUFFIXES) and f.is_file())
        elif path.is_file():
            found.append(str(path))
        else:
            missing.append(p)
    return found, missing


def main(args, engine=None) -> int:
    """``engine``: what runs each case (default: a FlinkEngine of its own)."""
    from nql_flink.translator.semantic.schema import load_catalog
    from nql_flink.translator.testing.spec import read_test_file

    files, missing = test_files(args.paths)
    lateness = option_duration(args.lateness)
    if missing or not files or lateness is None:
        for p in missing or ([] if files else args.paths):
            print(f"nql-flink test: no test files at {p}", file=sys.stderr)
        if lateness is None:
            print(f"nql-flink test: --lateness {args.lateness!r} is not a duration (e.g. 10s)", file=sys.stderr)
        return 2
    catalog = load_catalog()
    engine = engine or (FlinkEngine() if args.engine == "flink" else ClickHouseEngine())
    suites, invalid = [], False
    for path in files:
        spec, diags = read_test_file(path, catalog)
        prepared = None
        if spec is not None and spec.monitors:
            prepared, more = engine.prepare(spec.monitors, args.tenant, lateness)
            diags = diags + more
        if diags:
            print(render_all_text(diags), file=sys.stderr)
        if spec is None or prepared is None:
            invalid = True
            continue
        suites.append((spec, prepared))
    if invalid:
        print("nql-flink test: fix the errors above; no case was run", file=sys.stderr)
        return 2
    failed = passed = 0
    cases = sum(len(s.cases) for s, _ in suites)
    print(f"running {cases} case(s) of {len(suites)} file(s) on {args.engine} ...", file=sys.stderr)
    for spec, compiled in suites:
        for case in spec.cases:
            t0 = time.monotonic()
            ran = engine.run(compiled, case)
            if isinstance(ran, str):
                print(f"ERROR {spec.path}:{case.line}: {case.name}\n  {ran}")
                failed += 1
                continue
            actual, dead = ran
            outcome = compare(case.expect, actual)
            took = f"({time.monotonic() - t0:.0f}s)"
            if outcome.ok:
                passed += 1
                print(f"PASS  {spec.path}:{case.line}: {case.name}  {took}"
                      + (f"  ({len(dead)} record(s) dead-lettered)" if dead else ""))
                continue
            failed += 1
            print(f"FAIL  {spec.path}:{case.line}: {case.name}  {took}")
            for e, diffs in outcome.missing:
                print(f"  missing     (line {e.line}): {describe(e.fields)}")
                for d in diffs:
                    print(f"      {d}")
            for a in outcome.unexpected:
                print(f"  unexpected: {describe(a)}")
            for d in dead:
                print(f"  dead letter: {d.get('source')}: {d.get('reason')}: {d.get('line', '')[:120]}")
    print(f"{passed} passed, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


class FlinkEngine:
    """The generated job on embedded Flink: one mini-cluster (its JVM started at the first
    case) for every case; each case's records are the job's input files, every table the job
    reads and the case does not give an empty one."""

    def __init__(self, t_env=None):
        self.t_env = t_env

    def prepare(self, monitors: list[str], tenant: str | None, lateness_ms: int):
        """The monitors' job (None when they have errors) and the diagnostics."""
        from nql_flink.translator.pipeline import compile_paths

        compiled = compile_paths(monitors, tenant=tenant, options=CompileOptions(lateness_ms=lateness_ms))
        return (compiled if compiled.ok else None), list(compiled.result.diagnostics)

    def run(self, compiled, case) -> tuple[list[dict], list[dict]] | str:
        """The case's alert records and dead letters, or why the job failed."""
        import json

        from nql_flink.deploy.embedded.runner import FlinkError, create_table_env, run_job
        from nql_flink.translator.flink.monitor_config import config_lines

        if self.t_env is None:
            self.t_env = create_table_env()
        job = compiled.job
        with tempfile.TemporaryDirectory(prefix="nql-flink-test-") as tmp:
            sources = {}
            for table, source in job.source_tables.items():
                path = Path(tmp) / f"{table}.jsonl"
                if table == "monitor_config":
                    path.write_text(config_lines(job.config_records), encoding="utf-8")
                else:
                    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                            for r in case.inputs.get(table, ())), encoding="utf-8")
                sources[source] = str(path)
            try:
                result = run_job(job, sources, str(Path(tmp) / "alerts.jsonl"), t_env=self.t_env)
            except FlinkError as err:
                return f"Flink failed: {err}"
        return [json.loads(a) for a in result.alerts], [json.loads(d) for d in result.dead_letters]


class ClickHouseEngine:
    """The polling back end (docs/polling.md) on a chdb of its own per case: the case's
    records loaded as `nql-flink load` loads them (a record the job would dead-letter is left
    out, and reported), every monitor polled over all time. It models neither lateness nor the
    tenant lag bound: a case about late records belongs to the Flink engine."""

    def prepare(self, monitors: list[str], tenant: str | None, lateness_ms: int):
        from nql_flink.translator.commands.poll import evaluations_of

        return evaluations_of(monitors, tenant)

    def run(self, evaluations, case) -> tuple[list[dict], list[dict]] | str:
        import json

        from nql_flink.translator.clickhouse import poll, tables
        from nql_flink.translator.clickhouse.connection import ClickHouseError, connect
        from nql_flink.translator.commands.poll import ALL_TIME
        from nql_flink.translator.semantic.schema import load_catalog

        catalog = load_catalog()
        dead = []
        try:
            with connect("chdb:memory") as conn:
                poll.create_tables(conn, catalog)
                for name, records in case.inputs.items():
                    table = catalog.lookup(name)
                    rows = []
                    for record in records:
                        line = json.dumps(record, ensure_ascii=False)
                        loaded = tables.read_records(table, [line])
                        dead += [{"source": name, "reason": reason, "line": line} for reason in loaded.rejected]
                        rows += loaded.rows
                    poll.insert(conn, table, rows)
                lines = poll.backtest(conn, evaluations, *ALL_TIME)
        except ClickHouseError as err:
            return f"ClickHouse failed: [{err.code}] {err}"
        return [json.loads(line) for line in lines], dead
