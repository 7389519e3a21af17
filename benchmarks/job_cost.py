"""Cost per event of the seed monitor's generated job against its ceilings and a hand-written
Flink SQL reference (issue 15, benchmarks 1 and 2).

Four jobs over ONE simulated file (the seed input of benchmarks/throughput.py: `nql-flink
simulate`, seed 7, session.vdi_events and device.devices, a latency incident in one pool), on
embedded Flink (the PyFlink local mini-cluster, parallelism 1), each run a process of its own
(a fresh JVM), the four alternating in order from run to run:

  raw ceiling    the event file read as raw lines into a blackhole (benchmarks/reference/ceiling_raw.sql)
  JSON ceiling   the same file with the JSON format and the table's schema, event time and
                 watermark, into a blackhole (reference/vdi_events_json.sql + ceiling_json.sql)
  reference      the seed monitor written by hand: JSON source with watermark, the inventory as
                 a versioned table, event-time temporal join, HOP window, the threshold, the
                 breaching windows to files (reference/vdi_events_json.sql + seed_monitor.sql;
                 its header says what it omits compared with the generated job)
  generated      `nql-flink run` of examples/monitors/vdi_latency_by_pool.yaml over the files

The hand-written jobs run through benchmarks/run_sql.py. Measured per run as throughput.py
does (benchmarks/measure.py): wall time and CPU time of the process tree, as events/s and
events per CPU-second, medians of --runs; and net of the median start-up (each job run
--startup-runs times on the first --startup-events records). The ratios generated / reference
and generated / JSON ceiling, by events per CPU-s gross and net, are issue 15's Done-when
figures (>= 1.0 and >= 0.5); so are they by events per processing CPU-s (the JVM's job threads
and garbage collector only: no planning, no JIT; measure.py), the steady state a long-running
job reaches. On short inputs the net figures are mostly the start-up's spread: use 6 h or more.

That each job did its work: the ceilings run once more, untimed, into files instead of the
blackhole, and must pass every input record through; the reference must write breaching
windows and the generated job alert records (the incident), the same in every run (numbers
to 12 significant digits, measure.same_records).

    .venv/bin/python benchmarks/job_cost.py [--hours 3] [--devices 2000] [--runs 3]
        [--startup-runs 1] [--startup-events 2000] [--json job_cost.json] [--smoke]

--smoke: 20 simulated minutes of 100 devices, one run each, no start-up runs (CI checks that
the benchmark works; its figures mean nothing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from checkout import child_env  # benchmarks/, the script's folder
from measure import (figures, measure, options, parse, ratios, run_measured, same_records, table, temporary_folder,
                     write_figures)
from seed import EVENTS, ROOT, count_lines, head, run_command, simulate

HERE = Path(__file__).resolve().parent
SQL = HERE / "reference"
# job -> (name in the table, the SQL scripts it runs, or None for the generated job)
JOBS = {
    "raw_ceiling": ("raw ceiling (raw lines -> blackhole)", ["ceiling_raw.sql"]),
    "json_ceiling": ("JSON ceiling (JSON format -> blackhole)", ["vdi_events_json.sql", "ceiling_json.sql"]),
    "reference": ("hand-written reference", ["vdi_events_json.sql", "seed_monitor.sql"]),
    "generated": ("generated (nql-flink run)", None),
}
# the format a ceiling's rows are written in when they are counted
COUNT_FORMAT = {"raw_ceiling": "raw", "json_ceiling": "json"}
BLACKHOLE = "'connector' = 'blackhole'"


def command(python: str, job: str, files: dict[str, Path], out: Path, sink: str = BLACKHOLE) -> list[str]:
    """The command that runs `job` over `files`, its output (alert records, breaching windows,
    counted ceiling rows) written to `out`."""
    scripts = JOBS[job][1]
    if scripts is None:
        return run_command(python, ROOT, files, out)
    # the reference is the seed monitor: its tenant's rows, at least 5 devices
    return sql_command(python, scripts, files, out, sink=sink, tenants="tenant = 'acme'", sessions="5")


def sql_command(python: str, scripts: list[str], files: dict[str, Path], out: Path, **variables: str) -> list[str]:
    """benchmarks/run_sql.py running `scripts` (of benchmarks/reference/) over `files`, their
    ${events}, ${devices} and ${out} filled in, and the other `variables`."""
    variables = {"events": str(files[EVENTS]), "devices": str(files["device.devices"]), "out": str(out), **variables}
    return [python, str(HERE / "run_sql.py"), *(str(SQL / s) for s in scripts),
            *(a for name, value in variables.items() for a in ("--var", f"{name}={value}"))]


def output_lines(path: Path) -> list[str]:
    """The records a job wrote: the lines of a file, or of a folder's finished files."""
    if path.is_file():
        return path.read_text().splitlines()
    if path.is_dir():
        return [l for f in sorted(path.iterdir()) if f.is_file() and not f.name.startswith(".")
                for l in f.read_text().splitlines()]
    return []


def run_once(python: str, job: str, files: dict[str, Path], out: Path, scratch: Path) -> dict:
    r = run_measured(command(python, job, files, out), ROOT, child_env(ROOT, scratch))
    return {**r, "output": sorted(output_lines(out))}


def counted(python: str, job: str, files: dict[str, Path], out: Path, scratch: Path) -> int:
    """The rows a ceiling passes through, written to files instead of the blackhole (untimed)."""
    sink = f"'connector' = 'filesystem', 'path' = '{out}', 'format' = '{COUNT_FORMAT[job]}'"
    subprocess.run(command(python, job, files, out, sink), cwd=ROOT, env=child_env(ROOT, scratch), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return len(output_lines(out))


def main(argv: list[str] | None = None) -> int:
    args = parse(options(__doc__, "job_cost.json"), argv)
    python = sys.executable
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    names = list(JOBS)
    with temporary_folder(prefix="nql-bench-job-cost-") as d:
        tmp = Path(d)
        subprocess.run([python, "-m", "nql_flink.deploy.jars", "build", "udfs"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, env=child_env(ROOT, tmp))  # before any timed run
        files = simulate(python, tmp / "sim", args.hours, args.devices)
        n_events, n_inventory = count_lines(files[EVENTS]), count_lines(files["device.devices"])
        print(f"input: {n_events} {EVENTS}, {n_inventory} device.devices "
              f"({args.devices} devices per tenant, {args.hours:g} h)", flush=True)
        small = head(files, args.startup_events, tmp / "small") if args.startup_runs else None
        startup, runs = measure(names, lambda job, tag, start: run_once(
            python, job, small if start else files, tmp / f"{tag}-{job}", tmp), args, n_events)
        passed = {job: counted(python, job, files, tmp / f"count-{job}", tmp) for job in COUNT_FORMAT}

    result = {"commit": commit, "input": {"events": n_events, "inventory": n_inventory, "hours": args.hours,
                                          "devices": args.devices},
              "runs": args.runs, "startup_runs": args.startup_runs, "startup_events": args.startup_events, "jobs": {}}
    for job in names:
        outputs = [r["output"] for r in runs[job]]
        result["jobs"][job] = {"name": JOBS[job][0], **figures(n_events, runs[job], startup[job]),
                               # rows into files: the ceilings' untimed counting run, else every timed run's
                               "output_records": passed[job] if job in passed else len(outputs[0]),
                               "output_records_per_run": [len(o) for o in outputs],
                               "same_output_every_run": all(same_records(o, outputs[0]) for o in outputs)}
    jobs = result["jobs"]
    result["ratios"] = {"generated / reference": ratios(jobs["generated"], jobs["reference"]),
                        "generated / json_ceiling": ratios(jobs["generated"], jobs["json_ceiling"])}
    # every run's records (the same but for the last digits of sums: measure.same_records)
    result["outputs"] = {job: [r["output"] for r in runs[job]] for job in ("reference", "generated")}

    print(f"\nmedians of {args.runs} run(s); net = without the median start-up of {args.startup_runs} run(s) on "
          f"{args.startup_events} events; commit {commit}")
    print(table({j["name"]: j for j in jobs.values()}, result["ratios"]))
    print(f"input: {n_events} {EVENTS} records, {n_inventory} inventory records; passed through: raw ceiling "
          f"{jobs['raw_ceiling']['output_records']}, JSON ceiling {jobs['json_ceiling']['output_records']}; "
          f"reference: {jobs['reference']['output_records']} breaching windows; "
          f"generated: {jobs['generated']['output_records']} alert records")
    ok = (all(jobs[j]["output_records"] == n_events for j in COUNT_FORMAT)
          and jobs["reference"]["output_records"] > 0 and jobs["generated"]["output_records"] > 0
          and all(j["same_output_every_run"] for j in jobs.values()))
    if not ok:
        print("NOT every job did its work (above): the figures are not comparable")
    write_figures(args.json, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
