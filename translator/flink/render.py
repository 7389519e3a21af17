"""The only Jinja user: statement templates in sql/, rendered with StrictUndefined."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(SQL_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # SQL, not HTML: values arrive escaped by the SQL generator
        keep_trailing_newline=False,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def render(template: str, context: dict) -> str:
    return environment().get_template(template).render(**context).strip() + "\n"
