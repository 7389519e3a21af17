"""The simulated estate: devices and users per tenant, and their working-day sessions.

Everything is derived from (seed, tenant, local day) so a given day always looks the
same whatever window of it is simulated. The fleet *structure* (device names, pools,
hardware, users, collector uids) is identical in every tenant on purpose: tenants share
pool names, device names and even collector uids, and only `tenant` tells them apart.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from .config import parse_offset

DAY_MS = 86_400_000
_FIRST = ("ana", "ben", "chloe", "david", "emma", "felix", "gina", "hugo", "iris", "jonas", "kim", "leo",
          "mia", "noah", "olga", "paul", "quinn", "rosa", "sam", "tara", "ugo", "vera", "will", "xena",
          "yann", "zoe", "amir", "bea", "carlos", "dina", "eli", "fatima", "gus", "hana", "ivan", "julia")
_LAST = ("muller", "smith", "rossi", "martin", "garcia", "schmid", "dubois", "keller", "novak", "tanaka",
         "brown", "meier", "weber", "silva", "nguyen", "kowalski", "jensen", "fischer", "moreau", "huber",
         "lopez", "kumar", "baker", "wagner", "fontana", "berg", "costa", "ito", "li", "olsen")


def stable_hash(*parts) -> int:
    return zlib.crc32("\x1f".join(map(str, parts)).encode()) & 0x7FFFFFFF


def rng_for(seed: int, *parts) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *(stable_hash(p) for p in parts)])


def load_profile(path: str | None = None) -> dict:
    if path is None:
        text = (resources.files("nql_flink.simulator") / "profiles.yaml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _hhmm(text: str) -> float:
    h, m = str(text).split(":")
    return int(h) * 3600 + int(m) * 60


def _split(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of total by weights (deterministic)."""
    w = np.asarray(weights, float)
    raw = total * w / w.sum()
    counts = np.floor(raw).astype(int)
    rest = total - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts.tolist()


@dataclass
class Fleet:
    """One tenant's devices (parallel numpy arrays, one entry per device)."""

    tenant: str
    offset_ms: int
    n: int
    uid: np.ndarray
    name: np.ndarray
    user: np.ndarray
    is_vdi: np.ndarray
    hw_type: np.ndarray
    pool: np.ndarray            # None for physical
    environment: np.ndarray     # None for physical
    os: np.ndarray
    platform: np.ndarray
    manufacturer: np.ndarray
    model: np.ndarray
    memory: np.ndarray          # bytes, int64
    cpus: np.ndarray            # int64
    protocol: np.ndarray        # VDI protocol (None for physical)
    latency_ms: np.ndarray      # pool baseline latency (nan for physical)
    entity: np.ndarray
    site: np.ndarray
    country: np.ndarray
    subnet: np.ndarray
    continuous: np.ndarray      # 24/7 session (VDI operators)
    always_on: np.ndarray       # reports device_performance around the clock
    perf_phase_ms: np.ndarray   # device_performance sampling phase within 5 min
    drive_usage: np.ndarray     # system drive usage baseline 0..1


def tenant_spec(text: str, profile: dict) -> tuple[str, int]:
    """'acme' or 'acme:+01:00' -> (name, utc offset ms)."""
    name, _, off = text.partition(":")
    prof = profile.get("tenants", {}).get(name, profile["default_tenant"])
    return name, parse_offset(off or prof["utc_offset"])


def build_fleet(tenant_text: str, n: int, vdi_share: float, seed: int, profile: dict,
                pools: tuple[str, ...] | None = None) -> Fleet:
    tenant, offset = tenant_spec(tenant_text, profile)
    rng = rng_for(seed, "fleet", n)  # structure: identical for every tenant
    pool_specs = profile["pools"]
    if pools:
        by_name = {p["name"]: p for p in pool_specs}
        template = pool_specs[0]
        pool_specs = [by_name.get(p, {**template, "name": p, "code": p.split("-")[0][:3].upper()}) for p in pools]
    n_vdi = int(round(n * vdi_share)) if pool_specs else 0
    n_phys = n - n_vdi
    cols: dict[str, list] = {k: [] for k in ("name", "is_vdi", "hw_type", "pool", "environment", "os", "platform",
                                             "manufacturer", "model", "memory", "cpus", "protocol", "latency_ms")}

    def add(**kw):
        for k, v in kw.items():
            cols[k].append(v)

    gib = 1 << 30
    width = max(3, len(str(max(n, 1))))
    for spec, count in zip(pool_specs, _split(n_vdi, [p.get("weight", 1) for p in pool_specs]) if pool_specs else []):
        for i in range(count):
            add(name=f"VDI-{spec['code']}-{i + 1:0{width}d}", is_vdi=True, hw_type="virtual", pool=spec["name"],
                environment=spec["environment"], os=spec["os"], platform=spec["platform"],
                manufacturer=spec["manufacturer"], model=spec["model"], memory=int(spec["memory_gib"]) * gib,
                cpus=int(spec["cpus"]), protocol=spec["protocol"], latency_ms=float(spec["latency_ms"]))
    phys = profile["physical"]
    for spec, count in zip(phys, _split(n_phys, [p.get("weight", 1) for p in phys])):
        for i in range(count):
            add(name=f"{spec['prefix']}-{i + 1:0{width}d}", is_vdi=False, hw_type=spec["type"], pool=None,
                environment=None, os=spec["os"], platform=spec["platform"], manufacturer=spec["manufacturer"],
                model=spec["models"][rng.integers(len(spec["models"]))],
                memory=int(spec["memory_gib"][rng.integers(len(spec["memory_gib"]))]) * gib,
                cpus=int(spec["cpus"][rng.integers(len(spec["cpus"]))]), protocol=None, latency_ms=np.nan)
    uid = np.array([f"c-{i + 1:0{max(5, width)}d}" for i in range(n)], dtype=object)
    users, seen = [], set()
    for i in range(n):
        u = f"{_FIRST[rng.integers(len(_FIRST))]}.{_LAST[rng.integers(len(_LAST))]}"
        base, k = u, 2
        while u in seen:
            u, k = f"{base}{k}", k + 1
        seen.add(u)
        users.append(u)
    sched = profile["schedule"]
    is_vdi = np.array(cols["is_vdi"], bool)
    hw = np.array(cols["hw_type"], dtype=object)
    continuous = is_vdi & (rng.random(n) < sched["continuous_fraction"])
    always_on = is_vdi | ((hw == "desktop") & (rng.random(n) < sched["always_on_desktops"]))
    perf_phase = rng.integers(0, 300, n) * 1000
    drive = np.round(rng.uniform(0.25, 0.9, n), 3)

    trng = rng_for(seed, "entities", tenant)
    ents = profile.get("tenants", {}).get(tenant, profile["default_tenant"])["entities"]
    w = np.array([e.get("weight", 1) for e in ents], float)
    eidx = trng.choice(len(ents), size=n, p=w / w.sum())
    obj = lambda xs: np.array(xs, dtype=object)  # noqa: E731
    return Fleet(
        tenant=tenant, offset_ms=offset, n=n, uid=uid, name=obj(cols["name"]), user=obj(users), is_vdi=is_vdi,
        hw_type=hw, pool=obj(cols["pool"]), environment=obj(cols["environment"]), os=obj(cols["os"]),
        platform=obj(cols["platform"]), manufacturer=obj(cols["manufacturer"]), model=obj(cols["model"]),
        memory=np.array(cols["memory"], np.int64), cpus=np.array(cols["cpus"], np.int64),
        protocol=obj(cols["protocol"]), latency_ms=np.array(cols["latency_ms"], float),
        entity=obj([ents[i]["name"] for i in eidx]), site=obj([ents[i]["site"] for i in eidx]),
        country=obj([ents[i]["country"] for i in eidx]), subnet=np.array([ents[i]["subnet"] for i in eidx]),
        continuous=continuous, always_on=always_on, perf_phase_ms=perf_phase, drive_usage=drive,
    )


@dataclass
class Sessions:
    """One tenant's user sessions (parallel arrays), covering whole local days."""

    dev: np.ndarray          # device index
    start: np.ndarray        # epoch ms (logon)
    end: np.ndarray          # epoch ms (logoff)
    continuous: np.ndarray   # day-long operator session: no logon/logoff events
    remote: np.ndarray       # context.location.type = remote
    offset: np.ndarray       # per-session latency offset (ms)
    phase1: np.ndarray
    phase2: np.ndarray
    activity: np.ndarray     # how busy the user is, 0..1
    uid: np.ndarray          # session.uid
    ip: np.ndarray           # client.ip


def build_sessions(fleet: Fleet, seed: int, profile: dict, start_ms: int, end_ms: int) -> Sessions:
    sched = profile["schedule"]
    first_day = (start_ms + fleet.offset_ms) // DAY_MS - 1
    last_day = (end_ms + fleet.offset_ms) // DAY_MS
    parts = []
    n = fleet.n
    for day in range(first_day, last_day + 1):
        rng = rng_for(seed, "sessions", fleet.tenant, day, n)
        weekday = (day + 3) % 7 < 5  # 1970-01-01 was a Thursday
        p = sched["workday_probability"] if weekday else sched["weekend_probability"]
        works = rng.random(n) < p
        late = rng.random(n) < sched["late_logon_fraction"]
        logon = np.where(late, rng.uniform(8.5 * 3600, 11 * 3600, n),
                         _hhmm(sched["logon_peak"]) + rng.normal(0, sched["logon_sd_minutes"] * 60, n))
        logon = np.clip(logon, 6.5 * 3600, 11.5 * 3600)
        logoff = _hhmm(sched["logoff_peak"]) + rng.normal(0, sched["logoff_sd_minutes"] * 60, n)
        logoff = np.clip(logoff, _hhmm(sched["earliest_logoff"]), 20.5 * 3600)
        remote = rng.random(n) < sched["remote_probability"]
        offset = rng.normal(0, 6, n)
        ph1, ph2 = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)
        activity = rng.beta(4, 2, n)
        ipx = rng.integers(2, 254, n)
        day0 = day * DAY_MS - fleet.offset_ms  # local midnight in UTC ms
        cont = fleet.continuous
        s = np.where(cont, day0, day0 + np.floor(logon).astype(np.int64) * 1000)
        e = np.where(cont, day0 + DAY_MS, day0 + np.floor(logoff).astype(np.int64) * 1000)
        keep = works | cont
        ymd = (date(1970, 1, 1) + timedelta(days=int(day))).strftime("%Y%m%d")
        idx = np.nonzero(keep)[0]
        uid = np.array([f"s-{fleet.uid[i][2:]}-{ymd}" for i in idx], dtype=object)
        ip = np.array([
            f"198.51.100.{ipx[i]}" if remote[i] else f"10.{fleet.subnet[i]}.{i // 250}.{i % 250 + 2}"
            for i in idx], dtype=object)
        parts.append((idx, s[idx], e[idx], cont[idx], remote[idx], offset[idx], ph1[idx], ph2[idx],
                      activity[idx], uid, ip))
    cat = [np.concatenate(x) for x in zip(*parts)]
    return Sessions(*cat)
