"""Many monitors on one table, session.vdi_events, in five families (issue 15, benchmarks 3 and
5: benchmarks/many_monitors.py, benchmarks/state_bytes.py), and the one input that serves
every size of both.

distinct: N monitors of N different shapes (docs/sharing.md, "Shape"), all of one tenant, the
  kind a large customer writes over one table. Each is a point of four dimensions:
    window    `during` and `every` (8: 5min/30s .. 1h/5min)
    keys      the `by` keys among the catalog's fields, the event's own and the inventory's
              through the device link (10, none included)
    measure   an aggregate kind and its input, with its trigger (8: avg, p95, min, max,
              countif over latency, rtt, input delay, frame rate, CPU queue)
    filter    a `where` on the event or on the device (6, none included)
  8 x 10 x 8 x 6 = 3,840 points, all different shapes. Monitor 0 is the seed monitor
  (examples/monitors/vdi_latency_by_pool.yaml without its `recover`), so N = 1 is the
  monitor of the other benchmarks; the others are the remaining points in a fixed shuffled
  order (seed 15), so that a few dozen already mix every value of every dimension. A second
  aggregate counts devices, sessions or samples (by turns), with a minimum in the trigger, as
  real monitors do.
same: N copies of the seed monitor's shape with their own ids, thresholds (latency 250 ..
  449 ms, at least 1 .. 3 devices) and tenants: monitor i belongs to tenant i mod T of
  T = max(1, N / 10) tenants (t000, t001, ...).
tenants: the same family's monitors, one per tenant (T = N), so that same 10N / tenants N is
  what the monitors beyond a tenant's first cost, and tenants N / same 1 what its tenants cost
  (the same input, dealt out to N tenants). Not run unless asked for (--families).
one_tenant: the same family's monitors, all of one tenant (t000, the input of T = 1): what N
  monitors cost without tenants. Not run unless asked for.
pools: one monitor of the same shape, of one tenant, over the input whose devices are dealt
  out to N sets of desktop pools of that tenant (each device's pool renamed `<pool>-t<k>`, k
  its set): the groups of tenants N (5 pools each) in one tenant, so that pools N / same 1 is
  what N times the groups cost, and tenants N / pools N what N tenants cost beyond their
  groups. Not run unless asked for.

The input: one simulated tenant (seed.simulate, `--tenants acme`, the seed incident) whose
devices are dealt out to the T tenants by collector uid (uid number mod T), in the events
and the inventory alike: every tenant has data, and the record count is the same for every
T, so throughputs of different sizes compare. A device keeps its records, only its tenant
changes. The distinct and one_tenant families read the input of T = 1 (tenant t000); the
pools family its own (`layout`).
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

from seed import EVENTS

WINDOWS = (("5min", "30s"), ("10min", "1min"), ("15min", "1min"), ("5min", "1min"), ("30min", "5min"),
           ("10min", "30s"), ("1h", "5min"), ("15min", "5min"))
KEYS = (("device.virtualization.desktop_pool",), ("protocol",), ("client.location.site",),
        ("context.location.country",), ("device.virtualization.desktop_pool", "protocol"),
        ("device.virtualization.environment",), ("context.location.type",), ("device.operating_system.name",),
        ("client.location.site", "protocol"), ())
# (column, aggregate, trigger condition on the column)
MEASURES = (("avg_latency", "network_latency.avg()", "avg_latency > 300ms"),
            ("p95_latency", "network_latency.p95()", "p95_latency > 400ms"),
            ("avg_rtt", "rtt.avg()", "avg_rtt > 250ms"),
            ("p95_input_delay", "user_input_delay.p95()", "p95_input_delay > 250ms"),
            ("min_fps", "frame_rate.min()", "min_fps < 10"),
            ("max_cpu_queue", "cpu_queue_length.max()", "max_cpu_queue > 8"),
            ("slow_samples", "countif(network_latency > 200ms)", "slow_samples > 20"),
            ("max_rtt", "rtt.max()", "max_rtt > 600ms"))
FILTERS = ("device.virtualization.desktop_pool != null", None, "event_type == sample", "protocol in [ica, blast]",
           "context.location.type == remote", "device.hardware.type == virtual")
# the second aggregate, its column and the minimum the trigger asks for
COUNTS = (("sessions", "device.count()", 5), ("sessions", "session.uid.count()", 5), ("samples", "count()", 10))
FAMILIES = ("distinct", "same", "tenants", "one_tenant", "pools")
DEFAULT_FAMILIES = ("distinct", "same")
SEED_TENANT = "acme"  # the simulated tenant whose devices are dealt out

MONITOR = """\
  - id: {id}
    tenant: {tenant}
    query: |
      session.vdi_events during past {during}{where}
      | summarize {column} = {aggregate}, {count_column} = {count}{by}
    every: {every}
    trigger:
      when: {condition} and {count_column} >= {minimum}
      for: 5min
"""


def tenant(j: int) -> str:
    return f"t{j:03d}"


def tenants(family: str, n: int) -> int:
    """How many tenants the family's N monitors belong to."""
    return max(1, n // 10) if family == "same" else n if family == "tenants" else 1


def monitor_count(family: str, n: int) -> int:
    """How many monitors size N of the family has (pools: one, over N sets of pools)."""
    return 1 if family == "pools" else n


def layout(family: str, n: int) -> tuple[str, int]:
    """The input size N of the family reads: ("tenants", T), dealt out to T tenants, or
    ("pools", N), dealt out to N sets of pools of one tenant."""
    return ("pools", n) if family == "pools" else ("tenants", tenants(family, n))


def input_files(files: dict[str, Path], kind_and_count: tuple[str, int], folder: Path) -> dict[str, Path]:
    """The simulated files laid out as `layout` says, in a folder of `folder` named after it."""
    kind, t = kind_and_count
    return dealt_out(files, t, folder / f"{kind}-{t}", pools=kind == "pools")


def points() -> list[tuple[int, int, int, int]]:
    """The distinct family's points (window, keys, measure, filter), the seed monitor's first."""
    rest = [p for p in itertools.product(*map(range, (len(WINDOWS), len(KEYS), len(MEASURES), len(FILTERS))))
            if p != (0, 0, 0, 0)]
    random.Random(15).shuffle(rest)
    return [(0, 0, 0, 0), *rest]


def distinct(n: int) -> list[str]:
    if n > len(WINDOWS) * len(KEYS) * len(MEASURES) * len(FILTERS):
        raise SystemExit(f"{n} distinct monitors: the generator has {len(points())} shapes")
    out = []
    for i, (w, k, m, f) in enumerate(points()[:n]):
        count_column, count, minimum = COUNTS[i % len(COUNTS)]
        column, aggregate, condition = MEASURES[m]
        out.append(MONITOR.format(
            id=f"distinct_{i:04d}", tenant=tenant(0), during=WINDOWS[w][0], every=WINDOWS[w][1],
            where=f"\n      | where {FILTERS[f]}" if FILTERS[f] else "", column=column, aggregate=aggregate,
            count_column=count_column, count=count, by=f"\n        by {', '.join(KEYS[k])}" if KEYS[k] else "",
            condition=condition, minimum=minimum))
    return out


def same(n: int, family: str = "same") -> list[str]:
    t = tenants(family, n)
    return [MONITOR.format(id=f"{family}_{i:04d}", tenant=tenant(i % t), during="5min", every="30s",
                           where="\n      | where device.virtualization.desktop_pool != null", column="avg_latency",
                           aggregate="network_latency.avg()", count_column="sessions", count="device.count()",
                           by="\n        by device.virtualization.desktop_pool",
                           condition=f"avg_latency > {250 + i * 37 % 200}ms", minimum=1 + i % 3)
            for i in range(n)]


def add_arguments(ap, sizes: str) -> None:
    """--sizes and --families of a benchmark over these families."""
    ap.add_argument("--sizes", help=f"numbers of monitors, 1 among them (default {sizes}; --smoke: 1)")
    ap.add_argument("--families", help=f"among {', '.join(FAMILIES)} (default {','.join(DEFAULT_FAMILIES)}; --smoke: same)")


def chosen(args, sizes: str) -> tuple[list[int], list[str]]:
    """The sizes and families asked for (--smoke: size 1 of the same family unless given);
    args keeps them as text, for the benchmark's JSON."""
    args.sizes = args.sizes or ("1" if args.smoke else sizes)
    args.families = args.families or ("same" if args.smoke else ",".join(DEFAULT_FAMILIES))
    numbers = sorted({int(s) for s in args.sizes.split(",")})
    families = [f for f in args.families.split(",") if f]
    if 1 not in numbers or not set(families) <= set(FAMILIES):
        raise SystemExit(f"--sizes must include 1 (the reference) and --families be among {', '.join(FAMILIES)}")
    return numbers, families


def monitors_file(path: Path, family: str, n: int) -> Path:
    """The family's N monitors in one file."""
    path.write_text("monitors:\n" + "".join(distinct(n) if family == "distinct" else
                                           same(monitor_count(family, n), family)),
                    encoding="utf-8")
    return path


def dealt_out(files: dict[str, Path], t: int, out: Path, pools: bool = False) -> dict[str, Path]:
    """The simulated files (one tenant, SEED_TENANT) with each device moved to tenant `uid
    number mod t`, in the events and the inventory; the same records otherwise. With `pools`,
    every device goes to tenant t000 and its inventory's desktop pool (if any) gets that
    tenant's name instead: `<pool>-t<k>`."""
    out.mkdir(parents=True, exist_ok=True)
    dealt = {}
    for table, path in files.items():
        uid = (lambda r: r["device"]["collector"]["uid"]) if table == EVENTS else (lambda r: r["collector"]["uid"])
        dealt[table] = out / path.name
        with path.open() as src, dealt[table].open("w") as dst:
            for line in src:
                r = json.loads(line)
                if r["tenant"] != SEED_TENANT:
                    raise SystemExit(f"{path}: a record of tenant {r['tenant']!r}, expected only {SEED_TENANT!r}")
                k = tenant(int(uid(r).rsplit("-", 1)[1]) % t)
                r["tenant"] = tenant(0) if pools else k
                pool = r.get("virtualization", {}).get("desktop_pool") if pools else None
                if pool is not None:
                    r["virtualization"]["desktop_pool"] = f"{pool}-{k}"
                dst.write(json.dumps(r, separators=(",", ":")) + "\n")
    return dealt
