"""NQL text -> tokens. Nothing else.

Literal values are decoded here (durations to milliseconds, bytes to bytes, versions to
tuples) so later stages never re-read text. Errors are collected as diagnostics; the lexer
skips the bad character and goes on, so one run reports every lexical problem.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.source import Source, Span
from nql_flink.translator.syntax.durations import UNITS_MS as DURATION_UNITS_MS, duration_ms

BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
BIGINT_MAX = 2**63 - 1
# Characters that look like NQL's but are not: what the writer meant
FOREIGN_OPERATORS = {"&&": "and", "&": "and", "||": "or"}
SMART_QUOTES = {"\u201c": "\u201d", "\u201d": "\u201d", "\u201e": "\u201d", "\u2018": "\u2019", "\u2019": "\u2019",
                "\u00ab": "\u00bb"}
ODD_SPACES = "\u00a0\u2007\u202f\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u3000"
DURATION_HINTS = {"m": "min", "sec": "s", "mins": "min", "hr": "h", "hrs": "h", "hour": "h", "day": "d", "days": "d", "w": "7d"}

SYMBOLS = {
    "|": "PIPE", ".": "DOT", ",": "COMMA", "(": "LPAREN", ")": "RPAREN", "[": "LBRACK", "]": "RBRACK",
    "=": "EQ", "<": "LT", ">": "GT", "+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "^": "CARET",
}
TWO_CHAR = {"==": "EQEQ", "!=": "NEQ", "<=": "LE", ">=": "GE"}

_IPV6 = re.compile(r"(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){2})(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:/\d{1,3})?(?![\w:])")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z]+)?")


class Token(NamedTuple):
    kind: str
    text: str
    span: Span
    value: object = None
    after_comment: bool = False


# One pass with a master pattern; the rare cases (escapes, errors) go to small handlers.
_MASTER = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r"|(?P<comment>/\*.*?\*/)"
    r"|(?P<open_comment>/\*)"
    r"|(?P<line_comment>--|//)"
    r"|(?P<string>\"[^\"\\\n]*\"|'[^'\\\n]*')"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?![\w.]))"
    r"|(?P<ip>\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w.]))"
    r"|(?P<ip6>" + _IPV6.pattern + r")"
    r"|(?P<exponent>\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.]))"
    r"|(?P<number>\d+(?:\.\d+)?[A-Za-z]*)"
    r"|(?P<version>v\d+(?:\.\d+)*(?![\w.]))"
    r"|(?P<ident>#?[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<foreign>&&?|\|\|)"
    r"|(?P<odd_space>[" + ODD_SPACES + r"]+)"
    r"|(?P<op>==|!=|<=|>=|!in\b|!contains\b|[|.,()\[\]=<>+\-*/^])",
    re.DOTALL,
)
_OPS = {**SYMBOLS, **TWO_CHAR, "!in": "BANG_IN", "!contains": "BANG_CONTAINS"}
new = tuple.__new__  # builds the named tuples without their Python-level __new__: the lexer's hot path


def tokenize(source: Source) -> tuple[list[Token], list[Diagnostic]]:
    text = source.text
    n = len(text)
    tokens: list[Token] = []
    diags: list[Diagnostic] = []
    append = tokens.append
    match = _MASTER.match
    i = 0
    comment = False

    def add(kind: str, start: int, end: int, value: object = None) -> None:
        nonlocal comment
        append(new(Token, (kind, text[start:end], new(Span, (start, end)), value, comment)))
        comment = False

    while i < n:
        m = match(text, i)
        if m is None:
            i = _irregular(source, i, add, diags)
            continue
        kind, end = m.lastgroup, m.end()
        if kind == "ws":
            pass
        elif kind == "ident":
            word = m.group()
            append(new(Token, ("IDENT", word, new(Span, (i, end)), word, comment)))
            comment = False
        elif kind == "op":
            op = m.group()
            append(new(Token, (_OPS[op], op, new(Span, (i, end)), None, comment)))
            comment = False
        elif kind == "number":
            _number(source, i, end, add, diags, _negated(tokens))
        elif kind == "exponent":
            _float(source, i, end, add, diags)
        elif kind == "foreign":  # read as the NQL operator meant, so the rest parses
            word = FOREIGN_OPERATORS[m.group()]
            diags.append(diag("NQL0116", source, Span(i, end), f"use `{word}`", text=m.group()))
            append(new(Token, ("IDENT", word, new(Span, (i, end)), word, comment)))
            comment = False
        elif kind == "odd_space":  # read as a space
            diags.append(diag("NQL0101", source, Span(i, i + 1), "use a plain space", char=m.group()[0]))
        elif kind == "string":
            add("STRING", i, end, text[i + 1 : end - 1])
        elif kind == "comment":
            comment = True
        elif kind == "open_comment":
            diags.append(diag("NQL0103", source, Span(i, end)))
            break
        elif kind == "line_comment":
            diags.append(diag("NQL0109", source, Span(i, end), hint="NQL has only /* block comments */", text=m.group()))
            nl = text.find("\n", i)
            end = n if nl < 0 else nl
        elif kind == "version":
            add("VERSION", i, end, tuple(int(p) for p in m.group()[1:].split(".")))
        elif kind == "datetime":
            add("DATETIME", i, end, m.group())
        else:  # ip, ip6
            _ip(source, i, end, add, diags)
        i = end
    tokens.append(Token("EOF", "", Span(n, n), None, comment))
    return tokens, diags


def _irregular(source: Source, i: int, add, diags: list[Diagnostic]) -> int:
    """What the master pattern does not take: strings with escapes, open comments, stray characters."""
    text = source.text
    ch = text[i]
    if ch in "\"'":
        return _string(source, i, add, diags)
    if ch in SMART_QUOTES:
        return _smart_string(source, i, add, diags)
    diags.append(diag("NQL0101", source, Span(i, i + 1), char=ch))
    return i + 1


def _smart_string(source: Source, start: int, add, diags: list[Diagnostic]) -> int:
    """A string in typographic quotes: one diagnostic, then read as the string it was meant to be."""
    text = source.text
    diags.append(diag("NQL0101", source, Span(start, start + 1), "use straight quotes: \" or '", char=text[start]))
    close = SMART_QUOTES[text[start]]
    end = text.find(close, start + 1)
    nl = text.find("\n", start + 1)
    if end < 0 or (0 <= nl < end):
        return start + 1
    add("STRING", start, end + 1, text[start + 1 : end])
    return end + 1


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


# Tokens after which a `-` is a subtraction, not a sign
_OPERAND_ENDS = frozenset(("IDENT", "INT", "FLOAT", "STRING", "DURATION", "BYTE", "IP", "VERSION", "DATETIME",
                           "RPAREN", "RBRACK"))


def _negated(tokens: list[Token]) -> bool:
    """The number follows a sign: `> -9223372036854775808` may hold one more than BIGINT_MAX."""
    return bool(tokens) and tokens[-1].kind == "MINUS" and (len(tokens) < 2 or tokens[-2].kind not in _OPERAND_ENDS)


def _ip(source: Source, i: int, end: int, add, diags: list[Diagnostic]) -> None:
    """An address or network: each IPv4 part 0-255, a prefix within the address's bits."""
    text = source.text[i:end]
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        six = ":" in text
        hint = "an IPv6 prefix is at most /128" if six else "each part is 0 to 255 and a prefix at most /32"
        diags.append(diag("NQL0107", source, Span(i, end), hint, kind="IP address", text=text))
    add("IP", i, end, text)


def _bounded(source: Source, i: int, end: int, value: int, what: str, diags: list[Diagnostic],
             limit: int = BIGINT_MAX) -> int:
    """A whole value within Flink's BIGINT, else one diagnostic and 0 (parsing goes on)."""
    if value <= limit:
        return value
    diags.append(diag("NQL0115", source, Span(i, end), f"at most {BIGINT_MAX}", text=_short(source.text[i:end]), type=what))
    return 0


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "…"


def _float(source: Source, i: int, end: int, add, diags: list[Diagnostic]) -> None:
    value = float(source.text[i:end])
    if value == float("inf"):
        diags.append(diag("NQL0115", source, Span(i, end), "at most about 1.8e308", text=_short(source.text[i:end]), type="a DOUBLE"))
        value = 0.0
    add("FLOAT", i, end, value)


def _number(source: Source, i: int, end: int, add, diags: list[Diagnostic], negated: bool = False) -> None:
    text = source.text
    m = _NUMBER.match(text, i, end)
    number, unit = m.group(1), m.group(2)
    if unit is None:
        if "." in number:
            _float(source, i, end, add, diags)
        else:
            limit = BIGINT_MAX + 1 if negated else BIGINT_MAX  # -2^63 is a BIGINT
            add("INT", i, end, _bounded(source, i, end, int(number), "a BIGINT", diags, limit))
        return
    if unit in DURATION_UNITS_MS:
        ms, exact = duration_ms(number, unit)
        if not exact:
            diags.append(diag("NQL0107", source, Span(i, end), hint="durations resolve to whole milliseconds", kind="duration", text=text[i:end]))
        add("DURATION", i, end, _bounded(source, i, end, ms, "a duration (a BIGINT of milliseconds)", diags))
        return
    if unit in BYTE_UNITS and "." not in number:
        add("BYTE", i, end, _bounded(source, i, end, int(number) * BYTE_UNITS[unit], "a size (a BIGINT of bytes)", diags))
        return
    if unit in DURATION_HINTS:
        hint = f"write {number}{DURATION_HINTS[unit]}" if unit != "w" else "weeks are not a unit; write days, e.g. 7d"
    elif unit.upper() in BYTE_UNITS:
        hint = f"byte units are upper case: {number}{unit.upper()}"
    else:
        hint = "durations take ms, s, min, h or d; sizes take B, KB, MB, GB or TB"
    diags.append(diag("NQL0107", source, Span(i, end), hint=hint, kind="number", text=text[i:end]))
    # keep parsing with the kind the writer most likely meant, so one mistake is one diagnostic
    add("DURATION" if unit in DURATION_HINTS else "BYTE" if unit.upper() in BYTE_UNITS else "INT", i, end, 0)
