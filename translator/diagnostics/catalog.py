"""The one catalog of diagnostic codes.

Codes are stable: a code, once published, keeps its meaning forever (retire, never reuse).
Messages are str.format templates filled with named parameters by the stage that reports.

  NQL00xx  monitor files and YAML
  NQL01xx  lexing and parsing of NQL text
  NQL02xx  names and types
  NQL03xx  query structure and grouping rules
  NQL04xx  monitor fields and conditions
  NQL05xx  warnings: accepted but ignored, extensions, discouraged forms
  NQL06xx  valid NQL that the Flink back end cannot compile (yet)
  NQL07xx  the notifier: the receivers file and the monitors' `notify:` lists
  NQL08xx  valid monitors that the ClickHouse polling back end cannot evaluate (yet)
  NQL09xx  monitor test files (`nql-flink test`)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    name: str
    severity: Severity
    template: str


E, W = Severity.ERROR, Severity.WARNING

_ENTRIES = [
    # -- files and YAML ---------------------------------------------------------------
    Code("NQL0001", "not-utf8", E, "file is not valid UTF-8 (byte 0x{byte:02x})"),
    Code("NQL0002", "yaml-syntax", E, "malformed YAML: {problem}"),
    Code("NQL0003", "bad-document", E, "a monitor file holds one monitor (a mapping) or a list under `monitors:`, not {found}"),
    Code("NQL0004", "unknown-key", E, "unknown key '{key}' in {where}"),
    Code("NQL0005", "missing-key", E, "missing required key '{key}' in {where}"),
    Code("NQL0006", "wrong-value-type", E, "'{key}' must be {expected}, not {found}"),
    Code("NQL0007", "duplicate-key", E, "duplicate key '{key}'"),
    Code("NQL0008", "duplicate-monitor", E, "monitor id '{id}' is already used for tenant '{tenant}' (first at {first})"),
    Code("NQL0009", "unreadable-file", E, "cannot read file: {reason}"),
    Code("NQL0010", "empty-file", E, "no monitor in this file"),
    # -- lexing and parsing ---------------------------------------------------------------
    Code("NQL0101", "unexpected-character", E, "unexpected character {char!r}"),
    Code("NQL0102", "unterminated-string", E, "string literal is not closed"),
    Code("NQL0103", "unterminated-comment", E, "comment is not closed (missing */)"),
    Code("NQL0104", "unexpected-token", E, "expected {expected}, found {found}"),
    Code("NQL0105", "query-too-long", E, "query is {length} characters long; NQL allows at most {limit}"),
    Code("NQL0106", "too-deep", E, "expression is nested more than {limit} levels deep"),
    Code("NQL0107", "bad-literal", E, "invalid {kind} literal '{text}'"),
    Code("NQL0108", "not-keyword", E, "`not` is not an NQL operator"),
    Code("NQL0109", "line-comment", E, "'{text}' does not start a comment in NQL"),
    Code("NQL0110", "unknown-clause", E, "unknown clause '{name}'"),
    Code("NQL0111", "newline-in-string", E, "a string literal cannot span lines"),
    Code("NQL0112", "bad-escape", E, "unknown escape sequence '{text}' in string"),
    Code("NQL0113", "empty-query", E, "the query is empty"),
    Code("NQL0114", "comment-misplaced", E, "a comment is not allowed {where}"),
    Code("NQL0115", "number-out-of-range", E, "{text} is out of range for {type}"),
    Code("NQL0116", "foreign-operator", E, "'{text}' is not an NQL operator"),
    # -- names and types --------------------------------------------------------------------
    Code("NQL0201", "unknown-table", E, "unknown table '{name}'"),
    Code("NQL0202", "not-an-event-table", E, "'{name}' is not an event table; `{clause}` joins events to objects"),
    Code("NQL0203", "unknown-field", E, "'{name}' is not a field of {table}"),
    Code("NQL0204", "type-mismatch", E, "cannot compare {left} with {right}"),
    Code("NQL0205", "operator-not-allowed", E, "operator '{op}' is not defined for {type}"),
    Code("NQL0206", "unknown-enum-value", E, "'{value}' is not a value of {field} ({values})"),
    Code("NQL0207", "unknown-function", E, "unknown function '{name}()'"),
    Code("NQL0208", "aggregate-type", E, "{func}() cannot aggregate {type} values"),
    Code("NQL0209", "wrong-arguments", E, "{func}() takes {expected}"),
    Code("NQL0210", "arithmetic-type", E, "cannot apply '{op}' to {left} and {right}"),
    Code("NQL0211", "aggregate-not-allowed", E, "{func}() aggregates; it is allowed only in `compute` and `summarize`"),
    Code("NQL0212", "duplicate-name", E, "'{name}' is defined twice"),
    Code("NQL0213", "unknown-column", E, "'{name}' is not an output column of the query"),
    Code("NQL0214", "not-boolean", E, "{what} must be a condition (true or false), not {type}"),
    Code("NQL0215", "not-aggregated", E, "'{name}' must be aggregated (or be a `by` key) in `{clause}`"),
    Code("NQL0216", "unsupported-function", E, "{func}() is not supported in a streaming monitor: {reason}"),
    Code("NQL0217", "wildcard-not-allowed", E, "wildcards need a string operand, not {type}"),
    Code("NQL0218", "null-ordering", E, "'{op}' has no meaning against null"),
    # -- query structure --------------------------------------------------------------------
    Code("NQL0301", "no-aggregation", E, "a monitor query must end in a `compute` or `summarize` clause"),
    Code("NQL0302", "compute-without-join", E, "`compute` can be used only after `with` or `include`"),
    Code("NQL0303", "bad-group-key", E, "cannot group by '{name}': {type} values are not allowed as `by` keys"),
    Code("NQL0304", "two-periods", E, "at most one time period is allowed in `by`"),
    Code("NQL0305", "bad-period", E, "period {text} is not allowed: {reason}"),
    Code("NQL0306", "join-needs-object", E, "`{clause}` needs an object table (e.g. devices) before it, not {name}"),
    Code("NQL0307", "fixed-time-selection", E, "a monitor evaluates a sliding window; `{form}` selects a fixed period"),
    Code("NQL0308", "no-time-selection", E, "a monitor query needs `during past <duration>` after the table"),
    Code("NQL0309", "clause-after-aggregation", E, "`{clause}` cannot follow `{previous}`"),
    Code("NQL0310", "two-aggregations", E, "only one `summarize` is allowed"),
    Code("NQL0311", "bad-window", E, "window `during past {text}` is not allowed: {reason}"),
    Code("NQL0312", "resolution-in-monitor", E, "`by {text}` after the time selection chooses a data resolution; a monitor reads every record"),
    # -- monitor fields and conditions --------------------------------------------------------
    Code("NQL0401", "bad-id", E, "monitor id '{id}' must match [a-z0-9_]{{1,64}}"),
    Code("NQL0402", "bad-priority", E, "priority '{value}' is not one of critical, high, medium, low"),
    Code("NQL0403", "bad-duration", E, "'{text}' is not a duration (e.g. 30s, 5min, 1h, 7d)"),
    Code("NQL0404", "window-not-multiple", E, "the window ({window}) must be a whole multiple of `every` ({every})"),
    Code("NQL0405", "too-many-tags", E, "a monitor has at most 10 tags, this one has {count}"),
    Code("NQL0406", "bad-choice", E, "'{key}' must be one of {choices}, not '{value}'"),
    Code("NQL0407", "detection-metric", E, "detection metric '{name}' is not a numeric output column of the query"),
    Code("NQL0408", "bad-number", E, "'{key}' must be {expected}, not {value}"),
    Code("NQL0409", "condition-needed", E, "{what} is required for a {kind} monitor"),
    Code("NQL0410", "aggregate-in-condition", E, "a condition compares output columns; {func}() belongs in the query"),
    Code("NQL0411", "bad-slot", E, "slot {text} must divide one day into whole slots"),
    Code("NQL0412", "no-tenant", E, "monitor '{id}' has no tenant; set `tenant:` or pass --tenant"),
    Code("NQL0413", "bad-tenant", E, "tenant '{value}' must match [A-Za-z0-9_.-]{{1,64}}"),
    Code("NQL0414", "bad-every", E, "`every` is {text}; it must be at least 1s and a whole number of seconds"),
    Code("NQL0415", "duplicate-tag", E, "tag '{value}' is listed twice"),
    Code("NQL0416", "bad-tag", E, "a tag must be non-empty text, not {found}"),
    Code("NQL0417", "bad-flap-changes", E, "`flapping.changes` must be a whole number from 1 to {most}, not {value}"),
    Code("NQL0418", "bad-processing-duration", E, "`{key}` must be a duration above zero, not {value}"),
    # -- warnings ----------------------------------------------------------------------------
    Code("NQL0501", "ignored-clause", W, "`{clause}` is ignored when a monitor is evaluated"),
    Code("NQL0502", "by-device-name", W, "alerts per device need `by device.collector.uid`; `device.name` is not unique"),
    Code("NQL0503", "extension", W, "{what} is an nql-flink extension (rejected with --strict)"),
    Code("NQL0504", "for-not-multiple", W, "`for: {value}` is not a multiple of `every` ({every}); it acts as {rounded}"),
    Code("NQL0505", "evaluated-by-polling", W, "monitor {tenant}/{id} is evaluated by polling ({why}): it is not in the Flink job; `nql-flink poll` evaluates it"),
    # -- back end ------------------------------------------------------------------------------
    Code("NQL0601", "unsupported-in-flink", E, "{what} cannot be compiled to Flink SQL yet"),
    Code("NQL0602", "flink-failed", E, "Flink failed on {what}: {message}"),
    # -- the notifier (nql-flink notify) -------------------------------------------------------
    Code("NQL0701", "unknown-receiver", E, "receiver '{name}' is not defined in {file}"),
    Code("NQL0702", "missing-secret", E, "environment variable {var} ({what} of receiver '{receiver}') is not set"),
    Code("NQL0703", "bad-link", E, "link template: {problem}"),
    Code("NQL0704", "bad-url", E, "'{value}' is not an http:// or https:// URL"),
    Code("NQL0705", "bad-receiver-name", E, "receiver name '{name}' must match [A-Za-z0-9_.-]{{1,64}}"),
    # -- the ClickHouse polling back end (nql-flink poll, compile --target clickhouse) -----------
    Code("NQL0801", "unsupported-in-clickhouse", E, "{what} cannot be evaluated on ClickHouse yet"),
    # -- monitor test files (nql-flink test) ---------------------------------------------------
    Code("NQL0901", "test-monitor-not-found", E, "monitor file '{path}' not found (paths are relative to the test file)"),
    Code("NQL0902", "test-unknown-table", E, "'{table}' is not a catalog table (tables: {tables})"),
    Code("NQL0903", "test-bad-value", E, "{problem}"),
]

CATALOG: dict[str, Code] = {c.code: c for c in _ENTRIES}
assert len(CATALOG) == len(_ENTRIES), "duplicate code in the catalog"

# Codes no longer reported, with why: never reused for anything else.
RETIRED: dict[str, str] = {
    "NQL0419": "processing-detection: `flapping:` / `grouping:` on a seasonal or change monitor; their "
               "alerts are processed like threshold monitors' since the processing function reads "
               "transitions without a time attribute",
}
assert not set(RETIRED) & set(CATALOG), "a retired code is never reused"
