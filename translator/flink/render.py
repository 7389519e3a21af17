"""The only Jinja user: statement templates in sql/, rendered with StrictUndefined. A
statement's connector (options, metadata columns) is turned into SQL here, at the edge."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import jinja2

# sql/ is installed as the package data nql_flink.sql (pyproject.toml): found where it is installed
SQL_DIR = Path(importlib.util.find_spec("nql_flink.sql").submodule_search_locations[0])


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


def render_statement(statement) -> str:
    """A codegen.Statement as SQL text."""
    from nql_flink.translator.flink.codegen import lit, q

    context = statement.context
    c = statement.connector
    if c is not None:
        context = {**context, "options": [(lit(k), lit(v)) for k, v in sorted(c.options.items())],
                   "metadata": [{"name": q(m.column), "type": m.sql_type, "key": lit(m.key), "constant": m.constant}
                                for m in c.metadata]}
    return render(statement.template, context)
