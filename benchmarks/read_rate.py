"""Lines per CPU-second through `nql_read` alone (udfs/jvm ReadRecord): this worktree's build
against a git revision's (default: main), and Flink's own JSON format decoding the same fields
of the same lines, all in one JVM (benchmarks/ReadRate.java). A micro-figure beside
job_cost.py's whole jobs (issue 15): the parse of a generated raw-line source without the rest
of the job.

The lines are the seed input's session.vdi_events (benchmarks/seed.py: `nql-flink simulate`,
seed 7); the schema is the one the seed monitor's generated source passes to `nql_read`
(compiled here by this worktree); the JSON format reads the same fields as typed columns
(nested ROWs, times as TIMESTAMP_LTZ(3) in ISO-8601), as a Flink engineer would declare them.
Each build runs `eval` twice per line, as the generated source's Calc calls it (the record and
the rowtime; the second call is answered from the function's last-line cache). After --warmup
untimed passes over all lines, --passes timed passes alternate between the sides; a pass is
timed by the CPU time of the JVM's thread (the machine is shared), and the figure is the
median. Before timing, every line is read by each build and the rows must be equal.

    .venv/bin/python benchmarks/read_rate.py [--against main] [--hours 1] [--devices 2000]
        [--warmup 3] [--passes 7] [--json read_rate.json] [--smoke]

--smoke: 20 simulated minutes of 100 devices, one warm-up and one timed pass (CI checks that
the benchmark works; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from checkout import child_env, module, revision_checkout  # benchmarks/, the script's folder
from seed import EVENTS, MONITOR, ROOT, count_lines, simulate
from measure import figures_path, temporary_folder, write_figures  # benchmarks/, the script's folder

HERE = Path(__file__).resolve().parent
JSON_FORMAT = "json_format"
# nql_read's types (translator/flink/codegen.py READ_TYPES' values, and the roles) -> the JSON format's column types
ROW_TYPES = {"string": "STRING", "float": "DOUBLE", "int": "BIGINT", "bool": "BOOLEAN", "datetime": "TIMESTAMP_LTZ(3)"}
ROLE_TYPES = {"time": "TIMESTAMP_LTZ(3)", "version": "TIMESTAMP_LTZ(3)", "tenant": "STRING", "key": "STRING"}


def read_schema(python: str, scratch: Path) -> str:
    """The schema literal of the seed monitor's event source, as this worktree compiles it."""
    out = scratch / "compiled"
    subprocess.run([python, "-m", module(ROOT, "translator.cli"), "compile", MONITOR, "-o", str(out)],
                   cwd=ROOT, env=child_env(ROOT, scratch), check=True, capture_output=True)
    sql = "\n".join(f.read_text() for f in sorted(out.glob("*.sql")))
    source = sql[sql.index(f"CREATE TABLE `src_{EVENTS.replace('.', '_')}`"):]
    return re.search(r"nql_read\(`line`, '([^']*)'\)", source).group(1)


def row_type(schema: str) -> str:
    """The JSON format's row type of the fields a schema reads: a dotted path as nested ROWs."""
    tree: dict = {}
    for entry in schema.split(","):
        _, role, path, *arg = entry.split()
        *steps, last = path.split(".")
        node = tree
        for step in steps:
            node = node.setdefault(step, {})
        node[last] = ROLE_TYPES.get(role) or ROW_TYPES[arg[0] if arg else "string"]

    def render(node: dict) -> str:
        return "ROW<" + ", ".join(f"`{k}` {v if isinstance(v, str) else render(v)}" for k, v in node.items()) + ">"
    return render(tree)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", default="main", help="git revision to compare with (default: main)")
    ap.add_argument("--hours", type=float, default=1, help="simulated hours of telemetry (default 1)")
    ap.add_argument("--devices", type=int, default=2000, help="simulated devices per tenant (default 2000)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed passes over all lines first (default 3)")
    ap.add_argument("--passes", type=int, default=7, help="timed passes of each side, alternating (default 7)")
    ap.add_argument("--json", default=figures_path("read_rate.json"), help="where the figures go as JSON")
    ap.add_argument("--smoke", action="store_true", help="tiny input, one warm-up and one timed pass (CI)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.hours, args.devices, args.warmup, args.passes = 1 / 3, 100, 1, 1
    from nql_flink.deploy.jars import UDFS_DIR, UDFS_JAR, jdk_tool
    import pyflink

    python = sys.executable
    lib = Path(pyflink.__file__).resolve().parent / "lib"
    classpath = os.pathsep.join(str(j) for j in sorted(lib.glob("*.jar")))
    with temporary_folder(prefix="nql-bench-read-rate-") as d:
        tmp = Path(d)
        with revision_checkout(ROOT, args.against, tmp) as sides:  # Java functions compiled first
            schema = read_schema(python, tmp)
            files = simulate(python, tmp / "sim", args.hours, args.devices)
            jars = [f"{name}={checkout / UDFS_DIR.relative_to(ROOT) / 'target' / UDFS_JAR}"
                    for name, checkout in sides.items()]
            run = subprocess.run([jdk_tool("java"), "-cp", classpath, str(HERE / "ReadRate.java"), str(files[EVENTS]),
                                  schema, row_type(schema), str(args.warmup), str(args.passes), *jars],
                                 capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout + run.stderr)
        print("the builds did not read every line alike, or the benchmark failed: no figures")
        return 1
    out = json.loads(run.stdout)
    n = out["lines"]
    this, against = list(sides)
    rates = {name: n / statistics.median(out["cpu_seconds"][name]) for name in (this, against, JSON_FORMAT)}
    result = {"lines": n, "schema": schema, "against": args.against, "reasons": out["reasons"],
              "json_format_rows": out["json_format_rows"], "cpu_seconds": out["cpu_seconds"],
              "lines_per_cpu_s": rates, "ratio this / against": rates[this] / rates[against],
              "ratio this / json_format": rates[this] / rates[JSON_FORMAT]}
    print(f"input: {n} {EVENTS} lines ({args.devices} devices per tenant, {args.hours:g} h), first reasons "
          f"{out['reasons']}; the JSON format decoded {out['json_format_rows']} rows per pass")
    print(f"schema: {schema}\nmedians of {args.passes} timed pass(es) after {args.warmup} warm-up pass(es), "
          "CPU time of the JVM's thread; eval called twice per line")
    print("| side | lines per CPU-s | us per line | CPU-s per pass |\n|---|---|---|---|")
    for name, rate in rates.items():
        spread = ", ".join(f"{s:.3f}" for s in out["cpu_seconds"][name])
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:.2f} | {spread} |")
    print(f"| ratio this / {args.against} | {result['ratio this / against']:.2f} | | |")
    print(f"| ratio this / Flink's JSON format | {result['ratio this / json_format']:.2f} | | |")
    write_figures(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
