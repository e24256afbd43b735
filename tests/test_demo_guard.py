"""The demo loader's guard: ``replace=True`` drops only what the loader itself created (issue #9, finding 5)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from dbworkbench.cli import main
from dbworkbench.datasets.demo import MARK, SCALES, TABLES, TYPES, load_demo
from dbworkbench.errors import WorkbenchError
from tests.fix_db import Server

_counter = itertools.count()


@pytest.fixture
def schema(empty_db: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """An autocommit connection whose search_path is a new schema of the module's empty database."""
    name = f"guard_{next(_counter)}"
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(name)))
        yield conn, name
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def _users_own_tables(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE users (id int PRIMARY KEY, name text)")
    conn.execute("INSERT INTO users VALUES (1, 'alice')")
    conn.execute("CREATE VIEW active_users AS SELECT * FROM users")


def _scalar(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def test_a_users_own_table_survives_replace(schema: tuple[psycopg.Connection[Any], str]) -> None:
    conn, name = schema
    _users_own_tables(conn)
    for replace in (True, False):
        with pytest.raises(WorkbenchError) as err:
            load_demo(conn, "tiny", progress=False, replace=replace)
        message = str(err.value)
        assert f"table {name}.users" in message and "not created by the demo loader" in message
        assert "nothing was dropped" in message
    assert conn.execute("SELECT * FROM active_users").fetchall() == [(1, "alice")]
    assert _scalar(conn, "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace") \
        == 3  # users, its primary key index, the view: no demo object was created either


def test_a_users_own_trigger_function_is_not_replaced(schema: tuple[psycopg.Connection[Any], str]) -> None:
    """schema.sql says CREATE OR REPLACE FUNCTION update_updated_at_column(): a user's own must stop the load."""
    conn, name = schema
    conn.execute("CREATE FUNCTION update_updated_at_column() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$ BEGIN RETURN NULL; END $$")
    before = _scalar(conn, "SELECT prosrc FROM pg_proc WHERE proname = 'update_updated_at_column'")
    with pytest.raises(WorkbenchError, match=rf"function {name}\.update_updated_at_column\(\), not created"):
        load_demo(conn, "tiny", progress=False, replace=True)
    assert _scalar(conn, "SELECT prosrc FROM pg_proc WHERE proname = 'update_updated_at_column'") == before
    assert _scalar(conn, "SELECT to_regclass('users') IS NULL")


def test_the_loader_marks_what_it_creates_and_replace_reloads_it(demo_db: str) -> None:
    with psycopg.connect(demo_db, autocommit=True) as conn:
        comments = conn.execute(
            "SELECT obj_description(oid, 'pg_class') FROM pg_class WHERE relname = ANY(%(t)s)"
            " UNION ALL SELECT obj_description(oid, 'pg_type') FROM pg_type WHERE typname = ANY(%(y)s)"
            " UNION ALL SELECT obj_description(oid, 'pg_proc') FROM pg_proc WHERE proname = 'update_updated_at_column'",
            {"t": list(TABLES), "y": list(TYPES)}).fetchall()
        assert len(comments) == 6 and all(c[0].startswith(MARK) for c in comments)
        old = _scalar(conn, "SELECT oid FROM pg_class WHERE relname = 'users'")
        result = load_demo(conn, "tiny", progress=False, replace=True)
        assert result["rows"] == SCALES["tiny"]
        assert _scalar(conn, "SELECT oid FROM pg_class WHERE relname = 'users'") != old  # really dropped and made
        assert _scalar(conn, "SELECT obj_description('users'::regclass, 'pg_class')").startswith(MARK)


def test_a_users_view_on_the_demo_stops_replace(demo_db: str) -> None:
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("CREATE VIEW my_admins AS SELECT id, email FROM users WHERE role = 'admin'")
        try:
            admins = _scalar(conn, "SELECT count(*) FROM my_admins")
            with pytest.raises(WorkbenchError, match=r"dependents that are not the demo's.*my_admins"):
                load_demo(conn, "tiny", progress=False, replace=True)
            assert _scalar(conn, "SELECT count(*) FROM my_admins") == admins
            assert _scalar(conn, "SELECT count(*) FROM comments") == SCALES["tiny"]["comments"]
        finally:
            conn.execute("DROP VIEW IF EXISTS my_admins")


def test_cli_replace_refuses_a_users_tables_and_reloads_the_demo(server: Server, demo_db: str) -> None:
    theirs = server.create_database(f"guard_cli_{server.name}")
    try:
        with psycopg.connect(theirs, autocommit=True) as conn:
            _users_own_tables(conn)
            conn.execute("CREATE TABLE posts (id int)")
            conn.execute("CREATE TABLE comments (id int)")
        args = ["demo", "load", "--scale", "tiny", "--allow-writes", "--replace", "--dsn"]
        refused = CliRunner().invoke(main, [*args, theirs])
        assert refused.exit_code == 1, refused.output
        assert refused.output.startswith("Error: ") and "not created by the demo loader" in refused.output
        assert "Traceback" not in refused.output
        plain = CliRunner().invoke(main, ["demo", "load", "--scale", "tiny", "--dsn", theirs])
        assert plain.exit_code == 1 and "not created by the demo loader" in plain.output  # not "already loaded"
        with psycopg.connect(theirs, autocommit=True) as conn:
            assert conn.execute("SELECT * FROM active_users").fetchall() == [(1, "alice")]
        reloaded = CliRunner().invoke(main, [*args, demo_db])
        assert reloaded.exit_code == 0, reloaded.output
        assert "loaded the tiny demo (1,000 users, 5,000 posts, 15,000 comments)" in reloaded.output
    finally:
        server.drop_database(f"guard_cli_{server.name}")
