"""A diagnostic is a value: code, severity, where, message, hint. Rendering is separate."""

from __future__ import annotations

from dataclasses import dataclass

from nql_flink.translator.diagnostics.catalog import CATALOG, Severity
from nql_flink.translator.source import Source, Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    source: Source
    span: Span
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def location(self) -> tuple[str, int, int]:
        line, col = self.source.position(self.span.start)
        return self.source.path, line, col

    def as_tuple(self) -> tuple[str, int, int, str]:
        """(code, line, column, message): what tests compare."""
        _, line, col = self.location
        return self.code, line, col, self.message


def diag(code: str, source: Source, span: Span, hint: str | None = None, **params) -> Diagnostic:
    entry = CATALOG[code]
    return Diagnostic(code, entry.severity, entry.template.format(**params), source, span, hint)


def has_errors(diagnostics) -> bool:
    return any(d.is_error for d in diagnostics)
