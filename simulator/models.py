"""Value models: what each table's metrics look like for one tenant and one time chunk.

Each generator returns columns keyed by catalog path (numpy arrays or lists) plus the
private columns `_t` (event time, epoch ms) and `_dev` (device index, a sort tie-break).
Times are numpy int64 epoch milliseconds; the engine formats them.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

import numpy as np

from .config import Incident
from .fleet import DAY_MS, Fleet, Sessions

HOUR_MS = 3_600_000
VDI_STEP = 30_000
FIVE_MIN = 300_000


# ---------------------------------------------------------------------------- shapes over the day

def local_hours(t: np.ndarray, offset_ms: int) -> np.ndarray:
    return ((t + offset_ms) % DAY_MS) / HOUR_MS


def busy(h: np.ndarray) -> np.ndarray:
    """Office-hours load 0..1 (local time), with a lunch dip."""
    day = 1 / (1 + np.exp(-(h - 8.3) * 3)) / (1 + np.exp((h - 18.0) * 2))
    return day * (1 - 0.25 * np.exp(-0.5 * ((h - 12.5) / 0.5) ** 2))


def storm(h: np.ndarray, peak: float = 8.0) -> np.ndarray:
    """The morning logon storm, 0..1, peaking at `peak` local time."""
    return np.exp(-0.5 * ((h - peak) / 0.4) ** 2)


# ---------------------------------------------------------------------------- sampling grids

def grid(base: np.ndarray, step: int, tmin: np.ndarray, tmax: np.ndarray, c0: int, c1: int):
    """All t = base_i + step*k with max(tmin_i, c0) <= t <= min(tmax_i, c1 - 1).

    Returns (row index, t) sorted by row then time. Vectorized with repeat/cumsum.
    """
    lo = np.maximum(tmin, c0) - base
    hi = np.minimum(tmax, c1 - 1) - base
    k_lo = -((-lo) // step)
    k_hi = hi // step
    counts = np.maximum(k_hi - k_lo + 1, 0)
    total = int(counts.sum())
    rows = np.repeat(np.arange(len(base)), counts)
    if total == 0:
        return rows, np.zeros(0, np.int64)
    starts = np.cumsum(counts) - counts
    within = np.arange(total) - np.repeat(starts, counts)
    t = base[rows] + step * (k_lo[rows] + within)
    return rows, t.astype(np.int64)


# ---------------------------------------------------------------------------- incidents

class IncidentSet:
    """Incidents of one tenant, applied to metric arrays."""

    def __init__(self, incidents: list[Incident], fleet: Fleet):
        self.fleet = fleet
        self.items = [i for i in incidents if i.tenant in (None, fleet.tenant)]
        self._dev_masks: dict[int, np.ndarray] = {}

    def _dev_mask(self, k: int, inc: Incident) -> np.ndarray:
        m = self._dev_masks.get(k)
        if m is None:
            f = self.fleet
            m = np.ones(f.n, bool)
            if inc.pool is not None:
                m &= f.pool == inc.pool
            if inc.entity is not None:
                m &= f.entity == inc.entity
            if inc.hardware_type is not None:
                m &= f.hw_type == inc.hardware_type
            if inc.device is not None:
                m &= np.array([fnmatchcase(x, inc.device) for x in f.name], bool)
            self._dev_masks[k] = m
        return m

    def factor(self, inc: Incident, t: np.ndarray) -> np.ndarray:
        f = ((t >= inc.start_ms) & (t < inc.end_ms)).astype(float)
        if inc.ramp_ms > 0:
            f *= np.clip(np.minimum(t - inc.start_ms, inc.end_ms - t) / inc.ramp_ms, 0, 1)
        return f

    def apply(self, table: str, metric: str, values: np.ndarray, dev: np.ndarray, t: np.ndarray,
              binary: np.ndarray | None = None) -> np.ndarray:
        for k, inc in enumerate(self.items):
            if inc.metric != metric or (inc.table is not None and inc.table != table):
                continue
            f = self.factor(inc, t) * self._dev_mask(k, inc)[dev]
            if inc.binary is not None and binary is not None:
                f = f * (binary == inc.binary)
            if not f.any():
                continue
            values = values.astype(float, copy=True)
            if inc.set is not None:
                values = values * (1 - f) + inc.set * f
            else:
                values = values * (1 + (inc.mul - 1) * f) + inc.add * f
        return values

    def max_mul(self, metric: str) -> float:
        return max([1.0, *(i.mul for i in self.items if i.metric == metric)])


# ---------------------------------------------------------------------------- VDI

def vdi_latency_mean(fleet: Fleet, ses: Sessions, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    dev = ses.dev[rows]
    h = local_hours(t, fleet.offset_ms)
    tt = t / 60_000.0
    return (fleet.latency_ms[dev] + 8 * busy(h) + 15 * ses.remote[rows] + ses.offset[rows]
            + 4 * np.sin(2 * np.pi * tt / 17 + ses.phase1[rows]) + 6 * np.sin(2 * np.pi * tt / 73 + ses.phase2[rows]))


def gen_vdi_events(fleet: Fleet, ses: Sessions, inc: IncidentSet, rng, c0: int, c1: int) -> dict:
    table = "session.vdi_events"
    sel = np.nonzero(fleet.is_vdi[ses.dev])[0]
    rows, t = grid(ses.start[sel], VDI_STEP, ses.start[sel] + VDI_STEP, ses.end[sel], c0, c1)
    rows = sel[rows]
    n = len(t)
    dev = ses.dev[rows]
    h = local_hours(t, fleet.offset_ms)
    b = busy(h)
    lat = vdi_latency_mean(fleet, ses, rows, t) + rng.normal(0, 7, n)
    lat += (rng.random(n) < 0.004) * rng.uniform(40, 160, n)
    lat = inc.apply(table, "network_latency", np.maximum(lat, 8.0), dev, t)
    cpuq = 0.6 + 1.2 * b + 2.5 * storm(h) + rng.gamma(2.0, 0.15, n)
    cpuq = inc.apply(table, "cpu_queue_length", cpuq, dev, t)
    rtt = inc.apply(table, "rtt", np.maximum(0.55 * lat + 12 + rng.normal(0, 4, n), 2.0), dev, t)
    uid = inc.apply(table, "user_input_delay",
                    np.maximum(18 + 0.25 * lat + 6 * cpuq + rng.normal(0, 5, n), 1.0), dev, t)
    fps = inc.apply(table, "frame_rate", np.clip(28 - 0.02 * lat - 1.2 * cpuq + rng.normal(0, 1.5, n), 5, 60), dev, t)
    act = ses.activity[rows]
    bw = np.maximum(1.2e6 + 1.5e6 * act * b + rng.normal(0, 2e5, n), 64_000)
    bw = inc.apply(table, "bandwidth", bw, dev, t)
    first = (t - ses.start[rows]) == VDI_STEP
    last = t + VDI_STEP > ses.end[rows]
    cont = ses.continuous[rows]
    etype = np.full(n, "sample", dtype=object)
    etype[rng.random(n) < 0.001] = "reconnect"
    etype[first & ~cont] = "logon"
    etype[last & ~cont] = "logoff"
    return {
        "_t": t, "_dev": dev,
        "start_time": t - VDI_STEP, "end_time": t,
        "device.collector.uid": fleet.uid[dev], "device.name": fleet.name[dev], "user.name": fleet.user[dev],
        "session.uid": ses.uid[rows],
        "network_latency": np.round(lat, 1), "rtt": np.round(np.maximum(rtt, 0), 1),
        "user_input_delay": np.round(np.maximum(uid, 0), 1), "frame_rate": np.round(fps, 1),
        "bandwidth": np.round(bw).astype(np.int64), "cpu_queue_length": np.round(np.maximum(cpuq, 0), 2),
        "protocol": fleet.protocol[dev], "event_type": etype,
        "context.location.country": fleet.country[dev],
        "context.location.type": np.where(ses.remote[rows], "remote", "on_site").astype(object),
        "client.location.site": fleet.site[dev], "client.ip": ses.ip[rows],
    }


# ---------------------------------------------------------------------------- device performance

def gen_device_performance(fleet: Fleet, ses: Sessions, inc: IncidentSet, rng, c0: int, c1: int) -> dict:
    table = "device_performance.events"
    on = np.nonzero(fleet.always_on)[0]
    part = np.nonzero(~fleet.always_on[ses.dev])[0]  # physical devices: on around their sessions
    big = np.int64(1) << 62
    dev_i = np.concatenate([on, ses.dev[part]])
    tmin = np.concatenate([np.full(len(on), -big), ses.start[part] - 600_000])
    tmax = np.concatenate([np.full(len(on), big), ses.end[part] + 600_000])
    act_i = np.concatenate([np.full(len(on), 0.5), ses.activity[part]])
    rows, t = grid(fleet.perf_phase_ms[dev_i], FIVE_MIN, tmin, tmax, c0, c1)
    dev = dev_i[rows]
    n = len(t)
    h = local_hours(t, fleet.offset_ms)
    b = busy(h) * (0.5 + act_i[rows])
    cpu = inc.apply(table, "normalized_cpu_usage", 0.04 + 0.3 * b + rng.gamma(2.0, 0.03, n), dev, t)
    cpuq = 0.2 + 1.5 * b + 1.5 * storm(h) * fleet.is_vdi[dev] + rng.gamma(1.5, 0.2, n)
    cpuq = inc.apply(table, "cpu_queue_length", cpuq, dev, t)
    free = fleet.memory[dev] * np.clip(0.6 - 0.3 * b + rng.normal(0, 0.04, n), 0.03, 0.95)
    free = inc.apply(table, "free_memory", free, dev, t)
    drive = inc.apply(table, "system_drive_usage", fleet.drive_usage[dev] + rng.normal(0, 0.002, n), dev, t)
    return {
        "_t": t, "_dev": dev,
        "start_time": t - FIVE_MIN, "end_time": t,
        "device.collector.uid": fleet.uid[dev], "device.name": fleet.name[dev],
        "cpu_queue_length": np.round(np.maximum(cpuq, 0), 2),
        "number_of_logical_processors": fleet.cpus[dev],
        "normalized_cpu_usage": np.round(np.clip(cpu, 0, 1), 4),
        "free_memory": np.round(np.clip(free, 0, fleet.memory[dev])).astype(np.int64),
        "system_drive_usage": np.round(np.clip(drive, 0, 1), 4),
    }


# ---------------------------------------------------------------------------- logins

def gen_logins(fleet: Fleet, ses: Sessions, inc: IncidentSet, rng, c0: int, c1: int) -> dict:
    table = "session.logins"
    rows = np.nonzero(~ses.continuous & (ses.start >= c0) & (ses.start < c1))[0]
    n = len(rows)
    dev = ses.dev[rows]
    t = ses.start[rows] + rng.integers(0, 1000, n)
    h = local_hours(t, fleet.offset_ms)
    base = np.select([fleet.is_vdi[dev], fleet.platform[dev] == "macOS", fleet.hw_type[dev] == "desktop"],
                     [9_000.0, 14_000.0, 26_000.0], 22_000.0)
    contention = np.where(fleet.is_vdi[dev], 1.6, 0.2)
    visible = base * (1 + contention * storm(h)) * rng.lognormal(0, 0.3, n)
    visible = inc.apply(table, "time_until_desktop_is_visible", visible, dev, t)
    ready = visible + rng.lognormal(np.log(7_000), 0.5, n)
    ready = inc.apply(table, "time_until_desktop_is_ready", ready, dev, t)
    return {
        "_t": t, "_dev": dev, "time": t,
        "device.collector.uid": fleet.uid[dev], "device.name": fleet.name[dev], "user.name": fleet.user[dev],
        "time_until_desktop_is_visible": np.round(visible, 0),
        "time_until_desktop_is_ready": np.round(np.maximum(ready, visible), 0),
    }


# ---------------------------------------------------------------------------- user sessions

def gen_session_events(fleet: Fleet, ses: Sessions, inc: IncidentSet, rng, c0: int, c1: int) -> dict:
    table = "session.events"
    rows, t = grid(ses.start, FIVE_MIN, ses.start + FIVE_MIN, ses.end, c0, c1)
    n = len(t)
    dev = ses.dev[rows]
    h = local_hours(t, fleet.offset_ms)
    frac = np.clip(ses.activity[rows] * (0.35 + 0.6 * busy(h)) + rng.normal(0, 0.08, n), 0.0, 1.0)
    interaction = inc.apply(table, "user_interaction_time", FIVE_MIN * frac, dev, t)
    vdi = fleet.is_vdi[dev]
    lat = np.where(vdi, 0.0, 80.0)
    if vdi.any():  # VDI users feel their session's latency (incidents included)
        lat_v = vdi_latency_mean(fleet, ses, rows[vdi], t[vdi])
        lat[vdi] = inc.apply("session.vdi_events", "network_latency", lat_v, dev[vdi], t[vdi])
    med = np.clip(0.03 + 0.0015 * (lat - 80) + rng.normal(0, 0.01, n), 0, 0.8)
    high = np.clip(0.004 + 0.0012 * (lat - 180) + rng.normal(0, 0.002, n), 0, 0.6)
    med_d = inc.apply(table, "duration_with_medium_user_input_delay", interaction * med, dev, t)
    high_d = inc.apply(table, "duration_with_high_user_input_delay", interaction * high, dev, t)
    return {
        "_t": t, "_dev": dev,
        "start_time": t - FIVE_MIN, "end_time": t,
        "device.collector.uid": fleet.uid[dev], "device.name": fleet.name[dev], "user.name": fleet.user[dev],
        "user_interaction_time": np.round(np.clip(interaction, 0, FIVE_MIN), 0),
        "duration_with_medium_user_input_delay": np.round(np.clip(med_d, 0, FIVE_MIN), 0),
        "duration_with_high_user_input_delay": np.round(np.clip(high_d, 0, FIVE_MIN), 0),
    }


# ---------------------------------------------------------------------------- crashes

def gen_crashes(fleet: Fleet, ses: Sessions, inc: IncidentSet, rng, c0: int, c1: int, profile: dict) -> dict:
    table = "execution.crashes"
    apps = profile["apps"]
    lo = np.maximum(ses.start, c0)
    hi = np.minimum(ses.end, c1)
    span = np.maximum(hi - lo, 0)
    m = inc.max_mul("crash_rate")
    lam = profile["crash_rate_per_hour"] * (0.5 + ses.activity) * span / HOUR_MS * m
    counts = rng.poisson(lam)
    rows = np.repeat(np.arange(len(span)), counts)
    n = len(rows)
    t = lo[rows] + (rng.random(n) * span[rows]).astype(np.int64)
    w = np.array([a.get("weight", 1) for a in apps], float)
    app = rng.choice(len(apps), size=n, p=w / w.sum())
    binary = np.array([apps[a]["binary"] for a in app], dtype=object)
    dev = ses.dev[rows]
    keep_p = inc.apply(table, "crash_rate", np.ones(n), dev, t, binary) / m
    keep = rng.random(n) < keep_p
    rows, t, app, binary, dev = rows[keep], t[keep], app[keep], binary[keep], dev[keep]
    n = len(rows)
    version = np.array([apps[a]["versions"][int(r * len(apps[a]["versions"]))] for a, r in zip(app, rng.random(n))],
                       dtype=object)
    count = 1 + (rng.random(n) < 0.1) * rng.integers(1, 3, n)
    return {
        "_t": t, "_dev": dev, "time": t,
        "device.collector.uid": fleet.uid[dev], "device.name": fleet.name[dev], "user.name": fleet.user[dev],
        "binary.name": binary, "binary.version": version,
        "application.name": np.array([apps[a]["application"] for a in app], dtype=object),
        "process_visibility": np.where(rng.random(n) < 0.7, "foreground", "background").astype(object),
        "number_of_crashes": count.astype(np.int64),
    }


# ---------------------------------------------------------------------------- inventory

def gen_devices(fleet: Fleet, seed_rng, c0: int, c1: int, every: int, first_ms: int) -> dict:
    """Versions of every device: the one current at `first_ms` (so every event can join
    as of its time), then one per `every` (last_seen heartbeats) while simulated."""
    phase = (fleet.perf_phase_ms * 7 + 13_000) % every  # device-specific, stable
    k0 = (first_ms - phase) // every  # latest version at or before the simulation start
    rows, t = grid(phase, every, phase + k0 * every, np.full(fleet.n, np.int64(1) << 62), c0, c1)
    dev = rows
    return {
        "_t": t, "_dev": dev,
        "collector.uid": fleet.uid[dev], "name": fleet.name[dev], "entity": fleet.entity[dev],
        "hardware.type": fleet.hw_type[dev], "hardware.memory": fleet.memory[dev],
        "hardware.manufacturer": fleet.manufacturer[dev], "hardware.model": fleet.model[dev],
        "operating_system.name": fleet.os[dev], "operating_system.platform": fleet.platform[dev],
        "virtualization.desktop_pool": fleet.pool[dev], "virtualization.environment": fleet.environment[dev],
        "last_seen": t,
    }
