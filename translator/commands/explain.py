"""`nql-flink explain MONITOR --input TABLE=FILE ... [--group JSON] [-o plot.png]`: run one
monitor on embedded Flink over files and plot one group's metric, its baseline band and the
alert transitions (PNG, matplotlib Agg backend).

The job is the generated one plus a trace: the same statement set with one more INSERT that
copies the monitor's judged evaluations (values, baseline, trig) to a file sink. Nothing
else changes, so the plot shows what the deployed job computes. A seasonal monitor's
baseline lives in its state UDAF, not in the judged view: the trace is replayed through the
same code (udfs.flink.baseline.judge_and_record, per group in event time) to draw it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from nql_flink.translator.commands.common import add_compile_arguments, report_flink_failure
from nql_flink.translator.flink.monitor_config import config_lines
from nql_flink.translator.commands.run import inputs_and_job, missing_inputs

TRACE_TABLE = "nql_trace"


def add_arguments(parser):
    add_compile_arguments(parser)
    parser.add_argument("--input", action="append", default=[], metavar="TABLE=FILE",
                        help="JSONL records of a catalog table; repeat per table")
    parser.add_argument("--monitor", metavar="ID", help="the monitor to plot when the files hold several")
    parser.add_argument("--group", metavar="JSON", help='the group to plot, e.g. \'{"device.virtualization.desktop_pool":'
                        '"Finance"}\' (default: the group with the most alert transitions, then the first)')
    parser.add_argument("--config", metavar="FILE", help="monitor-config records to use instead of the compiled ones")
    parser.add_argument("-o", "--output", default="explain.png", metavar="PNG", help="plot file (default explain.png)")


# ----------------------------------------------------------------------------- the traced job


def traced_job(compiled, pipeline: str):
    """The job with a trace sink and a trace INSERT of `pipeline`'s evaluations in its
    statement set."""
    from nql_flink.translator.flink.codegen import pipelines, sink, values_pairs

    job = compiled.job
    *stmts, last = job.statements
    assert last.kind == "statement_set"
    ev = next(p.evaluate for p in pipelines(compiled.lowered) if p.name == pipeline)
    # a detection monitor's judged view has its payload, a threshold monitor's typed columns
    payload = ("`payload`" if ev.detection is not None else
               f"JSON_OBJECT('values' VALUE JSON_OBJECT({', '.join(values_pairs(ev.input.measures))})) AS `payload`")
    trace = {"target": f"`{TRACE_TABLE}`",
             "query": ("SELECT `tenant`, `monitor`, `group_json`, "
                       f"DATE_FORMAT(`window_end`, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS `at`, `trig`, `rec`, {payload}\n"
                       f"FROM `{pipeline}__judged`")}
    columns = {"tenant": "STRING", "monitor": "STRING", "group_json": "STRING", "at": "STRING",
               "trig": "BOOLEAN", "rec": "BOOLEAN", "payload": "STRING"}
    traced = replace(last, context={"inserts": [*last.context["inserts"], trace]})
    return job.with_statements([*stmts, sink(TRACE_TABLE, columns, {"format": "json"}), traced])


def run_traced(compiled, monitor, inputs: dict[str, str], config: str | None, workdir: str, t_env=None):
    """Run the job with the trace of `monitor`'s pipeline; returns (alerts, evaluations)."""
    from nql_flink.deploy.embedded.runner import _read_lines, run_job
    key = (monitor.tenant, monitor.id)
    [lowered] = [m for m in compiled.lowered if (m.tenant, m.id) == key]
    [pipeline] = [name for name, monitors in compiled.job.pipelines.items() if key in monitors]
    if config is None:
        config = str(Path(workdir) / "monitor-config.jsonl")
        Path(config).write_text(config_lines(compiled.job.config_records), encoding="utf-8")
    sources = {compiled.job.source_tables[t]: f for t, f in inputs.items() if t in compiled.job.source_tables}
    sources[compiled.job.source_tables["monitor_config"]] = config
    out = str(Path(workdir) / "alerts.jsonl")
    result = run_job(traced_job(compiled, pipeline), sources, out, t_env=t_env)
    alerts = [json.loads(a) for a in result.alerts]
    evaluations = [json.loads(line) for line in _read_lines(Path(out + ".d") / TRACE_TABLE)]
    alerts = [a for a in alerts if (a["tenant"], a["monitor"]) == (monitor.tenant, monitor.id)]
    evaluations = [e for e in evaluations if (e["tenant"], e["monitor"]) == (monitor.tenant, monitor.id)]
    for e in evaluations:
        e["payload"] = json.loads(e["payload"])
    evaluations.sort(key=lambda e: (e["group_json"], e["at"]))
    detection = lowered.evaluate.detection
    if detection is not None and detection.type == "seasonal":
        add_seasonal_baselines(evaluations, detection, _params(config, monitor))
    return alerts, evaluations


def _params(config: str, monitor) -> dict:
    """The monitor's parameters from its latest config record."""
    records = [json.loads(line) for line in Path(config).read_text(encoding="utf-8").splitlines() if line.strip()]
    mine = [r for r in records if (r.get("tenant"), r.get("monitor")) == (monitor.tenant, monitor.id)]
    return max(mine, key=lambda r: r.get("updated_at", ""))["params"] if mine else {}


def add_seasonal_baselines(evaluations, detection, params: dict) -> None:
    """Each evaluation's payload gets the baseline the state UDAF scored it against
    (evaluations sorted by group, then time)."""
    from nql_flink.translator.flink.codegen import seasonal_detect_spec
    from nql_flink.udfs.flink.alert_state import to_epoch_ms
    from nql_flink.udfs.flink.baseline import day_and_key, judge_and_record, other_key, with_baseline

    spec = seasonal_detect_spec(detection).params
    history: dict[tuple[str, int], bytes] = {}
    cached: dict[tuple[str, int], bytes] = {}
    for e in evaluations:
        at = to_epoch_ms(datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%S.%fZ"))
        value = e["payload"]["values"].get(detection.metric)
        g, (day, key) = e["group_json"], day_and_key(at, spec)
        j, history[g, key], cached[g, key] = judge_and_record(
            history.get((g, key)), lambda: history.get((g, other_key(key))), at, day, value,
            params.get(detection.param), spec, cached.get((g, key)))
        e["payload"] = json.loads(with_baseline(json.dumps(e["payload"]), j, key // 2, spec))


# ----------------------------------------------------------------------------- the plot


def pick_group(alerts, evaluations, wanted: str | None) -> str | None:
    groups = sorted({e["group_json"] for e in evaluations})
    if wanted is not None:
        key = json.dumps(json.loads(wanted), sort_keys=True)
        return next((g for g in groups if json.dumps(json.loads(g), sort_keys=True) == key), None)
    counts = {g: sum(1 for a in alerts if json.dumps(a["group"], sort_keys=True) == json.dumps(json.loads(g), sort_keys=True))
              for g in groups}
    return max(groups, key=lambda g: (counts[g], -groups.index(g))) if groups else None


def plot(path: str, monitor, metric: str, group: str, alerts, evaluations) -> dict:
    """Metric, baseline centre and band, alert transitions of one group -> PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from datetime import datetime

    def when(text: str) -> datetime:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")

    rows = [e for e in evaluations if e["group_json"] == group]
    t = [when(e["at"]) for e in rows]
    value = [e["payload"]["values"].get(metric) for e in rows]
    base = [e["payload"].get("baseline") for e in rows]
    centre = [b["centre"] if b else float("nan") for b in base]
    lo = [b["band"][0] if b else float("nan") for b in base]
    hi = [b["band"][1] if b else float("nan") for b in base]
    fig, ax = plt.subplots(figsize=(12, 4.5), dpi=100)
    if any(b for b in base):
        ax.fill_between(t, lo, hi, color="tab:blue", alpha=0.15, step="mid", label="baseline band")
        ax.plot(t, centre, color="tab:blue", lw=0.8, ls="--", label="baseline centre")
    ax.plot(t, [v if v is not None else float("nan") for v in value], color="black", lw=1.0, label=metric)
    mine = [a for a in alerts if json.dumps(a["group"], sort_keys=True) == json.dumps(json.loads(group), sort_keys=True)]
    for a in mine:
        colour = "tab:red" if a["status"] == "triggered" else "tab:green"
        ax.axvline(when(a["at"]), color=colour, lw=1.2)
    for status, colour in (("triggered", "tab:red"), ("recovered", "tab:green")):
        if any(a["status"] == status for a in mine):
            ax.plot([], [], color=colour, label=status)
    ax.set_title(f"{monitor.tenant}/{monitor.id}  group {group}", fontsize=10)
    ax.set_ylabel(metric)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return {"evaluations": len(rows), "transitions": len(mine),
            "learning": sum(1 for b in base if not b) if monitor.spec.detection.type != "threshold" else None}


# ----------------------------------------------------------------------------- command


def main(args) -> int:
    ready = inputs_and_job(args, "explain")
    if isinstance(ready, int):
        return ready
    inputs, compiled = ready
    monitors = [m for m in compiled.result.monitors if args.monitor in (None, m.id)]
    if len(monitors) != 1:
        ids = ", ".join(sorted(f"{m.tenant}/{m.id}" for m in compiled.result.monitors))
        print(f"nql-flink explain: name one monitor with --monitor (monitors: {ids})", file=sys.stderr)
        return 2
    monitor = monitors[0]
    if missing_inputs(compiled, inputs, "explain") is None:
        return 2
    det = monitor.spec.detection
    metric = det.metric if det.type != "threshold" else monitor.query.outputs[0].name
    print(f"running {monitor.tenant}/{monitor.id} on embedded Flink ...", file=sys.stderr)
    from nql_flink.deploy.embedded.runner import FlinkError

    with tempfile.TemporaryDirectory(prefix="nql-flink-explain-") as tmp:
        try:
            alerts, evaluations = run_traced(compiled, monitor, inputs, args.config, tmp)
        except FlinkError as err:
            return report_flink_failure(compiled, err, args.verbose)
    group = pick_group(alerts, evaluations, args.group)
    if group is None:
        print("nql-flink explain: " + ("no evaluation of group " + args.group if args.group else "no evaluations"),
              file=sys.stderr)
        return 1
    info = plot(args.output, monitor, metric, group, alerts, evaluations)
    print(f"{args.output}: group {group}, {info['evaluations']} evaluation(s), {info['transitions']} transition(s)"
          + (f", {info['learning']} learning" if info["learning"] is not None else ""), file=sys.stderr)
    return 0
