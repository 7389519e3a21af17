"""`nql-flink receivers up|show|down` on files it cannot serve: a sentence (or the receivers
file's diagnostic) and exit 1, nothing started, never a traceback. What they receive, started
for real, is tests/kafka/test_walkthrough.py (the README's walkthrough)."""
from __future__ import annotations

from pathlib import Path

import pytest

from nql_flink.translator.cli import main

ROOT = Path(__file__).resolve().parents[2]
HOOK = "  hook:\n    kind: webhook\n    url: {url}\n"
MAIL = "  mail:\n    kind: email\n    host: {host}\n    port: {port}\n    tls: {tls}\n    from: a@example.com\n" \
       "    to: [b@example.com]\n"


def up(tmp_path, capsys, text: str) -> tuple[int, str, str]:
    path = tmp_path / "receivers.yaml"
    path.write_text("receivers:\n" + text)
    rc = main(["receivers", "up", "--receivers", str(path), "--dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


@pytest.mark.parametrize("text, said", [
    (HOOK.format(url="http://10.1.2.3:8099/x"),
     "hook: 10.1.2.3 is not a loopback address: only receivers on this machine (127.0.0.1, localhost) are "
     "started here"),
    (HOOK.format(url="http://127.0.0.1:99999/x"), "hook: http://127.0.0.1:99999/x: Port out of range 0-65535"),
    (HOOK.format(url="https://127.0.0.1:8443/x"), "hook: https://127.0.0.1:8443/x: the local webhook serves http only"),
    (MAIL.format(host="127.0.0.1", port=2525, tls="starttls"),
     "mail: the local SMTP server speaks plain SMTP without AUTH: set `tls: none` and no `username` for it"),
    (HOOK.format(url="http://127.0.0.1:2525/x") + MAIL.format(host="127.0.0.1", port=2525, tls="none"),
     "mail: 127.0.0.1:2525 is hook's address too"),
])
def test_what_cannot_run_here_is_said_and_nothing_starts(tmp_path, capsys, text, said):
    rc, out, err = up(tmp_path, capsys, text)
    assert rc == 1 and f"nql-flink receivers: {said}\n" in err and "nothing started" in err
    assert not (tmp_path / "state").exists()


def test_a_bad_receivers_file_is_its_diagnostics(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NQL_NOTIFY_WEBHOOK_SECRET", raising=False)
    path = tmp_path / "r.yaml"
    path.write_text((ROOT / "docs" / "receivers.example.yaml").read_text())
    rc = main(["receivers", "up", "--receivers", str(path), "--dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"{path}:7:17: error[NQL0702]: environment variable NQL_NOTIFY_WEBHOOK_SECRET (secret_env of receiver " \
           "'oncall-webhook') is not set" in err
    assert "nql-flink receivers: nothing started: fix the errors above" in err


def test_a_taken_port_is_said(tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc, out, err = up(tmp_path, capsys, HOOK.format(url=f"http://127.0.0.1:{port}/x"))
    assert rc == 1 and f"nql-flink receivers: hook: 127.0.0.1:{port} is taken (something else listens there)" in err


def test_show_and_down_without_up(tmp_path, capsys):
    state = str(tmp_path / "nothing")
    assert main(["receivers", "show", "--dir", state]) == 1
    assert capsys.readouterr().err == (f"nql-flink receivers: no local receivers in {state}: `nql-flink receivers up "
                                       "--receivers FILE` starts them\n")
    assert main(["receivers", "down", "--dir", state]) == 0
    assert capsys.readouterr().out == f"no local receivers in {state}: nothing to stop\n"
    assert main(["receivers", "up", "--dir", state]) == 2  # usage: no --receivers
    assert main(["receivers", "up", "--receivers", str(tmp_path / "missing.yaml"), "--dir", state]) == 1
    assert "error[NQL0009]" in capsys.readouterr().err


def test_a_state_file_that_is_not_one_is_said(tmp_path, capsys):
    (tmp_path / "receivers.json").write_text("{oops")
    for action in ("show", "down"):
        assert main(["receivers", action, "--dir", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"nql-flink receivers: {tmp_path}/receivers.json is not a state file of `nql-flink "
                              "receivers up` (") and "Traceback" not in err
