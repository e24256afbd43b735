"""The demo database (schema, generated rows) and its workload (parser, runner)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from dbworkbench.datasets import SCALES, WorkloadError, demo_is_loaded, load_demo, load_workload, run_workload
from dbworkbench.datasets.demo import schema_path
from dbworkbench.datasets.workload import GENERATORS, parse_workload
from dbworkbench.errors import WorkbenchError

# --------------------------------------------------------------------------- pure: no server


def test_workload_statements_split_by_the_guard_respect_quotes_comments_and_dollar_quotes() -> None:
    text = "-- name: a\nSELECT ';' AS a, $x$;$x$ AS b, E'\\';' AS c, \"q;\" /* ; */ FROM users; -- c;\n"
    [stmt] = parse_workload(text)
    assert stmt.sql == "SELECT ';' AS a, $x$;$x$ AS b, E'\\';' AS c, \"q;\" /* ; */ FROM users"
    cases = {"-- name: a\nSELECT 1;\n\nSELECT 2;\n": (4, "a second statement"),
             "-- name: a\nSELECT 1\n": (2, "does not end with ';'"),
             "SELECT 0;\n-- name: a\nSELECT 1;\n": (1, "SQL before the first header"),
             "-- name: a\nSELECT 'oops;\n": (2, "unterminated quoted string")}
    for bad, (line, message) in cases.items():
        with pytest.raises(WorkloadError, match=message) as err:
            parse_workload(bad)
        assert err.value.line == line


def test_schema_file_is_the_handbooks() -> None:
    text = schema_path().read_text()
    for index in ("idx_users_email", "idx_users_username", "idx_users_role", "idx_users_created_at",
                  "idx_posts_user_id", "idx_posts_slug", "idx_posts_status", "idx_posts_published_at",
                  "idx_posts_status_published", "idx_comments_post_parent", "idx_comments_created"):
        assert f"INDEX {index} ON" in text
    assert not re.search(r"ON comments\s*\(\s*user_id", text)
    assert text.index("CREATE TYPE user_role") < text.index("CREATE TABLE users")
    assert text.index("CREATE TYPE post_status") < text.index("CREATE TABLE posts")


def _workload() -> dict[str, Any]:
    return {s.name: s for s in load_workload()}


def test_workload_parses_with_enough_statements() -> None:
    stmts = load_workload()
    assert len(stmts) >= 25
    assert len({s.name for s in stmts}) == len(stmts)
    assert {s.kind for s in stmts} == {"read", "write"}
    assert sum(s.kind == "write" for s in stmts) >= 8
    for s in stmts:
        assert not s.sql.rstrip().endswith(";")
        assert all(p.generator in GENERATORS for p in s.params)


ANTI_PATTERNS = {
    "lower_email": r"WHERE LOWER\(email\) = LOWER\(%\(email\)s\)",
    "select_star": r"SELECT \* FROM",
    "comments_by_user_id": r"FROM comments\s+WHERE user_id = %\(",
    "deep_offset": r"OFFSET %\(\w+\)s",
    "leading_wildcard_like": r"LIKE '%%' \|\| %\(\w+\)s",
    "or_two_columns": r"WHERE username = %\(login\)s OR email = %\(login\)s",
    "not_in_subquery": r"NOT IN \(SELECT",
    "correlated_count": r"\(SELECT count\(\*\) FROM comments c WHERE c\.post_id = p\.id\)",
    "count_large_table": r"^SELECT count\(\*\) FROM comments$",
    "fulltext_no_index": r"to_tsvector\('english', content\) @@ plainto_tsquery\('english', %\(\w+\)s\)",
    "view_count_update": r"UPDATE posts SET view_count = view_count \+ 1",
    "last_login_update": r"UPDATE users SET last_login_at",
    "comment_insert": r"INSERT INTO comments",
    "handbook_good_lookup": r"SELECT id, full_name, email FROM users WHERE email = %\(email\)s",
    "primary_key_lookup": r"WHERE id = %\(user_id\)s",
    "join_with_limit": r"JOIN users u ON u\.id = p\.user_id[\s\S]*LIMIT 20",
}


@pytest.mark.parametrize("pattern", sorted(ANTI_PATTERNS))
def test_workload_covers(pattern: str) -> None:
    assert any(re.search(ANTI_PATTERNS[pattern], s.sql, re.MULTILINE) for s in load_workload()), pattern


def test_workload_has_n_plus_one_pairs() -> None:
    stmts = _workload()
    followers = [s for s in stmts.values() if s.for_each]
    assert len(followers) >= 2
    comments_each = stmts["post_comments_each"]
    assert comments_each.for_each is not None
    assert comments_each.for_each.statement == "user_recent_posts"
    assert "FROM comments WHERE post_id = %(post_id)s" in comments_each.sql
    assert all(f.weight == 0 and f.for_each and f.for_each.statement in stmts for f in followers)


GOOD = "-- name: ok\n-- weight: 2\n-- params: user_id = user_id\nSELECT 1 WHERE %(user_id)s IS NOT NULL;\n"
BAD_HEADERS = [
    # (text, line of the error, words the message must hold)
    (GOOD + "\n-- name: two\n-- wieght: 3\nSELECT 2;\n", 7, "unknown header key 'wieght'"),
    (GOOD + "\n-- name: two\n-- weight: lots\nSELECT 2;\n", 7, "bad weight"),
    (GOOD + "\n-- name: two\n-- params: x = nope\nSELECT %(x)s;\n", 7, "unknown generator 'nope'"),
    (GOOD + "\n-- name: two\n-- params: x = int(5)\nSELECT %(x)s;\n", 7, "bad arguments"),
    (GOOD + "\n-- name: two\nSELECT %(y)s;\n", 6, "placeholder %(y)s"),
    (GOOD + "\n-- name: two\n-- params: x = slug\nSELECT 2;\n", 6, "'x' of 'two' is not used"),
    (GOOD + "\n-- name: two\nSELECT 2\n", 7, "does not end with ';'"),
    (GOOD + "\n-- name: two\nSELECT 2; SELECT 3;\n", 7, "a second statement"),
    (GOOD + "\n-- name: two\n-- for_each: nowhere.id -> x\nSELECT %(x)s;\n", 6, "names 'nowhere'"),
    (GOOD + "\n-- name: two\n-- weight: 1\n-- for_each: ok.x -> x\nSELECT %(x)s;\n", 7, "has no weight"),
    (GOOD + "\n-- name: ok\nSELECT 2;\n", 6, "duplicate statement name 'ok'"),
    (GOOD + "\n-- name: Two Words\nSELECT 2;\n", 6, "bad statement name"),
    (GOOD + "\n-- name: two\nSELECT 'a%' ;\n", 6, "lone '%'"),
    (GOOD + "\n-- name: two\nVACUUM;\n", 6, "reads or writes"),
    ("-- preamble\nSELECT 0;\n" + GOOD, 2, "SQL before the first header"),
    ("-- nothing here\n", 1, "no statements"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD_HEADERS, ids=[w for _, _, w in BAD_HEADERS])
def test_bad_workload_names_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(WorkloadError) as info:
        parse_workload(text, path=Path("bad.sql"))
    assert info.value.line == line
    assert str(info.value).startswith(f"bad.sql:{line}: ")
    assert words in str(info.value)
    assert info.value.expected


def test_bad_workload_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "w.sql"
    path.write_text(GOOD + "\n-- name: two\n-- kind: maybe\nSELECT 2;\n")
    with pytest.raises(WorkloadError, match=re.escape(f"{path}:7: bad kind 'maybe' (expected read or write)")):
        load_workload(path)


def test_good_workload_text_parses() -> None:
    (stmt,) = parse_workload(GOOD)
    assert (stmt.name, stmt.weight, stmt.kind, stmt.line) == ("ok", 2, "read", 1)


# --------------------------------------------------------------------------- on servers


def _connect(conninfo: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


@pytest.fixture(scope="module")
def loaded(empty_db: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The module's empty database with the tiny demo loaded once."""
    with _connect(empty_db) as conn:
        result = load_demo(conn, "tiny", progress=False, replace=demo_is_loaded(conn))
    yield empty_db, result


def _scalar(conn: psycopg.Connection[Any], query: str | sql.Composable) -> Any:
    row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def test_run_workload_without_demo_says_to_load(empty_db: str) -> None:
    with _connect(empty_db) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS nothing_here")
        conn.execute("SET search_path = nothing_here")
        assert not demo_is_loaded(conn)
        with pytest.raises(WorkbenchError, match="load_demo"):
            run_workload(conn, iterations=1, progress=False)


def test_tiny_load_counts(loaded: tuple[str, dict[str, Any]]) -> None:
    conninfo, result = loaded
    assert result["scale"] == "tiny" and result["rows"] == SCALES["tiny"]
    assert result["seconds"] < 30
    with _connect(conninfo) as conn:
        assert demo_is_loaded(conn)
        for table, count in SCALES["tiny"].items():
            assert _scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))) == count


def test_tiny_load_is_skewed_like_a_site(loaded: tuple[str, dict[str, Any]]) -> None:
    with _connect(loaded[0]) as conn:
        top_users_share = _scalar(conn, """
            SELECT sum(n) FILTER (WHERE rank <= (SELECT count(*) / 100 FROM users))::float / sum(n)
            FROM (SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC) AS rank
                  FROM posts GROUP BY user_id) AS t""")
        assert top_users_share > 0.25
        assert _scalar(conn, "SELECT count(DISTINCT user_id)::float / (SELECT count(*) FROM users) FROM posts") < 0.5
        top_posts_share = _scalar(conn, """
            SELECT sum(n) FILTER (WHERE rank <= (SELECT count(*) / 100 FROM posts))::float / sum(n)
            FROM (SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC) AS rank
                  FROM comments GROUP BY post_id) AS t""")
        assert top_posts_share > 0.2
        replies = _scalar(conn, "SELECT avg((parent_id IS NOT NULL)::int) FROM comments")
        assert 0.1 < replies < 0.5
        assert _scalar(conn, """SELECT count(*) FROM comments c JOIN comments p ON p.id = c.parent_id
                                WHERE p.post_id <> c.post_id OR p.created_at > c.created_at""") == 0
        depth = _scalar(conn, """
            WITH RECURSIVE t AS (SELECT id, 1 AS d FROM comments WHERE parent_id IS NULL
                                 UNION ALL SELECT c.id, t.d + 1 FROM comments c JOIN t ON c.parent_id = t.id)
            SELECT max(d) FROM t""")
        assert depth >= 3


def test_tiny_load_looks_like_people_wrote_it(loaded: tuple[str, dict[str, Any]]) -> None:
    with _connect(loaded[0]) as conn:
        mixed = _scalar(conn, "SELECT avg((email <> lower(email))::int) FROM users")
        assert 0.1 < mixed < 0.5
        assert _scalar(conn, "SELECT count(*) FROM users WHERE email ~ '^[A-Z][a-z]+\\.[A-Z]'") > 0
        assert _scalar(conn, "SELECT count(DISTINCT lower(email)) = count(*) FROM users")
        roles = dict(conn.execute("SELECT role::text, count(*) FROM users GROUP BY 1").fetchall())
        assert roles["user"] > 0.9 * 1000 and roles.get("admin", 0) > 0
        statuses = dict(conn.execute("SELECT status::text, count(*) FROM posts GROUP BY 1").fetchall())
        assert statuses["published"] > 0.75 * 5000 and statuses["draft"] > 0
        found = _scalar(conn, """SELECT count(*) FROM posts
                                 WHERE to_tsvector('english', content) @@ plainto_tsquery('english', 'slow query')""")
        assert found > 10
        assert _scalar(conn, "SELECT count(*) FROM posts WHERE title LIKE '%index%'") > 0
        assert _scalar(conn, "SELECT count(*) FROM posts p JOIN users u ON u.id = p.user_id "
                             "WHERE p.created_at < u.created_at") == 0


FINGERPRINT = {
    "constraints": """SELECT t.relname, c.conname, c.contype::text, pg_get_constraintdef(c.oid), c.convalidated
                      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
                      WHERE t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
               "ORDER BY 1, 2",
    "columns": """SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                         pg_get_expr(d.adbin, d.adrelid)
                  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
                    AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2""",
    "triggers": """SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                   WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal ORDER BY 1""",
}


def _fingerprint(conn: psycopg.Connection[Any], schema: str) -> dict[str, list[tuple[Any, ...]]]:
    conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    try:
        return {k: [tuple(v.replace(f"{schema}.", "") if isinstance(v, str) else v for v in row)
                    for row in conn.execute(q).fetchall()]  # type: ignore[call-overload]
                for k, q in FINGERPRINT.items()}
    finally:
        conn.execute("RESET search_path")


def test_loaded_schema_is_what_schema_sql_creates(loaded: tuple[str, dict[str, Any]]) -> None:
    """Deferring keys and indexes until after the rows must not change the schema."""
    with _connect(loaded[0]) as conn:
        conn.execute("DROP SCHEMA IF EXISTS from_file CASCADE")
        conn.execute("CREATE SCHEMA from_file")
        conn.execute("SET search_path = from_file")
        conn.execute(schema_path().read_text())
        conn.execute("RESET search_path")
        expected, actual = _fingerprint(conn, "from_file"), _fingerprint(conn, "public")
        conn.execute("DROP SCHEMA from_file CASCADE")
    assert actual == expected
    names = {row[1] for row in actual["indexes"]}
    assert {"idx_users_email", "users_email_key", "idx_posts_slug", "posts_slug_key"} <= names
    assert not any(row[0] == "comments" and "(user_id)" in row[2] for row in actual["indexes"])
    assert len(actual["triggers"]) == 2


def _table_digests(conn: psycopg.Connection[Any]) -> list[str]:
    query = sql.SQL("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM {} AS t")
    return [_scalar(conn, query.format(sql.Identifier(table))) for table in ("users", "posts", "comments")]


def test_refuses_to_overwrite_then_replace_gives_identical_rows(loaded: tuple[str, dict[str, Any]]) -> None:
    with _connect(loaded[0]) as conn:
        before = _table_digests(conn)
        with pytest.raises(WorkbenchError, match=r"already exists.*replace=True"):
            load_demo(conn, "tiny", progress=False)
        assert _table_digests(conn) == before
        result = load_demo(conn, "tiny", progress=False, replace=True)
        assert result["rows"] == SCALES["tiny"]
        assert _table_digests(conn) == before


def test_unknown_scale_and_transaction_mode_are_refused(loaded: tuple[str, dict[str, Any]]) -> None:
    with pytest.raises(WorkbenchError, match="unknown demo scale 'huge'"), _connect(loaded[0]) as conn:
        load_demo(conn, "huge", progress=False)
    with psycopg.connect(loaded[0]) as conn, pytest.raises(WorkbenchError, match="autocommit"):
        load_demo(conn, "tiny", progress=False, replace=True)


def _pg_stat_statements(conn: psycopg.Connection[Any]) -> bool:
    try:
        conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
    except psycopg.Error:
        return False
    return True


def test_run_workload_summary_and_pg_stat_statements(loaded: tuple[str, dict[str, Any]]) -> None:
    with _connect(loaded[0]) as conn:
        if has_pgss := _pg_stat_statements(conn):
            conn.execute("SELECT pg_stat_statements_reset()")
        frame = run_workload(conn, iterations=300, seed=7, progress=False)
        assert list(frame.columns) == ["statement", "kind", "calls", "errors", "total_ms", "mean_ms", "rows"]
        assert [str(t) for t in frame.dtypes] == ["string", "string", "int64", "int64", "float64", "float64", "int64"]
        assert frame["total_ms"].is_monotonic_decreasing
        assert set(frame["kind"]) == {"read", "write"}
        assert frame.attrs["iterations"] == 300 and frame.attrs["seed"] == 7
        assert frame["calls"].sum() >= 300
        assert len(frame) >= 25
        assert frame.loc[frame["statement"] == "post_comments_each", "calls"].sum() > 0
        assert (frame["mean_ms"] * frame["calls"] - frame["total_ms"]).abs().max() < 1e-6
        if has_pgss:
            texts = [r[0] for r in conn.execute(
                "SELECT query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()) AND query ~ '^(SELECT|UPDATE|INSERT|WITH)'"
                " AND query !~ '(TABLESAMPLE|pg_stat_statements|reltuples|to_regclass|pg_database|count\\(\\*\\) FROM"
                " posts WHERE status)'").fetchall()]
            assert len(texts) >= 25
            assert len(texts) <= len(frame)                # one entry per statement
            assert any("$1" in t for t in texts)


def test_run_workload_is_repeatable_for_a_seed(loaded: tuple[str, dict[str, Any]]) -> None:
    reads = [s for s in load_workload() if s.kind == "read"]
    with _connect(loaded[0]) as conn:
        first = run_workload(conn, iterations=60, seed=3, progress=False, statements=reads)
        second = run_workload(conn, iterations=60, seed=3, progress=False, statements=reads)
        other = run_workload(conn, iterations=60, seed=4, progress=False, statements=reads)
    key = ["statement", "calls", "rows"]

    def picks(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
        return sorted(frame[key].itertuples(index=False, name=None))

    assert picks(first) == picks(second)
    assert picks(first) != picks(other)


def test_run_workload_counts_errors_and_raises_when_all_fail(loaded: tuple[str, dict[str, Any]]) -> None:
    text = ("-- name: fine\nSELECT count(*) FROM users;\n\n"
            "-- name: too_long\n-- kind: write\n"
            "INSERT INTO comments (post_id, user_id, content) SELECT p.id, p.user_id, repeat('x', 6000)"
            " FROM posts p LIMIT 1;\n")
    fine, too_long = parse_workload(text)
    with _connect(loaded[0]) as conn:
        frame = run_workload(conn, iterations=20, seed=1, progress=False, statements=[fine, too_long])
        failed = frame.set_index("statement").loc["too_long"]
        assert failed["errors"] == failed["calls"] > 0
        assert "content_length" in frame.attrs["error_messages"]["too_long"]
        with pytest.raises(WorkbenchError, match="every statement of the workload failed"):
            run_workload(conn, iterations=5, progress=False, statements=[too_long])
        conn.execute("SET statement_timeout = '200ms'")
        slow = parse_workload("-- name: slow\nSELECT pg_sleep(1);\n")
        with pytest.raises(WorkbenchError, match="canceling statement due to statement timeout"):
            run_workload(conn, iterations=2, progress=False, statements=slow)


def test_run_workload_for_seconds(loaded: tuple[str, dict[str, Any]]) -> None:
    reads = [s for s in load_workload() if s.name in ("user_by_id", "post_by_slug")]
    with _connect(loaded[0]) as conn:
        frame = run_workload(conn, seconds=0.3, progress=False, statements=reads)
    assert frame.attrs["seconds"] < 2 and frame["calls"].sum() == frame.attrs["iterations"] > 0


def test_loader_and_runner_leave_none_of_their_own_queries_in_statements(loaded: tuple[str, dict[str, Any]]) -> None:
    """The loader's and runner's catalog checks carry the workbench's marker, so statements() shows the
    workload alone (it showed the loader's pg_class lookup and SELECT current_schema() before)."""
    import dbworkbench as wb

    with _connect(loaded[0]) as conn:
        if not _pg_stat_statements(conn):
            pytest.skip("pg_stat_statements is not installed here")
        conn.execute("SELECT pg_stat_statements_reset()")
        assert demo_is_loaded(conn)
        with pytest.raises(WorkbenchError):
            load_demo(conn, "tiny", progress=False)  # refuses: already loaded, after its checks
        run_workload(conn, iterations=40, seed=5, progress=False)
    with wb.connect(loaded[0]) as db:
        texts = list(db.statements()["query"])
    workload = {" ".join(s.sql.split()) for s in load_workload()}
    strangers = [t for t in texts if not any(_same_shape(t, w) for w in workload) and "pg_stat_statements_reset" not in t]
    assert texts and not strangers, "\n".join(strangers)


def _same_shape(seen: str, written: str) -> bool:
    """pg_stat_statements' text of a workload statement: its literals and parameters became $n."""
    pattern = re.escape(" ".join(seen.split()))
    pattern = re.sub(r"\\\$\d+", ".+?", pattern)
    return re.fullmatch(pattern, written, flags=re.DOTALL) is not None
