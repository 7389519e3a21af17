"""`nql-flink status` without a broker: what it makes of the alert-state topic's latest values
(translator/commands/status.py); the command on a real broker: tests/kafka/test_alert_state.py."""
import json

from nql_flink.translator.commands import status


def value(tenant, monitor, pool, state, since, at, due=None, alert_id=None) -> bytes:
    return json.dumps({"tenant": tenant, "monitor": monitor, "group": {"pool": pool}, "state": state, "since": since,
                       "at": at, "due": due, "alert_id": alert_id}).encode()


LATEST = {
    b"acme/m/{pool:b}": value("acme", "m", "b", "pending", "2026-11-26T10:00:30.000Z", "2026-11-26T10:01:00.000Z",
                              "2026-11-26T10:05:30.000Z"),
    b"acme/m/{pool:a}": value("acme", "m", "a", "triggered", "2026-11-26T09:00:00.000Z", "2026-11-26T10:01:00.000Z",
                              alert_id="x" * 32),
    b"acme/m/{pool:gone}": None,                                  # a tombstone: evicted
    b"globex/m/{pool:a}": value("globex", "m", "a", "recovering", "2026-11-26T10:00:00.000Z",
                                "2026-11-26T10:00:30.000Z", "2026-11-26T11:30:00.000Z", "y" * 32),
    b"junk": b"not json",                                         # skipped, not a crash
}


def test_time_left_is_due_minus_the_last_evaluation():
    rows = status.groups(LATEST)
    assert [(r["tenant"], r["group"]["pool"], r["state"], r["left_ms"]) for r in rows] == [
        ("acme", "a", "triggered", None), ("acme", "b", "pending", 270_000), ("globex", "a", "recovering", 5_370_000)]


def test_filters():
    assert [r["tenant"] for r in status.groups(LATEST, tenant="globex")] == ["globex"]
    assert status.groups(LATEST, monitor="other") == []


def test_table_is_aligned_with_a_header():
    lines = status.table(status.groups(LATEST)).splitlines()
    assert lines[0].split() == ["tenant", "monitor", "group", "state", "since", "left"]
    assert lines[2].split() == ["acme", "m", '{"pool":"b"}', "pending", "2026-11-26T10:00:30.000Z", "4m30s"]
    assert lines[3].split()[-1] == "1h29m30s"
    starts = {ln.index(word) for ln, word in zip(lines, ["state", "triggered", "pending", "recovering"])}
    assert len(starts) == 1
