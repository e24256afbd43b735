"""The safety gate against real servers: what it refuses, what the server refuses behind it,
and that nothing the gate lets through differs from what the server runs (fuzzed)."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql

import dbworkbench as wb
from dbworkbench.guard import admit, send
from dbworkbench.guard.functions import DENIED

TRIED = {"gate": 0, "fuzzed": 0, "refused_side_effects": 0}


@pytest.fixture(scope="module")
def db_setup(empty_db: str) -> str:
    """A table ``t`` with rows, a sequence, dblink, and a user's own functions, views and operator."""
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        conn.execute("INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 50) g")
        conn.execute("CREATE SEQUENCE s")
        conn.execute("CREATE EXTENSION IF NOT EXISTS dblink")
        conn.execute("CREATE FUNCTION wipe() RETURNS int LANGUAGE sql VOLATILE AS 'DELETE FROM t RETURNING 1'")
        conn.execute("CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2'")
        conn.execute("CREATE FUNCTION noisy(int, int) RETURNS bool LANGUAGE sql VOLATILE AS 'SELECT $1 = $2'")
        conn.execute("CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = noisy)")
        conn.execute("CREATE VIEW harmless AS SELECT id, twice(id) FROM t")
        conn.execute("CREATE VIEW sneaky AS SELECT id, nextval('s') FROM t")
        conn.execute("CREATE VIEW sneakier AS SELECT * FROM sneaky")
    return empty_db


@pytest.fixture(scope="module")
def ro(db_setup: str):
    with wb.connect(db_setup) as db:
        yield db


@pytest.fixture(scope="module")
def rw(db_setup: str):
    with wb.connect(db_setup, allow_writes=True) as db:
        yield db


def _rows(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT count(*) FROM t").fetchone()[0]


def _refused(db: wb.Workbench, text: str, match: str, **kw) -> None:
    TRIED["gate"] += 1
    with pytest.raises(wb.UnsafeStatement, match=match):
        db.explain(text, **kw)


# -- finding 1: one statement to the gate is one statement to the server --------------------------

ATTACK = "SELECT 'x\\' ' ; COMMIT; BEGIN; SET TRANSACTION READ WRITE; DELETE FROM t; COMMIT; --'"


def test_backslash_attack_with_standard_conforming_strings_off(db_setup: str, server) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(db_setup)["dbname"]
    with psycopg.connect(server.conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} SET standard_conforming_strings = off").format(sql.Identifier(dbname)))
    try:
        before = _rows(db_setup)
        with wb.connect(db_setup) as db:
            assert db.conn.info.parameter_status("standard_conforming_strings") == "on"  # the session turns it on
            TRIED["gate"] += 1
            with pytest.raises((wb.UnsafeStatement, psycopg.Error)):
                db.explain(ATTACK)
            with pytest.raises((wb.UnsafeStatement, psycopg.Error)):
                db.explain(ATTACK, analyze=False)
        assert _rows(db_setup) == before == 50
        # A connection that has it off (not one dbworkbench made): backslashes are refused outright.
        with psycopg.connect(db_setup, autocommit=True) as raw:
            assert raw.info.parameter_status("standard_conforming_strings") == "off"
            TRIED["gate"] += 1
            with pytest.raises(wb.UnsafeStatement, match="standard_conforming_strings = off"):
                admit(ATTACK, read_only=True, conn=raw)
    finally:
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} RESET standard_conforming_strings").format(sql.Identifier(dbname)))


def test_the_server_refuses_a_second_statement_past_the_gate(ro) -> None:
    with pytest.raises(psycopg.errors.SyntaxError, match="cannot insert multiple commands"):
        send(ro.conn, "SELECT 1; SELECT 2")
    assert send(ro.conn, "SELECT 1 -- one statement; with a comment").fetchone() == (1,)


# -- finding 2: nothing a rollback cannot undo ----------------------------------------------------


def test_terminating_another_session_is_refused(ro, db_setup: str) -> None:
    with psycopg.connect(db_setup, autocommit=True, application_name="victim") as victim:
        pid = victim.info.backend_pid
        _refused(ro, f"SELECT pg_terminate_backend({pid})", "pg_terminate_backend")
        _refused(ro, f"SELECT pg_catalog.pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = {pid}", "pg_cancel_backend")
        assert victim.execute("SELECT 1").fetchone() == (1,)  # still alive


def test_advisory_locks_sequences_and_notifications_are_refused(ro, rw, db_setup: str) -> None:
    for text in ("SELECT pg_advisory_lock(42)", "SELECT pg_try_advisory_xact_lock(42)", "SELECT nextval('s')",
                 "SELECT setval('s', 1000)", "SELECT pg_notify('chan', 'x')", "SELECT set_config('work_mem', '1GB', false)",
                 "SELECT count(*) FROM t WHERE pg_reload_conf()", "SELECT * FROM query_to_xml('DELETE FROM t', true, true, '')"):
        for db in (ro, rw):
            _refused(db, text, "rollback does not undo")
            TRIED["refused_side_effects"] += 1
    with psycopg.connect(db_setup) as conn:
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0
        assert conn.execute("SELECT last_value, is_called FROM s").fetchone() == (1, False)


def test_dblink_is_refused(ro, rw, db_setup: str) -> None:
    text = f"SELECT dblink_exec({db_setup!r}, 'DELETE FROM t')"
    for db in (ro, rw):
        _refused(db, text, "dblink_exec")
        TRIED["refused_side_effects"] += 1
    assert _rows(db_setup) == 50


def test_volatile_user_functions_views_and_operators_are_refused(ro, rw, db_setup: str) -> None:
    cases = [("SELECT wipe()", "wipe\\(\\) is VOLATILE"), ("SELECT public.wipe()", "public.wipe\\(\\) is VOLATILE"),
             ("SELECT * FROM sneaky", "nextval.*in view sneaky"),
             ("SELECT * FROM sneakier", "in view sneaky"),
             ("SELECT count(*) FROM t WHERE id === 3", "operator public.=== runs the VOLATILE function public.noisy")]
    for text, match in cases:
        for db in (ro, rw):
            _refused(db, text, match)
            TRIED["refused_side_effects"] += 1
    assert _rows(db_setup) == 50
    # Plain EXPLAIN evaluates nothing VOLATILE: allowed.
    assert ro.explain("SELECT wipe()", analyze=False).execution_ms is None


def test_opting_in_runs_it_and_names_what_was_not_undone(rw, db_setup: str) -> None:
    plan = rw.explain("SELECT nextval('s')", allow_side_effects=True)
    assert plan.execution_ms is not None
    assert any("nextval" in item for item in plan.cannot_undo)
    with psycopg.connect(db_setup) as conn:
        assert conn.execute("SELECT is_called FROM s").fetchone() == (True,)  # the rollback did not undo it
        conn.execute("SELECT setval('s', 1, false)")
        conn.commit()
    insert = rw.explain("INSERT INTO t VALUES (1000, 'x')")
    assert any("sequence values" in item for item in insert.cannot_undo)
    assert _rows(db_setup) == 50


def test_harmless_volatile_functions_and_views_are_allowed(ro) -> None:
    for text in ("SELECT random(), clock_timestamp(), gen_random_uuid(), now()", "SELECT pg_sleep(0)",
                 "SELECT * FROM harmless", "SELECT pg_relation_size('t')", "SELECT count(*) FROM pg_stat_activity"):
        TRIED["gate"] += 1
        assert ro.explain(text).execution_ms is not None


def test_the_engine_passes_the_same_gate(ro, rw, db_setup: str) -> None:
    import pandas as pd

    assert pd.read_sql("SELECT count(*) AS n FROM t WHERE v LIKE 'row %%' AND id > %(low)s", ro.engine,
                       params={"low": 10})["n"].tolist() == [40]
    for db, text, match in [(ro, "SELECT pg_terminate_backend(pg_backend_pid())", "pg_terminate_backend"),
                            (rw, "SELECT wipe()", "wipe\\(\\) is VOLATILE"),
                            (rw, "SELECT 1; DELETE FROM t", "one statement at a time"),
                            (ro, "UPDATE t SET v = 'x'", "read-only")]:
        TRIED["gate"] += 1
        with pytest.raises(wb.UnsafeStatement, match=match):
            pd.read_sql(text, db.engine)
    assert _rows(db_setup) == 50


# -- statements and kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "BEGIN", "COMMIT", "ROLLBACK", "SET work_mem = '1GB'", "SET SESSION AUTHORIZATION postgres", "RESET ALL",
    "PREPARE p AS SELECT 1", "EXECUTE p", "DEALLOCATE ALL", "LISTEN chan", "NOTIFY chan", "DISCARD ALL",
    "LOAD 'auto_explain'", "CHECKPOINT", "DECLARE c CURSOR FOR SELECT 1", "SET TRANSACTION READ WRITE",
])
def test_transaction_control_is_refused(rw, text: str) -> None:
    _refused(rw, text, "transaction control or a session command, which the gate lets none of through")


@pytest.mark.parametrize(("text", "match"), [
    ("WITH d AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM d", "a data-modifying WITH"),
    ("SELECT * FROM t FOR UPDATE", "FOR UPDATE/SHARE"),
    ("SELECT * FROM t FOR KEY SHARE SKIP LOCKED", "FOR UPDATE/SHARE"),
    ("SELECT * INTO t2 FROM t", "SELECT INTO"),
    ("DELETE FROM t", "DELETE"),
    ("MERGE INTO t USING (VALUES (1)) v(id) ON t.id = v.id WHEN MATCHED THEN DELETE", "MERGE"),
    ("SELECT 1; DELETE FROM t", "one statement at a time"),
    ("/* a */ SELECT 1; /* b */ ;; SELECT 2 --", "holds 2 \\(SELECT, SELECT\\)"),
    ("SELECT 1 FROM", "cannot read this SQL at its end"),
    ("SELECT 1\nFRM t", "cannot read this SQL at line 2, column 5: syntax error"),
    ("  -- nothing\n ; ", "empty"),
])
def test_read_only_refusals(ro, db_setup: str, text: str, match: str) -> None:
    _refused(ro, text, match)
    assert _rows(db_setup) == 50


# -- fuzz: where the gate says one statement, the server agrees ------------------------------------

PIECES = [
    "1", "'a;b'", "'it''s; fine'", "E'\\';'", "E'x\\\\'", "'x\\'", "' ; SELECT 2; --'", "$$;$$", "$t$ ; $$ ; $t$",
    "$a$ $b$ ; $a$", "U&'\\0041;'", '"semi;colon"', '"q""uote"', "/* c; */", "/* /* nested; */ still; */", "-- x; \n",
    "-- y\n", ";", "; SELECT 2", " ", "\n", ",", "'", "\"", "/*", "*/", "$$", "\\", "E'", "$1", "E'\\\\'';'",
]


def _server_statements(conn: psycopg.Connection, text: str) -> int | None:
    """How many statements the server ran from ``text`` (simple protocol, rolled back); None if it refused it."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION READ ONLY")
            cur = conn.cursor()
            cur.execute(text)  # no parameters: the simple query protocol, several statements allowed
            count = 1
            while cur.nextset():
                count += 1
            return count
    except psycopg.Error:
        return None


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_fuzzed_text_the_gate_admits_is_one_statement_to_the_server(db_setup: str, conforming: str) -> None:
    conn = psycopg.connect(db_setup, autocommit=True)
    conn.execute(sql.SQL("SET standard_conforming_strings = {}").format(sql.SQL(conforming)))
    admitted = 0

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8))
    @example(["'x\\'", ",", "' ; SELECT 2; --'"])  # one statement with backslashes as text, two with them as escapes
    @example(["E'\\';'", "; SELECT 2"])
    @example(["$a$ $b$ ; $a$", "; SELECT 2"])
    def check(pieces: list[str]) -> None:
        nonlocal admitted
        text = "SELECT " + " ".join(pieces)
        TRIED["fuzzed"] += 1
        try:
            admit(text, read_only=True, conn=conn, execute=False)
        except wb.UnsafeStatement:
            return
        admitted += 1
        ran = _server_statements(conn, text)
        assert ran in (None, 1), f"the gate saw one statement, the server ran {ran}: {text!r}"

    try:
        check()
    finally:
        conn.close()
    assert admitted > 20  # the fuzz reached the server, not only refusals


def test_print_gate_figures() -> None:
    """Not a check: the counts for the closing note (run last in this module)."""
    print(f"\ngate figures: {TRIED}, deny-list size {len(DENIED)}")
