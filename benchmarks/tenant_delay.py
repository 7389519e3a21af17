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
import time
from pathlib import Path

from live import AlertWatcher, LiveJob, broker_and_flink  # benchmarks/, the script's folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.kafka import scenario as sc  # noqa: E402  (the scenario's records and monitor)

LAG = 6  # samples of 30 s
# acme's alerts and the sample whose event time (minus the 10 s lateness) passes their window
COMPLETES = {("acme", "triggered"): 4, ("acme", "recovered"): 8}


def run(t_env, bootstrap: str, lag: int, step: float) -> dict:
    job = LiveJob.start(t_env, bootstrap, sc.MONITORS, sc.inventory(), idle_timeout="2 s",
                        config={"execution.checkpointing.interval": "1 s"})
    # no flush records on the inventory and config topics: their event time stays at their
    # data's (09:00, 1970) and they go idle after 2 s, so the job's event time is the events'
    watcher = AlertWatcher(bootstrap, job.alerts_topic, read_committed=False)
    produced_at: dict[int, float] = {}
    try:
        time.sleep(5)  # the job reads the inventory and config
        for k in range(12 + lag):
            lines = []
            if k < 12:
                lines += [json.dumps(e) for e in sc.events([k], ("acme",))]
            if 0 <= k - lag < 12:
                lines += [json.dumps(e) for e in sc.events([k - lag], ("globex",))]
            produced_at[k] = job.produce(lines)
            time.sleep(step)
        watcher.wait(lambda seen: len(first_seen(seen)) == 3, timeout=60)
    finally:
        watcher.stop()
        job.cancel()
    seen = first_seen(watcher.seen)
    return {alert: seen[alert] - produced_at[k] for alert, k in COMPLETES.items() if alert in seen} | \
        {"globex triggered after its completing sample":
         seen[("globex", "triggered")] - produced_at[4 + lag] if ("globex", "triggered") in seen else None}


def first_seen(seen: dict[tuple, float]) -> dict[tuple[str, str], float]:
    """(tenant, status) -> when its first alert was read (AlertWatcher.seen)."""
    out: dict[tuple[str, str], float] = {}
    for (tenant, _, _, status, _), at in list(seen.items()):
        out[tenant, status] = min(at, out.get((tenant, status), at))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=float, default=1.0, help="wall seconds between samples, below the 2 s idle "
                    "timeout (default 1)")
    args = ap.parse_args()
    out = {}
    with broker_and_flink(None) as (bootstrap, t_env):
        for name, lag in (("reference (globex on time)", 0), ("lagging (globex 3 min behind)", LAG)):
            print(f"run: {name} ...", file=sys.stderr, flush=True)
            out[name] = run(t_env, bootstrap, lag, args.step)
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
