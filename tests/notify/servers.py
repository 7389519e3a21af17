"""Real receivers for the notifier's tests, on loopback, started and stopped by the tests: the
project's own local receivers (deploy/notify/local_receivers.py, also behind `nql-flink
receivers up`): an SMTP server (aiosmtpd), here with STARTTLS and a password, a webhook receiver
(http.server) that can be made to fail or to run a hook on a request, and Prometheus
Alertmanager from the OS packages (/usr/bin/prometheus-alertmanager, installed by `make test`)
with a temp storage path.
"""
from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

from nql_flink.deploy.notify import local_receivers
from nql_flink.deploy.notify.local_receivers import ALERTMANAGER, Alertmanager, Request, Webhook

__all__ = ["ALERTMANAGER", "Alertmanager", "Mailbox", "Request", "Webhook", "self_signed"]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (openssl, EC P-256, one day), as PEM files."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class Mailbox(local_receivers.Mailbox):
    """aiosmtpd on a free port: STARTTLS with a self-signed certificate (``self.cert``, the CA a
    client must trust, written to ``tls_dir``) required, then AUTH LOGIN/PLAIN with one user."""

    def __init__(self, user: str, password: str, tls_dir: Path):
        self.cert, key = self_signed(tls_dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        super().__init__(tls_context=context, login=(user, password))
