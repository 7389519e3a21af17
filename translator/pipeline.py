"""The only module that knows the order of the stages.

  read      bytes            -> Source              monitors/yaml_nodes.decode
  yaml      Source           -> YAML nodes           monitors/yaml_nodes.compose
  spec      YAML nodes       -> MonitorSpec          monitors/spec.read_specs
  parse     NQL text         -> syntax tree          syntax/parser.parse_query
  resolve   syntax tree      -> TypedQuery           semantic/resolver.resolve_query
  bind      spec + typed     -> Monitor              monitors/bind.bind
  lower     Monitor          -> relational IR        ir/lower.lower
  generate  IR               -> statements           flink/codegen.generate
  render    statements       -> SQL text             flink/render.render

Every stage returns (result, diagnostics) and never raises on bad input.
"""

from __future__ import annotations

import contextlib
import gc
import re
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.ir.lower import lower  # pure Python (no sqlglot, no jinja): `check` runs it too
from nql_flink.translator.monitors import yaml_nodes
from nql_flink.translator.monitors.bind import bind
from nql_flink.translator.monitors.model import Monitor, MonitorSpec
from nql_flink.translator.monitors.spec import read_specs
from nql_flink.translator.semantic.resolver import resolve_query
from nql_flink.translator.semantic.schema import Catalog, load_catalog
from nql_flink.translator.source import Source, Span
from nql_flink.translator.syntax.parser import parse_query

if TYPE_CHECKING:  # the back end (sqlglot, jinja) loads only when something compiles: `check` starts fast
    from nql_flink.translator.flink import codegen

MONITOR_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".test.yaml", ".test.yml")  # monitor test files (translator/testing)


@dataclass
class CheckResult:
    monitors: list[Monitor] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    lowered: dict = field(default_factory=dict)  # monitor_key(m) -> its IR, lowered once by check

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def check_text(path: str, data: bytes, tenant: str | None = None, strict: bool = False,
               catalog: Catalog | None = None) -> CheckResult:
    """One monitor file's bytes -> its valid monitors and all its diagnostics."""
    catalog = catalog or load_catalog()
    result = CheckResult(files=1)
    source, diags = yaml_nodes.decode(path, data)
    result.diagnostics += diags
    if source is None:
        return result
    root, diags = yaml_nodes.compose(source)
    result.diagnostics += diags
    if root is None:
        return result
    specs, diags = read_specs(source, root, tenant)
    result.diagnostics += diags
    for spec in specs:
        monitor, ir, diags = check_monitor(spec, catalog, strict)
        result.diagnostics += diags
        if monitor is not None:
            result.monitors.append(monitor)
            result.lowered[monitor_key(monitor)] = ir
    if not result.ok:  # a file with an error yields no monitor at all (spec: no SQL for bad files)
        result.monitors = []
    result.diagnostics.sort(key=lambda d: (d.location[1], d.location[2]))
    return result


def check_monitor(spec: MonitorSpec, catalog: Catalog, strict: bool = False):
    """parse -> resolve -> bind -> lower: (Monitor, its IR, diagnostics); (None, None, ...) on an
    error. Lowering is part of checking: what `check` accepts, `compile` compiles (the back
    end's limits, NQL06xx, are reported here), and compile reuses the IR."""
    query, diags = parse_query(spec.query.source)
    if query is None or any(d.is_error for d in diags):
        return None, None, diags
    typed, more = resolve_query(query, catalog, spec.query.source, strict)
    diags = diags + more
    if typed is None:
        return None, None, diags
    monitor, more = bind(spec, typed)
    diags = diags + more
    if monitor is None or any(d.is_error for d in diags):
        return None, None, diags
    ir, more = lower(monitor)
    if ir is None or any(d.is_error for d in more):
        return None, None, diags + more
    return monitor, ir, diags + more


def monitor_key(m: Monitor) -> tuple:
    return (m.spec.path, m.tenant, m.id)


def monitor_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Expand files and folders; return (files, missing paths). A folder's monitor test files
    (`*.test.yaml`, `nql-flink test`) are not monitor files."""
    files: list[Path] = []
    missing: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files += sorted(f for f in path.rglob("*") if f.suffix in MONITOR_SUFFIXES and f.is_file()
                            and not f.name.endswith(TEST_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(p)
    return files, missing


@contextlib.contextmanager
def _without_cyclic_gc():
    """Checking builds many small objects that all live until the end (trees, spans, types)
    and hold no cycles worth collecting: the cyclic collector's passes over them cost about
    a quarter of the check time and free nothing. Reference counting still frees as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_paths(paths: list[str], tenant: str | None = None, strict: bool = False) -> CheckResult:
    with _without_cyclic_gc():
        return _check_paths(paths, tenant, strict)


def _check_paths(paths: list[str], tenant: str | None, strict: bool) -> CheckResult:
    files, _ = monitor_files(paths)
    total = CheckResult()
    seen: dict[tuple[str, str], Monitor] = {}
    catalog = load_catalog()
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            src = Source.whole_file(str(f), "")
            total.diagnostics.append(diag("NQL0009", src, Span(0, 0), reason=exc.strerror or str(exc)))
            continue
        r = check_text(str(f), data, tenant, strict, catalog)
        total.files += 1
        total.diagnostics += r.diagnostics
        total.lowered.update(r.lowered)
        for m in r.monitors:
            key = (m.tenant, m.id)
            if key in seen:
                first = seen[key].spec
                line, col = first.file.position(first.span.start)
                total.diagnostics.append(diag("NQL0008", m.spec.file, m.spec.key_spans.get("id", m.spec.span),
                                              id=m.id, tenant=m.tenant, first=f"{first.path}:{line}:{col}"))
                continue
            seen[key] = m
            total.monitors.append(m)
    if not total.ok:
        bad = {d.source.path for d in total.diagnostics if d.is_error}
        total.monitors = [m for m in total.monitors if m.spec.path not in bad]
    return total


@dataclass
class Compiled:
    result: CheckResult
    job: codegen.Job | None = None
    lowered: list = field(default_factory=list)  # the monitors' IR (ir.Monitor), in the order the job was generated

    @property
    def ok(self) -> bool:
        return self.job is not None

    def sql(self) -> str:
        """The sql-client script: every statement, in order, separated by a blank line."""
        return self.job.script()

    def plan_script(self, plan_url: str) -> str:
        """The sql-client script that runs the job from its compiled plan (deploy/plan.py):
        job.sql's session options and functions (a plan names functions, it does not hold
        them), then EXECUTE PLAN; the tables and views are inside the plan."""
        from nql_flink.translator.flink import codegen
        kept = [s for s in self.job.statements if s.kind in ("header", "set", "function")]
        run = codegen.Statement("execute_plan.sql.j2", {"plan": codegen.lit(plan_url)})
        return self.job.with_statements([*kept, run]).script()

    def statements(self) -> list[str]:
        """Each executable statement on its own (the header and the SET lines left out)."""
        return self.job.executable()


def compile_paths(paths: list[str], tenant: str | None = None, strict: bool = False,
                  options: codegen.CompileOptions | None = None) -> Compiled:
    """check -> lower -> generate. No job at all if any monitor has an error."""
    from nql_flink.translator.flink import codegen
    result = check_paths(paths, tenant, strict)
    if not result.ok or not result.monitors:
        return Compiled(result)
    catalog = load_catalog()
    streamed = []
    for m in sorted(result.monitors, key=monitor_key):
        mode, why = evaluation_mode(m, result.lowered[monitor_key(m)], catalog)
        if mode == "polling":
            span = m.spec.key_spans.get("evaluation") or m.spec.span
            result.diagnostics.append(diag("NQL0505", m.spec.file, span, tenant=m.tenant, id=m.id, why=why))
        else:
            streamed.append(m)
    if not streamed:
        return Compiled(result)
    lowered = [result.lowered[monitor_key(m)] for m in streamed]
    sources = sorted({m.spec.path for m in streamed})
    return Compiled(result, codegen.generate(lowered, catalog, sources, options or codegen.CompileOptions()), lowered)


def evaluation_mode(m: Monitor, lowered, catalog: Catalog) -> tuple[str, str]:
    """Where a monitor is evaluated, and why: its `evaluation:`, else its table's catalog
    default (`nql-flink poll` evaluates any monitor it is given, a backtest of a streamed one
    included)."""
    from nql_flink.translator.ir import relational as ir

    if m.spec.evaluation:
        return m.spec.evaluation, f"`evaluation: {m.spec.evaluation}`"
    table = ir.scan_parts(ir.windows(lowered.evaluate).input)[0].table
    return catalog.tables[table].evaluation, f"the default of {table}"


_PIPELINE_VIEWS = "objects|regroup_input|regrouped|eval|evaluated|judged|state|alerts"  # codegen._pipeline's views
_TABLE_VIEWS = "rows|input|windows|evaluated"  # codegen._table_windows's and _table_evaluated's: every monitor of the table


def flink_failure(compiled: Compiled, statement: str, message: str) -> list[Diagnostic]:
    """Flink's refusal or failure of a compiled job, as diagnostics: one per monitor whose
    pipeline the failing statement (or Flink's message) names, at its query; when it names
    none (a shared source or sink), one per monitor file. `message` is one line."""
    from nql_flink.translator.flink import codegen

    def named(name: str, views: str) -> bool:
        view = re.compile(rf"(?<!\w){re.escape(name)}__(?:{views})(?!\w)")
        whole_job = statement.lstrip().upper().startswith("EXECUTE")  # names every pipeline
        return bool(view.search(message) or (not whole_job and view.search(statement)))

    by_key = {(m.tenant, m.id): m for m in compiled.result.monitors}
    keys = [key for name in compiled.job.pipelines if named(name, _PIPELINE_VIEWS) for key in compiled.job.pipelines[name]]
    keys += [(m.tenant, m.id) for m in compiled.lowered if named(codegen.table_prefix(m), _TABLE_VIEWS)]
    out = []
    for key in dict.fromkeys(keys):
        m = by_key[key]
        out.append(diag("NQL0602", m.spec.query.source, Span(0, 0), what=f"monitor {m.tenant}/{m.id}", message=message))
    if not out:
        firsts = {}
        for m in sorted(compiled.result.monitors, key=monitor_key):
            firsts.setdefault(m.spec.path, m)
        out = [diag("NQL0602", m.spec.query.source, Span(0, 0), what="the job", message=message) for m in firsts.values()]
    return out
