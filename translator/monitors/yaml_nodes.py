"""Bytes of a monitor file -> YAML node tree with positions, and text pieces mapped back
to the file. libyaml (CSafeLoader) when present: checking 1,000 files must take < 1 s."""

from __future__ import annotations

import yaml

from nql_flink.translator.diagnostics.diagnostic import Diagnostic, diag
from nql_flink.translator.source import Source, Span

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

STR, INT, FLOAT, BOOL, NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))


def decode(path: str, data: bytes) -> tuple[Source | None, list[Diagnostic]]:
    """UTF-8 bytes -> whole-file Source; a bad byte is reported where it stands."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        src = Source.whole_file(path, good + "\ufffd")
        return None, [diag("NQL0001", src, Span(len(good), len(good) + 1), "save the file as UTF-8", byte=data[exc.start])]
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source.whole_file(path, text.replace("\r\n", "\n")), []


def compose(file: Source) -> tuple[yaml.Node | None, list[Diagnostic]]:
    try:
        node = yaml.compose(file.text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_error(file, exc)]
    except yaml.YAMLError as exc:  # e.g. several documents, or a reader error
        return None, [diag("NQL0002", file, Span(0, 0), problem=str(exc).splitlines()[0])]
    if node is None:
        return None, [diag("NQL0010", file, Span(0, 0))]
    return node, []


def _yaml_error(file: Source, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """PyYAML's error at the place the writer must look: a string that runs to the end of
    the file is reported where it opened; a tab used as indentation gets the hint."""
    problem = (exc.problem or exc.context or "unreadable").strip()
    mark = exc.problem_mark or exc.context_mark
    hint = None
    if exc.context_mark is not None and "quoted scalar" in (exc.context or "") and "end of stream" in problem:
        mark, problem, hint = exc.context_mark, "the quoted string opened here is not closed", "close it with the same quote"
    elif mark is not None and file.file_line(mark.line + 1)[mark.column : mark.column + 1] == "\t":
        hint = "indent with spaces; YAML does not allow tabs for indentation"
    span = node_point(file, mark.line, mark.column) if mark else Span(0, 0)
    return diag("NQL0002", file, span, hint, problem=problem)


def node_point(file: Source, line0: int, col0: int) -> Span:
    o = file.offset(line0, col0)
    return Span(o, o + 1)


def span_of(file: Source, node: yaml.Node) -> Span:
    """The node's extent, clipped to its first line (a caret never spans lines)."""
    start = file.offset(node.start_mark.line, node.start_mark.column)
    end = file.offset(node.end_mark.line, node.end_mark.column)
    nl = file.text.find("\n", start)
    if nl != -1:
        end = min(end, nl)
    return Span(start, max(end, start + 1))


def snippet(file: Source, node: yaml.ScalarNode) -> Source:
    """The text of a scalar as a Source whose positions are those of the YAML file."""
    line0, col0 = node.start_mark.line, node.start_mark.column
    lines = file.file_lines
    if node.style in ("|", ">"):
        last = node.end_mark.line if node.end_mark.column > 0 else node.end_mark.line - 1
        body = list(range(line0 + 1, min(last + 1, len(lines))))
        while body and not lines[body[-1]].strip():
            body.pop()
        indents = [len(lines[i]) - len(lines[i].lstrip(" ")) for i in body if lines[i].strip()]
        indent = min(indents) if indents else 0
        texts = [lines[i][indent:] for i in body]
        origins = tuple((i + 1, indent + 1) for i in body)
        if not texts:
            return Source(file.path, "", lines, ((line0 + 1, col0 + 1),))
        return Source(file.path, "\n".join(texts), lines, origins)
    if node.style in ("'", '"'):
        return _quoted(file, node)
    if line0 == node.end_mark.line:  # plain, one line
        return Source(file.path, node.value, lines, ((line0 + 1, col0 + 1),))
    texts, origins = [lines[line0][col0:]], [(line0 + 1, col0 + 1)]
    for i in range(line0 + 1, min(node.end_mark.line + 1, len(lines))):
        stripped = lines[i].lstrip(" ")
        if i == node.end_mark.line:
            stripped = stripped[: max(0, node.end_mark.column - (len(lines[i]) - len(stripped)))]
        texts.append(stripped)
        origins.append((i + 1, len(lines[i]) - len(lines[i].lstrip(" ")) + 1))
    return Source(file.path, "\n".join(texts).rstrip(), lines, tuple(origins))


# YAML's double-quoted escapes (YAML 1.1, as PyYAML reads them): character after the backslash -> value
_ESCAPES = {"0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c",
            "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _quoted(file: Source, node: yaml.ScalarNode) -> Source:
    """A quoted scalar's value with the file position of each of its characters."""
    start = file.offset(node.start_mark.line, node.start_mark.column)
    decoded = _decode_flow(file.text, start, node.style)
    if decoded is None or decoded[0] != node.value:  # a form this reader does not follow: anchor after the quote
        return Source(file.path, node.value, file.file_lines, ((node.start_mark.line + 1, node.start_mark.column + 2),))
    value, offsets = decoded
    return Source(file.path, value, file.file_lines, (file.position(start + 1),), tuple(file.position(o) for o in offsets))


def _decode_flow(text: str, start: int, quote: str) -> tuple[str, list[int]] | None:
    """Decode the quoted scalar opening at `start` the way YAML does (escapes, `''`, line
    folding) and note, for each character of the value, the file offset it comes from; the
    last offset is the closing quote's. None when the text does not follow the rules."""
    out: list[str] = []
    offsets: list[int] = []
    n, i = len(text), start + 1
    while i < n:
        ch = text[i]
        if ch == quote and not (quote == "'" and text[i + 1 : i + 2] == "'"):
            offsets.append(i)
            return "".join(out), offsets
        if ch == "'" and quote == "'":  # '' is one quote
            out.append("'"), offsets.append(i)
            i += 2
        elif ch == "\\" and quote == '"':
            nxt = text[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt]), offsets.append(i)
                i += 2
            elif nxt in _HEX_ESCAPES:
                digits = text[i + 2 : i + 2 + _HEX_ESCAPES[nxt]]
                try:
                    out.append(chr(int(digits, 16)))
                except ValueError:
                    return None
                offsets.append(i)
                i += 2 + len(digits)
            elif nxt == "\n":  # escaped line break: the lines join without a space
                i = _fold(text, i + 2, out, offsets, None)
            else:
                return None
        elif ch in " \t\n":
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] == "\n":  # trailing blanks go; the break folds
                i = _fold(text, j + 1, out, offsets, j)
            else:
                out.extend(text[i:j]), offsets.extend(range(i, j))
                i = j
        else:
            out.append(ch), offsets.append(i)
            i += 1
    return None


def _fold(text: str, i: int, out: list[str], offsets: list[int], line_break: int | None) -> int:
    """After a line break inside a quoted scalar: skip the next lines' indentation; each
    empty line is a newline; a single break is a space (none after an escaped break)."""
    breaks = 0
    while True:
        j = i
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "\n":
            out.append("\n"), offsets.append(j)
            breaks += 1
            i = j + 1
            continue
        if not breaks and line_break is not None:
            out.append(" "), offsets.append(line_break)
        return j


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {STR: "text", INT: "a whole number", FLOAT: "a number", BOOL: "true/false", NULL: "empty"}.get(node.tag, "a value")
