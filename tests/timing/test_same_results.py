"""same_results: complete result multisets compared on real servers; wrong rewrites are caught."""

from __future__ import annotations

import psycopg
import pytest

import dbworkbench as wb
from dbworkbench.timing import has_order_by


def _one(db: wb.Workbench, query: str) -> object:
    return db.conn.execute(query).fetchone()[0]  # type: ignore[index]


def test_order_by_is_read_from_the_sql() -> None:
    assert has_order_by("SELECT id FROM posts ORDER BY created_at")
    assert has_order_by("WITH x AS (SELECT 1 AS a) SELECT a FROM x ORDER BY a")
    assert has_order_by("SELECT 1 UNION SELECT 2 ORDER BY 1")
    assert not has_order_by("SELECT * FROM (SELECT id FROM posts ORDER BY id) s")
    assert not has_order_by("SELECT id FROM posts WHERE user_id = $1")
    assert not has_order_by("SELEC broken")


def test_an_equivalent_rewrite_is_the_same(ro) -> None:
    r = ro.same_results("SELECT u.id, u.email FROM users u WHERE u.id IN (SELECT user_id FROM posts)",
                        "SELECT DISTINCT u.id, u.email FROM users u JOIN posts p ON p.user_id = u.id")
    assert r and r.same and not r.ordered
    assert r.rows_a == r.rows_b == _one(ro, "SELECT count(DISTINCT user_id) FROM posts")
    assert r.first_differences.empty and "multisets" in r.reason


def test_dropped_nulls_are_caught(ro) -> None:
    nulls = _one(ro, "SELECT count(*) FROM comments WHERE parent_id IS NULL")
    assert nulls > 0
    some = _one(ro, "SELECT parent_id::text FROM comments WHERE parent_id IS NOT NULL LIMIT 1")
    r = ro.same_results("SELECT id, parent_id FROM comments WHERE parent_id IS DISTINCT FROM $1::uuid",
                        "SELECT id, parent_id FROM comments WHERE parent_id <> $1::uuid", [some])
    assert not r
    assert r.rows_a - r.rows_b == nulls
    d = r.first_differences
    assert set(d["side"]) == {"A"} and d["parent_id"].isna().all() and len(d) == min(10, nulls)
    assert f"{nulls:,} row(s) of A are missing from B" in r.reason


def test_lost_duplicates_are_caught(ro) -> None:
    r = ro.same_results("SELECT user_id FROM posts UNION ALL SELECT user_id FROM comments",
                        "SELECT user_id FROM posts UNION SELECT user_id FROM comments")
    assert not r and r.rows_a > r.rows_b
    assert r.rows_b == _one(ro, "SELECT count(*) FROM (SELECT user_id FROM posts UNION SELECT user_id FROM comments) s")
    d = r.first_differences
    assert (d["side"] == "A").all() and (d["copies"] >= 1).all()


def test_a_changed_join_is_caught(ro) -> None:
    without_posts = _one(ro, "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.user_id = u.id)")
    assert without_posts > 0
    r = ro.same_results(
        "SELECT u.id, count(p.id) AS posts FROM users u LEFT JOIN posts p ON p.user_id = u.id GROUP BY u.id",
        "SELECT u.id, count(p.id) AS posts FROM users u JOIN posts p ON p.user_id = u.id GROUP BY u.id")
    assert not r and r.rows_a - r.rows_b == without_posts
    assert (r.first_differences["posts"] == 0).all()


def test_copies_of_one_row_across_many_batches(ro) -> None:
    r = ro.same_results("SELECT 1 AS one FROM generate_series(1, 25000)", "SELECT 1 AS one FROM generate_series(1, 24999)")
    assert not r and (r.rows_a, r.rows_b) == (25000, 24999)
    assert r.first_differences[["side", "copies", "one"]].values.tolist() == [["A", 1, 1]]
    assert ro.same_results("SELECT g % 3 AS k FROM generate_series(1, 30000) g",
                           "SELECT (30001 - g) % 3 AS k FROM generate_series(1, 30000) g")


def test_order_counts_only_when_both_statements_order(ro) -> None:
    asc, desc = "SELECT id FROM posts ORDER BY created_at, id", "SELECT id FROM posts ORDER BY created_at DESC, id DESC"
    r = ro.same_results(asc, desc)
    assert not r and r.ordered and "different order from row 0" in r.reason
    assert list(r.first_differences["position"].iloc[:2]) == [0, 1]
    assert ro.same_results(asc, "SELECT id FROM posts")  # one side unordered: multisets
    assert ro.same_results(asc, asc).reason.endswith("in the same order")
    assert ro.same_results(asc, desc, ordered=False)


def test_parameters_on_each_side(ro) -> None:
    uid = _one(ro, "SELECT user_id FROM posts LIMIT 1")
    r = ro.same_results("SELECT id FROM posts WHERE user_id = $1", "SELECT id FROM posts WHERE user_id = ANY($1)",
                        [uid], params_b=[[uid]])
    assert r and r.rows_a == _one(ro, f"SELECT count(*) FROM posts WHERE user_id = '{uid}'")
    with pytest.raises(wb.UnsafeStatement, match="params_b"):
        ro.same_results("SELECT id FROM posts WHERE user_id = $1",
                        "SELECT id FROM posts WHERE user_id = $1 AND status = $2", [uid])


def test_writes_are_refused_read_only_and_rolled_back_otherwise(ro, rw) -> None:
    with pytest.raises(wb.UnsafeStatement, match="read-only"):
        ro.same_results("DELETE FROM comments RETURNING id", "SELECT id FROM comments")
    before = _one(rw, "SELECT sum(view_count) FROM posts")
    r = rw.same_results("UPDATE posts SET view_count = view_count + 1 WHERE status = 'draft' RETURNING id",
                        "UPDATE posts SET view_count = view_count + 1 RETURNING id")
    assert not r and r.rows_b > r.rows_a
    assert rw.same_results("UPDATE posts SET view_count = 0", "UPDATE posts SET view_count = 1")  # same row count
    assert _one(rw, "SELECT sum(view_count) FROM posts") == before


def test_the_session_ends_clean(ro) -> None:
    ro.same_results("SELECT id FROM posts ORDER BY id", "SELECT id FROM posts ORDER BY id DESC")
    assert ro.conn.execute("SELECT count(*) FROM pg_cursors").fetchone()[0] == 0  # type: ignore[index]
    assert ro.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


# -- a million rows and more, streamed -----------------------------------------------------------

MILLION = "SELECT g, g % 7 AS m, nullif(g % 1000, 0) AS n FROM generate_series(1, 1000000) g"


@pytest.fixture(scope="module")
def big(ro, server):
    if server.name != "pg18":
        pytest.skip("the million-row cases run on the sandbox (PostgreSQL 18) only; PostgreSQL 15 has the small ones")
    return ro


def test_a_million_equal_rows(big) -> None:
    r = big.same_results(MILLION, MILLION.replace("g, g % 7", "1000001 - g AS g, (1000001 - g) % 7").replace(
        "nullif(g % 1000", "nullif((1000001 - g) % 1000"))
    assert r and r.rows_a == r.rows_b == 1_000_000


def test_a_million_rows_one_missing_and_nulls_dropped(big) -> None:
    r = big.same_results(MILLION, MILLION + " WHERE g <> 500000")
    assert not r and (r.rows_a, r.rows_b) == (1_000_000, 999_999)
    assert r.first_differences["g"].tolist() == [500000]
    r = big.same_results(MILLION, MILLION + " WHERE g % 1000 <> 0")
    assert not r and r.rows_a - r.rows_b == 1000 and r.first_differences["n"].isna().all()


def test_a_million_rows_duplicates_lost(big) -> None:
    r = big.same_results("SELECT g % 500000 AS k FROM generate_series(1, 1000000) g",
                         "SELECT DISTINCT g % 500000 AS k FROM generate_series(1, 1000000) g")
    assert not r and (r.rows_a, r.rows_b) == (1_000_000, 500_000)
    assert (r.first_differences["copies"] == 1).all() and (r.first_differences["side"] == "A").all()
