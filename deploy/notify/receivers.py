"""The receivers file (docs/notify.md): receiver name -> kind and settings, read with the
monitor files' field reader so every problem is a coded diagnostic at its line and column;
secrets are the values of environment variables the file names, never the file's text.
And the routes: which receivers each monitor's `notify:` names (an unknown name: NQL0701).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nql_flink.deploy.notify.payloads import link_problem
from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.monitors import yaml_nodes as Y
from nql_flink.translator.monitors.spec import Fields
from nql_flink.translator.source import Source, Span

KINDS = ("webhook", "email", "alertmanager")
TLS_MODES = ("starttls", "ssl", "none")
NAME_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}\Z")
ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
COMMON_KEYS = ("kind", "timeout", "retry", "link")
KIND_KEYS = {
    "webhook": ("url", "secret_env", "external_url"),
    "email": ("host", "port", "tls", "ca_file", "username", "password_env", "from", "to"),
    "alertmanager": ("url", "hold"),
}
RETRY_KEYS = ("initial", "max")
DEFAULT_TIMEOUT_MS, DEFAULT_RETRY_MS, DEFAULT_MAX_RETRY_MS = 10_000, 1_000, 60_000
DEFAULT_HOLD_MS = 7 * 86_400_000


@dataclass(frozen=True)
class Receiver:
    name: str
    kind: str
    timeout_s: float = DEFAULT_TIMEOUT_MS / 1000
    retry_initial_s: float = DEFAULT_RETRY_MS / 1000
    retry_max_s: float = DEFAULT_MAX_RETRY_MS / 1000
    link: str | None = None
    url: str | None = None             # webhook, alertmanager
    external_url: str = ""             # webhook: the payload's externalURL
    hold_ms: int = DEFAULT_HOLD_MS     # alertmanager: a firing alert's endsAt = now + hold
    host: str | None = None            # email
    port: int = 587
    tls: str = "starttls"
    ca_file: str | None = None
    username: str | None = None
    sender: str | None = None
    to: tuple[str, ...] = ()
    secret: str | None = field(default=None, repr=False)  # webhook HMAC key / SMTP password, from the environment
    secret_env: str | None = field(default=None, repr=False)  # the variable it came from (`secret_env`, `password_env`)


def read_receivers(path: str, env: Mapping[str, str] = os.environ
                   ) -> tuple[dict[str, Receiver | None], list[Diagnostic]]:
    """The receivers file -> {name: Receiver, or None for one with errors} and diagnostics in
    the file's order (the names of broken receivers are defined: `notify:` may name them)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return {}, [diag("NQL0009", Source.whole_file(path, ""), Span(0, 0), reason=exc.strerror or str(exc))]
    source, diags = Y.decode(path, data)
    if source is None:
        return {}, diags
    root, diags = Y.compose(source)
    if root is None:  # an empty file has no `receivers:`
        return {}, [d if d.code != "NQL0010" else diag("NQL0005", source, Span(0, 0), key="receivers",
                                                        where="the receivers file") for d in diags]
    out: list[Diagnostic] = []
    if not isinstance(root, yaml.MappingNode):
        return {}, [diag("NQL0006", source, Y.span_of(source, root), key="the receivers file", expected="a mapping",
                         found=Y.describe(root))]
    top = Fields(source, root, ("receivers",), "the receivers file", out)
    node = top.mapping("receivers") if "receivers" in top.values else top.report(
        "NQL0005", Y.span_of(source, root), key="receivers", where="the receivers file")
    receivers: dict[str, Receiver | None] = {}
    for key, value in node.value if node is not None else ():
        name = key.value if isinstance(key, yaml.ScalarNode) else "?"
        if not NAME_RE.match(name):
            out.append(diag("NQL0705", source, Y.span_of(source, key), name=name))
        elif name in receivers:
            out.append(diag("NQL0007", source, Y.span_of(source, key), key=name))
        elif not isinstance(value, yaml.MappingNode):
            out.append(diag("NQL0006", source, Y.span_of(source, value), key=name, expected="a mapping",
                            found=Y.describe(value)))
            receivers[name] = None
        else:
            receivers[name] = _read_receiver(source, name, value, env, out)
    return receivers, sorted(out, key=lambda d: d.location[1:])


def _read_receiver(source: Source, name: str, node: yaml.MappingNode, env: Mapping[str, str],
                   out: list[Diagnostic]) -> Receiver | None:
    where = f"receiver '{name}'"
    kind_node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "kind"), None)
    kind = kind_node.value if isinstance(kind_node, yaml.ScalarNode) else None
    f = Fields(source, node, COMMON_KEYS + KIND_KEYS.get(kind, ()), where, out)
    before = len(out)
    kind = f.choice("kind", KINDS, "") if "kind" in f.values else f.report(
        "NQL0005", Y.span_of(source, node), key="kind", where=where)
    if not kind:
        return None
    settings: dict = {"timeout_s": _positive(f, "timeout", DEFAULT_TIMEOUT_MS) / 1000}
    retry = f.mapping("retry")
    if retry is not None:
        rf = Fields(source, retry, RETRY_KEYS, f"the retry of {where}", out)
        settings["retry_initial_s"] = _positive(rf, "initial", DEFAULT_RETRY_MS) / 1000
        settings["retry_max_s"] = max(_positive(rf, "max", DEFAULT_MAX_RETRY_MS) / 1000, settings["retry_initial_s"])
    link = f.scalar("link")
    if link is not None and (problem := link_problem(link)):
        f.report("NQL0703", f.span("link"), problem=problem)
    settings["link"] = link

    def url(key: str, required: bool) -> str | None:
        value = f.scalar(key, required=required)
        if value is not None and not re.match(r"https?://[^/\s]+", value):
            f.report("NQL0704", f.span(key), value=value)
        return value

    def secret(key: str) -> str | None:
        var = f.scalar(key)
        if var is None:
            return None
        if not ENV_RE.match(var):
            f.report("NQL0006", f.span(key), key=key, expected="the name of an environment variable", found=repr(var))
        elif var not in env:
            f.report("NQL0702", f.span(key), var=var, what=key, receiver=name)
        settings["secret_env"] = var
        return env.get(var)

    if kind == "webhook":
        settings.update(url=url("url", True), secret=secret("secret_env"), external_url=f.scalar("external_url") or "")
    elif kind == "alertmanager":
        settings.update(url=url("url", True), hold_ms=_positive(f, "hold", DEFAULT_HOLD_MS))
    else:
        port = f.scalar("port", tags=(Y.INT,), expected="a port number")
        if port is not None and not 0 < _int(port) < 65536:
            f.report("NQL0408", f.span("port"), key="port", expected="a port number (1 to 65535)", value=port)
            port = None
        to = f.strings("to")
        if "to" in f.values and not to:
            f.report("NQL0006", f.span("to"), key="to", expected="a list of addresses", found="an empty list")
        elif "to" not in f.values:
            f.report("NQL0005", Y.span_of(source, node), key="to", where=where)
        settings.update(host=f.scalar("host", required=True), port=_int(port) if port else 587,
                        tls=f.choice("tls", TLS_MODES, "starttls"), ca_file=f.scalar("ca_file"),
                        username=f.scalar("username"), secret=secret("password_env"),
                        sender=f.scalar("from", required=True), to=to)
    if any(d.is_error for d in out[before:]):
        return None
    return Receiver(name=name, kind=kind, **settings)


def _int(text: str) -> int:
    """A YAML 1.1 integer's value (0x1f, 0o17, 1_000 too); -1 if Python cannot read it."""
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        return -1


def _positive(f: Fields, key: str, default: int) -> int:
    ms = f.duration(key, default)
    if ms is not None and ms <= 0:
        f.report("NQL0408", f.span(key), key=key, expected="a duration above zero", value=f.values[key].value)
        return default
    return default if ms is None else ms


def routes(monitors, receivers: Mapping[str, Receiver | None], receivers_path: str
           ) -> tuple[dict[tuple[str, str], tuple[str, ...]], list[Diagnostic]]:
    """(tenant, monitor id) -> the receivers its `notify:` names; a name the receivers file
    does not define is NQL0701 at the monitor's `notify:` list."""
    out: list[Diagnostic] = []
    table: dict[tuple[str, str], tuple[str, ...]] = {}
    for m in monitors:
        spec = m.spec
        for name in spec.notify:
            if name not in receivers:
                close = difflib.get_close_matches(name, list(receivers), n=1)
                hint = f"did you mean '{close[0]}'?" if close else (
                    "defined: " + ", ".join(sorted(receivers)) if receivers else None)
                out.append(diag("NQL0701", spec.file, spec.key_spans.get("notify") or spec.span, hint, name=name,
                                file=receivers_path))
        table[(m.tenant, m.id)] = tuple(dict.fromkeys(n for n in spec.notify if n in receivers))
    return table, out
