"""What event time per tenant costs in alert delay: the generated job on a real broker (started
here, on loopback) and the embedded mini-cluster, telemetry produced live, one sample every
STEP seconds of wall time (default 1, below the job's 2 s idle timeout), and the wall time from producing the sample that completes a
window to the alert showing up on the alert topic.

Two runs in this process, same monitor, same acme data (the scenario of
tests/kafka/scenario.py: acme Finance triggers at 10:01:30 and recovers at 10:03:30):
  reference  globex on time, beside acme on the same partition;
  lagging    globex 3 minutes behind acme on the same partition.
The ratio lagging / reference of acme's alert delays says what a lagging tenant costs the
others (1.0: nothing). The lagging tenant's own alert comes when its data does.

    .venv/bin/python benchmarks/tenant_delay.py [--step 1]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.kafka import scenario as sc  # noqa: E402  (the scenario's records and monitor)

LAG = 6  # samples of 30 s
# acme's alerts and the sample whose event time (minus the 10 s lateness) passes their window
COMPLETES = {("acme", "triggered"): 4, ("acme", "recovered"): 8}


def run(t_env, bootstrap: str, lag: int, step: float) -> dict:
    from nql_flink.deploy.embedded.runner import start_job
    from nql_flink.deploy.kafka import client as kc
    from nql_flink.deploy.kafka.telemetry import record_key
    from nql_flink.deploy.submit import prepare_kafka
    from nql_flink.translator.flink.codegen import session_options
    from nql_flink.translator.flink.connectors import CompileOptions
    from nql_flink.translator.pipeline import compile_paths

    prefix = f"delay{int(time.time() * 1000) % 10**8}."
    props = Path(tempfile.mkdtemp()) / "kafka.properties"
    props.write_text(f"bootstrap.servers={bootstrap}\n")
    o = CompileOptions(topic_prefix=prefix, group_id=prefix + "nql", idle_timeout="2 s", credentials=f"file:{props}")
    compiled = compile_paths([str(sc.MONITORS)], options=o)
    prepare_kafka(bootstrap, compiled, o)
    # no flush records on the inventory and config topics: their event time stays at their
    # data's (09:00, 1970) and they go idle after 2 s, so the job's event time is the events'
    inv = [ln.encode() for ln in sc.inventory()]
    key = record_key("session.vdi_events")
    kc.produce(bootstrap, o.topic("nql.device.devices"), [(record_key("device.devices")(x), x) for x in inv])
    result = start_job(compiled.statements(), t_env=t_env,
                       config={**session_options(o), "restart-strategy.type": "none",
                               "execution.checkpointing.interval": "1 s"})
    produced_at: dict[int, float] = {}
    seen: dict[tuple, float] = {}
    events_topic, alerts_topic = o.topic("nql.session.vdi_events"), o.topic(o.alerts_topic)
    total = 5 + (12 + lag) * step + 60

    def watch():  # one consumer for the whole run: the time each alert first shows up
        for _, v in kc.tail(bootstrap, alerts_topic, timeout=total, read_committed=False):
            a = json.loads(v)
            seen.setdefault((a["tenant"], a["status"]), time.monotonic())
            if len(seen) == 3:
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        time.sleep(5)  # the job reads the inventory and config
        for k in range(12 + lag):
            lines = []
            if k < 12:
                lines += [json.dumps(e) for e in sc.events([k], ("acme",))]
            if 0 <= k - lag < 12:
                lines += [json.dumps(e) for e in sc.events([k - lag], ("globex",))]
            kc.produce(bootstrap, events_topic, [(key(x.encode()), x.encode()) for x in lines])
            produced_at[k] = time.monotonic()
            time.sleep(step)
        watcher.join(timeout=60)
    finally:
        result.get_job_client().cancel().result()
    return {alert: seen[alert] - produced_at[k] for alert, k in COMPLETES.items() if alert in seen} | \
        {"globex triggered after its completing sample":
         seen[("globex", "triggered")] - produced_at[4 + lag] if ("globex", "triggered") in seen else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=float, default=1.0, help="wall seconds between samples, below the 2 s idle "
                    "timeout (default 1)")
    args = ap.parse_args()
    from nql_flink.deploy.embedded.runner import create_table_env
    from nql_flink.deploy.jars import add_jars
    from nql_flink.deploy.kafka import KafkaBroker

    with tempfile.TemporaryDirectory() as d:
        print("starting a broker and the mini-cluster ...", file=sys.stderr, flush=True)
        broker = KafkaBroker.start(Path(d) / "kafka", quiet=True)
        try:
            t_env = create_table_env()
            add_jars(t_env)
            out = {}
            for name, lag in (("reference (globex on time)", 0), ("lagging (globex 3 min behind)", LAG)):
                print(f"run: {name} ...", file=sys.stderr, flush=True)
                out[name] = run(t_env, broker.bootstrap, lag, args.step)
        finally:
            broker.stop()
    ref, lagged = out["reference (globex on time)"], out["lagging (globex 3 min behind)"]
    print(f"alert delay after the sample that completes its window (one sample every {args.step:g} s of wall time):")
    for alert in COMPLETES:
        r, g = ref.get(alert), lagged.get(alert)
        ratio = f"{g / r:.2f}" if r and g else "n/a"
        print(f"  {alert[0]} {alert[1]:<9}  reference {r if r is None else f'{r:5.2f} s'}   "
              f"lagging {g if g is None else f'{g:5.2f} s'}   ratio {ratio}")
    g = lagged["globex triggered after its completing sample"]
    print(f"  globex triggered (the lagging tenant, after its own completing sample): "
          f"{'missing' if g is None else f'{g:.2f} s'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
