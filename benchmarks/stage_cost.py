"""What each stage of a generated job costs (issue 15): the job as compiled, and copies of its
statements with stages taken out, run alternately over the same input, by processing CPU (the
JVM's job threads and garbage collector, benchmarks/measure.py). A copy computes less than the
job (that is the point): its output is not the job's, and the difference between two jobs'
processing CPU is what the stages between them cost.

Two sets (--set):

  seed  the seed monitor (examples/monitors/vdi_latency_by_pool.yaml) on the input of
        benchmarks/job_cost.py (seed.py), and the hand-written reference of job_cost.py:
          generated              as compiled (its windows function keeps the tenants' clocks and
                                 looks the inventory up: no clock function, no temporal join, so
                                 the copies without them that this set once had are gone)
          generated, no ticks    the table's ticks (its event-time progress for tenants
                                 without records: a TUMBLE with a local aggregation in the
                                 source's chain) given no record: no local buffer, no flush
          reference              benchmarks/reference/seed_monitor.sql (job_cost.py)
  same  the same-shape family of benchmarks/many_monitors.py (monitor_sets.py) on its input (one
        tenant's devices dealt out to the monitors' tenants):
          same 1                 one monitor, one tenant
          same 100/100           100 monitors, one per tenant (the first 100 of same 1000)
          same 1000/100          1,000 monitors over 100 tenants
          same 100/100, windows only       the evaluations into a blackhole: no alert states,
          same 1000/100, windows only      no alert records (the windows function gives each
                                 evaluation its config: no config join since session 41;
                                 the copy without it that this set once had is gone)
          same 1, no ticks       as in the seed set: the ticks given no record (a tenant's
          same 100/100, no ticks windows then move with its own records only), so that the
                                 difference is what a tick per tenant and slide costs

Each edit fails loudly when the statement it changes is not in the generated SQL (the code
generator changed: change the edit). tests/flink/test_stage_cost.py plans every copy and runs
one against the job it comes from.

    .venv/bin/python benchmarks/stage_cost.py [--set seed|same] [--hours H] [--devices N] [--runs 3]
        [--startup-runs 1] [--startup-events 2000] [--json stage_cost.json] [--smoke]

Defaults: --set seed --hours 3 (same: 1 h, as many_monitors.py). --smoke: 20 simulated minutes
of 100 devices, one run each, no start-up runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from checkout import child_env  # benchmarks/, the script's folder
from job_cost import command as job_command
from job_cost import output_lines
from measure import figures, measure, options, parse, run_measured, table, temporary_folder, write_figures
from monitor_sets import SEED_TENANT, dealt_out
from monitor_sets import same as same_monitors
from seed import EVENTS, MONITOR, ROOT, count_lines, head, simulate

HERE = Path(__file__).resolve().parent


class EditFailed(SystemExit):
    """An edit did not find the statement it changes."""


# ------------------------------------------------------------------------------ the edits --
# Each takes the job's statements (Job.on_files(...).executable(): DDL and views, then one
# EXECUTE STATEMENT SET) and returns new ones; none changes its argument.

def _view(statements: list[str], name: str) -> int:
    """The index of the statement that creates view `name` (after its comment lines)."""
    head_ = f"CREATE TEMPORARY VIEW `{name}` AS\n"
    found = [i for i, s in enumerate(statements) if _code(s).startswith(head_)]
    if len(found) != 1:
        raise EditFailed(f"stage_cost: view {name} is not in the generated job ({len(found)} found)")
    return found[0]


def _code(statement: str) -> str:
    return re.sub(r"\A(?:--[^\n]*\n)+", "", statement)


def _replaced(statements: list[str], i: int, text: str) -> list[str]:
    return statements[:i] + [text] + statements[i + 1:]


def _tables(statements: list[str], prefix: str) -> list[str]:
    """The catalog tables with a view `<prefix><table>` in the job."""
    return [m.group(1) for s in statements
            for m in [re.match(rf"CREATE TEMPORARY VIEW `{prefix}(\w+)` AS\n", _code(s))] if m]


def windows_only(statements: list[str]) -> list[str]:
    """The statement set's alert and alert-state INSERTs replaced by one of every table's windows
    function's rows (`t_<table>__windows`) into a blackhole: the windows function's own work
    (for the monitors it judges, their conditions and alert states too) without the rows'
    path after it (the job's alert state function, the records, the sinks)."""
    last = statements[-1]
    at = last.find("INSERT INTO `sink_alerts`")
    if at < 0 or not last.startswith("EXECUTE STATEMENT SET"):
        raise EditFailed("stage_cost: no alert INSERT in the statement set")
    views = [m.group(1) for s in statements for m in [re.match(r"CREATE TEMPORARY VIEW `(t_\w+__windows)` AS\n", _code(s))]
             if m]
    if not views:
        raise EditFailed("stage_cost: no windows view in the generated job")
    blackhole = "CREATE TEMPORARY TABLE `stage_cost_blackhole` (`k` STRING) WITH ('connector' = 'blackhole')"
    rows = "\nUNION ALL\n".join(f"SELECT `nql_kind` FROM `{v}`" for v in views)
    return statements[:-1] + [blackhole, last[:at] + f"INSERT INTO `stage_cost_blackhole`\n{rows};\nEND"]


def without_ticks(statements: list[str]) -> list[str]:
    """Each table's ticks (`tick_<table>`) counted from no record: the records that feed them
    (`tickable_<table>`) filtered by a condition the planner cannot fold and no record meets,
    so the TUMBLE and its local aggregation stay in the plan but never buffer nor flush."""
    tables = _tables(statements, "tickable_")
    if not tables:
        raise EditFailed("stage_cost: no tickable view in the generated job")
    for t in tables:
        i = _view(statements, "tickable_" + t)
        sql = _code(statements[i]).rstrip().removesuffix(";")
        if "\nWHERE " not in sql:
            raise EditFailed(f"stage_cost: tickable_{t} has no WHERE as this edit knows it")
        statements = _replaced(statements, i, sql + " AND CHAR_LENGTH(CAST(`ts` AS STRING)) < 0")
    return statements


# name -> edit(statements)
EDITS = {"windows_only": windows_only, "without_ticks": without_ticks}


def edited(statements: list[str], edits: list[str]) -> list[str]:
    """The statements with the named edits applied in order."""
    for name in edits:
        statements = EDITS[name](statements)
    return statements


def statements_on_files(compiled, files: dict[str, str], config: Path, sinks: str) -> list[str]:
    """The compiled job's statements over `files` (catalog table -> JSONL; an empty file beside
    `config` for any other table), its compiled config records written to `config` as the
    config topic, its sinks under `sinks` (run_job reads the alerts from <its output>.d)."""
    from nql_flink.translator.flink.monitor_config import config_lines

    config.write_text(config_lines(compiled.job.config_records), encoding="utf-8")
    inputs = {}
    for table, name in compiled.job.source_tables.items():
        path = files.get(table) or (str(config) if table == "monitor_config" else str(config.parent / f"{name}.jsonl"))
        if table not in files and table != "monitor_config":
            Path(path).write_text("")
        inputs[name] = path
    return compiled.job.on_files(inputs, sinks).executable()


# ------------------------------------------------------------------------------- the sets --
# name -> (monitors: "seed", "reference" or (same-family size, tenants), edits)
SETS = {
    "seed": {
        "generated": ("seed", []),
        "generated, no ticks": ("seed", ["without_ticks"]),
        "reference": ("reference", []),
    },
    "same": {
        "same 1": ((1, 1), []),
        "same 100/100": ((100, 100), []),
        "same 1000/100": ((1000, 100), []),
        "same 100/100, windows only": ((100, 100), ["windows_only"]),
        "same 1000/100, windows only": ((1000, 100), ["windows_only"]),
        "same 1, no ticks": ((1, 1), ["without_ticks"]),
        "same 100/100, no ticks": ((100, 100), ["without_ticks"]),
    },
}


def same_file(path: Path, n: int, tenants: int) -> Path:
    """n same-shape monitors over `tenants` tenants: the first n of monitor_sets' same(1000)
    family (monitor i of tenant t(i mod 100)) when tenants is 100, else its same(n)."""
    monitors = same_monitors(1000)[:n] if tenants == 100 else same_monitors(n)
    path.write_text("monitors:\n" + "".join(monitors), encoding="utf-8")
    return path


def child(argv: list[str]) -> int:
    """In a process of its own: compile the monitors, edit the job, run it on embedded Flink
    over the files, its alert records to the output file."""
    monitors, output, edits, *pairs = argv
    from nql_flink.deploy.embedded.runner import run_job
    from nql_flink.translator.pipeline import compile_paths

    compiled = compile_paths([monitors])
    if not compiled.ok:
        raise SystemExit(f"{monitors} does not compile")
    files = dict(p.split("=", 1) for p in pairs)
    statements = statements_on_files(compiled, files, Path(output + ".config.jsonl"), output + ".d")
    run_job(edited(statements, [e for e in edits.split(",") if e]), {}, output)
    return 0


def command(python: str, monitors: Path, edits: list[str], files: dict[str, Path], out: Path) -> list[str]:
    return [python, str(HERE / "stage_cost.py"), "--child", str(monitors), str(out), ",".join(edits),
            *(f"{t}={p}" for t, p in files.items())]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    ap = options(__doc__, "stage_cost.json")
    ap.add_argument("--set", choices=sorted(SETS), default="seed", help="which jobs (default seed)")
    ap.set_defaults(hours=None)
    args = parse(ap, argv)
    if args.hours is None:
        args.hours = 3 if args.set == "seed" else 1
    python = sys.executable
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    jobs = SETS[args.set]
    with temporary_folder(prefix="nql-bench-stages-") as d:
        tmp = Path(d)
        subprocess.run([python, "-m", "nql_flink.deploy.jars", "build", "udfs"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, env=child_env(ROOT, tmp))  # before any timed run
        if args.set == "seed":
            sim = simulate(python, tmp / "sim", args.hours, args.devices)
            inputs = {None: sim}
        else:
            sim = simulate(python, tmp / "sim", args.hours, args.devices, tenants=SEED_TENANT)
            inputs = {t: dealt_out(sim, t, tmp / f"tenants-{t}") for t in sorted({m[0][1] for m in jobs.values()})}
        n_events = count_lines(sim[EVENTS])
        small = {k: head(files, args.startup_events, tmp / f"small-{k}") for k, files in inputs.items()} \
            if args.startup_runs else {}
        print(f"input: {n_events} {EVENTS}, {count_lines(sim['device.devices'])} device.devices "
              f"({args.devices} devices, {args.hours:g} h)", flush=True)

        def run(name: str, tag: str, start: bool) -> dict:
            what, edits = jobs[name]
            key = None if what in ("seed", "reference") else what[1]
            files = (small if start else inputs)[key]
            out = tmp / f"{tag}-{re.sub(r'[^a-z0-9]+', '-', name)}"
            if what == "reference":
                cmd = job_command(python, "reference", files, out)
            else:
                monitors = ROOT / MONITOR if what == "seed" else same_file(tmp / f"same-{what[0]}-{what[1]}.yaml", *what)
                cmd = command(python, monitors, edits, files, out)
            r = run_measured(cmd, ROOT, child_env(ROOT, tmp))
            return {**r, "output": sorted(output_lines(out))}

        startup, runs = measure(list(jobs), run, args, n_events)

    result = {"commit": commit, "set": args.set, "input": {"events": n_events, "hours": args.hours,
                                                           "devices": args.devices},
              "runs": args.runs, "startup_runs": args.startup_runs, "jobs": {}}
    for name in jobs:
        result["jobs"][name] = {**figures(n_events, runs[name], startup[name]),
                                "output_records": len(runs[name][0]["output"]), "edits": jobs[name][1]}
    first = next(iter(jobs))
    base = result["jobs"][first]["processing_cpu_s"]
    print(f"\nmedians of {args.runs} run(s); commit {commit}")
    print(table(result["jobs"], {}))
    print(f"\n| job | processing CPU-s | against {first} |\n|---|---|---|")
    for name, j in result["jobs"].items():
        print(f"| {name} | {j['processing_cpu_s']:.1f} | {j['processing_cpu_s'] / base:.2f} |")
    write_figures(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
