"""The catalog of tables and fields, loaded once from translator/catalog/tables.yaml."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from nql_flink.translator.semantic.types import Type, from_catalog

CATALOG_FILE = Path(__file__).resolve().parent.parent / "catalog" / "tables.yaml"

_UNIT_MS = {"ms": 1, "s": 1_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # "object" | "event"
    topic: str
    time_field: str
    fields: dict[str, Type]
    links: dict[str, str]  # prefix -> object table name
    aliases: tuple[str, ...] = ()
    sampling: str | None = None
    cadence_ms: int | None = None
    identity: str | None = None
    evaluation: str = "streaming"  # how a monitor on this table is evaluated unless it says (streaming | polling)

    @property
    def is_event(self) -> bool:
        return self.kind == "event"


@dataclass(frozen=True)
class Catalog:
    tables: dict[str, Table]
    by_name: dict[str, Table]  # lower-case name or alias -> table

    def lookup(self, name: str) -> Table | None:
        return self.by_name.get(name.lower())

    def names(self) -> list[str]:
        return sorted(self.by_name)


def _duration_ms(text: str) -> int:
    for unit in sorted(_UNIT_MS, key=len, reverse=True):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * _UNIT_MS[unit]
    raise ValueError(f"bad cadence {text!r} in catalog")


@functools.cache
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables: dict[str, Table] = {}
    by_name: dict[str, Table] = {}
    for name, spec in raw["tables"].items():
        t = Table(
            name=name,
            kind=spec["kind"],
            topic=spec["topic"],
            time_field=spec["time"],
            fields={f: from_catalog(s) for f, s in spec["fields"].items()},
            links=dict(spec.get("links", {})),
            aliases=tuple(spec.get("aliases", ())),
            sampling=spec.get("sampling"),
            cadence_ms=_duration_ms(spec["cadence"]) if "cadence" in spec else None,
            identity=spec.get("identity"),
            evaluation=spec.get("evaluation", "streaming"),
        )
        tables[name] = t
        for n in (name, *t.aliases):
            by_name[n.lower()] = t
    return Catalog(tables, by_name)
