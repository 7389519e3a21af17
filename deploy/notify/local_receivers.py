"""Receivers on loopback for trying the notifier out and for its tests: an SMTP server
(aiosmtpd) and a webhook receiver (http.server) that keep what they receive, in memory and, with
a folder, as one file each (``NNN.eml``, ``NNN.json``), and Prometheus Alertmanager from the OS
packages (/usr/bin/prometheus-alertmanager) on its own storage folder.

`nql-flink receivers up` (translator/commands/receivers.py) starts them for the hosts and ports
of a receivers file; tests/notify/servers.py builds its servers from the same classes (with
STARTTLS and AUTH, a webhook that fails on request). Standard library and aiosmtpd only.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import hmac
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from nql_flink.deploy.local_service import (cmdline_has, end_processes, free_port, launch, pid_alive, port_free,
                                             wait_until)

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def _next_file(folder: Path | None, n: int, suffix: str, data: bytes) -> None:
    """Write the n-th thing received (1-based) as folder/NNN<suffix>, whole or not at all."""
    if folder is None:
        return
    tmp = folder / f".{n:03d}{suffix}.tmp"
    tmp.write_bytes(data)
    tmp.rename(folder / f"{n:03d}{suffix}")


class Mailbox:
    """aiosmtpd on ``host:port`` (a free port by default): every message kept (``messages``,
    ``envelopes``) and, with ``folder``, written there as NNN.eml. ``tls_context``: STARTTLS
    required; ``login`` (user, password): AUTH LOGIN/PLAIN required with that user."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *, folder: Path | None = None,
                 tls_context=None, login: tuple[str, str] | None = None):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.host, self.port, self.folder = host, port or free_port(host), folder
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                raw = envelope.original_content.replace(b"\r\n", b"\n")  # SMTP's line ends -> the message's
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                with box.lock:
                    box.messages.append(msg)
                    box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                    _next_file(box.folder, len(box.messages), ".eml", raw)
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == login[0].encode() and auth_data.password == login[1].encode()
            return AuthResult(success=ok)

        more = {}
        if login is not None:
            more.update(authenticator=authenticator, auth_required=True)
        if tls_context is not None:
            more.update(tls_context=tls_context, require_starttls=True)
        self.controller = Controller(Handler(), hostname=host, port=self.port, **more)
        self.controller.start()

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Request:
    path: str
    headers: object  # case-insensitive, as HTTP header names are (urllib sends "X-nql-signature")
    body: bytes
    status: int  # what the server answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def signature_check(secret: str | None, headers, body: bytes) -> str:
    """``valid`` / ``invalid`` / ``unsigned`` against the X-NQL-Signature header (docs/notify.md);
    ``not checked`` without a secret."""
    if secret is None:
        return "not checked"
    sent = headers.get("X-NQL-Signature")
    if sent is None:
        return "unsigned"
    want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return "valid" if hmac.compare_digest(sent, want) else "invalid"


@dataclass
class Webhook:
    """http.server on ``host:port`` (a free port by default) answering every POST. ``fail``:
    statuses answered to the next requests, in order, before 200s; ``hook(n)`` runs on the n-th
    request (1-based) before the answer. With ``folder``, each request is written there as
    NNN.json (path, headers, the signature checked with ``secret``, the body)."""

    port: int = 0
    fail: list = field(default_factory=list)
    hook: object = None
    requests: list = field(default_factory=list)
    host: str = "127.0.0.1"
    folder: Path | None = None
    secret: str | None = field(default=None, repr=False)

    def __post_init__(self):
        self.port = self.port or free_port(self.host)
        self.lock = threading.Lock()
        hook_ = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook_.lock:
                    status = hook_.fail.pop(0) if hook_.fail else 200
                    hook_.requests.append(Request(self.path, self.headers, body, status))
                    n = len(hook_.requests)
                    hook_._keep(n, self.path, self.headers, body, status)
                if hook_.hook is not None:
                    hook_.hook(n)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()  # stop() waits a poll

    def _keep(self, n: int, path: str, headers, body: bytes, status: int) -> None:
        if self.folder is None:
            return
        try:
            content = json.loads(body)
        except ValueError:
            content = body.decode(errors="replace")
        record = {"received": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "path": path, "status": status,
                  "signature": signature_check(self.secret, headers, body), "headers": dict(headers.items()),
                  "body": content}
        _next_file(self.folder, n, ".json", (json.dumps(record, indent=2) + "\n").encode())

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    def accepted(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.status == 200]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Alertmanager:
    """prometheus-alertmanager on ``host:port`` (a free port by default), clustering off, its
    configuration ``config`` (default: one receiver that sends nothing) and storage in
    ``directory`` (default a temp folder, removed by ``stop``). It runs in a session of its own,
    so it outlives the process that started it; stopped by its own pid."""

    CONFIG = "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n"

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *, directory: Path | None = None,
                 config: str = CONFIG, timeout: float = 30.0):
        if not Path(ALERTMANAGER).exists():
            raise RuntimeError(f"{ALERTMANAGER} is missing: `make test` installs it (apt-get install "
                               "prometheus-alertmanager)")
        self.temporary = directory is None
        self.dir = Path(tempfile.mkdtemp(prefix="alertmanager-")) if directory is None else Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "alertmanager.yml").write_text(config)
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.log = self.dir / "alertmanager.log"
        self.proc = launch([ALERTMANAGER, f"--config.file={self.dir / 'alertmanager.yml'}",
                            f"--storage.path={self.dir / 'data'}", f"--web.listen-address={host}:{self.port}",
                            "--cluster.listen-address=", "--log.level=warn"], self.log, cwd=self.dir)
        self.pid = self.proc.pid

        def exited():
            if self.proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {self.log.read_text()[-2000:]}")

        try:
            ready = wait_until(lambda: ready_at(self.url), timeout=timeout, interval=0.1, check=exited)
        except RuntimeError:
            self.stop()
            raise
        if not ready:
            self.stop()
            raise RuntimeError(f"alertmanager not ready in {timeout:.0f} s (log: {self.log})")

    def alerts(self, **labels) -> list[dict]:
        return alerts_at(self.url, **labels)

    def stop(self) -> None:
        end_processes([self.pid], sig=signal.SIGTERM)
        if self.temporary:
            shutil.rmtree(self.dir, ignore_errors=True)


def ready_at(url: str) -> bool:
    """Alertmanager at ``url`` answers /-/ready."""
    with contextlib.suppress(OSError):
        with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
            return r.status == 200
    return False


def alerts_at(url: str, **labels) -> list[dict]:
    """GET /api/v2/alerts (Alertmanager's own API), filtered on these labels: the alerts it holds
    that have not ended (a resolved alert is not listed)."""
    query = urllib.parse.urlencode([("filter", f'{k}="{v}"') for k, v in labels.items()])
    with urllib.request.urlopen(f"{url}/api/v2/alerts?{query}", timeout=10) as r:
        return json.loads(r.read())


# -- the local receivers of a receivers file: `nql-flink receivers up|show|down` ---------------

LOOPBACK = ("127.0.0.1", "localhost")  # IPv4: the servers bind AF_INET
DEFAULT_STATE_DIR = Path("build/receivers")
STATE_FILE = "receivers.json"
INBOX_NEEDLE = "nql_flink.deploy.notify.local_receivers"


class LocalReceiversError(RuntimeError):
    pass


@dataclass(frozen=True)
class Planned:
    """One receiver of the file, as started here: on ``host:port``; ``secret_env`` the variable
    the webhook's signature is checked with."""
    name: str
    kind: str
    host: str
    port: int
    url: str = ""
    secret_env: str | None = None


def plan(receivers: dict) -> tuple[list[Planned], list[str]]:
    """What to start for the receivers of a file (read with deploy/notify/receivers.py), and the
    problems that make one impossible here (a host that is not loopback, TLS or AUTH on email,
    https), one sentence each."""
    planned, problems = [], []
    for name, r in receivers.items():
        if r is None:
            continue
        if r.kind == "email":
            host, port = r.host, r.port
            if r.tls != "none" or r.username:
                problems.append(f"{name}: the local SMTP server speaks plain SMTP without AUTH: set `tls: none` and "
                                "no `username` for it")
        else:
            parts = urllib.parse.urlsplit(r.url)
            try:
                host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError as exc:  # a port that is not one
                problems.append(f"{name}: {r.url}: {exc}")
                continue
            if parts.scheme != "http":
                problems.append(f"{name}: {r.url}: the local {r.kind} serves http only")
        if host not in LOOPBACK:
            problems.append(f"{name}: {host} is not a loopback address: only receivers on this machine "
                            f"({', '.join(LOOPBACK)}) are started here")
        planned.append(Planned(name, r.kind, "127.0.0.1" if host == "localhost" else host, port,
                               r.url or "", r.secret_env if r.kind == "webhook" else None))
    seen: dict[tuple[str, int], str] = {}
    for p in planned:
        other = seen.setdefault((p.host, p.port), p.name)
        if other != p.name:
            problems.append(f"{p.name}: {p.host}:{p.port} is {other}'s address too")
    return planned, problems


def alertmanager_config(hook_url: str) -> str:
    """Alertmanager's configuration: every alert to the inbox's hook, resolved ones too, without
    waiting (group_wait and group_interval 1s), so its own notifications show each change."""
    return ("route:\n  receiver: inbox\n  group_by: [alertname, tenant]\n  group_wait: 1s\n  group_interval: 1s\n"
            "  repeat_interval: 24h\nreceivers:\n  - name: inbox\n    webhook_configs:\n"
            f"      - url: {hook_url}\n        send_resolved: true\n")


@dataclass
class LocalReceivers:
    """The started receivers, in ``<state_dir>/receivers.json``: the inbox process (SMTP servers
    and webhooks, one folder per receiver) and one Alertmanager per alertmanager receiver."""

    state_dir: Path
    receivers_file: str
    inbox_pid: int
    alertmanager_pids: list
    receivers: list  # [{name, kind, address, folder}]

    @classmethod
    def load(cls, state_dir: Path | None = None) -> "LocalReceivers | None":
        f = Path(state_dir or DEFAULT_STATE_DIR) / STATE_FILE
        if not f.exists():
            return None
        try:
            d = json.loads(f.read_text())
            return cls(**{**d, "state_dir": Path(d["state_dir"])})
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise LocalReceiversError(f"{f} is not a state file of `nql-flink receivers up` ({exc}): remove it "
                                      "(stop what it started by hand if anything)") from exc

    def save(self) -> None:
        d = {**self.__dict__, "state_dir": str(self.state_dir)}
        (self.state_dir / STATE_FILE).write_text(json.dumps(d, indent=2) + "\n")

    def running(self) -> bool:
        return pid_alive(self.inbox_pid) and cmdline_has(self.inbox_pid, INBOX_NEEDLE)

    @classmethod
    def start(cls, state_dir: Path, receivers_file: str, planned: list[Planned], say=print,
              python: str | None = None) -> "LocalReceivers":
        """Start the inbox process for the SMTP and webhook receivers and an Alertmanager per
        alertmanager receiver; every folder emptied first (what arrives from now on)."""
        taken = [f"{p.name}: {p.host}:{p.port} is taken (something else listens there)"
                 for p in planned if not port_free(p.port, wait=0)]
        if taken:
            raise LocalReceiversError("; ".join(taken))
        state_dir.mkdir(parents=True, exist_ok=True)
        for p in planned:
            folder = state_dir / p.name
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
        ams = [p for p in planned if p.kind == "alertmanager"]
        hook_port = free_port()
        serve = [python or sys.executable, "-m", INBOX_NEEDLE, "serve", "--dir", str(state_dir)]
        for p in planned:
            if p.kind == "email":
                serve += ["--smtp", f"{p.name}={p.host}:{p.port}"]
            elif p.kind == "webhook":
                serve += ["--webhook", f"{p.name}={p.host}:{p.port}" + (f",{p.secret_env}" if p.secret_env else "")]
        for p in ams:  # Alertmanager's own notifications, into the folder of the alertmanager receiver
            serve += ["--webhook", f"{p.name}=127.0.0.1:{hook_port}"]
        log = state_dir / "inbox.log"
        proc = launch(serve, log, cwd=Path.cwd())
        state = cls(state_dir, receivers_file, proc.pid, [], [])

        def exited():
            if proc.poll() is not None:
                raise LocalReceiversError(f"the inbox process exited: {log.read_text(errors='replace')[-2000:]}")

        if not wait_until(lambda: "ready" in log.read_text(errors="replace").splitlines(), 30, 0.1, check=exited):
            end_processes([proc.pid], needle=INBOX_NEEDLE)
            raise LocalReceiversError(f"the inbox process did not start in 30 s (log: {log})")
        for p in planned:
            folder = str(state_dir / p.name)
            if p.kind == "email":
                say(f"SMTP server   {p.name}: {p.host}:{p.port}, each email kept in {folder}/NNN.eml")
            elif p.kind == "webhook":
                check = f"X-NQL-Signature checked with ${p.secret_env}" if p.secret_env else "signatures not checked"
                say(f"webhook       {p.name}: {p.url}, each call kept in {folder}/NNN.json ({check})")
            state.receivers.append({"name": p.name, "kind": p.kind, "address": p.url or f"{p.host}:{p.port}",
                                    "folder": folder})
        state.save()
        for p in ams:
            try:
                am = Alertmanager(p.host, p.port, directory=state_dir / f".alertmanager-{p.name}",
                                  config=alertmanager_config(f"http://127.0.0.1:{hook_port}/alertmanager"))
            except RuntimeError as exc:
                state.stop()
                raise LocalReceiversError(f"{p.name}: {exc}") from exc
            state.alertmanager_pids.append(am.pid)
            state.save()
            say(f"Alertmanager  {p.name}: {am.url} (API v2: {am.url}/api/v2/alerts), its own notifications "
                f"(firing and resolved) kept in {state_dir / p.name}/NNN.json")
        return state

    def stop(self) -> list[int]:
        """End the inbox and the Alertmanagers by their pids; the received files stay."""
        left = end_processes([self.inbox_pid], needle=INBOX_NEEDLE)
        left += end_processes(self.alertmanager_pids, needle=ALERTMANAGER)
        if not left:
            (self.state_dir / STATE_FILE).unlink(missing_ok=True)
        return left


def serve(argv: list[str] | None = None) -> int:
    """The inbox process: SMTP servers and webhooks until SIGTERM, what they receive written
    into <dir>/<receiver>/."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m " + INBOX_NEEDLE)
    parser.add_argument("action", choices=["serve"])
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--smtp", action="append", default=[], metavar="NAME=HOST:PORT")
    parser.add_argument("--webhook", action="append", default=[], metavar="NAME=HOST:PORT[,SECRET_ENV]")
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    servers = []
    try:
        for spec in args.smtp:
            name, _, address = spec.partition("=")
            host, _, port = address.rpartition(":")
            servers.append(Mailbox(host, int(port), folder=args.dir / name))
            print(f"{name}: SMTP on {address}", flush=True)
        for spec in args.webhook:
            name, _, rest = spec.partition("=")
            address, _, secret_env = rest.partition(",")
            host, _, port = address.rpartition(":")
            servers.append(Webhook(port=int(port), host=host, folder=args.dir / name,
                                   secret=os.environ.get(secret_env) if secret_env else None))
            print(f"{name}: HTTP on {address}", flush=True)
        print("ready", flush=True)
        done.wait()
    except Exception as exc:  # a port taken, a bad address: said in the log the starting command prints
        print(f"error: {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        for s in servers:
            with contextlib.suppress(Exception):
                s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
