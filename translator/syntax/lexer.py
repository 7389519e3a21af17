"""NQL text -> tokens. Nothing else.

Literal values are decoded here (durations to milliseconds, bytes to bytes, versions to
tuples) so later stages never re-read text. Errors are collected as diagnostics; the lexer
skips the bad character and goes on, so one run reports every lexical problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from translator.diagnostics.diagnostic import Diagnostic, diag
from translator.source import Source, Span

DURATION_UNITS_MS = {"ms": 1, "s": 1_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
DURATION_HINTS = {"m": "min", "sec": "s", "mins": "min", "hr": "h", "hrs": "h", "hour": "h", "day": "d", "days": "d", "w": "7d"}

SYMBOLS = {
    "|": "PIPE", ".": "DOT", ",": "COMMA", "(": "LPAREN", ")": "RPAREN", "[": "LBRACK", "]": "RBRACK",
    "=": "EQ", "<": "LT", ">": "GT", "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "^": "CARET",
}
TWO_CHAR = {"==": "EQEQ", "!=": "NEQ", "<=": "LE", ">=": "GE"}

_WS = re.compile(r"[ \t\r\n]+")
_IDENT = re.compile(r"#?[A-Za-z_][A-Za-z0-9_]*")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?![\w.])")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.])")
_IPV6 = re.compile(r"(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){2})(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:/\d{1,3})?(?![\w:])")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z]+)?")
_VERSION = re.compile(r"v\d+(?:\.\d+)+(?![\w.])|v\d+(?![\w.])")
_BANG_WORD = re.compile(r"!(in|contains)\b")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    span: Span
    value: object = None
    after_comment: bool = False


def tokenize(source: Source) -> tuple[list[Token], list[Diagnostic]]:
    text = source.text
    n = len(text)
    tokens: list[Token] = []
    diags: list[Diagnostic] = []
    i = 0
    comment = False

    def add(kind: str, start: int, end: int, value: object = None) -> None:
        nonlocal comment
        tokens.append(Token(kind, text[start:end], Span(start, end), value, comment))
        comment = False

    while i < n:
        ch = text[i]
        m = _WS.match(text, i)
        if m:
            i = m.end()
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                diags.append(diag("NQL0103", source, Span(i, i + 2)))
                break
            i = end + 2
            comment = True
            continue
        if text.startswith("--", i) or text.startswith("//", i):
            diags.append(diag("NQL0109", source, Span(i, i + 2), hint="NQL has only /* block comments */", text=text[i : i + 2]))
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if ch in "\"'":
            i = _string(source, i, add, diags)
            continue
        if ch in "0123456789" or (ch in "abcdefABCDEF:" and _IPV6.match(text, i)):
            i = _number_like(source, i, add, diags)
            continue
        if ch == "v" and _VERSION.match(text, i):
            m = _VERSION.match(text, i)
            add("VERSION", i, m.end(), tuple(int(p) for p in m.group()[1:].split(".")))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            add("IDENT", i, m.end(), m.group())
            i = m.end()
            continue
        two = text[i : i + 2]
        if two in TWO_CHAR:
            add(TWO_CHAR[two], i, i + 2)
            i += 2
            continue
        if ch == "!":
            m = _BANG_WORD.match(text, i)
            if m:
                add("BANG_" + m.group(1).upper(), i, m.end())
                i = m.end()
                continue
        if ch in SYMBOLS:
            add(SYMBOLS[ch], i, i + 1)
            i += 1
            continue
        diags.append(diag("NQL0101", source, Span(i, i + 1), char=ch))
        i += 1
    tokens.append(Token("EOF", "", Span(n, n), None, comment))
    return tokens, diags


def _string(source: Source, start: int, add, diags: list[Diagnostic]) -> int:
    text = source.text
    quote = text[start]
    i = start + 1
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            add("STRING", start, i + 1, "".join(out))
            return i + 1
        if ch == "\n":
            diags.append(diag("NQL0111", source, Span(start, i), hint=f"close the string with {quote} on the same line"))
            add("STRING", start, i, "".join(out))  # keep parsing as if it were closed
            return i
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in ("\\", '"', "'"):
                out.append(nxt)
                i += 2
                continue
            diags.append(
                diag("NQL0112", source, Span(i, i + 2), hint="only \\\", \\' and \\\\ are escapes", text="\\" + nxt)
            )
            i += 2
            continue
        out.append(ch)
        i += 1
    diags.append(diag("NQL0102", source, Span(start, len(text)), hint=f"add the closing {quote}"))
    add("STRING", start, len(text), "".join(out))
    return len(text)


def _number_like(source: Source, i: int, add, diags: list[Diagnostic]) -> int:
    text = source.text
    for pattern, kind in ((_DATETIME, "DATETIME"), (_IPV4, "IP"), (_IPV6, "IP")):
        m = pattern.match(text, i)
        if m:
            add(kind, i, m.end(), m.group())
            return m.end()
    m = _NUMBER.match(text, i)
    if not m:  # a lone ':' or hex letter that looked like IPv6 but is not
        diags.append(diag("NQL0101", source, Span(i, i + 1), char=text[i]))
        return i + 1
    number, unit = m.group(1), m.group(2)
    end = m.end()
    if unit is None:
        if "." in number:
            add("FLOAT", i, end, float(number))
        else:
            add("INT", i, end, int(number))
        return end
    if unit in DURATION_UNITS_MS:
        ms = float(number) * DURATION_UNITS_MS[unit]
        if ms != int(ms):
            diags.append(diag("NQL0107", source, Span(i, end), hint="durations resolve to whole milliseconds", kind="duration", text=text[i:end]))
        add("DURATION", i, end, int(ms))
        return end
    if unit in BYTE_UNITS and "." not in number:
        add("BYTE", i, end, int(number) * BYTE_UNITS[unit])
        return end
    hint = None
    if unit in DURATION_HINTS:
        hint = f"write {number}{DURATION_HINTS[unit]}" if unit != "w" else "weeks are not a unit; write days, e.g. 7d"
    elif unit.upper() in BYTE_UNITS:
        hint = f"byte units are upper case: {number}{unit.upper()}"
    else:
        hint = "durations take ms, s, min, h or d; sizes take B, KB, MB, GB or TB"
    diags.append(diag("NQL0107", source, Span(i, end), hint=hint, kind="number", text=text[i:end]))
    # keep parsing with the kind the writer most likely meant, so one mistake is one diagnostic
    add("DURATION" if unit in DURATION_HINTS else "BYTE" if unit.upper() in BYTE_UNITS else "INT", i, end, 0)
    return end
