"""Running EXPLAIN: options by version, rollback of writes, refusals, parameters."""

from __future__ import annotations

import json

import psycopg
import pytest

import dbworkbench as wb


@pytest.fixture(scope="module")
def rw(demo_db):
    with wb.connect(demo_db, allow_writes=True) as db:
        yield db


@pytest.fixture(scope="module")
def ro(demo_db):
    with wb.connect(demo_db) as db:
        yield db


def test_analyze_gives_a_timed_plan(rw, server) -> None:
    plan = rw.explain("SELECT count(*) FROM posts WHERE status = 'published'")
    assert plan.execution_ms is not None and plan.execution_ms > 0
    assert plan.nodes.loc[0, "actual_loops"] >= 1
    assert "posts" in set(plan.nodes["relation"].dropna())
    assert plan.query.startswith("SELECT count(*)")
    assert plan.nodes["shared_hit"].fillna(0).sum() + plan.nodes["shared_read"].fillna(0).sum() > 0


def test_plain_explain_has_no_timing(ro) -> None:
    plan = ro.explain("SELECT * FROM users WHERE id = gen_random_uuid()", analyze=False)
    assert plan.execution_ms is None
    assert plan.nodes["actual_total_ms"].isna().all()


def test_writes_are_rolled_back(rw) -> None:
    before = rw.conn.execute("SELECT count(*) FROM comments").fetchone()[0]
    plan = rw.explain("DELETE FROM comments WHERE id IN (SELECT id FROM comments LIMIT 10)")
    assert plan.nodes.loc[0, "node_type"] == "ModifyTable"
    assert rw.conn.execute("SELECT count(*) FROM comments").fetchone()[0] == before
    assert rw.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_read_only_targets_refuse_analyze_of_writes(ro) -> None:
    with pytest.raises(wb.UnsafeStatement, match="read-only.*analyze=False"):
        ro.explain("UPDATE posts SET view_count = view_count + 1")
    plan = ro.explain("UPDATE posts SET view_count = view_count + 1", analyze=False)
    assert plan.nodes.loc[0, "node_type"] == "ModifyTable"


def test_several_statements_are_refused_before_sending(rw) -> None:
    with pytest.raises(wb.UnsafeStatement, match="one statement at a time"):
        rw.explain("SELECT 1; DROP TABLE comments")
    assert rw.conn.execute("SELECT to_regclass('comments') IS NOT NULL").fetchone()[0]
    with pytest.raises(wb.UnsafeStatement, match="without EXPLAIN"):
        rw.explain("EXPLAIN SELECT 1")


def test_parameters_generic_plan_or_prepared(rw, server) -> None:
    query = "SELECT * FROM users WHERE lower(email) = $1"
    generic = rw.explain(query)  # the generic plan, on every version: estimates only, nothing run
    assert generic.execution_ms is None and len(generic.nodes) >= 1
    raw = json.dumps(generic.raw)
    assert "$1" in raw and "One-Time Filter" not in raw  # planned for any value, not for NULL
    email = rw.conn.execute("SELECT email FROM users LIMIT 1").fetchone()[0]
    plan = rw.explain(query, params=[email.lower()])
    assert plan.nodes.loc[0, "actual_rows"] >= 0 and plan.execution_ms is not None
    left = rw.conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
    assert left == 0
    with pytest.raises(psycopg.errors.UndefinedColumn):
        rw.explain("SELECT no_such_column FROM users WHERE id = $1", params=["x"])
    assert rw.conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] == 0


def test_pg_stat_statements_text_of_a_typed_literal_is_explained(ro) -> None:
    """``date $1`` (pg_stat_statements' text of ``date '...'``) is not SQL; it is explained as ``$1::date``."""
    text = "SELECT count(*) FROM posts WHERE published_at >= date $1 AND published_at < date $1 + interval $2 day"
    plan = ro.explain(text, analyze=False)
    assert plan.query == text and "$1" in json.dumps(plan.raw)
    assert plan.nodes["relation"].eq("posts").any()


def test_options_follow_the_server_version(rw, server) -> None:
    plan = rw.explain("SELECT 1")
    if rw.server.version_num >= 170000:
        assert plan.serialization is not None
    if server.name == "pg18":  # the sandbox sets random_page_cost = 1.1; EXPLAIN SETTINGS reports it
        assert plan.settings.get("random_page_cost") == "1.1"
