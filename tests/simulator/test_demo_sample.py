"""examples/data is reproducible and contains exactly the incident its README describes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nql_flink.simulator import cli
from tests.simulator.reference import iso, ms, transitions, window_averages

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
COMMAND = ["--start", "2026-11-26T14:00:00Z", "--duration", "60min", "--devices", "72", "--vdi-share", "0.75",
           "--pools", "Finance-Win11,Sales-Win10,Dev-Linux", "--seed", "7", "--tenants", "acme,globex", "--quiet",
           "--incident", "tenant=acme,pool=Finance-Win11,metric=network_latency,"
                         "start=2026-11-26T14:20:00Z,minutes=12,add_ms=310"]


def test_readme_command_regenerates_the_sample_byte_for_byte(tmp_path):
    readme = (DATA / "README.md").read_text()
    for arg in COMMAND:
        assert arg.strip('"') in readme, arg
    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    assert cli.main(p.parse_args(["--out", str(tmp_path), *COMMAND])) == 0
    shipped = sorted(f.name for f in DATA.iterdir() if f.name != "README.md")
    assert shipped == sorted(f.name for f in tmp_path.iterdir())
    for name in shipped:
        assert (DATA / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert sum((DATA / n).stat().st_size for n in shipped) < 8_000_000


def test_seed_monitor_alerts_as_documented():
    for right_closed in (False, True):
        w = window_averages(DATA, right_closed=right_closed)
        assert len(w) == 6
        got = {k: [(s, iso(t)) for s, t in transitions(v, 300, 300_000)] for k, v in w.items()}
        assert got.pop(("acme", "Finance-Win11")) == [
            ("triggered", "2026-11-26T14:28:30.000Z"), ("recovered", "2026-11-26T14:34:00.000Z")]
        assert all(v == [] for v in got.values()), got
        fin = w[("acme", "Finance-Win11")]
        assert [(s, iso(t)) for s, t in transitions(fin, 300, 300_000, 300_000)] == [
            ("triggered", "2026-11-26T14:28:30.000Z"), ("recovered", "2026-11-26T14:39:00.000Z")]
    fin = window_averages(DATA)[("acme", "Finance-Win11")]
    assert round(fin[ms("2026-11-26T14:28:30Z")][0], 1) == 404.7
    assert fin[ms("2026-11-26T14:28:30Z")][1] == 18
    assert all(a < 121 for e, (a, _) in fin.items() if e <= ms("2026-11-26T14:20:00Z") or e >= ms("2026-11-26T14:37:00Z"))
    manifest = json.loads((DATA / "manifest.json").read_text())
    assert manifest["simulation"]["incidents"] == [{
        "name": "incident-1", "metric": "network_latency", "start": "2026-11-26T14:20:00.000Z",
        "end": "2026-11-26T14:32:00.000Z", "tenant": "acme", "pool": "Finance-Win11", "add": 310.0}]
