"""Read the NQL catalog (translator/catalog/tables.yaml) for the simulator.

The simulator never hard-codes a table layout: record shapes (field names, nesting, key
order) and type checks come from the catalog. The value generators only know the
*meaning* of the fields they model; a field added to the catalog that no generator knows
still gets a well-typed filler value.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

TENANT = "tenant"
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
VERSION_RE = re.compile(r"^\d+(\.\d+)+$")
IPV4_RE = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
NUMERIC_TYPES = ("int", "float", "duration", "byte", "bitrate", "ratio")


@dataclass(frozen=True)
class Field:
    path: str
    type: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    kind: str                 # object | event
    sampling: str | None      # sampled | punctual | None (object)
    cadence_ms: int | None
    time_field: str
    identity: str | None
    topic: str
    fields: tuple[Field, ...]

    def field(self, path: str) -> Field:
        for f in self.fields:
            if f.path == path:
                return f
        raise KeyError(f"{path} is not a field of {self.name}")

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.fields)

    @property
    def entity_path(self) -> str:
        """The path of the entity id used in the Kafka key (besides tenant)."""
        return self.identity or "device.collector.uid"


_DUR_RE = re.compile(r"^(\d+)\s*(ms|s|min|h|d)$")
_DUR_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def _cadence(text) -> int | None:
    if text is None:
        return None
    m = _DUR_RE.match(str(text).strip())
    if not m:
        raise ValueError(f"bad cadence {text!r} in catalog")
    return int(m.group(1)) * _DUR_MS[m.group(2)]


def default_catalog_path() -> Path:
    return Path(str(resources.files("nql_flink.translator") / "catalog" / "tables.yaml"))


@functools.lru_cache(maxsize=4)
def load_catalog(path: str | None = None) -> dict[str, Table]:
    """Table name -> Table, in catalog order. Aliases are resolved by `get_table`."""
    text = Path(path or default_catalog_path()).read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    tables: dict[str, Table] = {}
    for name, spec in doc["tables"].items():
        fields = []
        for fpath, ftype in spec["fields"].items():
            if isinstance(ftype, dict):
                fields.append(Field(fpath, ftype["type"], tuple(ftype.get("values", ()))))
            else:
                fields.append(Field(fpath, str(ftype)))
        tables[name] = Table(
            name=name,
            kind=spec["kind"],
            sampling=spec.get("sampling"),
            cadence_ms=_cadence(spec.get("cadence")) if spec["kind"] == "event" else None,
            time_field=spec["time"],
            identity=spec.get("identity"),
            topic=spec.get("topic", f"nql.{name}"),
            fields=tuple(fields),
        )
        for alias in spec.get("aliases", ()):
            _ALIASES[alias] = name
    return tables


_ALIASES: dict[str, str] = {}


def get_table(name: str, path: str | None = None) -> Table:
    tables = load_catalog(path)
    return tables[_ALIASES.get(name, name)]


# ---------------------------------------------------------------------------- record shape

def _nest(paths: list[str]) -> dict:
    """Dotted paths -> nested dict of {segment: subtree | index}, in first-seen order."""
    tree: dict = {}
    for i, p in enumerate(paths):
        node = tree
        parts = p.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"catalog path {p} collides with a scalar field")
        node[parts[-1]] = i
    return tree


def _literal(tree: dict) -> str:
    items = []
    for key, sub in tree.items():
        val = _literal(sub) if isinstance(sub, dict) else f"a{sub}"
        items.append(f"{key!r}: {val}")
    return "{" + ", ".join(items) + "}"


@functools.lru_cache(maxsize=None)
def record_builder(table_name: str, catalog_path: str | None = None):
    """A fast function `build(tenant, *values_in_catalog_field_order) -> dict`.

    Compiled once per table from the catalog so nesting is exactly the catalog's.
    """
    table = get_table(table_name, catalog_path)
    paths = [TENANT, *table.paths]
    args = ", ".join(f"a{i}" for i in range(len(paths)))
    src = f"def build({args}):\n    return {_literal(_nest(paths))}\n"
    ns: dict = {}
    exec(compile(src, f"<record_builder {table.name}>", "exec"), ns)  # noqa: S102 - source built from catalog keys via repr()
    return ns["build"]


def get_path(record: dict, path: str, default=KeyError):
    node = record
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is KeyError:
                raise KeyError(path)
            return default
        node = node[part]
    return node


def leaf_paths(record: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in record.items():
        p = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(leaf_paths(v, p + "."))
        else:
            out.append(p)
    return out


# ---------------------------------------------------------------------------- validation

NULLABLE = {("device.devices", "virtualization.desktop_pool"), ("device.devices", "virtualization.environment")}


def check_value(field: Field, value) -> str | None:
    t = field.type
    isnum = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if t == "string":
        ok = isinstance(value, str)
    elif t == "datetime":
        ok = isinstance(value, str) and bool(TIME_RE.match(value))
    elif t in ("duration", "float"):
        ok = isnum and (t == "float" or value >= 0)
    elif t == "ratio":
        ok = isnum and 0.0 <= value <= 1.0
    elif t in ("int", "byte", "bitrate"):
        ok = isinstance(value, int) and not isinstance(value, bool) and (t == "int" or value >= 0)
    elif t == "bool":
        ok = isinstance(value, bool)
    elif t == "enum":
        ok = value in field.values
    elif t == "ip":
        m = isinstance(value, str) and IPV4_RE.match(value)
        ok = bool(m) and all(int(g) <= 255 for g in m.groups())
    elif t == "version":
        ok = isinstance(value, str) and bool(VERSION_RE.match(value))
    else:
        ok = value is not None
    return None if ok else f"{field.path}: {value!r} is not a valid {t}"


def validate(table_name: str, record: dict, catalog_path: str | None = None) -> list[str]:
    """Problems with one record against the catalog (empty list = conforms)."""
    table = get_table(table_name, catalog_path)
    errors = []
    if not isinstance(record.get(TENANT), str) or not record.get(TENANT):
        errors.append("tenant: missing or not a string")
    for f in table.fields:
        try:
            v = get_path(record, f.path)
        except KeyError:
            errors.append(f"{f.path}: missing")
            continue
        if v is None and (table.name, f.path) in NULLABLE:
            continue
        err = check_value(f, v)
        if err:
            errors.append(err)
    extra = set(leaf_paths(record)) - {TENANT, *table.paths}
    errors.extend(f"{p}: not in the catalog" for p in sorted(extra))
    return errors
