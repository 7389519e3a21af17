"""codegen: a group whose keys are all STRINGs is computed per record by nql_group_object (udfs/jvm
GroupObject, the text Flink's JSON_OBJECT gives: tests/flink/test_group_object.py checks that on
the engine), its members in key order. What computes a group must not rename anything stored:
the shapes' ids (the windows' state is kept under them), the inventory digest (the devices'
versions are dropped under another) and the functions' uids are those the JSON_OBJECT gave, so
a savepoint upgrade from a job that used it keeps every shape's windows and every version."""

from __future__ import annotations

import re

import pytest

from nql_flink.translator.flink import codegen
from nql_flink.translator.pipeline import compile_paths

MONITORS = """\
monitors:
  - id: fps_by_site_and_protocol
    tenant: acme
    query: |
      session.vdi_events during past 5min
      | summarize fps = frame_rate.avg(), sessions = session.uid.count() by protocol, client.location.site
    every: 1min
    trigger:
      when: fps < 15 and sessions >= 3
"""
# event keys (site), inventory keys computed per version (pool), both halves of one group
EXAMPLES = ["examples/monitors/globex_monitors.yaml", "examples/monitors/vdi_input_delay_by_pool_protocol.yaml"]


def script(paths: list[str]) -> str:
    compiled = compile_paths(paths)
    assert compiled.ok
    return compiled.job.script()


@pytest.fixture
def paths(tmp_path) -> list[str]:
    own = tmp_path / "two_keys.yaml"
    own.write_text(MONITORS)
    return [*EXAMPLES, str(own)]


def test_string_keys_are_written_by_the_function_in_key_order(paths):
    text = script(paths)
    assert "CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS `nql_group_object`" in text
    # `by protocol, client.location.site`: the members as JSON_OBJECT writes them, sorted
    assert "`nql_group_object`('client.location.site', `client_location_site`, 'protocol', `protocol`)" in text
    assert "`nql_group_object`('client.location.site', `client_location_site`)" in text
    assert "`nql_group_object`('device.virtualization.desktop_pool', `device_virtualization_desktop_pool`)" in text
    assert "JSON_OBJECT('client.location.site'" not in text


def test_what_computes_a_group_renames_nothing_stored(paths, monkeypatch):
    ours = script(paths)

    def flinks(keys):
        return codegen._Group(codegen._group_json(keys), codegen._group_json(keys))

    monkeypatch.setattr(codegen, "_group", flinks)
    before = script(paths)
    assert "nql_group_object" not in before

    def stored(text: str) -> list[str]:
        return re.findall(r"spec => '([^']*)'", text) + re.findall(r"uid => '([^']*)'", text)

    assert stored(ours) == stored(before)
    assert len(re.findall(r"s_[0-9a-f]{10} \(", " ".join(stored(ours)))) >= 4
    assert ";inv=" in " ".join(stored(ours))
