"""NQL durations: the one grammar, for queries, monitor files and command-line options.

A duration is a decimal number and a unit, with no space between: ``250ms``, ``30s``,
``5min``, ``1.5h``, ``7d``. The units are ``UNITS_MS``; a fraction must come to whole
milliseconds (``1.5s`` yes, ``0.5ms`` no). Anything else is not a duration: ``5m``,
``sec``, ``w``, ``30 s``, a bare number.

Who reads durations here, and nobody else:

* the lexer (``syntax/lexer.py``): a number token with a unit, in a query;
* monitor fields (``monitors/spec.py``): ``every``, ``trigger.for``, ``recover.for`` and the
  detection's ``history`` and ``slot``; the one extra a field accepts is the YAML number
  ``0`` (no unit needed for nothing);
* command-line options (``option_duration``), where spaces are dropped (``--lateness '10 s'``)
  and ``0`` is accepted as in a monitor field.

Where it lives: in the compiler, as a module of its own with no import but ``re``, so the
lexer, the spec reader and the commands share it without importing each other. The
Python worker (``udfs/``) reads no duration text: the baseline parameters reach the job
as numbers compiled from the monitor's fields (``udfs/baseline_params.DetectSpec``), so
what a monitor file accepts is, by construction, what the baseline gets.
"""

from __future__ import annotations

import re

UNITS_MS = {"ms": 1, "s": 1_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|min|h|d)")
# 10^k divides n * size only when k is at most the powers of 2 or 5 in a unit (2^10 in d):
# a longer fraction without trailing zeros is never whole milliseconds
_LONGEST_WHOLE_FRACTION = 10


def duration_ms(number: str, unit: str) -> tuple[int, bool]:
    """(milliseconds, rounded down; whether exact) of a decimal number of a unit."""
    whole, _, frac = number.partition(".")
    frac = frac.rstrip("0")
    size = UNITS_MS[unit]
    if len(frac) > _LONGEST_WHOLE_FRACTION:
        return int(whole) * size + int(float("0." + frac) * size), False
    scaled, den = int(whole + frac) * size, 10 ** len(frac)
    return scaled // den, scaled % den == 0


def parse_duration(text: str) -> int | None:
    """A duration's milliseconds, or None when the text is not a duration."""
    m = DURATION.fullmatch(text)
    if m is None:
        return None
    ms, exact = duration_ms(m.group(1), m.group(2))
    return ms if exact else None


def option_duration(text: str) -> int | None:
    """A command-line option's duration: a monitor field's, written with spaces if one likes."""
    return 0 if text.strip() == "0" else parse_duration(text.replace(" ", ""))


def format_duration(ms: int) -> str:
    """Milliseconds as the largest whole unit: 300000 -> '5min', 0 -> '0ms'."""
    for unit in ("d", "h", "min", "s"):
        if ms and ms % UNITS_MS[unit] == 0:
            return f"{ms // UNITS_MS[unit]}{unit}"
    return f"{ms}ms"
