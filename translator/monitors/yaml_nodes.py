"""Bytes of a monitor file -> YAML node tree with positions, and text pieces mapped back
to the file. libyaml (CSafeLoader) when present: checking 1,000 files must take < 1 s."""

from __future__ import annotations

import yaml

from translator.diagnostics.diagnostic import Diagnostic, diag
from translator.source import Source, Span

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
        mark = exc.problem_mark or exc.context_mark
        span = node_point(file, mark.line, mark.column) if mark else Span(0, 0)
        return None, [diag("NQL0002", file, span, problem=(exc.problem or exc.context or "unreadable").strip())]
    except yaml.YAMLError as exc:  # e.g. several documents, or a reader error
        return None, [diag("NQL0002", file, Span(0, 0), problem=str(exc).splitlines()[0])]
    if node is None:
        return None, [diag("NQL0010", file, Span(0, 0))]
    return node, []


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
        raw = lines[line0][col0 + 1 :] if line0 < len(lines) else ""
        if node.start_mark.line == node.end_mark.line:
            raw = raw[: node.end_mark.column - col0 - 2]
        # exact mapping when the value is written without escapes; else the value itself,
        # anchored after the opening quote
        return Source(file.path, node.value if raw != node.value else raw, lines, ((line0 + 1, col0 + 2),))
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


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return {STR: "text", INT: "a whole number", FLOAT: "a number", BOOL: "true/false", NULL: "empty"}.get(node.tag, "a value")
