"""State bytes per group and per monitor (issue 15, benchmark 5): the checkpointed state of the
generated job of N monitors on session.vdi_events (the families of benchmarks/monitor_sets.py:
`same` and `distinct`), after it has read a known input, divided by its groups, and compared
between sizes for the bytes each monitor adds.

What runs: for each family and N, the job on a real broker on loopback (started here unless
--kafka is given) and the embedded mini-cluster (benchmarks/live.py), with the deployed
job's state settings (deploy/recovery.py: RocksDB, incremental checkpoints; --backend hashmap
for Flink's heap backend instead), checkpoints every --checkpoint-interval (5 s). The input is benchmarks/
many_monitors.py's (--hours of one simulated tenant's --devices, dealt out to the family's
tenants), produced to the job's topics once it runs. When the job's event source has read
every record (its Kafka source committed the offsets of all of them, which it does once a
checkpoint holding them completed: Flink's REST API), the latest completed checkpoint is the
one measured; then the job is cancelled.

What is counted: the checkpoint's state size per job vertex, as Flink's REST API reports it
(/jobs/<id>/checkpoints/details/<n>: `state_size`, the full size of the state the checkpoint
refers to, all incremental parts included; RocksDB: its SST files, compressed, with their
index and filter blocks; hashmap: the serialized keys and values). A vertex is a chain of
operators; it is put in a category by the operators its name lists: the windows functions
(per tenant: clock, the open windows' slices per group; and the alert states of the monitors
it judges, one entry per tenant and monitor: docs/sharing.md step 3), the job's alert state
function (one row and a timer per tenant/monitor/group of the other threshold monitors), the temporal joins and the inventory's versions, the
sources (Kafka offsets) and the rest (clock views, ticks, config). This is the state at the
end of the input: the windows hold the last `during` of every group, the joins the rows
within the lateness.

Groups: the keys the alert-state topic holds (tenant/monitor/group, one per group evaluated
and not evicted: every group of every threshold monitor), read after the measured checkpoint
committed them. Bytes per group = state / groups (the whole job's, and the alert states' and
windows' own); bytes per monitor = (state of N - state of 1) / (N - 1), same family.

    .venv/bin/python benchmarks/state_bytes.py [--sizes 1,10] [--families same,distinct]
        [--backend rocksdb] [--hours 0.5] [--devices 2000] [--timeout 900] [--kafka HOST:PORT]
        [--json state_bytes.json] [--smoke]

--smoke: size 1 of the same family (unless --sizes or --families say otherwise), 20 simulated
minutes of 100 devices, checkpoints every second (CI checks that the benchmark works; its
figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from live import EVENTS, INVENTORY, LiveJob, broker_and_flink  # benchmarks/, the script's folder
from monitor_sets import SEED_TENANT, add_arguments, chosen, input_files, layout, monitor_count, monitors_file, tenants
from seed import count_lines, simulate
from measure import figures_path, temporary_folder, write_figures  # benchmarks/, the script's folder

# category -> what the description of a vertex (its chain of operators, /jobs/<id>/plan) names
# when the vertex holds that state (first match wins): the functions by their SQL names
# (translator/flink/codegen.py STATES_FUNCTION, WINDOWS_FUNCTION, INVENTORY_WINDOWS_FUNCTION,
# REGROUP_FUNCTION; the inventory's versions a windows function keeps count as its windows', and
# so do the alert states of the monitors it judges)
CATEGORIES = (("alert states", re.compile(r"nql_alert_states")),
              ("windows", re.compile(r"nql_windows|nql_inventory_windows|nql_regroup")),
              ("joins and versions", re.compile(r"TemporalJoin|Deduplicate|Join\b")),
              ("sources", re.compile(r"^\W*Source: ")))
OTHER = "other"


def category(description: str) -> str:
    return next((c for c, pattern in CATEGORIES if pattern.search(description)), OTHER)


def rest(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


def wait(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        time.sleep(1)


def committed(base: str, jid: str, source_table: str) -> int:
    """The offsets the job's Kafka source of `source_table` has committed, summed over its
    partitions: it commits them when a checkpoint that holds every record before them has
    completed."""
    vids = [v["id"] for v in rest(base, f"/jobs/{jid}")["vertices"]
            if v["name"].startswith("Source: KafkaSource-") and f".{source_table} " in v["name"] + " "]
    if not vids:
        return 0
    vid = vids[0]
    metrics = [m["id"] for m in rest(base, f"/jobs/{jid}/vertices/{vid}/subtasks/metrics")
               if m["id"].endswith(".committedOffset")]
    if not metrics:
        return 0
    query = urllib.parse.urlencode({"get": ",".join(metrics), "agg": "sum"})
    return int(sum(m.get("sum", 0) for m in rest(base, f"/jobs/{jid}/vertices/{vid}/subtasks/metrics?{query}")))


def measure_job(t_env, bootstrap: str, base: str, monitors: Path, files: dict[str, Path], events: int,
                args, scratch: Path) -> dict:
    """Run the job of `monitors` over `files` until a checkpoint holds every event (its source
    committed their offsets), then that checkpoint's state per vertex and the groups of the
    alert-state topic."""
    from nql_flink.deploy import recovery
    from nql_flink.deploy.kafka import client as kc
    from nql_flink.deploy.kafka.telemetry import flush

    job = LiveJob.start(t_env, bootstrap, monitors, files[INVENTORY].read_text().splitlines(),
                        config={**recovery.recovery_options(scratch), "state.backend.type": args.backend,
                                "execution.checkpointing.interval": args.checkpoint_interval})
    try:
        jid = job.job_id()
        # the quiet topics' event time now: they never hold the job's watermark back, the
        # events' alone moves it (through the input), as in production where the inventory
        # and config follow the wall clock (deploy/kafka/telemetry.py)
        for table, topic in ((INVENTORY, job.topic(INVENTORY)),
                             ("monitor_config", job.options.topic(job.options.config_topic))):
            flush(bootstrap, topic, table)
        job.produce(files[EVENTS].read_text().splitlines())
        source = job.compiled.job.source_tables[EVENTS]
        wait(lambda: committed(base, jid, source) >= events, args.timeout, f"a checkpoint of all {events} events")
        done = rest(base, f"/jobs/{jid}/checkpoints")["latest"]["completed"]
        details = rest(base, f"/jobs/{jid}/checkpoints/details/{done['id']}")
        plan = {n["id"]: n.get("description", "") for n in rest(base, f"/jobs/{jid}/plan")["plan"]["nodes"]}
        names = {v["id"]: v["name"] for v in rest(base, f"/jobs/{jid}")["vertices"]}
        vertices = [{"name": names.get(vid, vid), "category": category(plan.get(vid, names.get(vid, ""))),
                     "state_size": t.get("state_size", 0)} for vid, t in details["tasks"].items()]
        # the alert-state topic's records of that checkpoint are committed (visible) once it
        # completed, shortly after: read it after the next one
        wait(lambda: rest(base, f"/jobs/{jid}/checkpoints")["latest"]["completed"]["id"] > done["id"], 60,
             "the checkpoint after the measured one")
        groups = [k for k, v in kc.read_latest(bootstrap, job.alert_state_topic).items() if v is not None]
    finally:
        job.cancel()
    by = {c: sum(v["state_size"] for v in vertices if v["category"] == c)
          for c in [c for c, _ in CATEGORIES] + [OTHER]}
    return {"checkpoint": done["id"], "state_size": done.get("state_size"), "by_category": by,
            "vertices": vertices, "groups": len(groups)}


def per_monitor(jobs: dict[str, dict]) -> dict[str, dict]:
    """For each job of N > 1 monitors whose family's N = 1 was measured: (its bytes - those of
    N = 1) / (N - 1), in all and per category."""
    out = {}
    for name, j in jobs.items():
        one = jobs.get(f"{j['family']} 1")
        if j["monitors"] > 1 and "skipped" not in j and one and "skipped" not in one:
            out[name] = {"state_bytes": (j["state_size"] - one["state_size"]) / (j["monitors"] - 1),
                         **{c: (j["by_category"][c] - one["by_category"][c]) / (j["monitors"] - 1)
                            for c in j["by_category"]}}
    return out


def per(x: float | None, n: int) -> str:
    return "-" if x is None or not n else f"{x / n:,.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap, "1,10")
    ap.add_argument("--backend", default="rocksdb", choices=("rocksdb", "hashmap"),
                    help="state backend (default rocksdb, as deployed)")
    ap.add_argument("--checkpoint-interval", default="5 s")
    ap.add_argument("--hours", type=float, default=0.5)
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=900, help="seconds a job may take to read the input")
    ap.add_argument("--kafka", metavar="HOST:PORT", help="a running broker (default: one started here)")
    ap.add_argument("--json", default=figures_path("state_bytes.json"))
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args(argv)
    if args.smoke:
        args.hours, args.devices, args.checkpoint_interval = 1 / 3, 100, "1 s"
    sizes, families = chosen(args, "1,10")
    from nql_flink.deploy.embedded.progress import progress_config
    from nql_flink.deploy.local_service import free_port

    python = sys.executable
    result = {"settings": {k: v for k, v in vars(args).items() if k not in ("json", "kafka")}, "jobs": {}}
    port = free_port()
    with temporary_folder(prefix="nql-bench-state-") as d, \
            broker_and_flink(args.kafka, progress_config(port)) as (bootstrap, t_env):
        tmp = Path(d)
        sim = simulate(python, tmp / "sim", args.hours, args.devices, tenants=SEED_TENANT)
        events = count_lines(sim[EVENTS])
        result["input"] = {"events": events, "inventory": count_lines(sim[INVENTORY]), "hours": args.hours,
                           "devices": args.devices}
        print(f"input: {events} {EVENTS}, {result['input']['inventory']} {INVENTORY}", file=sys.stderr, flush=True)
        for family in families:
            for n in sizes:
                t = tenants(family, n)
                name = f"{family} {n}"
                print(f"{name}: running ...", file=sys.stderr, flush=True)
                files = input_files(sim, layout(family, n), tmp)
                monitors = monitors_file(tmp / f"{family}-{n}.yaml", family, n)
                try:
                    r = measure_job(t_env, bootstrap, f"http://127.0.0.1:{port}", monitors, files, events, args,
                                    tmp / f"checkpoints-{family}-{n}")
                except TimeoutError as exc:
                    print(f"{name}: {exc}; skipped", file=sys.stderr, flush=True)
                    result["jobs"][name] = {"family": family, "monitors": monitor_count(family, n), "tenants": t,
                                            "skipped": str(exc)}
                    continue
                result["jobs"][name] = {"family": family, "monitors": monitor_count(family, n), "tenants": t, **r}

    cats = [c for c, _ in CATEGORIES] + [OTHER]
    print(f"\nstate after {events} events ({args.hours:g} h of {args.devices} devices), backend {args.backend}, "
          "bytes of the first checkpoint after the input (Flink's state_size)")
    print("| job | monitors | tenants | groups | state bytes | per group | " + " | ".join(cats) +
          " | alert states per group | windows per group |")
    print("|---" * (8 + len(cats)) + "|")
    for name, j in result["jobs"].items():
        if "skipped" in j:
            print(f"| {name} | {j['monitors']} | {j['tenants']} | skipped: {j['skipped']} |")
            continue
        b = j["by_category"]
        print(f"| {name} | {j['monitors']} | {j['tenants']} | {j['groups']} | {j['state_size']:,} | "
              f"{per(j['state_size'], j['groups'])} | " + " | ".join(f"{b[c]:,}" for c in cats) +
              f" | {per(b['alert states'], j['groups'])} | {per(b['windows'], j['groups'])} |")
    result["per_monitor"] = per_monitor(result["jobs"])
    for name, p in result["per_monitor"].items():
        print(f"bytes per monitor, {name} against 1: {p['state_bytes']:,.0f} (" +
              ", ".join(f"{c} {p[c]:,.0f}" for c in cats) + ")")
    ok = bool(result["jobs"]) and all("skipped" not in j and j["groups"] > 0 and j["state_size"]
                                      for j in result["jobs"].values())
    write_figures(args.json, result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
