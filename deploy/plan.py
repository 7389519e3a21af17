"""Compiled plans whose operator ids survive changes to the job: savepoint upgrades.

Flink restores an operator's state from a savepoint by the operator's uid. A SQL job submitted
as a statement set gets ids from the order the planner created its operators
(``table.exec.uid.generation``), so adding, changing or removing one monitor renumbers the
operators of the others and their state (open alerts, pending ``for`` runs, window partials,
buffered rows) no longer maps. Flink's answer for SQL is the compiled plan (``COMPILE PLAN`` /
``EXECUTE PLAN``): each exec node carries an ``id`` that becomes its operators' uids
(``<id>_<transformation>``). This module rewrites those ids so that a node's id depends on
*what state it holds and for whom*, never on its position in the plan:

    plan = compile_plan(statements, t_env)       # COMPILE PLAN ... FOR STATEMENT SET (JVM)
    stable = stabilize(plan)                      # pure: ids from identities
    report = compare(old_stable, stable)          # pure: which state each owner keeps

Identity of a node = (owner, kind, signature, ordinal):
- owner: ``source:<table>`` and ``sink:<table>`` for connectors; the monitor pipeline for
  nodes after its windows function or feeding only that pipeline (found through the
  ProcessTableFunctions' ``uid`` arguments, ``<pipeline>--<role>--<hash>``); ``job`` for a
  function whose uid starts with ``job--`` (the alert states of every threshold monitor) and
  the nodes after it, whatever pipelines feed it; else, and always for the state of a table
  (clocks, versions, ticks: TABLE_KINDS), the tables the node reads.
- signature of a stateful node: what its state means and how it is serialised — the node's
  own settings and the row types of its inputs (a different row type would not restore);
  with two tailored cases: the Kafka source (its state is offsets: the topic and group) and
  the running-maximum clock (its state is the aggregate per key, not the row). A versioned
  table's source also takes the signature of its versions (deduplicate) node, or of the
  windows function that keeps the versions itself (its uid and what each version holds; for
  the monitor-config topic, every windows function: each keeps its monitors' configs): when
  the versions reset, the compacted topic must be read again from the start, which is what the
  source does when it has no state (connectors.py reads versioned topics from the earliest).
- a stateless node's id is a hash of its content and its inputs' ids: unique, never restored.

Only the Python standard library is used: the Managed Flink driver ships this file.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass

# exec node type (without its _<version>) -> kind of state it holds
STATEFUL_KINDS = {
    "stream-exec-table-source-scan": "source",
    "stream-exec-sink": "sink",
    "stream-exec-over-aggregate": "clock",
    "stream-exec-deduplicate": "versions",
    "stream-exec-temporal-join": "join",
    "stream-exec-global-window-aggregate": "ticks",
    "stream-exec-window-aggregate": "ticks",
    "stream-exec-group-aggregate": "aggregate",
    "stream-exec-python-group-aggregate": "alerts",
    "stream-exec-process-table-function": "function",
    "stream-exec-join": "join",
    "stream-exec-rank": "rank",
    "stream-exec-changelog-normalize": "versions",
}
# State of a table, whatever monitors read it (a second monitor must not reset it); `order`: the
# inventory's version order function (uid ``d_<table>--order--...``), a table's, not an anchor.
TABLE_KINDS = ("clock", "versions", "ticks", "order")
# Fields that do not change what a node's state means.
_NOT_STATE = ("id", "description", "inputProperties")
# The owner of a function every monitor of the job feeds (translator/flink/codegen.py JOB): its
# identity, and that of the nodes after it, does not depend on which monitors feed it.
JOB = "job"
# The owner prefix of a table's windows function (uid ``t_<table>--windows--...``).
TABLE_WINDOWS = "t_"
_ID_MASK = 0x7FFFFFFF
_SET = re.compile(r"\s*SET\s+'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'\s*;?\s*\Z", re.IGNORECASE)


@dataclass(frozen=True)
class StateNode:
    """One stateful operator of a plan, by identity; or one shape's part of a table's windows
    function (``shape``: restored with the function, kept or dropped by the function itself)."""
    owner: str      # pipeline name | source:<table> | sink:<table> | tables:<a,b>
    kind: str       # source, sink, clock, versions, join, ticks, alerts, windows, function, ...
    key: str        # full identity (owner, kind, signature, ordinal): equal keys restore
    shape: bool = False


# A table's windows function computes the windows of every monitor reading the table, one
# part per shape (translator/flink/codegen.py _table_windows); its spec names each shape and
# the monitors it serves per tenant, each with its pipeline:
# 'lag=...;idle=... | s_1a2b3c4d5e (acme: lat@m_lat, other@m_lat; globex: lat@m_lat_2): size=...'.
_SHAPE = re.compile(r"\|\s*(s_[0-9a-f]+)\s*\(([^)]*)\)\s*:")
# The inventory digest in the table segment of an InventoryWindows spec
# (lag=...;idle=...[;late=...];inv=<digest>).
_INVENTORY_DIGEST = re.compile(r"lag=\d+;idle=\d+(?:;[a-z]+=\d+)*;inv=([0-9a-f]+)")


def shapes(node: dict) -> dict[str, list[str]]:
    """Shape id -> the monitors it serves (as pipeline owners, ``m_<id>``), of a table's
    windows function node."""
    text = json.dumps(node.get("functionCall", {}))
    out = {}
    for m in _SHAPE.finditer(text):
        ids = {i.partition("@")[0].strip() for entry in m.group(2).split(";") for i in entry.partition(":")[2].split(",")
               if i.strip()}
        out[m.group(1)] = sorted(f"m_{i}" for i in ids)
    return out


def node_type(node: dict) -> str:
    return node["type"].rsplit("_", 1)[0]


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _table(node: dict, field: str) -> str:
    ident = node[field]["table"]["identifier"]
    return ident.rsplit(".", 1)[-1].strip("`")


def _options(node: dict, field: str) -> dict:
    return node[field]["table"].get("resolvedTable", {}).get("options", {})


def _monitor_of(pipeline: str) -> set[str]:
    """The monitor id a pipeline's name may stand for (``m_<id>``, or ``m_<id>_<n>``, the n-th
    pipeline of one id: codegen.pipelines)."""
    return {pipeline[2:], re.sub(r"_[0-9]+\Z", "", pipeline[2:])}


def pipeline_of(uid: str) -> str:
    """The monitor pipeline a function uid belongs to (``<pipeline>--<role>--<hash>``,
    translator/flink/codegen.py state_uid)."""
    return uid.split("--", 1)[0]


class _Graph:
    def __init__(self, plan: dict):
        self.nodes = {n["id"]: n for n in plan["nodes"]}
        self.inputs: dict[int, list[int]] = defaultdict(list)
        self.outputs: dict[int, list[int]] = defaultdict(list)
        for e in plan["edges"]:
            self.inputs[e["target"]].append(e["source"])
            self.outputs[e["source"]].append(e["target"])
        self.order = self._topological()
        self.anchor = {i: pipeline_of(n["uid"]) for i, n in self.nodes.items()
                       if node_type(n) == "stream-exec-process-table-function" and n.get("uid")
                       and _kind(n) not in TABLE_KINDS}
        job_wide = {i for i, a in self.anchor.items() if a == JOB}
        pipeline = lambda i: {self.anchor[i]} if i in self.anchor and i not in job_wide else set()  # noqa: E731
        self.up = self._closure(self.order, self.inputs, lambda i: {JOB} if i in job_wide else pipeline(i),
                                stop=job_wide)
        self.down = self._closure(list(reversed(self.order)), self.outputs, pipeline)
        self.feeds_job = self._closure(list(reversed(self.order)), self.outputs,
                                       lambda i: {JOB} if i in job_wide else set())
        self.sources = self._closure(self.order, self.inputs, lambda i: {_table(self.nodes[i], "scanTableSource")}
                                     if node_type(self.nodes[i]) == "stream-exec-table-source-scan" else set())
        # after a table's windows function, the pipelines whose monitor a node's upstream names
        # (the eval views' monitor constant): whose state a config join or a detection is
        monitors: dict[str, set[str]] = defaultdict(set)
        for i in self.anchor:
            for ps in shapes(self.nodes[i]).values():
                for p in ps:
                    for m in _monitor_of(p):
                        monitors[m].add(p)
        literal = re.compile(r'"value": "([^"]*)"')
        self.named = self._closure(self.order, self.inputs, lambda i: set() if i in self.anchor or not self.up[i] else {
            p for v in literal.findall(json.dumps(self.nodes[i])) for p in monitors.get(v, ())})

    def _topological(self) -> list[int]:
        pending = {i: len(self.inputs[i]) for i in self.nodes}
        ready = sorted(i for i, n in pending.items() if n == 0)
        out = []
        while ready:
            i = ready.pop(0)
            out.append(i)
            for j in self.outputs[i]:
                pending[j] -= 1
                if pending[j] == 0:
                    ready.append(j)
        if len(out) != len(self.nodes):
            raise ValueError("the plan's edges do not form a DAG")
        return out

    @staticmethod
    def _closure(order, links, own, stop=frozenset()) -> dict[int, frozenset]:
        """Per node, its own names and those of the nodes it links to (transitively); a node
        of `stop` has its own only."""
        acc: dict[int, frozenset] = {}
        for i in order:
            s = set(own(i))
            for j in links[i] if i not in stop else ():
                s |= acc[j]
            acc[i] = frozenset(s)
        return acc

    def owner(self, i: int) -> str:
        """Whose state this is, for its identity: a connector's table; the pipelines after
        whose windows function it runs (the job, after its job-wide function); else the
        tables it reads (never the set of monitors it feeds: Flink merges identical views of
        several monitors into one operator, and a monitor added or removed must not change
        the identity of what they share)."""
        n, t = self.nodes[i], node_type(self.nodes[i])
        if t == "stream-exec-table-source-scan":
            return "source:" + _table(n, "scanTableSource")
        if t == "stream-exec-sink":
            return "sink:" + _table(n, "dynamicTableSink")
        if i not in self.anchor and self.up[i] and all(a.startswith(TABLE_WINDOWS) for a in self.up[i]) \
                and self.feeds_job[i]:
            # between the tables' windows and the job's function (the job's one config join of
            # every threshold monitor's evaluations): the job's, whatever monitors feed it
            return JOB
        if self.up[i]:
            return ",".join(sorted(self.up[i]))
        return "tables:" + ",".join(sorted(self.sources[i]))

    def shown_owner(self, i: int) -> str:
        """Whose state this is, for people: a node before the windows that feeds one
        monitor pipeline only is that pipeline's."""
        owner = self.owner(i)
        if owner.startswith("tables:") and len(self.down[i]) == 1 and _kind(self.nodes[i]) not in TABLE_KINDS \
                and not next(iter(self.down[i])).startswith(TABLE_WINDOWS):
            return next(iter(self.down[i]))
        if owner.startswith(TABLE_WINDOWS) and len(self.named[i]) == 1:
            return next(iter(self.named[i]))
        return owner

    def position(self, i: int) -> str:
        """Before or after the pipeline's windows function (two joins of one pipeline differ)."""
        return "after" if self.up[i] else "before"


def _kind(node: dict) -> str | None:
    t = node_type(node)
    kind = STATEFUL_KINDS.get(t)
    if kind == "function":
        uid = node.get("uid")
        if not uid:
            return None                       # row semantics (TO_CHANGELOG): no state
        parts = uid.split("--")
        return parts[1] if len(parts) > 1 else "windows"
    return kind


def _signature(g: _Graph, i: int, versions_of: dict[int, list[str]], keys: dict[int, str]) -> str:
    n = g.nodes[i]
    t = node_type(n)
    if t == "stream-exec-table-source-scan":
        opts = _options(n, "scanTableSource")
        own = {k: opts.get(k) for k in ("connector", "topic", "properties.group.id", "path")}
        return _digest([own, sorted(versions_of.get(i, []))])
    if t == "stream-exec-sink":
        opts = _options(n, "dynamicTableSink")
        return _digest({k: opts.get(k) for k in ("connector", "topic", "sink.delivery-guarantee",
                                                 "sink.transactional-id-prefix", "path")})
    if t == "stream-exec-over-aggregate":
        spec = n["overSpec"]
        in_type = g.nodes[g.inputs[i][0]]["outputType"]
        fields = in_type.get("fields", []) if isinstance(in_type, dict) else []
        keys = [fields[k] if k < len(fields) else k for k in spec["partition"]["fields"]]
        calls = [[(c["internalName"], c["type"]) for c in grp["aggCalls"]] for grp in spec["groups"]]
        return _digest([keys, calls])
    if t == "stream-exec-process-table-function":
        # Flink restores a PTF by its uid anyway; its state that declares no TTL is written with
        # one whatever the job's (Long.MAX_VALUE when none), so bound_state's TTL changes nothing
        return _digest(n["uid"])
    own = {k: v for k, v in n.items() if k not in _NOT_STATE}
    # What the inputs carry (their keys) tells apart the joins of monitors that read the same
    # columns: before the windows, the filters on the way from the table's shared state; after
    # a table's windows function (shared by the table's monitors), each pipeline's own views.
    # Not after the job's function: its state does not depend on which monitors feed it.
    upstream = [keys[j] for j in g.inputs[i]] if _kind(n) not in TABLE_KINDS and g.owner(i) != JOB else []
    return _digest([own, [g.nodes[j]["outputType"] for j in g.inputs[i]], upstream])


def _content(node: dict) -> dict:
    """What a stateless node does to the rows that pass, for the keys after it: a Calc's
    condition, not its projection (another monitor's extra column must not change the
    identity of the state downstream), and everything but positions for other nodes."""
    if node_type(node) == "stream-exec-calc":
        return {"condition": node.get("condition")}
    return {k: v for k, v in node.items() if k not in ("id", "description", "inputProperties", "outputType")}


def _after_windows(node: dict) -> dict:
    """A stateless node after a table's windows function: all it does, its projection too
    (the monitor a pipeline's views name is a constant of their projections), so the state
    after it is its pipeline's whatever other pipelines the table's windows serve."""
    return {k: v for k, v in node.items() if k not in ("id", "description", "inputProperties")}


# The monitor-config topic's source: the tables' windows functions keep its versions (udfs/jvm
# Configs), so a windows function it reaches holds them, as the inventory's after its order.
CONFIG_SOURCE = "src_monitor_config"


def _versions_reached(g: _Graph, i: int) -> list[int]:
    """Deduplicate nodes fed by source i through stateless nodes only, the inventory's order
    function on the way (its state is part of the versions: a new one must read them all again),
    and after it a table's windows function that keeps the versions itself (InventoryWindows);
    from the monitor-config source, the windows functions that keep its versions (Configs)."""
    configs = _table(g.nodes[i], "scanTableSource") == CONFIG_SOURCE
    out, todo, seen = [], [(j, configs) for j in g.outputs[i]], set()
    while todo:
        j, ordered = todo.pop()
        if j in seen:
            continue
        seen.add(j)
        kind = _kind(g.nodes[j])
        if kind == "versions" or kind == "windows" and ordered:
            out.append(j)
        elif kind == "order":
            out.append(j)
            todo.extend((k, True) for k in g.outputs[j])
        elif kind is None:
            todo.extend((k, ordered) for k in g.outputs[j])
    return out


def _kept_versions(node: dict) -> str:
    """What a table's windows function keeps of the inventory's versions: its uid (its state) and
    the digest of what each version holds (the spec's ``inv``, translator/flink/codegen.py):
    when either changes, its versions start empty and the inventory topic is read again."""
    found = _INVENTORY_DIGEST.search(json.dumps(node.get("functionCall", {})))
    return _digest([node.get("uid"), found.group(1) if found else None])


def _identities(plan: dict) -> tuple[_Graph, dict[int, str], list[StateNode]]:
    g = _Graph(plan)
    versions_of: dict[int, list[str]] = {}
    for i in g.order:
        if node_type(g.nodes[i]) == "stream-exec-table-source-scan":
            versions_of[i] = [_kept_versions(g.nodes[j]) if _kind(g.nodes[j]) == "windows" else _signature(g, j, {}, {})
                              for j in _versions_reached(g, i)]
    keys: dict[int, str] = {}
    seen: dict[str, int] = defaultdict(int)
    states: list[StateNode] = []
    for i in g.order:
        n = g.nodes[i]
        kind = _kind(n)
        owner = g.owner(i)
        if kind is not None:
            base = f"{owner}|{g.position(i)}|{kind}|{_signature(g, i, versions_of, keys)}"
        else:
            # (inputs as a set: a union's order follows the monitors', which must not matter)
            content = _content(n) if not g.up[i] or owner == JOB else _after_windows(n)
            base = f"{owner}|{node_type(n)}|{_digest([content, sorted(keys[j] for j in g.inputs[i])])}"
        keys[i] = f"{base}|{seen[base]}"
        seen[base] += 1
        served = shapes(n) if kind == "windows" else {}
        # a table's windows: each pipeline keeps its windows while its shape stays (the function
        # drops the parts of shapes gone and starts new ones empty)
        states += [StateNode(p, kind, f"{keys[i]}#{shape}#{p}", shape=True) for shape, ps in served.items() for p in ps]
        if kind is not None:
            states.append(StateNode(g.shown_owner(i), kind, keys[i]))
    return g, keys, states


def _stable_id(key: str, taken: set[int]) -> int:
    salt = 0
    while True:
        h = int(hashlib.sha256(f"{key}#{salt}".encode()).hexdigest()[:8], 16) & _ID_MASK
        if h and h not in taken:
            return h
        salt += 1


def stabilize(plan: dict) -> dict:
    """The same plan with every exec node id replaced by one derived from its identity.

    Ids are assigned in order of the sorted identities, so a collision of two hashes (which
    moves one of them on by a salt) resolves the same way for the same set of identities."""
    g, keys, _ = _identities(plan)
    taken: set[int] = set()
    new_id = {}
    for i in sorted(keys, key=lambda i: keys[i]):
        new_id[i] = _stable_id(keys[i], taken)
        taken.add(new_id[i])
    out = json.loads(json.dumps(plan))
    for n in out["nodes"]:
        n["id"] = new_id[n["id"]]
    for e in out["edges"]:
        e["source"], e["target"] = new_id[e["source"]], new_id[e["target"]]
    return out


def state_nodes(plan: dict) -> list[StateNode]:
    return _identities(plan)[2]


def bound_state(plan: dict, idle_ms: int, never: tuple[str, ...]) -> dict:
    """The same plan with Flink's state time-to-live set on the operators before the windows
    that keep one entry per device or per tenant and partition (the inventory's versions, the
    inventory joins, the per-tenant clocks): an entry not touched for ``idle_ms`` of processing
    time is dropped. Never for the operators reading a table of ``never`` (the monitor configs:
    a monitor without data for a long time must still find its thresholds), nor windows and
    alert states (their functions evict by their own rule, in event time: docs/guarantees.md
    "Bounded state"; so do the inventory's versions a windows function keeps, by its spec's
    ``forget``: a TTL'd heap map state copied whole per-tenant maps at every access). Also on a
    sink's upsert materializer (the alert history's, one entry per transition).

    Per-operator TTL is what a compiled plan allows (FLIP-292): a node's ``state`` metadata
    where Flink writes one (deduplicate), else its ``configuration`` (table.exec.state.ttl,
    which a node's own options override the job's with). Apply it before ``stabilize``: the
    TTL is part of a node's identity, since state written without TTL does not restore into
    an operator with one."""
    out = json.loads(json.dumps(plan))
    g = _Graph(out)
    ttl = f"{int(idle_ms)} ms"
    for i in g.order:
        n = g.nodes[i]
        if n.get("requireUpsertMaterialize") and n.get("state"):
            # the alert history sink's (ON CONFLICT DO NOTHING): one key per alert transition,
            # kept no longer than this; a transition replayed later is upserted by the database
            # onto its own row all the same (docs/history.md)
            for entry in n["state"]:
                entry["ttl"] = ttl
            continue
        if _kind(n) not in ("versions", "join", "clock") or g.up[i] or g.sources[i] & set(never):
            continue
        if n.get("state"):
            for entry in n["state"]:
                entry["ttl"] = ttl
        else:
            n.setdefault("configuration", {})["table.exec.state.ttl"] = ttl
    return out


# --------------------------------------------------------------------------- comparing --
@dataclass(frozen=True)
class OwnerChange:
    owner: str
    verdict: str                 # keeps | new | removed | resets
    kinds: tuple[str, ...] = ()  # the kinds of state that reset (verdict 'resets')


def compare(old: dict, new: dict) -> list[OwnerChange]:
    """Per owner (monitor pipeline, source, sink, shared table state, the job's alert states):
    whether a job started with ``new`` from a savepoint of ``old`` keeps its state. A node keeps
    its state when a node of ``old`` had its identity, whoever it was shown as belonging to; an
    owner of both jobs also resets the kinds of its old nodes that no node of ``new`` restores
    (state that moved to another owner: a monitor's alert state of a job from before the job's
    alert states, JOB)."""
    before, after = state_nodes(old), state_nodes(new)
    old_keys = {s.key for s in before}
    old_owners = {s.owner for s in before}
    new_keys = {s.key for s in after}
    lost: dict[str, set] = defaultdict(set)
    for s in after:
        lost.setdefault(s.owner, set())
        if s.key not in old_keys:
            lost[s.owner].add(s.kind)
    for s in before:
        if s.owner in lost and s.key not in new_keys:
            lost[s.owner].add(s.kind)
    out = [OwnerChange(o, "new") if o not in old_owners else
           OwnerChange(o, "resets", tuple(sorted(k))) if k else OwnerChange(o, "keeps")
           for o, k in lost.items()]
    out += [OwnerChange(o, "removed") for o in old_owners - set(lost)
            if any(s.key not in new_keys for s in before if s.owner == o)]   # else shown elsewhere now
    return sorted(out, key=lambda c: c.owner)


def describe(changes: list[OwnerChange]) -> str:
    """The comparison for people: monitors first, then the state they share."""
    def monitor(owner: str) -> bool:
        return owner != JOB and not owner.startswith(TABLE_WINDOWS) and ":" not in owner

    def name(owner: str) -> str:
        if owner == JOB:
            return "alert states of every threshold monitor"
        if owner.startswith(TABLE_WINDOWS):
            return "windows function of table " + owner[len(TABLE_WINDOWS):]
        if monitor(owner):
            return "monitor " + (owner[2:] if owner.startswith("m_") else owner)
        kind, _, rest = owner.partition(":")
        return {"source": "source", "sink": "sink", "tables": "shared state of"}[kind] + " " + rest

    notes = {"new": "starts without state", "removed": "its state is dropped",
             "keeps": "keeps its state"}
    lines = []
    for c in sorted(changes, key=lambda c: (":" in c.owner or c.owner == JOB, c.owner)):
        note = notes.get(c.verdict) or "starts without: " + ", ".join(c.kinds)
        if c.owner.startswith("source:") and c.verdict == "resets":
            note = "no offsets restored: reads from its startup position (versioned topics: from the start)"
        if c.verdict == "removed" and monitor(c.owner):
            # its groups' alert states are the job's (JOB), kept: docs/upgrades.md
            note = "its own state is dropped; its groups stay in the alert states (an open alert is never recovered)"
        if c.verdict == "removed" and c.owner == JOB:
            # every monitor judged by its table's windows function, which keeps the alert states
            # (docs/sharing.md, step 3): the open alerts of this function are not moved there
            note = ("its state is dropped: its open alerts never get a `recovered` record (the windows "
                    "functions keep the alert states of the monitors they judge)")
        lines.append(f"  {c.verdict:<8} {name(c.owner)}: {note}")
    return "\n".join(lines)


def drops_state(old: dict, new: dict) -> bool:
    """Whether a start of ``new`` from a savepoint of ``old`` leaves state unclaimed (Flink
    refuses that unless told: execution.state-recovery.ignore-unclaimed-state)."""
    return bool({s.key for s in state_nodes(old) if not s.shape} - {s.key for s in state_nodes(new) if not s.shape})


# ------------------------------------------------------------------------- compiling --
def compile_plan(t_env, statements: list[str]) -> dict:
    """The compiled plan of a generated job: every statement but the last (session options,
    tables, views, functions) runs in ``t_env``; the last, ``EXECUTE STATEMENT SET BEGIN ...
    END``, is compiled instead of run. Flink's own plan, ids not yet stable."""
    from nql_flink.deploy.embedded.runner import execute  # a Java failure raised as FlinkError

    *setup, job = statements
    if not " ".join(job.split()).upper().startswith("EXECUTE STATEMENT SET"):
        raise ValueError("the last statement of a generated job is its EXECUTE STATEMENT SET")
    for stmt in setup:
        option = _SET.match(stmt)
        if option:                       # a script's SET lines: TableEnvironment has no SET
            t_env.get_config().set(*(v.replace("''", "'") for v in option.groups()))
        else:
            execute(t_env, stmt)
    with _private_plan_file() as path:   # (a new path: COMPILE PLAN refuses to overwrite)
        execute(t_env, f"COMPILE PLAN 'file://{path}' FOR{job.lstrip()[len('EXECUTE'):]}", job)
        with open(path, encoding="utf-8") as f:
            return json.load(f)


def write_plan(plan: dict, path) -> None:
    """Sorted keys and indentation, so two plans diff well."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(plan, f, indent=1, sort_keys=True)
        f.write("\n")


def execute_plan(t_env, plan: dict):
    """Submit ``plan`` with ``EXECUTE PLAN`` and return the TableResult. Through a private
    temporary file, removed once the job is submitted (the plan holds the resolved connector
    options): PyFlink 2.3's ``TableEnvironment.execute_plan`` fails before submitting
    (CompiledPlan.execute calls ``_before_execute`` on the Java environment)."""
    with _private_plan_file() as path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(plan, f)
        return t_env.execute_sql(f"EXECUTE PLAN 'file://{path}'")


@contextlib.contextmanager
def _private_plan_file():
    """A plan file's path in a temporary folder only this user can read, removed with it
    afterwards: a plan holds the connector options as resolved (the Managed Flink driver puts
    the SCRAM password in them)."""
    folder = tempfile.mkdtemp(prefix="nql-plan-")
    try:
        yield os.path.join(folder, "plan.json")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def job_plan(t_env, statements: list[str], bounds: dict | None = None) -> dict:
    """What runs: the job's compiled plan, its per-device and per-tenant state bounded
    (``bounds``: {"idle_ms", "never"}, translator/flink/codegen.py state_bounds; idle_ms 0 =
    unbounded), its operator ids made stable. The one place that knows the order."""
    raw = compile_plan(t_env, statements)
    if bounds and bounds.get("idle_ms"):
        raw = bound_state(raw, int(bounds["idle_ms"]), tuple(bounds.get("never", ())))
    return stabilize(raw)
