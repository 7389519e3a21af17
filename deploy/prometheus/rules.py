"""Reading an alerting-rules file: its structure, and the metric selectors its expressions use.

``problems(doc)`` checks the layout Prometheus loads (groups -> rules with alert, expr, for,
labels, annotations) without Prometheus: promtool, which also parses the PromQL, is optional
(`make promtool` installs it from the OS packages; `python -m nql_flink.deploy.prometheus check` uses it). ``selectors(expr)`` lists each `flink_...{...}`
selector of a PromQL expression with its label matchers; ``matches`` tells whether a scraped
sample (deploy.cluster.metrics.Sample) is one of the series a selector picks. A rule whose
selector matches nothing on a running job would never fire: the test of the rules asserts
that every selector matches something.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
RULES_FILE = HERE / "nql-flink-rules.yml"
UNIT_TESTS = HERE / "nql-flink-rules.test.yml"    # promtool test rules: when each rule fires

# the metrics of Flink's reporter all start with flink_ (functions and keywords never do)
_SELECTOR = re.compile(r'\b(flink_[A-Za-z0-9_:]*)\s*(?:\{([^}]*)\})?')
_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_DURATION = re.compile(r'^([0-9]+(ms|s|m|h|d|w|y))+$')
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[tuple[str, str, str], ...]   # (label, op, value)

    def __str__(self) -> str:
        inner = ",".join(f'{k}{op}"{v}"' for k, op, v in self.matchers)
        return self.name + (f"{{{inner}}}" if inner else "")


_OPS = {
    "=": lambda have, want: have == want,
    "!=": lambda have, want: have != want,
    "=~": lambda have, want: re.fullmatch(want, have) is not None,
    "!~": lambda have, want: re.fullmatch(want, have) is None,
}


def selectors(expr: str) -> list[Selector]:
    return [Selector(m[1], tuple(_MATCHER.findall(m[2] or ""))) for m in _SELECTOR.finditer(expr)]


def matches(selector: Selector, sample) -> bool:
    return sample.name == selector.name and all(
        _OPS[op](sample.labels.get(label, ""), value) for label, op, value in selector.matchers)


def load(path: str | Path = RULES_FILE) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def rules(doc: dict) -> list[dict]:
    return [r for g in doc.get("groups") or [] for r in g.get("rules") or []]


def problems(doc) -> list[str]:
    """What Prometheus would refuse in a rules file's layout ([] = none)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        return ["top level: a mapping with a list 'groups'"]
    out: list[str] = []
    seen: set[str] = set()
    for i, g in enumerate(doc["groups"]):
        if not isinstance(g, dict) or not isinstance(g.get("name"), str) or not isinstance(g.get("rules"), list):
            out.append(f"group {i}: needs 'name' and a list 'rules'")
            continue
        if g["name"] in seen:
            out.append(f"group {g['name']!r}: name used twice")
        seen.add(g["name"])
        for j, r in enumerate(g["rules"]):
            out += [f"{g['name']}[{j}]: {p}" for p in _rule_problems(r)]
    return out


def _rule_problems(r) -> list[str]:
    if not isinstance(r, dict):
        return ["not a mapping"]
    out = [f"unknown key {k!r}" for k in r if k not in RULE_KEYS]
    if not isinstance(r.get("alert"), str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", r["alert"]):
        out.append("'alert' must be a metric-like name")
    if not isinstance(r.get("expr"), str) or not r["expr"].strip():
        out.append("'expr' missing")
    elif r["expr"].count("(") != r["expr"].count(")") or not selectors(r["expr"]):
        out.append("'expr': unbalanced parentheses or no flink_ metric")
    for k in ("for", "keep_firing_for"):
        if k in r and not (isinstance(r[k], str) and _DURATION.match(r[k])):
            out.append(f"{k!r} {r[k]!r} is not a duration")
    for k in ("labels", "annotations"):
        if k in r and not (isinstance(r[k], dict) and all(isinstance(v, str) for v in r[k].values())):
            out.append(f"{k!r}: a mapping of strings")
    return out


def without_annotations(doc: dict) -> dict:
    """The rules with no annotations: what the promtool unit tests are run against, so they
    state when a rule fires and with which labels without repeating every description."""
    return {**doc, "groups": [{**g, "rules": [{k: v for k, v in r.items() if k != "annotations"}
                                               for r in g["rules"]]} for g in doc["groups"]]}
