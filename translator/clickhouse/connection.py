"""Where the polling back end's SQL runs: a small interface (`Connection`: run a statement,
query rows, insert rows) with one implementation per kind of URL.

- `chdb:///path/to/dir` (or `chdb:` for DEFAULT_DIR): chdb, ClickHouse in this process, its
  data in that folder (kept between commands: `load` then `poll`); `chdb:memory` keeps nothing.
- `http://host:8123`, `https://...`: a ClickHouse server through clickhouse-connect (not part
  of this slice: refused with the reason).

Failures of the engine become `ClickHouseError` with a code, never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_DIR = "out/clickhouse"
DEFAULT_URL = "chdb://" + DEFAULT_DIR  # relative to the working directory (see `parse_url`)


class ClickHouseError(Exception):
    """``code``: bad-url | unsupported-url | engine | bad-input."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Connection:
    """What the back end needs of ClickHouse."""

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def rows(self, sql: str) -> list[list]:
        """The result rows, values as JSON gives them (numbers, strings, null)."""
        raise NotImplementedError

    def insert(self, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
        """Rows into `table` (quoted, qualified); `columns` are (name, ClickHouse type)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse_url(url: str) -> tuple[str, str | None]:
    """('chdb', folder or None for memory) | ('http', url); ClickHouseError when unusable.
    `chdb:///abs/dir` is an absolute folder, `chdb://rel/dir` and `chdb:rel/dir` relative."""
    if url in ("chdb:", "chdb://", "chdb:///"):
        return "chdb", DEFAULT_DIR
    if url == "chdb:memory":
        return "chdb", None
    if url.startswith("chdb:"):
        rest = url[len("chdb:"):]
        if rest.startswith("///"):
            path = "/" + rest[3:]
        elif rest.startswith("//"):
            path = rest[2:]
        else:
            path = rest
        if not path or "\x00" in path:
            raise ClickHouseError("bad-url", f"{url!r}: no folder after chdb:")
        return "chdb", path
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https") and parsed.hostname:
        return "http", url
    raise ClickHouseError("bad-url", f"{url!r} is not chdb:///FOLDER, chdb:memory or http(s)://HOST:PORT")


def connect(url: str) -> Connection:
    kind, where = parse_url(url)
    if kind == "http":
        raise ClickHouseError("unsupported-url", f"{url}: a ClickHouse server (clickhouse-connect) is not supported "
                              "yet; use chdb:///FOLDER")
    return ChdbConnection(where)


class ChdbConnection(Connection):
    """chdb: one session per process at a time (chdb's rule); its data in `folder`."""

    def __init__(self, folder: str | None):
        try:
            from chdb import session
        except ImportError as exc:  # a broken installation
            raise ClickHouseError("engine", f"chdb cannot be imported: {exc}") from None
        if folder is not None:
            try:
                Path(folder).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ClickHouseError("bad-url", f"chdb folder {folder}: {exc.strerror or exc}") from None
        self._tmp = tempfile.TemporaryDirectory(prefix="nql-chdb-")
        try:
            self._session = session.Session(str(Path(folder).resolve()) if folder else "")
        except Exception as exc:  # chdb raises its own RuntimeError subclasses
            self._tmp.cleanup()
            raise ClickHouseError("engine", f"chdb: {_first_line(exc)}") from None

    def _query(self, sql: str, fmt: str = "JSONCompactEachRow"):
        try:
            return self._session.query(sql, fmt)
        except Exception as exc:
            raise ClickHouseError("engine", f"ClickHouse refused the SQL: {_first_line(exc)}") from None

    def execute(self, sql: str) -> None:
        self._query(sql, "CSV")

    def rows(self, sql: str) -> list[list]:
        text = self._query(sql).bytes().decode("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def insert(self, table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
        from nql_flink.translator.clickhouse.expressions import ident, lit

        path = Path(self._tmp.name, "rows.jsonl")
        names = [c for c, _ in columns]
        times = [i for i, (_, t) in enumerate(columns) if t.startswith(("DateTime", "Nullable(DateTime"))]
        with open(path, "w", encoding="utf-8") as f:
            for row in rows:
                values = list(row)
                for i in times:
                    if values[i] is not None:
                        values[i] = _time_text(values[i])
                f.write(json.dumps(dict(zip(names, values)), ensure_ascii=False) + "\n")
        structure = ", ".join(f"{ident(c)} {t}" for c, t in columns)
        self.execute(f"INSERT INTO {table} SELECT * FROM file({lit(str(path))}, 'JSONEachRow', {lit(structure)})")
        os.unlink(path)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._tmp.cleanup()


def _time_text(ms: int) -> str:
    from nql_flink.translator.clickhouse.tables import format_time

    return format_time(ms).replace("T", " ").rstrip("Z")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
