"""Source text and spans, shared by every stage.

A query or a condition is written inside a YAML file, so the text a stage parses is only a
piece of that file. `Source` keeps, for each line of the piece, where that line starts in
the file; spans are offsets into the piece, and `position()` turns them into file line and
column for diagnostics.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

_NEWLINE = re.compile("\n")


class Span(NamedTuple):
    """Half-open character range [start, end) in a Source's text (a tuple: cheap to make)."""

    start: int
    end: int

    def cover(self, other: "Span") -> "Span":
        return Span(min(self.start, other.start), max(self.end, other.end))


class Source:
    """A text to parse, with the map back to its file.

    `origins[i]` is (file line, file column) of the first character of line i of `text`
    (both 1-based). A whole file has origins (1,1), (2,1), ...

    A text decoded from a quoted YAML scalar is not a copy of the file: an escape (`\\"`,
    `''`) is one character written as two, and a line break folds into a space. Such a text
    carries `chars`: the file (line, column) of every character, plus one for its end.
    """

    __slots__ = ("path", "text", "file_lines", "origins", "_starts", "chars")

    def __init__(self, path: str, text: str, file_lines: tuple[str, ...], origins: tuple[tuple[int, int], ...],
                 chars: tuple[tuple[int, int], ...] | None = None):
        self.path = path
        self.text = text
        self.file_lines = file_lines
        self.origins = origins
        self._starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        self.chars = chars

    @classmethod
    def whole_file(cls, path: str, text: str) -> "Source":
        lines = tuple(text.split("\n"))
        return cls(path, text, lines, tuple((i + 1, 1) for i in range(len(lines))))

    def position(self, offset: int) -> tuple[int, int]:
        """File (line, column), 1-based, of a character offset in `text`."""
        offset = max(0, min(offset, len(self.text)))
        if self.chars is not None:
            return self.chars[offset]
        i = bisect.bisect_right(self._starts, offset) - 1
        line, col = self.origins[min(i, len(self.origins) - 1)]
        return line, col + offset - self._starts[i]

    def file_line(self, line: int) -> str:
        return self.file_lines[line - 1] if 0 < line <= len(self.file_lines) else ""

    def offset(self, line0: int, col0: int) -> int:
        """Offset in `text` of a 0-based (line, column) of the whole-file text."""
        if line0 >= len(self._starts):
            return len(self.text)
        return min(self._starts[line0] + col0, len(self.text))

    def slice(self, span: Span) -> str:
        return self.text[span.start : span.end]
