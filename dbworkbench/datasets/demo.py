"""The demo blog database: the handbook's schema (``data/demo/schema.sql``) with rows.

The rows come from ``data/demo/generate.sql``, generated on the server with
``generate_series`` and hash-derived choices: the same scale gives the same rows on
every load, skewed like a real site (a few users write most posts, a few posts draw
most comments, nested replies, mixed-case emails, English text).

>>> import psycopg                                                    # doctest: +SKIP
>>> conn = psycopg.connect("dbname=scratch", autocommit=True)         # doctest: +SKIP
>>> load_demo(conn, "tiny")["rows"]                                   # doctest: +SKIP
{'users': 1000, 'posts': 5000, 'comments': 15000}
"""

from __future__ import annotations

import re
import time
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from psycopg import sql
from tqdm.auto import tqdm

from .. import catalog
from .._paths import data_dir
from ..errors import WorkbenchError
from ..guard import split_statements

__all__ = ["MARK", "SCALES", "check_demo_ownership", "demo_is_loaded", "load_demo"]

#: Rows per table for each scale. tiny loads in a few seconds (tests), small in
#: under half a minute, medium (4.2 million rows) in a few minutes.
SCALES: dict[str, dict[str, int]] = {
    "tiny": {"users": 1_000, "posts": 5_000, "comments": 15_000},
    "small": {"users": 20_000, "posts": 100_000, "comments": 300_000},
    "medium": {"users": 200_000, "posts": 1_000_000, "comments": 3_000_000},
}

TABLES = ("users", "posts", "comments")
TYPES = ("user_role", "post_status")
FUNCTION = "update_updated_at_column"

#: How the loader marks what it creates: every table, type and function above gets a
#: comment starting with this (``COMMENT ON ...``). ``replace=True`` drops only marked
#: objects. A comment adds no object to the user's schema (a marker table would show up
#: in every collector, health check and dump) and travels with the object.
MARK = "dbworkbench demo"

# Session settings for the load only (SET LOCAL: they end with its transaction).
_LOAD_SETTINGS = {
    "statement_timeout": "0",
    "lock_timeout": "0",
    "work_mem": "256MB",
    "maintenance_work_mem": "512MB",
    "synchronous_commit": "off",
}
_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.IGNORECASE)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_STEP = re.compile(r"^-- step: (\w+)\s*$", re.MULTILINE)


def demo_is_loaded(conn: psycopg.Connection[Any]) -> bool:
    """Whether the demo's three tables exist in the connection's current schema.

    >>> demo_is_loaded(conn)                                          # doctest: +SKIP
    True
    """
    names = {o.name for o in _present(conn, _current_schema(conn))}
    return all(t in names for t in TABLES)


def check_demo_ownership(conn: psycopg.Connection[Any]) -> None:
    """Raise :class:`WorkbenchError` when an object of the demo's names here was not made by :func:`load_demo`.

    >>> check_demo_ownership(conn)                                    # doctest: +SKIP
    """
    schema = _current_schema(conn)
    _refuse_foreign(conn, schema, _present(conn, schema))


def load_demo(
    conn: psycopg.Connection[Any],
    scale: str = "tiny",
    *,
    progress: bool = True,
    replace: bool = False,
) -> dict[str, Any]:
    """Create the demo schema and its rows in the connection's database (current schema).

    ``conn`` is an autocommit connection of a superuser (or the database owner).
    pg_stat_statements is created when the server has it. Every table, type and
    function the load creates carries a comment starting with :data:`MARK`. If the
    demo's objects exist already, ``replace=True`` drops them first, otherwise this
    raises :class:`WorkbenchError`. It never drops what it did not create: when an
    object of one of the demo's names lacks the mark (a user's own ``users`` table,
    say), or something of the user's depends on a demo object (a view), it raises
    before anything changes.

    The load is one transaction: it loads everything or changes nothing. For speed
    the schema's indexes, primary, unique and foreign keys are created after the
    rows (same names and definitions as running ``schema.sql`` gives); CHECK
    constraints apply while rows go in. A final ``VACUUM (ANALYZE)`` leaves
    statistics and the visibility map as a settled database would have them.

    Returns ``scale``, ``rows`` (table -> rows inserted), ``seconds``,
    ``step_seconds`` (step -> seconds), ``database``, ``schema`` and
    ``pg_stat_statements`` (whether the extension exists in the database).

    >>> load_demo(conn, "tiny", progress=False)["rows"]               # doctest: +SKIP
    {'users': 1000, 'posts': 5000, 'comments': 15000}
    """
    if scale not in SCALES:
        raise WorkbenchError(f"unknown demo scale {scale!r}: choose one of {', '.join(SCALES)}")
    if not conn.autocommit:
        raise WorkbenchError("load_demo needs an autocommit connection: psycopg.connect(..., autocommit=True)")
    schema = _current_schema(conn)
    present = _present(conn, schema)
    _refuse_foreign(conn, schema, present)
    if present and not replace:
        raise WorkbenchError(
            f"the demo schema already exists in database {conn.info.dbname!r} (schema {schema!r}: "
            f"{', '.join(o.name for o in present)}); pass replace=True (dbworkbench demo load --replace) "
            "to drop and reload it"
        )
    ddl, indexes = _schema_statements()
    steps = _generate_steps()
    names = ["pg_stat_statements", "schema", *steps, "constraints", "indexes", "analyze"]
    timings: dict[str, float] = {}
    rows: dict[str, int] = {}
    started = time.perf_counter()
    with tqdm(total=len(names), desc=f"demo {scale}", unit="step", disable=not progress) as bar:

        def step(name: str) -> None:
            timings[name] = time.perf_counter()
            bar.set_postfix_str(name)

        def done(name: str) -> None:
            timings[name] = round(time.perf_counter() - timings[name], 3)
            bar.update(1)

        step("pg_stat_statements")
        pgss = _ensure_pg_stat_statements(conn)
        done("pg_stat_statements")
        with conn.transaction():
            for name, value in _LOAD_SETTINGS.items():
                conn.execute("SELECT set_config(%s, %s, true)", [name, value])
            for table, count in SCALES[scale].items():
                conn.execute("SELECT set_config(%s, %s, true)", [f"demo.{table}", str(count)])
            step("schema")
            if present:
                _drop(conn, schema, present)
            for stmt in ddl:
                conn.execute(stmt)
            _mark(conn, schema, scale)
            deferred = _defer_constraints(conn, schema)
            done("schema")
            for name, stmts in steps.items():
                step(name)
                for stmt in stmts:
                    cur = conn.execute(stmt)
                    if m := _INSERT.match(_strip_comments(stmt)):
                        rows[m.group(1)] = cur.rowcount
                done(name)
            step("constraints")
            _restore_constraints(conn, schema, deferred)
            done("constraints")
            step("indexes")
            for stmt in indexes:
                conn.execute(stmt)
            done("indexes")
        step("analyze")
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(
            sql.SQL(", ").join(sql.Identifier(schema, t) for t in TABLES)))
        done("analyze")
    return {
        "scale": scale,
        "rows": {t: rows.get(t, 0) for t in TABLES},
        "seconds": round(time.perf_counter() - started, 2),
        "step_seconds": timings,
        "database": conn.info.dbname,
        "schema": schema,
        "pg_stat_statements": pgss,
    }


def schema_path() -> Path:
    """``data/demo/schema.sql``: the handbook's blog schema."""
    return data_dir() / "demo" / "schema.sql"


def generate_path() -> Path:
    """``data/demo/generate.sql``: the row generator, in ``-- step:`` sections."""
    return data_dir() / "demo" / "generate.sql"


def _strip_comments(text: str) -> str:
    return re.sub(r"^\s*--[^\n]*\n", "", text, flags=re.MULTILINE)


@cache
def _schema_statements() -> tuple[list[str], list[str]]:
    """schema.sql as (statements to run before the rows, CREATE INDEX statements for after)."""
    chunks = split_statements(schema_path().read_text(encoding="utf-8"))
    indexes = [c for c in chunks if _INDEX.match(_strip_comments(c))]
    return [c for c in chunks if c not in indexes], indexes


@cache
def _generate_steps() -> dict[str, list[str]]:
    """generate.sql's statements by ``-- step:`` name, in file order."""
    parts = _STEP.split(generate_path().read_text(encoding="utf-8"))
    return {name: split_statements(body)
            for name, body in zip(parts[1::2], parts[2::2])}


def _current_schema(conn: psycopg.Connection[Any], what: str = "the demo") -> str:
    row = conn.execute(f"SELECT {catalog.MARKER} current_schema()").fetchone()
    if row is None or row[0] is None:
        raise WorkbenchError(f"no schema to create {what} in: the search_path names no existing schema "
                             "(SET search_path = public)")
    return str(row[0])


class _Object(NamedTuple):
    kind: str          # table, view, type, function, ... (what the server holds under the name)
    name: str
    marked: bool       # carries the demo loader's comment


def _present(conn: psycopg.Connection[Any], schema: str, *, tables: tuple[str, ...] = TABLES, types: tuple[str, ...] = TYPES,
             functions: tuple[str, ...] = (FUNCTION,), mark: str = MARK) -> list[_Object]:
    """What exists in ``schema`` under a dataset's table, type and function names (the demo's by
    default), in the order of those names, and whether each carries the loader's ``mark``."""
    rows = conn.execute(catalog.get("dataset_objects", conn.info.server_version),
                        {"schema": schema, "tables": list(tables), "types": list(types), "functions": list(functions)}).fetchall()
    found = [_Object(kind, name, (comment or "").startswith(mark)) for kind, name, comment in rows]
    order = {n: i for i, n in enumerate((*tables, *types, *functions))}
    return sorted(found, key=lambda o: order[o.name])


def _refuse_foreign(conn: psycopg.Connection[Any], schema: str, present: list[_Object]) -> None:
    """Raise, naming them, when objects of the demo's names were not created by the demo loader."""
    foreign = [o for o in present if not o.marked or (o.name in TABLES and o.kind != "table")
               or (o.name in TYPES and o.kind != "type")]
    if not foreign:
        return
    names = ", ".join(f"{o.kind} {schema}.{o.name}" + ("()" if o.kind == "function" else "") for o in foreign)
    raise WorkbenchError(
        f"database {conn.info.dbname!r} already has {names}, not created by the demo loader (no {MARK!r} "
        "comment on it); nothing was dropped or changed. Load the demo into an empty database "
        "(dbworkbench demo load --dsn ...) or another schema (SET search_path), or drop those objects yourself "
        "if you mean to lose them."
    )


def _mark(conn: psycopg.Connection[Any], schema: str, scale: str) -> None:
    """Comment every table, type and function of the demo with :data:`MARK`."""
    text = sql.Literal(f"{MARK} ({scale}): created by dbworkbench's load_demo; "
                       "dbworkbench demo load --replace drops and reloads it")
    for kind, names in (("TABLE", TABLES), ("TYPE", TYPES)):
        for name in names:
            conn.execute(sql.SQL("COMMENT ON {} {} IS {}").format(
                sql.SQL(kind), sql.Identifier(schema, name), text))
    conn.execute(sql.SQL("COMMENT ON FUNCTION {}() IS {}").format(sql.Identifier(schema, FUNCTION), text))


def _ensure_pg_stat_statements(conn: psycopg.Connection[Any]) -> bool:
    """CREATE EXTENSION IF NOT EXISTS pg_stat_statements where the server has it; whether it exists."""
    row = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'").fetchone()
    if row and row[0]:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except psycopg.Error:
            pass                                  # not allowed here: the demo does not need it
    row = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone()
    return bool(row and row[0])


def _drop(conn: psycopg.Connection[Any], schema: str, present: list[_Object]) -> None:
    """Drop the demo's (marked) objects, without CASCADE: a user's object that depends on one stops it."""
    groups = (("TABLE", [o.name for o in present if o.name in TABLES]),
              ("TYPE", [o.name for o in present if o.name in TYPES]),
              ("FUNCTION", [f"{o.name}" for o in present if o.name == FUNCTION]))
    try:
        for kind, names in groups:
            if not names:
                continue
            objects = sql.SQL(", ").join(
                sql.Identifier(schema, n) + (sql.SQL("()") if kind == "FUNCTION" else sql.SQL("")) for n in names)
            conn.execute(sql.SQL("DROP {} {}").format(sql.SQL(kind), objects))
    except psycopg.errors.DependentObjectsStillExist as err:
        detail = (err.diag.message_detail or "").replace("\n", "; ")
        raise WorkbenchError(
            f"the demo's objects in database {conn.info.dbname!r} have dependents that are not the demo's "
            f"({detail or err.diag.message_primary}); nothing was dropped or changed. Drop or move those "
            "objects yourself, or load the demo into another database (dbworkbench demo load --dsn ...)."
        ) from None


def _defer_constraints(conn: psycopg.Connection[Any], schema: str) -> list[tuple[str, str, str, str]]:
    """Drop the demo tables' primary, unique and foreign keys; what to add back, in order."""
    found = conn.execute(
        "SELECT t.relname, c.conname, c.contype::text, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " WHERE t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %s)"
        " AND t.relname = ANY(%s) AND c.contype IN ('p', 'u', 'f')"
        " ORDER BY c.oid",
        [schema, list(TABLES)],
    ).fetchall()
    keys = [r for r in found if r[2] != "f"] + [r for r in found if r[2] == "f"]
    for table, name, _, _ in reversed(keys):
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(schema, table), sql.Identifier(name)))
    return keys


def _restore_constraints(conn: psycopg.Connection[Any], schema: str,
                         keys: list[tuple[str, str, str, str]]) -> None:
    """Add back what :func:`_defer_constraints` dropped; foreign keys check every row."""
    for table, name, _, definition in keys:
        conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.Identifier(schema, table), sql.Identifier(name), sql.SQL(definition)))
