"""The simulator: determinism, catalog conformity, tenants, incidents, cadence, disorder."""

from __future__ import annotations

import argparse
import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest

from nql_flink.simulator import cli
from nql_flink.simulator.catalog import get_path, get_table, load_catalog, validate
from nql_flink.simulator.config import parse_duration, parse_incident, parse_time
from tests.simulator.reference import ms

START = "2026-11-26T07:20:00Z"  # acme 08:20 local (the logon storm)
INCIDENT = "pool=Finance-Win11,metric=network_latency,start=2026-11-26T07:30:00Z,minutes=6,add_ms=250"
CRASHES = "metric=crash_rate,binary=teams.exe,start=2026-11-26T07:20:00Z,minutes=20,mul=200"
BASE = ["--start", START, "--duration", "20min", "--devices", "100", "--seed", "11", "--quiet"]


def run(out: Path, *extra: str) -> Path:
    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    assert cli.main(p.parse_args(["--out", str(out), *BASE, *extra])) == 0
    return out


def read(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return run(tmp_path_factory.mktemp("sim"), "--incident", INCIDENT, "--incident", CRASHES)


@pytest.fixture(scope="module")
def tables(data) -> dict[str, list[dict]]:
    return {name: read(data / f"{name}.jsonl") for name in load_catalog()}


def test_one_file_per_catalog_table_and_manifest(data):
    names = sorted(p.name for p in data.iterdir())
    assert names == sorted([f"{t}.jsonl" for t in load_catalog()] + ["manifest.json"])
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["simulation"]["incidents"][0]["tenant"] == "acme"  # default: first tenant


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    extra = ["--incident", INCIDENT, "--gzip", "--out-of-order", "0.02", "--bad-records", "0.01"]
    a, b = run(tmp_path / "a", *extra), run(tmp_path / "b", *extra)
    for f in sorted(a.iterdir()):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name
    c = run(tmp_path / "c", *extra[:-4], "--seed", "12")
    assert (c / "session.vdi_events.jsonl.gz").read_bytes() != (a / "session.vdi_events.jsonl.gz").read_bytes()


def test_every_record_conforms_to_the_catalog(tables):
    for name, records in tables.items():
        assert records, f"{name} is empty"
        for r in records:
            assert validate(name, r) == [], (name, r)


def test_nested_paths_and_wire_format(tables):
    r = tables["session.vdi_events"][0]
    assert isinstance(r["device"]["collector"]["uid"], str)
    assert r["context"]["location"]["type"] in ("remote", "on_site")
    assert r["end_time"].endswith(".000Z") and len(r["end_time"]) == 24
    assert isinstance(r["bandwidth"], int) and r["bandwidth"] > 10_000  # bit/s
    d = tables["device.devices"][0]
    assert isinstance(d["hardware"]["memory"], int) and d["hardware"]["memory"] >= 2**30  # bytes
    crash = tables["execution.crashes"]
    assert all(c["binary"]["version"].count(".") >= 2 for c in crash)


def test_tenants_share_names_but_never_records(tables):
    devs = tables["device.devices"]
    by_tenant = defaultdict(set)
    pools = defaultdict(set)
    for d in devs:
        by_tenant[d["tenant"]].add((d["collector"]["uid"], d["name"]))
        pools[d["tenant"]].add(d["virtualization"]["desktop_pool"])
    assert set(by_tenant) == {"acme", "globex"}
    assert by_tenant["acme"] == by_tenant["globex"]  # same names and uids on purpose
    assert pools["acme"] == pools["globex"] and "Finance-Win11" in pools["acme"]
    # every event's device exists in its own tenant's inventory
    for name in ("session.vdi_events", "device_performance.events", "session.events"):
        for r in tables[name]:
            assert (r["device"]["collector"]["uid"], r["device"]["name"]) in by_tenant[r["tenant"]]
    # the two tenants' measurements differ (independent random streams)
    lat = {t: [r["network_latency"] for r in tables["session.vdi_events"] if r["tenant"] == t][:50]
           for t in ("acme", "globex")}
    assert lat["acme"] != lat["globex"]


def _pool_of(tables):
    return {(d["tenant"], d["collector"]["uid"]): d["virtualization"]["desktop_pool"] for d in tables["device.devices"]}


def test_incident_hits_only_acme_finance_during_its_window(tables, data, tmp_path):
    pool = _pool_of(tables)
    lo, hi = ms("2026-11-26T07:30:00Z"), ms("2026-11-26T07:36:00Z")
    clean = read(run(tmp_path / "clean", "--tables", "session.vdi_events") / "session.vdi_events.jsonl")
    hit = tables["session.vdi_events"]
    assert len(clean) == len(hit)
    changed = defaultdict(list)
    for a, b in zip(clean, hit):
        assert (a["tenant"], a["session"]["uid"], a["end_time"]) == (b["tenant"], b["session"]["uid"], b["end_time"])
        if a != b:
            changed[(b["tenant"], pool[(b["tenant"], b["device"]["collector"]["uid"])])].append(
                b["network_latency"] - a["network_latency"])
            assert lo <= ms(b["end_time"]) < hi
        elif b["tenant"] == "acme" and pool[("acme", b["device"]["collector"]["uid"])] == "Finance-Win11":
            assert not lo <= ms(b["end_time"]) < hi
    assert list(changed) == [("acme", "Finance-Win11")]
    assert all(abs(d - 250) < 0.11 for d in changed[("acme", "Finance-Win11")])


def test_sampling_cadence(tables):
    for name, key in (("session.vdi_events", "session"), ("device_performance.events", "device"),
                      ("session.events", "user")):
        cadence = get_table(name).cadence_ms
        series = defaultdict(list)
        for r in tables[name]:
            s, e = ms(r["start_time"]), ms(r["end_time"])
            assert e - s == cadence
            ident = r["session"]["uid"] if key == "session" else get_path(r, "device.collector.uid")
            series[(r["tenant"], ident, r.get("user", {}).get("name"))].append(e)
        assert series
        for times in series.values():
            gaps = {b - a for a, b in zip(times, times[1:])}
            assert gaps <= {cadence}, (name, sorted(gaps)[:5])


def test_files_are_sorted_by_event_time_by_default(tables):
    for name, records in tables.items():
        tf = get_table(name).time_field
        times = [get_path(r, tf) for r in records]
        assert times == sorted(times), name


def test_logon_storm_and_logins(tables):
    logins = [r for r in tables["session.logins"] if r["tenant"] == "acme"]
    assert len(logins) > 4  # 08:20 local in acme: the logon storm
    for r in logins:
        assert r["time_until_desktop_is_ready"] >= r["time_until_desktop_is_visible"] > 0
    assert not [r for r in tables["session.logins"] if r["tenant"] == "globex"]  # 02:20 in New York
    crashes = tables["execution.crashes"]
    assert {(c["tenant"], c["binary"]["name"]) for c in crashes} == {("acme", "teams.exe")} or (
        sum(c["tenant"] == "acme" and c["binary"]["name"] == "teams.exe" for c in crashes) > 0.8 * len(crashes))


def test_out_of_order_within_lateness(tmp_path):
    out = run(tmp_path / "ooo", "--out-of-order", "0.05", "--lateness", "20s", "--tables", "session.vdi_events")
    sorted_run = read(run(tmp_path / "inorder", "--tables", "session.vdi_events") / "session.vdi_events.jsonl")
    recs = read(out / "session.vdi_events.jsonl")
    assert sorted(map(json.dumps, recs)) == sorted(map(json.dumps, sorted_run))  # same records
    late, max_seen, worst = 0, 0, 0
    for r in recs:
        t = ms(r["end_time"])
        if t < max_seen:
            late += 1
            worst = max(worst, max_seen - t)
        max_seen = max(max_seen, t)
    assert 0.02 * len(recs) < late < 0.08 * len(recs)
    assert 0 < worst <= 20_000
    stats = json.loads((out / "manifest.json").read_text())["files"]["session.vdi_events.jsonl"]
    assert stats["out_of_order"] == late and stats["max_lateness_ms"] == worst


def test_bad_records_are_listed_and_everything_else_is_valid(tmp_path):
    out = run(tmp_path / "bad", "--bad-records", "0.01", "--tables", "session.vdi_events,execution.crashes")
    stats = json.loads((out / "manifest.json").read_text())["files"]["session.vdi_events.jsonl"]
    bad = {b["line"]: b["kind"] for b in stats["bad_records"]}
    assert set(bad.values()) == {"malformed_json", "missing_tenant", "missing_time", "wrong_type", "number_string",
                                 "nan_string", "overflow", "number_object", "number_array", "invalid_utf8"}
    lines = (out / "session.vdi_events.jsonl").read_bytes().splitlines()
    assert len(lines) == stats["records"] + len(bad)
    for i, line in enumerate(lines, 1):
        if i not in bad:
            assert validate("session.vdi_events", json.loads(line)) == []
        elif bad[i] == "malformed_json":
            with pytest.raises(ValueError):
                json.loads(line)
        elif bad[i] == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                line.decode("utf-8")
            # one byte replaced, the record is otherwise a good one
            r = json.loads(line.decode("utf-8", "replace"))
            assert r["device"]["name"].endswith("\ufffd")
            assert validate("session.vdi_events", {**r, "device": {**r["device"], "name": "x"}}) == []
        else:
            r = json.loads(line)
            assert validate("session.vdi_events", r) != []
            assert ("tenant" in r) == (bad[i] != "missing_tenant")
            assert ("end_time" in r) == (bad[i] != "missing_time")
            latency = r.get("network_latency")
            expect = {"wrong_type": lambda v: isinstance(v, str) and v.endswith("ms"),
                      "number_string": lambda v: isinstance(v, str) and float(v) >= 0,
                      "nan_string": lambda v: v == "NaN",
                      "overflow": lambda v: v == float("inf") and b'"network_latency":1e400' in line,
                      "number_object": lambda v: isinstance(v, dict) and set(v) == {"value"},
                      "number_array": lambda v: isinstance(v, list) and len(v) == 1}
            assert bad[i] not in expect or expect[bad[i]](latency), (bad[i], line)


def test_an_hour_is_the_same_whatever_window_contains_it(tmp_path):
    from nql_flink.simulator import SimConfig, Simulation

    def hour(start, duration):
        sim = Simulation(SimConfig(start=start, duration=duration, devices=60, seed=3))
        return [r for r in sim.records("session.vdi_events")
                if "2026-11-26T08:00" <= r["end_time"] < "2026-11-26T09:00"]

    assert hour("2026-11-26T07:00:00Z", "3h") == hour("2026-11-26T08:00:00Z", "1h")


def test_parsers():
    assert parse_duration("2h") == 7_200_000 and parse_duration("1.5h") == 5_400_000
    assert parse_duration("90min") == 5_400_000 and parse_duration("250ms") == 250
    assert parse_duration("10 s") == 10_000 and parse_duration("0") == 0
    for other_grammar in ("1h30m", "5m", "90", "2 hours"):  # what monitor fields reject, the simulator too
        with pytest.raises(ValueError, match="bad duration"):
            parse_duration(other_grammar)
    assert parse_time("2026-11-26T10:00:30.000Z") == parse_time("2026-11-26T11:00:30+01:00")
    inc = parse_incident("pool=Finance-Win11,metric=network_latency,start=2026-11-26T10:00:00Z,minutes=12,add_ms=250",
                         default_tenant="acme")
    assert (inc.tenant, inc.pool, inc.add, inc.end_ms - inc.start_ms) == ("acme", "Finance-Win11", 250.0, 720_000)
    with pytest.raises(ValueError):
        parse_incident("pool=x,metric=network_latency,start=2026-11-26T10:00:00Z,minutes=1,bogus=1")


def test_bad_incident_is_a_usage_error(tmp_path, capsys):
    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    bad = "pool=Finance-Win11,metric=network_lag,start=2026-11-26T07:30:00Z,minutes=5,add_ms=100"
    assert cli.main(p.parse_args(["--out", str(tmp_path), *BASE, "--incident", bad])) == 2
    assert "network_lag" in capsys.readouterr().err
