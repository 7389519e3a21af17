"""The README's "Run it on Kafka locally" walkthrough, run as the README writes it: its bash
block is parsed (continuation lines, the SIM variable, `export`, `&`, `>`, `kill %1`) and each
command run as a process, so the README cannot drift from what is tested.

What the test changes, and only that: `make kafka-up` / `make kafka-down` are the session's
broker and Flink cluster (tests/conftest.py, tests/kafka/conftest.py); every `nql-flink`
command also gets the options that keep it apart from the other tests on them (`--kafka`, a
topic prefix of its own, the job name, `--out`, the cluster's SASL listener, a 2 s checkpoint
interval; `receivers` a --dir under tmp_path), docs/receivers.example.yaml is read with free
ports in place of 8025, 8099 and 9093 (the file otherwise as it is), and the notifier's `>
build/notify.log` goes to tmp_path. Commands the README runs "a few seconds after" something
(`status`, `receivers show`) are run once what they show is there (polled, not timed).

Expected, by hand (README; docs/notify.md for the key and the payloads): acme / Finance-Win11
pending since 14:23:30 with 3m0s left; triggered at 14:28:30, recovered at 14:37:00, one alert id;
the email receiver gets `[TRIGGERED]` then `[RECOVERED]` for that group, the webhook `firing`
then `resolved`, signed, each with the transition's idempotency key (the first 32 hex digits
of the SHA-256 of [tenant, monitor, group JSON with sorted keys, status, at in ms]),
Alertmanager's API v2 shows the alert active after the trigger and no longer after the
recovery, and Alertmanager itself notifies `firing` then `resolved`.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("confluent_kafka", reason="confluent-kafka not installed (see requirements.lock)")

from nql_flink.deploy.kafka import client as kc
from nql_flink.deploy.local_service import free_port, wait_until
from nql_flink.deploy.notify.local_receivers import ALERTMANAGER, alerts_at

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
IN_PROCESS = ("deploy", "upgrade")
WAIT = 240.0
SECRET = "change-me"  # the README's export
FIN = {"device.virtualization.desktop_pool": "Finance-Win11"}
WHAT = "acme/vdi_latency_by_pool [device.virtualization.desktop_pool=Finance-Win11]"
TRIGGERED_AT, RECOVERED_AT = "2026-11-26T14:28:30.000Z", "2026-11-26T14:37:00.000Z"
TRIG_KEY, REC_KEY = "815b0b6b65a56af84757cfc38f44ca63", "1c95bfc51b1328d611d74829dbf89567"
# the alert's priority: the monitor's high + 1, since the incident's 18 Finance desktops are at
# least a quarter of acme's devices reporting (72 devices in all: 18/72 = 0.25 at the least)
LABELS = {"alertname": "vdi_latency_by_pool", "tenant": "acme",
          "device_virtualization_desktop_pool": "Finance-Win11", "priority": "critical"}


@dataclass
class Step:
    words: list[str]
    text: str  # as the README writes it
    background: bool = False
    stdout: str | None = None  # `> FILE`


def walkthrough(readme: str) -> list[Step]:
    """The bash block of "## Run it on Kafka locally" as steps, `$VAR` expanded from the block's
    own assignments, comments dropped."""
    section = readme.split("\n## Run it on Kafka locally\n", 1)[1]
    block = section.split("```bash\n", 1)[1].split("\n```", 1)[0]
    steps, variables, pending = [], {}, ""
    for line in block.replace("\\\n", " ").splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            continue
        text, pending = pending, ""
        if len(words) == 1 and re.match(r"[A-Za-z_]\w*=", words[0]):
            name, value = words[0].split("=", 1)
            variables[name] = value
            continue
        if not words:
            continue
        expanded = []
        for w in words:
            expanded += shlex.split(variables[w[1:]]) if w.startswith("$") else [w]
        step = Step(expanded, text)
        if step.words[-1] == "&":
            step.words, step.background = step.words[:-1], True
        if ">" in step.words:
            i = step.words.index(">")
            step.stdout, step.words = step.words[i + 1], step.words[:i] + step.words[i + 2:]
        steps.append(step)
    return steps


def test_the_readme_block_parses_into_the_commands_it_shows():
    """The parser on the README itself, by hand: the shape the walkthrough test relies on."""
    steps = walkthrough((ROOT / "README.md").read_text())
    firsts = [s.words[1] if s.words[0].endswith("nql-flink") else " ".join(s.words[:2]) for s in steps]
    assert firsts == ["make kafka-up", "deploy", "simulate", "status", "upgrade", "simulate", "tail-alerts",
                      "export NQL_NOTIFY_WEBHOOK_SECRET=change-me", "receivers", "notify", "receivers", "simulate",
                      "tail-alerts", "receivers", "status", "kill %1", "receivers", "make kafka-down"]
    simulate = steps[2].words
    assert simulate[:6] == [".venv/bin/nql-flink", "simulate", "--kafka", "--start", "2026-11-26T14:00:00Z",
                            "--duration"]
    assert "--incident" in simulate and simulate[simulate.index("--incident") + 1] == (
        "tenant=acme,pool=Finance-Win11,metric=network_latency,start=2026-11-26T14:20:00Z,minutes=12,add_ms=310")
    notify = steps[9]
    assert (notify.background, notify.stdout, notify.words[1:]) == (
        True, "build/notify.log", ["notify", "examples/monitors", "--receivers", "docs/receivers.example.yaml"])
    assert steps[4].words[-3:] == ["examples/monitors/fleet_low_memory.yaml", "--idle-timeout", "5 s"]


def key_of(status: str, at_ms: int) -> str:
    """docs/notify.md's idempotency key, written out here."""
    group = json.dumps(FIN, sort_keys=True, separators=(",", ":"))
    text = json.dumps(["acme", "vdi_latency_by_pool", group, status, at_ms], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Walk:
    """Runs the steps: the test's own options added, the background job kept, outputs recorded."""

    def __init__(self, tmp: Path, bootstrap: str, cluster):
        self.tmp, self.bootstrap, self.cluster = tmp, bootstrap, cluster
        self.prefix = f"walk{int(time.time() * 1000) % 10**8}."
        self.env = dict(os.environ)
        self.background: list[tuple[subprocess.Popen, Path]] = []
        self.ports = {"smtp": free_port(), "webhook": free_port(), "alertmanager": free_port()}
        text = (ROOT / "docs" / "receivers.example.yaml").read_text()
        for old, new in (("8025", self.ports["smtp"]), ("127.0.0.1:8099", f"127.0.0.1:{self.ports['webhook']}"),
                         ("127.0.0.1:9093", f"127.0.0.1:{self.ports['alertmanager']}")):
            assert text.count(old) == 1, old
            text = text.replace(old, str(new))
        self.receivers = tmp / "receivers.yaml"
        self.receivers.write_text(text)
        self.dir = tmp / "receivers"
        self.outputs: dict[str, list[str]] = {}

    def extra(self, command: str) -> list[str]:
        p = self.prefix
        kafka = ["--kafka", self.bootstrap, "--topic-prefix", p]
        return {
            "deploy": kafka + ["--group-id", p + "nql", "--job-name", p + "job", "--out", str(self.tmp / "deploy"),
                               "--cluster-state", str(self.cluster.state_dir), "--security-protocol",
                               "SASL_PLAINTEXT", "--sasl-mechanism", "PLAIN", "--checkpoint-interval", "2 s"],
            "simulate": kafka,
            "status": kafka,
            "tail-alerts": kafka + ["--timeout", str(WAIT)],
            "notify": kafka + ["--name", p + "notify"],
            "receivers": ["--dir", str(self.dir)],
        }[{"upgrade": "deploy"}.get(command, command)]

    def command(self, step: Step) -> list[str]:
        words = [str(self.receivers) if w == "docs/receivers.example.yaml" else w for w in step.words]
        exe = ROOT / words[0]
        assert words[0] == ".venv/bin/nql-flink", step.text
        head = [str(exe)] if exe.exists() else [sys.executable, "-m", "nql_flink.translator.cli"]
        return head + words[1:] + self.extra(words[1])

    def run(self, step: Step) -> str:
        """One foreground step; its output (stdout then stderr) kept under its command's name.
        `deploy` and `upgrade` run in this process, through the same entry point
        (translator/cli.py main): their planning then reuses the test session's warm JVM."""
        argv = self.command(step)
        if step.words[1] in IN_PROCESS:
            from nql_flink.translator.cli import main as cli

            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.chdir(ROOT), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                rc = cli(argv[argv.index(step.words[1]):])
            p = subprocess.CompletedProcess(argv, rc, stdout.getvalue(), stderr.getvalue())
        else:
            p = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=WAIT + 60)
        out = p.stdout + p.stderr
        assert p.returncode == 0, f"{step.text}\n-> exit {p.returncode}\n{out}"
        assert "Traceback" not in out, out
        self.outputs.setdefault(step.words[1], []).append(out)
        return p.stdout

    def start(self, step: Step) -> None:
        log = self.tmp / Path(step.stdout or "background.log").name
        with open(log, "w") as f:
            proc = subprocess.Popen(self.command(step), cwd=ROOT, env=self.env, stdout=f, stderr=subprocess.STDOUT)
        self.background.append((proc, log))

    def until(self, what: str, ready) -> None:
        def alive():
            for proc, log in self.background:
                assert proc.poll() is None, f"{proc.args} exited while waiting for {what}: {log.read_text()}"

        assert wait_until(ready, timeout=WAIT, interval=1.0, check=alive), f"timeout waiting for {what}"

    def files(self, receiver: str, suffix: str) -> list[Path]:
        return sorted((self.dir / receiver).glob(f"*{suffix}"))

    def am(self) -> list[dict]:
        return alerts_at(f"http://127.0.0.1:{self.ports['alertmanager']}", alertname="vdi_latency_by_pool")

    def stop(self) -> None:
        for proc, _ in self.background:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        subprocess.run([sys.executable, "-m", "nql_flink.translator.cli", "receivers", "down", "--dir",
                        str(self.dir)], cwd=ROOT, capture_output=True, timeout=120)
        for j in self.cluster.jobs():
            if j["name"].startswith(self.prefix) and j["state"] in ("RUNNING", "CREATED", "RESTARTING",
                                                                      "INITIALIZING"):
                self.cluster.cancel(j["jid"])


def deliveries(walk: Walk) -> dict:
    """What the local receivers hold now, read from their files and Alertmanager's API v2."""
    mails = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
             for f in walk.files("vdi-team-email", ".eml")]
    calls = [json.loads(f.read_text()) for f in walk.files("oncall-webhook", ".json")]
    notified = [json.loads(f.read_text()) for f in walk.files("ops-alertmanager", ".json")]
    return {"mails": mails, "calls": calls, "am": walk.am(), "notified": notified}


@pytest.fixture(scope="module")
def walked(flink_cluster, kafka_bootstrap, tmp_path_factory):
    """The walkthrough from its first command to its last, and what was seen on the way."""
    if not Path(ALERTMANAGER).exists():
        pytest.fail(f"{ALERTMANAGER} is missing: `make test` installs it")
    walk = Walk(tmp_path_factory.mktemp("walkthrough"), kafka_bootstrap, flink_cluster)
    seen: dict = {}
    steps = walkthrough((ROOT / "README.md").read_text())
    fin_line = None
    t0 = time.monotonic()
    try:
        for step in steps:
            print(f"walkthrough {time.monotonic() - t0:6.1f}s  {step.text.splitlines()[0][:90]}", file=sys.stderr)
            head = step.words[:2]
            if head in (["make", "kafka-up"], ["make", "kafka-down"]):
                continue  # the session's broker and cluster
            if head[0] == "export":
                name, value = head[1].split("=", 1)
                walk.env[name] = value
                continue
            if step.words == ["kill", "%1"]:
                proc, log = walk.background[0]
                proc.send_signal(signal.SIGTERM)
                seen["notify_rc"] = proc.wait(timeout=60)
                seen["notify_log"] = log.read_text()
                continue
            command = head[1]
            if step.background:
                walk.start(step)
                continue
            n = len(walk.outputs.get(command, []))
            if command == "status" and n == 0:  # "a few seconds after the first simulate"
                def pending():
                    nonlocal fin_line
                    out = walk.run(step)
                    walk.outputs["status"].pop()
                    lines = [ln.split() for ln in out.splitlines() if "Finance-Win11" in ln]
                    fin_line = lines[0] if lines and lines[0][3:] == ["pending", "2026-11-26T14:23:30.000Z",
                                                                      "3m0s"] else fin_line
                    return bool(lines) and lines[0][3] == "pending" and lines[0][5] == "3m0s"
                walk.until("Finance-Win11 pending with 3m0s left", pending)
                seen["pending"] = fin_line
            if command == "receivers" and step.words[2] == "show":
                shows = sum(out.startswith("oncall-webhook (") for out in walk.outputs["receivers"])
                want = 1 if shows == 0 else 2   # after the trigger; after the recovery

                def arrived():
                    d = deliveries(walk)
                    return (len(d["mails"]), len(d["calls"]), len(d["am"]), len(d["notified"])) == (
                        want, want, 1 if want == 1 else 0, want)
                walk.until(f"{want} delivery(ies) at every receiver", arrived)
                seen[f"after_{want}"] = deliveries(walk)
            walk.run(step)
        seen["alerts"] = [json.loads(v) for _, v in kc.tail(walk.bootstrap, walk.prefix + "nql.alerts", timeout=30,
                                                            idle_timeout=3)]
    finally:
        walk.stop()
    seen["outputs"] = walk.outputs
    seen["ports"], seen["dir"] = walk.ports, walk.dir
    return seen


def test_the_incident_triggers_and_recovers_as_the_readme_says(walked):
    assert walked["pending"] == ["acme", "vdi_latency_by_pool",
                                 '{"device.virtualization.desktop_pool":"Finance-Win11"}', "pending",
                                 "2026-11-26T14:23:30.000Z", "3m0s"]
    upgrade = [ln.split() for ln in walked["outputs"]["upgrade"][0].splitlines()]
    assert ["keeps", "monitor", "vdi_latency_by_pool:", "keeps", "its", "state"] in upgrade
    assert ["new", "monitor", "fleet_low_memory:", "starts", "without", "state"] in upgrade
    alerts = walked["alerts"]
    assert [(a["tenant"], a["monitor"], a["group"], a["status"], a["at"]) for a in alerts] == [
        ("acme", "vdi_latency_by_pool", FIN, "triggered", TRIGGERED_AT),
        ("acme", "vdi_latency_by_pool", FIN, "recovered", RECOVERED_AT)]
    assert alerts[0]["alert_id"] == alerts[1]["alert_id"] and alerts[0]["alert_id"].startswith("b9d8ff09")
    first, second = walked["outputs"]["tail-alerts"]
    assert [json.loads(ln)["status"] for ln in first.splitlines() if ln.startswith("{")] == ["triggered"]
    assert [json.loads(ln)["status"] for ln in second.splitlines() if ln.startswith("{")] == ["triggered",
                                                                                                "recovered"]


def test_the_keys_are_the_documented_scheme():
    # 2026-11-26T14:28:30Z and 14:37:00Z in epoch milliseconds
    assert key_of("triggered", 1_795_703_310_000) == TRIG_KEY
    assert key_of("recovered", 1_795_703_820_000) == REC_KEY


def test_one_email_per_transition_of_the_incidents_group(walked):
    trig, rec = walked["after_2"]["mails"]
    assert [m["Message-ID"] for m in walked["after_1"]["mails"]] == [f"<{TRIG_KEY}@nql-flink>"]
    for msg, word, key in ((trig, "TRIGGERED", TRIG_KEY), (rec, "RECOVERED", REC_KEY)):
        assert msg["Subject"] == f"[{word}] {WHAT} (critical)"
        assert (msg["From"], msg["To"]) == ("nql-flink@example.com", "vdi-team@example.com")
        assert (msg["Message-ID"], msg["X-NQL-Idempotency-Key"]) == (f"<{key}@nql-flink>", key)
    plain = trig.get_body(("plain",)).get_content()
    assert "monitor          acme/vdi_latency_by_pool (VDI network latency by desktop pool)\n" in plain
    assert "group            device.virtualization.desktop_pool = Finance-Win11\n" in plain
    assert "link             http://127.0.0.1:3000/d/nql?tenant=acme&monitor=vdi_latency_by_pool&alert=" in plain


def test_the_webhook_gets_both_signed_with_their_keys(walked):
    [first] = walked["after_1"]["calls"]
    calls = walked["after_2"]["calls"]
    assert calls[0] == first
    assert [(c["path"], c["status"], c["signature"]) for c in calls] == [("/alerts", 200, "valid")] * 2
    assert [c["headers"]["Idempotency-Key"] for c in calls] == [TRIG_KEY, REC_KEY]
    bodies = [c["body"] for c in calls]
    assert [b["idempotencyKey"] for b in bodies] == [TRIG_KEY, REC_KEY]
    assert [(b["version"], b["receiver"], b["status"]) for b in bodies] == [("4", "oncall-webhook", "firing"),
                                                                            ("4", "oncall-webhook", "resolved")]
    [trig], [rec] = bodies[0]["alerts"], bodies[1]["alerts"]
    assert (trig["labels"], trig["startsAt"], trig["endsAt"]) == (LABELS, TRIGGERED_AT, "0001-01-01T00:00:00Z")
    assert (rec["labels"], rec["endsAt"]) == (LABELS, RECOVERED_AT)
    assert trig["annotations"]["alert_id"] == rec["annotations"]["alert_id"] == walked["alerts"][0]["alert_id"]
    assert trig["generatorURL"] == ("http://127.0.0.1:3000/d/nql?tenant=acme&monitor=vdi_latency_by_pool&alert="
                                    + walked["alerts"][0]["alert_id"])


def test_alertmanager_shows_it_firing_then_resolved(walked):
    [held] = walked["after_1"]["am"]
    assert (held["labels"], held["startsAt"], held["status"]["state"]) == (LABELS, TRIGGERED_AT, "active")
    assert held["annotations"]["alert_id"] == walked["alerts"][0]["alert_id"]
    assert held["fingerprint"] == walked["after_1"]["calls"][0]["body"]["alerts"][0]["fingerprint"]
    assert walked["after_2"]["am"] == []  # resolved: no longer among the alerts it holds
    # and Alertmanager's own notifications, to the local webhook: firing, then resolved
    notified = [(n["body"]["status"], [(a["status"], a["labels"]) for a in n["body"]["alerts"]])
                for n in walked["after_2"]["notified"]]
    assert notified == [("firing", [("firing", LABELS)]), ("resolved", [("resolved", LABELS)])]
    assert walked["after_2"]["notified"][1]["body"]["alerts"][0]["endsAt"] == "2026-11-26T14:37:00Z"  # its format


def test_the_commands_say_what_they_did(walked):
    up = walked["outputs"]["receivers"][0]
    assert "SMTP server   vdi-team-email: 127.0.0.1:" in up and "Alertmanager  ops-alertmanager: http://127.0.0.1:" in up
    shown_1, shown_2 = walked["outputs"]["receivers"][1:3]
    assert f"001.eml  [TRIGGERED] {WHAT} (critical)  to vdi-team@example.com  key={TRIG_KEY}" in shown_1
    assert f"001.json  firing (triggered at {TRIGGERED_AT})" in shown_1 and "signature valid" in shown_1
    assert "1 alert(s) in Alertmanager" in shown_1 and "active  {" in shown_1
    assert f"002.eml  [RECOVERED] {WHAT} (critical)  to vdi-team@example.com  key={REC_KEY}" in shown_2
    assert f"002.json  resolved (recovered at {RECOVERED_AT})" in shown_2
    assert "0 alert(s) in Alertmanager" in shown_2 and "002.json  Alertmanager notified: resolved {" in shown_2
    assert "stopped; what they received stays in" in walked["outputs"]["receivers"][3]
    # the README's sample of the first `receivers show`, line for line (those it does not elide
    # with "..."), with the test's ports and folder
    readme = (ROOT / "README.md").read_text()
    sample = readme.split("a moment later `receivers show` prints:\n\n```\n", 1)[1].split("\n```", 1)[0]
    ports = walked["ports"]
    for line in sample.splitlines():
        if "..." in line:
            continue
        line = (line.replace("127.0.0.1:8099", f"127.0.0.1:{ports['webhook']}")
                .replace("127.0.0.1:8025", f"127.0.0.1:{ports['smtp']}")
                .replace("127.0.0.1:9093", f"127.0.0.1:{ports['alertmanager']}")
                .replace("build/receivers/", f"{walked['dir']}/"))
        assert line + "\n" in shown_1, line
    log = walked["notify_log"]
    assert walked["notify_rc"] == 0, log
    for receiver in ("oncall-webhook", "vdi-team-email", "ops-alertmanager"):
        assert f"{receiver}  delivered  triggered {WHAT} at {TRIGGERED_AT} key={TRIG_KEY}" in log
        assert f"{receiver}  delivered  recovered {WHAT} at {RECOVERED_AT} key={REC_KEY}" in log
    assert "SIGTERM: stopping" in log and "Traceback" not in log
