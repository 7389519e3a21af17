"""Test records holding what json.dumps cannot write (1e400, bytes that are not UTF-8)."""
from __future__ import annotations

import json


def encode(rec: dict, **raw: bytes) -> bytes:
    """The record as a UTF-8 JSON line; raw=<placeholder>: bytes put in place of the JSON
    string "<placeholder>" (text json.dumps cannot write: 1e400, invalid UTF-8)."""
    line = json.dumps(rec, ensure_ascii=False).encode()
    for placeholder, value in raw.items():
        assert f'"{placeholder}"'.encode() in line
        line = line.replace(f'"{placeholder}"'.encode(), value)
    return line
