"""Reading the Prometheus endpoints of the local cluster's JVMs (tests, `python -m nql_flink.deploy.cluster metrics`).

Each JobManager and TaskManager serves Flink's metrics in Prometheus' text format on a port of
its own (``FlinkCluster.metrics_urls()``). A scrape is a list of ``Sample``s; ``total`` adds a
metric up over the samples whose labels match, which is how a job-wide figure (records into the
alert sink, say) is read from the per-subtask samples of every TaskManager. The reporter
replaces every character of a label value outside [A-Za-z0-9:_] by '_' (its default), so label
values here never hold quotes or escapes; ``label_value`` gives the form to match against.
"""
from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass

# name{label="value",...} value   (the reporter writes a trailing comma inside the braces)
_SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def parse(text: str) -> list[Sample]:
    """Samples of a Prometheus text exposition (comments and blank lines skipped)."""
    out = []
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m is None or line.startswith("#"):
            continue
        out.append(Sample(m[1], dict(_LABEL.findall(m[2] or "")), float(m[3])))
    return out


def scrape(url: str, timeout: float = 10.0) -> list[Sample]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return parse(r.read().decode("utf-8", "replace"))


def scrape_all(urls: Iterable[str]) -> list[Sample]:
    """The samples of several endpoints together (a job's subtasks are spread over TaskManagers)."""
    return [s for u in urls for s in scrape(u)]


def label_value(text: str) -> str:
    """``text`` as the reporter writes it in a label value (e.g. a job name)."""
    return re.sub(r"[^A-Za-z0-9:_]", "_", text)


def matching(samples: Iterable[Sample], name: str, **labels: str) -> list[Sample]:
    """Samples of metric ``name`` whose labels include ``labels``; a value ending in '*' is a prefix."""
    def ok(s: Sample) -> bool:
        return all(s.labels.get(k, "").startswith(v[:-1]) if v.endswith("*") else s.labels.get(k) == v
                   for k, v in labels.items())
    return [s for s in samples if s.name == name and ok(s)]


def total(samples: Iterable[Sample], name: str, **labels: str) -> float:
    """The sum of metric ``name`` over the matching samples (0 when none)."""
    return sum(s.value for s in matching(samples, name, **labels))


def names(samples: Iterable[Sample]) -> set[str]:
    return {s.name for s in samples}
