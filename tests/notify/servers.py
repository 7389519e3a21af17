"""Real receivers for the notifier's tests, on loopback, started and stopped by the tests:
an SMTP server (aiosmtpd) with STARTTLS and a password, a webhook receiver (http.server) that can be made
to fail or to run a hook on a request, and Prometheus Alertmanager from the OS packages
(/usr/bin/prometheus-alertmanager, installed by `make test`) with a temp storage path.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import json
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from nql_flink.deploy.local_service import end_processes, free_port, launch, wait_until

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (openssl, EC P-256, one day), as PEM files."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class Mailbox:
    """aiosmtpd on a free port: STARTTLS with a self-signed certificate (``self.cert``, the CA a
    client must trust, written to ``tls_dir``) required, then AUTH LOGIN/PLAIN with one user."""

    def __init__(self, user: str, password: str, tls_dir: Path):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                raw = envelope.original_content.replace(b"\r\n", b"\n")  # SMTP's line ends -> the message's
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                with box.lock:
                    box.messages.append(msg)
                    box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok)

        self.port = free_port()
        self.cert, key = self_signed(tls_dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticator,
                                     auth_required=True, tls_context=context, require_starttls=True)
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


@dataclass
class Webhook:
    """http.server on ``port`` (a free one by default). ``fail``: statuses answered to the next
    requests, in order, before 200s; ``hook(n)`` runs on the n-th request (1-based) before the answer."""

    port: int = field(default_factory=free_port)
    fail: list = field(default_factory=list)
    hook: object = None
    requests: list = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        hook_ = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook_.lock:
                    status = hook_.fail.pop(0) if hook_.fail else 200
                    hook_.requests.append(Request(self.path, self.headers, body, status))
                    n = len(hook_.requests)
                if hook_.hook is not None:
                    hook_.hook(n)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()  # stop() waits a poll

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.status == 200]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Alertmanager:
    """prometheus-alertmanager on a free loopback port, a temp storage path, one receiver that
    sends nothing, clustering off; stopped by its own pid."""

    CONFIG = "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n"

    def __init__(self):
        if not Path(ALERTMANAGER).exists():
            raise RuntimeError(f"{ALERTMANAGER} is missing: `make test` installs it (apt-get install prometheus-alertmanager)")
        self.dir = Path(tempfile.mkdtemp(prefix="alertmanager-"))
        (self.dir / "alertmanager.yml").write_text(self.CONFIG)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = launch([ALERTMANAGER, f"--config.file={self.dir / 'alertmanager.yml'}",
                            f"--storage.path={self.dir / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
                            "--cluster.listen-address=", "--log.level=warn"], self.dir / "alertmanager.log",
                           cwd=self.dir)

        def exited():
            if self.proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {(self.dir / 'alertmanager.log').read_text()[-2000:]}")

        if not wait_until(self._ready, timeout=30, interval=0.1, check=exited):
            self.stop()
            raise RuntimeError("alertmanager not ready in 30 s")

    def _ready(self) -> bool:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                return r.status == 200
        return False

    def alerts(self, **labels) -> list[dict]:
        """GET /api/v2/alerts (Alertmanager's own API), filtered on these labels."""
        query = urllib.parse.urlencode([("filter", f'{k}="{v}"') for k, v in labels.items()])
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts?{query}", timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        end_processes([self.proc.pid], sig=signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)
