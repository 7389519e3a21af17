"""The receivers file and the routes: every problem a coded diagnostic at its line and column
(the receivers file's, or the monitor file's `notify:`), never a traceback; `notify --check`."""
from __future__ import annotations

import pytest

from nql_flink.deploy.notify.receivers import Receiver, read_receivers
from nql_flink.translator.cli import main
from tests.notify.records import monitor_file

GOOD = """\
receivers:
  hook:
    kind: webhook
    url: http://127.0.0.1:9/hook
    secret_env: HOOK_SECRET
    timeout: 2s
    retry: {initial: 100ms, max: 2s}
    link: https://g.example/{monitor}
  mail:
    kind: email
    host: 127.0.0.1
    port: 2525
    tls: none
    username: nql
    password_env: SMTP_PASSWORD
    from: nql@example.com
    to: [team@example.com]
  am:
    kind: alertmanager
    url: http://127.0.0.1:9093
    hold: 1d
"""


def read(tmp_path, text: str, env=None):
    path = tmp_path / "receivers.yaml"
    path.write_text(text)
    receivers, diags = read_receivers(str(path), env if env is not None else {})
    return receivers, [d.as_tuple() for d in diags]


def test_a_good_file_gives_each_receiver_with_its_secret_from_the_environment(tmp_path):
    receivers, diags = read(tmp_path, GOOD, {"HOOK_SECRET": "h", "SMTP_PASSWORD": "p"})
    assert diags == []
    assert receivers == {
        "hook": Receiver(name="hook", kind="webhook", timeout_s=2.0, retry_initial_s=0.1, retry_max_s=2.0,
                         link="https://g.example/{monitor}", url="http://127.0.0.1:9/hook", secret="h",
                         secret_env="HOOK_SECRET"),
        "mail": Receiver(name="mail", kind="email", host="127.0.0.1", port=2525, tls="none", username="nql",
                         sender="nql@example.com", to=("team@example.com",), secret="p",
                         secret_env="SMTP_PASSWORD"),
        "am": Receiver(name="am", kind="alertmanager", url="http://127.0.0.1:9093", hold_ms=86_400_000)}
    assert "secret" not in repr(receivers["hook"]) and "'h'" not in repr(receivers["hook"])


def test_every_problem_is_coded_at_its_place(tmp_path):
    text = """\
receivers:
  hook:
    kind: webhok
  mail:
    kind: email
    host: 127.0.0.1
    port: 70000
    password_env: SMTP_PASSWORD
    from: nql@example.com
  am:
    kind: alertmanager
    url: 127.0.0.1:9093
    hold: 1 week
    link: https://g.example/{pool}
    severity: high
  bad name:
    kind: webhook
"""
    receivers, diags = read(tmp_path, text)
    assert receivers == {"hook": None, "mail": None, "am": None}  # defined, so `notify:` may name them
    assert diags == [
        ("NQL0406", 3, 11, "'kind' must be one of webhook, email, alertmanager, not 'webhok'"),
        ("NQL0005", 5, 5, "missing required key 'to' in receiver 'mail'"),
        ("NQL0408", 7, 11, "'port' must be a port number (1 to 65535), not 70000"),
        ("NQL0702", 8, 19, "environment variable SMTP_PASSWORD (password_env of receiver 'mail') is not set"),
        ("NQL0704", 12, 10, "'127.0.0.1:9093' is not an http:// or https:// URL"),
        ("NQL0403", 13, 11, "'1 week' is not a duration (e.g. 30s, 5min, 1h, 7d)"),
        ("NQL0703", 14, 11, "link template: unknown field {pool} (fields: tenant, monitor, alert_id, status, at, key)"),
        ("NQL0004", 15, 5, "unknown key 'severity' in receiver 'am'"),
        ("NQL0705", 16, 3, "receiver name 'bad name' must match [A-Za-z0-9_.-]{1,64}"),
    ]


def test_durations_are_above_zero(tmp_path):
    text = "receivers:\n  am:\n    kind: alertmanager\n    url: http://am:9093\n    timeout: 0\n    retry: {initial: 0s}\n"
    assert read(tmp_path, text)[1] == [("NQL0408", 5, 14, "'timeout' must be a duration above zero, not 0"),
                                       ("NQL0408", 6, 22, "'initial' must be a duration above zero, not 0s")]


@pytest.mark.parametrize("text", [
    "receivers:\n  ? [a]\n  : {kind: webhook}\n", "receivers:\n  m: {kind: email, port: 0x19, host: h, from: f, to: []}\n",
    "receivers:\n  m: {kind: email, port: 08, host: h, from: f, to: [1]}\n", "receivers:\n  h: {kind: [webhook]}\n",
    "receivers:\n  h: {kind: webhook, url: http://x, retry: [1s], timeout: {a: 1}, link: '{0}{}'}\n",
    "receivers: {h: 3, h: 4}\n", "receivers:\n  h: !!binary aGk=\n", "\ufeffreceivers: {}\n", "\t\n"])
def test_odd_files_give_diagnostics_never_an_exception(tmp_path, text):
    receivers, diags = read(tmp_path, text)
    assert all(isinstance(d[0], str) and d[0].startswith("NQL") for d in diags)


def test_file_level_problems(tmp_path):
    assert read(tmp_path, "")[1] == [("NQL0005", 1, 1, "missing required key 'receivers' in the receivers file")]
    assert read(tmp_path, "- a\n")[1] == [("NQL0006", 1, 1, "'the receivers file' must be a mapping, not a list")]
    assert read(tmp_path, "receivers: [a]\n")[1] == [("NQL0006", 1, 12, "'receivers' must be a mapping, not a list")]
    assert read(tmp_path, "receiver: {}\n")[1] == [
        ("NQL0004", 1, 1, "unknown key 'receiver' in the receivers file"),
        ("NQL0005", 1, 1, "missing required key 'receivers' in the receivers file")]
    assert read(tmp_path, "receivers:\n  a: {kind: email\n")[1][0][:2] == ("NQL0002", 3)
    assert read_receivers(str(tmp_path / "missing.yaml"))[1][0].as_tuple()[0] == "NQL0009"


def test_notify_check_reports_an_unknown_receiver_at_the_monitors_notify_list(tmp_path, capsys):
    (tmp_path / "receivers.yaml").write_text(GOOD)
    monitor = monitor_file(tmp_path, "hook", "mial")
    args = ["notify", str(monitor), "--receivers", str(tmp_path / "receivers.yaml"), "--check"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{monitor}:20:9: error[NQL0701]: receiver 'mial' is not defined in {tmp_path / 'receivers.yaml'}" in err
    assert "hint: did you mean 'mail'?" in err
    assert "NQL0702" in err and "HOOK_SECRET" in err and "Traceback" not in err


def test_notify_check_accepts_good_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", "h")
    monkeypatch.setenv("SMTP_PASSWORD", "p")
    (tmp_path / "receivers.yaml").write_text(GOOD)
    monitor = monitor_file(tmp_path, "hook", "mail")
    assert main(["notify", str(monitor), "--receivers", str(tmp_path / "receivers.yaml"), "--check"]) == 0
    assert capsys.readouterr().out == "1 monitor(s); receivers: hook (webhook), mail (email); named by no monitor: am\n"
    assert main(["notify", str(tmp_path / "nowhere"), "--receivers", str(tmp_path / "receivers.yaml")]) == 2
