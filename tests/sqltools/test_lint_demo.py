"""lint on the demo database: the handbook's BAD examples are flagged, the catalog sharpens or
silences findings, and every rewrite the rules produce runs there and returns the same rows."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import psycopg
import pytest

import dbworkbench as wb
from dbworkbench._pyformat import from_pyformat
from dbworkbench.datasets.workload import load_workload
from dbworkbench.sqltools import lint

# The handbook's BAD examples (/work/shared/seed/database-engineer.md, "Query Optimization"),
# with the codes each must get. "orders" is not a demo table: that one is linted without a server.
HANDBOOK_BAD = {
    "SELECT * FROM users WHERE LOWER(email) = 'test@example.com'": ["select-star", "function-on-indexed-column"],
    "SELECT * FROM users": ["select-star", "missing-limit-on-unbounded-read"],
    "SELECT * FROM orders WHERE customer_id = 123": ["select-star"],
}

# Statements whose rewrites must run on the demo and return the same rows, with their parameters
# (read from the database by the SQL given, so they match real rows).
REWRITTEN: list[tuple[str, str]] = [
    (  # the workload's new_users_without_posts: NOT IN -> NOT EXISTS (both sides NOT NULL)
        "new_users_without_posts",
        "SELECT max(created_at) - interval '400 days' FROM users",
    ),
    ("feed_with_comment_counts", ""),  # correlated count -> LEFT JOIN LATERAL
    (  # count-for-existence, in both directions
        "SELECT u.id, u.username FROM users u WHERE (SELECT count(*) FROM posts p WHERE p.user_id = u.id) > 0 "
        "ORDER BY u.id",
        "",
    ),
    (
        "SELECT u.id FROM users u WHERE 0 = (SELECT count(*) FROM comments c WHERE c.user_id = u.id) AND u.role = $1::user_role",
        "SELECT 'user'",
    ),
    (  # or-across-columns where view_count has no index: UNION (id, the primary key, is selected)
        "SELECT id, title FROM posts WHERE view_count = $1 OR slug = $2",
        "SELECT (SELECT view_count FROM posts ORDER BY id LIMIT 1), (SELECT slug FROM posts ORDER BY id DESC LIMIT 1)",
    ),
    (  # a correlated max in the select list, with an ORDER BY on its alias
        "SELECT u.id, (SELECT max(p.published_at) FROM posts p WHERE p.user_id = u.id) AS last_post FROM users u "
        "WHERE u.role = 'admin' ORDER BY last_post DESC NULLS LAST, u.id",
        "",
    ),
]


@pytest.fixture(scope="module")
def db(demo_db: str) -> Iterator[wb.Workbench]:
    with wb.connect(demo_db) as d:
        yield d


@pytest.fixture(scope="module")
def raw(demo_db: str) -> Iterator[psycopg.Connection[Any]]:
    """The test's own connection (not the workbench's) for setup and for reading results."""
    with psycopg.connect(demo_db, autocommit=True) as conn:
        yield conn


def _workload_sql(name: str) -> str:
    return from_pyformat(next(s.sql for s in load_workload() if s.name == name)).strip().rstrip(";")


def _fetch(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` with ``$n`` parameters (a raw cursor: the server binds them)."""
    with psycopg.RawCursor(conn) as cur:
        cur.execute(sql, list(params) or None)
        return [tuple(r) for r in cur.fetchall()]


def _rows(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> Counter[tuple[Any, ...]]:
    return Counter(_fetch(conn, sql, params))


@pytest.mark.parametrize("sql", list(HANDBOOK_BAD))
def test_handbook_bad_examples_are_flagged(db: wb.Workbench, sql: str) -> None:
    codes = HANDBOOK_BAD[sql]
    found = lint(sql) if "orders" in sql else db.lint(sql)
    assert [c for c in found["code"] if c in codes] == codes, found[["code", "message"]].to_string()
    assert set(found.query("severity == 'warning'")["code"]) >= {codes[0]}


def test_handbook_good_examples_are_clean(db: wb.Workbench) -> None:
    good = [
        "SELECT id, full_name, email FROM users WHERE email = 'test@example.com'",
        "SELECT u.id, u.full_name, u.email, p.id AS post_id, p.title, p.created_at FROM users u "
        "LEFT JOIN posts p ON u.id = p.user_id WHERE u.is_active = TRUE ORDER BY p.created_at DESC LIMIT 20",
    ]
    for sql in good:
        assert db.lint(sql).empty, sql


def test_lower_email_fix_is_an_expression_index_the_planner_uses(db: wb.Workbench, raw: psycopg.Connection[Any]) -> None:
    """The handbook's LOWER(email): the suggestion's CREATE INDEX (the advisor's IndexDef) makes
    the planner use an index, and once it exists db.lint is silent about it."""
    sql = "SELECT id, email FROM users WHERE LOWER(email) = LOWER($1)"
    finding = db.lint(sql).set_index("code").loc["function-on-indexed-column"]
    assert finding["severity"] == "warning"
    create = re.search(r"CREATE INDEX CONCURRENTLY IF NOT EXISTS \S+ ON \S+ USING btree \(lower\(email\)\);", finding["suggestion"])
    assert create, finding["suggestion"]
    email = raw.execute("SELECT email FROM users WHERE email <> lower(email) LIMIT 1").fetchone()[0]  # type: ignore[index]
    before = _rows(raw, sql, [email.upper()])
    raw.execute(create.group(0))
    try:
        raw.execute("ANALYZE users")
        plan = db.explain(sql, params=[email.upper()])
        assert any("idx_users_lower_email" == n for n in plan.nodes["index_name"].dropna()), plan.nodes[["node_type", "index_name"]]
        assert _rows(raw, sql, [email.upper()]) == before and sum(before.values()) == 1
        assert "function-on-indexed-column" not in set(db.lint(sql)["code"])
        assert "function-on-indexed-column" in set(lint(sql)["code"])  # without the catalog it still warns
    finally:
        raw.execute("DROP INDEX IF EXISTS idx_users_lower_email")


@pytest.mark.parametrize(("statement", "params_sql"), REWRITTEN, ids=[s[:40] for s, _ in REWRITTEN])
def test_rewrites_run_and_return_the_same_rows(db: wb.Workbench, raw: psycopg.Connection[Any], statement: str, params_sql: str) -> None:
    sql = _workload_sql(statement) if re.fullmatch(r"\w+", statement) else statement
    params = list(raw.execute(params_sql).fetchone() or ()) if params_sql else []  # type: ignore[union-attr]
    found = db.lint(sql)
    rewrites = found["rewrite"].dropna().tolist()
    assert rewrites, found[["code", "message"]].to_string()
    original = _rows(raw, sql, params)
    assert sum(original.values()) > 0, "the case must return rows to prove anything"
    for rewrite in rewrites:
        assert _rows(raw, rewrite, params) == original, rewrite
        plan = db.explain(rewrite, params=params or None)  # through the safety gate
        assert plan.execution_ms is not None


def test_not_in_rewrite_only_where_no_null_can_change_the_rows(db: wb.Workbench, raw: psycopg.Connection[Any]) -> None:
    """comments.parent_id can be NULL: NOT IN over it returns nothing, NOT EXISTS does not; no rewrite then."""
    sql = "SELECT c.id FROM comments c WHERE c.id NOT IN (SELECT r.parent_id FROM comments r) ORDER BY c.id LIMIT 5"
    row = db.lint(sql).set_index("code").loc["not-in-subquery"]
    assert pd.isna(row["rewrite"])
    form = re.search(r"Write it as NOT EXISTS: (.*?)\. Check the NULLs", row["suggestion"], re.S)
    assert form, row["suggestion"]
    assert sum(_rows(raw, sql, []).values()) == 0  # the NULL trap, for real
    assert sum(_rows(raw, form.group(1), []).values()) == 5


def test_keyset_form_of_the_deep_offset_runs(db: wb.Workbench, raw: psycopg.Connection[Any]) -> None:
    """The workload's feed_deep_offset: the suggestion's keyset statement continues where the
    previous page ended (the same rows as OFFSET when the sort key is unique)."""
    sql = _workload_sql("feed_deep_offset")
    row = db.lint(sql).set_index("code").loc["offset-pagination"]
    assert row["severity"] == "warning"
    keyset = re.search(r"at any depth: (.*?) -- with", row["suggestion"], re.S)
    assert keyset, row["suggestion"]
    page = raw.execute(sql.replace("$1", "1000")).fetchall()
    last = raw.execute(sql.replace("$1", "999").replace("LIMIT 20", "LIMIT 1")).fetchone()[3]  # type: ignore[index]
    assert _fetch(raw, keyset.group(1), [last]) == page
    plan = db.explain(keyset.group(1), params=[last])
    assert plan.execution_ms is not None


def test_catalog_silences_and_sharpens(db: wb.Workbench) -> None:
    # every column of the OR leads an index: a BitmapOr serves it
    assert db.lint("SELECT id FROM users WHERE username = $1 OR email = $2").empty
    assert lint("SELECT id FROM users WHERE username = $1 OR email = $2")["severity"].tolist() == ["info"]
    # view_count has no index: a warning
    assert db.lint("SELECT id FROM posts WHERE view_count = $1 OR slug = $2")["severity"].tolist() == ["warning"]
    # a cast to the column's own type is no cast; an integer column against a decimal literal is
    assert db.lint("SELECT id FROM posts WHERE view_count::integer = $1").empty
    decimal = db.lint("SELECT id FROM posts WHERE view_count = 10.0")
    assert decimal["code"].tolist() == ["implicit-cast-on-column"]
    numeric = db.lint("SELECT id FROM posts WHERE view_count = $1::numeric")
    assert numeric["code"].tolist() == ["implicit-cast-on-column"] and "cast to numeric" in numeric.loc[0, "message"]
    assert db.lint("SELECT id FROM posts WHERE view_count = $1::bigint").empty  # a cross-type integer operator
    # the select-star suggestion names the table's columns
    star = db.lint("SELECT * FROM comments WHERE post_id = $1")
    assert "post_id, user_id, parent_id, content" in star.loc[0, "suggestion"]


def test_workload_anti_patterns_are_named(db: wb.Workbench) -> None:
    """The demo workload's planted anti-patterns (see data/demo/workload.sql) each get their code."""
    expected = {
        "user_by_lower_email": {"select-star", "function-on-indexed-column"},
        "post_by_id_select_star": {"select-star"},
        "feed_deep_offset": {"offset-pagination"},
        "feed_with_comment_counts": {"correlated-subquery"},
        "title_search_like": {"leading-wildcard-like"},
        "new_users_without_posts": {"not-in-subquery"},
        "verify_email_lower": {"function-on-indexed-column"},
        "posts_of_user_each": {"select-star"},
        "fulltext_search": {"full-text-without-index"},
    }
    for name, codes in expected.items():
        assert set(db.lint(_workload_sql(name))["code"]) == codes, name
    for s in load_workload():
        if s.name not in expected and "*" not in s.sql:
            found = db.lint(from_pyformat(s.sql))
            assert found.query("severity == 'warning'").empty, (s.name, found[["code", "message"]].to_string())


def test_no_rewrite_where_an_outer_join_or_a_type_would_change_it(db: wb.Workbench) -> None:
    # p.user_id is NOT NULL in its table, but a LEFT JOIN can make it NULL: NOT IN stays NOT IN
    joined = db.lint("SELECT u.id FROM users u WHERE u.id NOT IN (SELECT p.user_id FROM comments c "
                     "LEFT JOIN posts p ON p.id = c.post_id) LIMIT 5").set_index("code").loc["not-in-subquery"]
    assert pd.isna(joined["rewrite"])
    # a computed column in the select list: no UNION rewrite (rows might not be comparable)
    computed = db.lint("SELECT id, title || '!' FROM posts WHERE view_count = $1 OR slug = $2")
    assert computed["code"].tolist() == ["or-across-columns"] and computed["rewrite"].isna().all()


def test_full_text_search_index(db: wb.Workbench, raw: psycopg.Connection[Any]) -> None:
    """The workload's fulltext_search: the GIN index lint proposes serves the search (the planner
    uses it) and then silences the finding."""
    sql = _workload_sql("fulltext_search")
    row = db.lint(sql).set_index("code").loc["full-text-without-index"]
    assert row["severity"] == "warning"
    create = re.search(r"CREATE INDEX CONCURRENTLY IF NOT EXISTS (\S+) ON \S+ USING gin \(to_tsvector\('english', content\)\);",
                       row["suggestion"])
    assert create, row["suggestion"]
    raw.execute(create.group(0))
    try:
        raw.execute("ANALYZE posts")
        plan = db.explain(sql, params=["postgres index"])
        assert create.group(1) in set(plan.nodes["index_name"].dropna()), plan.text()
        assert db.lint(sql).empty
    finally:
        raw.execute(f"DROP INDEX IF EXISTS {create.group(1)}")


def test_every_rule_that_rewrites_is_run_above(db: wb.Workbench, raw: psycopg.Connection[Any]) -> None:
    """The statements of REWRITTEN cover every rule that ever fills ``rewrite``."""
    codes = set()
    for statement, params_sql in REWRITTEN:
        sql = _workload_sql(statement) if re.fullmatch(r"\w+", statement) else statement
        found = db.lint(sql)
        codes |= set(found.loc[found["rewrite"].notna(), "code"])
    assert codes == {"count-for-existence", "not-in-subquery", "correlated-subquery", "or-across-columns"}
