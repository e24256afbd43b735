"""N+1 from the demo workload's own loops (recently_seen_users → posts_of_user_each,
user_recent_posts → post_comments_each), from pg_stat_statements and from a snapshot delta."""

from __future__ import annotations

import pandas as pd
import pytest

import dbworkbench as wb
from dbworkbench.datasets.workload import load_workload, run_workload
from dbworkbench.timing import N_PLUS_ONE_COLUMNS, n_plus_one

LOOPS = {s.name: s for s in load_workload()}


@pytest.fixture(scope="module")
def ran(demo_db):
    with wb.connect(demo_db, allow_writes=True) as db:
        if not db.server.has_extension("pg_stat_statements"):
            db.conn.execute("CREATE EXTENSION pg_stat_statements")
            db.refresh()
        db.conn.execute("SELECT pg_stat_statements_reset()")
        before = db.snapshot()
        run_workload(db.conn, iterations=400, seed=3, progress=False)
        yield db, db.snapshot() - before


def _pairs(found: pd.DataFrame) -> set[tuple[str, str]]:
    """(child up to its key column, the parent's first table) per finding."""
    out = set()
    for child, parent in zip(found["child_query"], found["parent_query"], strict=True):
        c, p = " ".join(child.split()), " ".join(parent.split())
        out.add((c.split(" WHERE ")[0] + " WHERE " + c.split(" WHERE ")[1].split()[0], p.split(" FROM ")[1].split()[0]))
    return out


def test_the_workload_loops_are_found(ran) -> None:
    db, _ = ran
    stats = db.statements()
    found = db.n_plus_one(min_calls=15)
    assert list(found.columns) == [c for c, _ in N_PLUS_ONE_COLUMNS]
    assert [str(d) for d in found.dtypes] == [d for _, d in N_PLUS_ONE_COLUMNS]
    assert ("SELECT * FROM posts WHERE user_id", "users") in _pairs(found)
    assert ("SELECT * FROM comments WHERE post_id", "posts") in _pairs(found)
    for row in found.itertuples():
        child = stats.set_index("queryid").loc[row.child_queryid]
        parent = stats.set_index("queryid").loc[row.parent_queryid]
        assert row.child_calls == child["calls"] and row.parent_rows == parent["rows"]
        assert row.ratio == pytest.approx(child["calls"] / parent["rows"]) and 0.98 <= row.ratio <= 1.02
        assert "= ANY($" in row.any_rewrite and " JOIN " in row.join_rewrite and row.any_rewrite in row.suggestion


def test_the_rewrites_run_and_return_what_the_loop_returned(ran) -> None:
    db, _ = ran
    found = db.n_plus_one(min_calls=15)
    row = found[found["child_query"].str.contains("FROM posts WHERE user_id")].iloc[0]
    users = [r[0] for r in db.conn.execute("SELECT id FROM users WHERE is_active ORDER BY id LIMIT 5").fetchall()]
    loop = "SELECT * FROM posts WHERE user_id = ANY(ARRAY[" + ",".join(f"'{u}'::uuid" for u in users) + "])"
    assert db.same_results(loop, row["any_rewrite"], params_b=[users])


def test_from_a_snapshot_delta_and_offline(ran) -> None:
    db, delta = ran
    from_delta = db.n_plus_one(delta, min_calls=15)
    assert ("SELECT * FROM posts WHERE user_id", "users") in _pairs(from_delta)
    quiet = n_plus_one(delta.statements, min_calls=10**9)
    assert quiet.empty and list(quiet.columns) == [c for c, _ in N_PLUS_ONE_COLUMNS]
    with pytest.raises(ValueError, match="statements frame"):
        n_plus_one(pd.DataFrame({"query": []}))
