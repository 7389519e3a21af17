"""Small helpers for front-end tests: check a YAML text, locate a needle in it by hand."""

from __future__ import annotations

from nql_flink.translator.pipeline import check_text


def check(text: str, tenant: str | None = None, strict: bool = False, path: str = "m.yaml"):
    return check_text(path, text.encode("utf-8"), tenant=tenant, strict=strict)


def diags(text: str, **kw) -> list[tuple[str, int, int, str]]:
    return [d.as_tuple() for d in check(text, **kw).diagnostics]


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of needle in text: where a caret must point."""
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, col


def monitor(query: str, trigger: str = "c > 0", extra: str = "") -> str:
    """A monitor file around a query (block scalar from line 4, two-space indent)."""
    body = "\n".join("  " + line for line in query.strip("\n").split("\n"))
    return f"id: m\ntenant: acme\nquery: |\n{body}\nevery: 30s\ntrigger:\n  when: {trigger}\n{extra}"
