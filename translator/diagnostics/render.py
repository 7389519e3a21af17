"""Render diagnostics once, at the edge: text with the source line and a caret, or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable

from nql_flink.translator.diagnostics.diagnostic import Diagnostic


def render_text(d: Diagnostic) -> str:
    path, line, col = d.location
    end_line, end_col = d.source.position(max(d.span.start, d.span.end - 1))
    text = d.source.file_line(line).rstrip("\n")
    width = (end_col - col + 1) if end_line == line and d.span.end > d.span.start else 1
    width = max(1, min(width, max(1, len(text) - col + 1)))
    out = [f"{path}:{line}:{col}: {d.severity.value}[{d.code}]: {d.message}"]
    if text.strip():
        out.append(f"  {text}")
        out.append("  " + " " * (col - 1) + "^" * width)
    if d.hint:
        out.append(f"  hint: {d.hint}")
    return "\n".join(out)


def render_all_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(render_text(d) for d in diagnostics)


def to_json(d: Diagnostic) -> dict:
    path, line, col = d.location
    end_line, end_col = d.source.position(d.span.end)
    return {
        "file": path,
        "line": line,
        "column": col,
        "end_line": end_line,
        "end_column": end_col,
        "severity": d.severity.value,
        "code": d.code,
        "message": d.message,
        "hint": d.hint,
    }


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([to_json(d) for d in diagnostics], indent=2, ensure_ascii=False)
