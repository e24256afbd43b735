"""The same query explained in TEXT, JSON, YAML and XML by a live server gives the same node table.

Run on every server version the session has (18, and 15 where installed). Timings differ
from one execution to the next, so ANALYZE runs compare what does not: structure, rows,
loops; plain EXPLAIN runs compare costs too.
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

import dbworkbench as wb

QUERIES = {
    "join-agg": "SELECT u.username, count(*) FROM users u JOIN posts p ON p.user_id = u.id "
    "WHERE p.status = 'published' GROUP BY u.username ORDER BY 2 DESC LIMIT 10",
    "subplan": "SELECT id, (SELECT count(*) FROM comments c WHERE c.post_id = p.id) FROM posts p "
    "WHERE p.view_count > 900 ORDER BY id LIMIT 5",
    "cte-union": "WITH recent AS MATERIALIZED (SELECT * FROM posts ORDER BY created_at DESC LIMIT 50) "
    "SELECT id FROM recent WHERE status = 'draft' UNION ALL SELECT id FROM comments WHERE parent_id IS NOT NULL LIMIT 30",
    "bitmap-or": "SELECT count(*) FROM posts WHERE user_id = (SELECT id FROM users ORDER BY id LIMIT 1) OR slug LIKE 'a%'",
}
STABLE = ["node_id", "parent_id", "depth", "node_type", "parent_relationship", "subplan_name", "cte_name",
          "relation", "schema", "alias", "index_name", "join_type", "strategy", "plan_rows", "plan_width",
          "filter", "index_cond", "recheck_cond", "join_filter", "hash_cond", "merge_cond", "sort_key"]
COSTS = ["startup_cost", "total_cost"]
COUNTS = ["actual_rows", "actual_loops", "never_executed"]


def _explain(conn: psycopg.Connection, fmt: str, query: str, analyze: bool) -> object:
    opts = f"{'ANALYZE, BUFFERS, ' if analyze else ''}VERBOSE, FORMAT {fmt}"
    rows = conn.execute(f"EXPLAIN ({opts}) {query}").fetchall()  # our own fixed queries, not user input
    if fmt == "JSON":
        return rows[0][0]
    return "\n".join(r[0] for r in rows)


@pytest.fixture(scope="module")
def conn(demo_db):
    with psycopg.connect(demo_db, autocommit=True) as c:
        c.execute("SET max_parallel_workers_per_gather = 0")  # worker counts vary between runs
        c.execute("SET jit = off")
        yield c


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("analyze", [False, True], ids=["plain", "analyze"])
def test_every_format_gives_one_node_table(conn, server, name, analyze) -> None:
    query = QUERIES[name]
    columns = STABLE + (COUNTS if analyze else COSTS)
    tables = {fmt: wb.parse_plan(_explain(conn, fmt, query, analyze)).nodes[columns] for fmt in ("TEXT", "JSON", "YAML", "XML")}
    assert len(tables["JSON"]) >= 3
    for fmt in ("TEXT", "YAML", "XML"):
        if analyze:  # each format is a separate execution: the plan shape must be the same
            assert tables[fmt][["node_type", "relation"]].equals(tables["JSON"][["node_type", "relation"]]), fmt
            continue
        pd.testing.assert_frame_equal(tables[fmt], tables["JSON"], obj=f"{fmt} vs JSON")


def test_text_and_json_of_one_execution_agree_on_counts(conn, server) -> None:
    """One ANALYZE run in TEXT, written back as JSON by plan.to_json(), reads the same."""
    plan = wb.parse_plan(_explain(conn, "TEXT", QUERIES["subplan"], True))
    again = wb.parse_plan(plan.to_json())
    assert again.nodes[STABLE + COUNTS].equals(plan.nodes[STABLE + COUNTS])
