"""Collectors on a demo database after a workload, on every server version."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

import dbworkbench as wb
from dbworkbench import collectors

REQUIRED = {
    "statements": "queryid, query, calls, total_exec_ms, mean_exec_ms, stddev_exec_ms, min_exec_ms, max_exec_ms, "
    "total_plan_ms, rows, rows_per_call, shared_blks_hit, shared_blks_read, shared_blks_dirtied, "
    "shared_blks_written, temp_blks_read, temp_blks_written, blk_read_ms, blk_write_ms, wal_bytes, "
    "cache_hit_ratio, share_of_total_time",
    "tables": "schema, table, n_live_tup, n_dead_tup, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, "
    "idx_scan_ratio, heap_blks_hit, heap_blks_read, cache_hit_ratio, table_bytes, index_bytes, total_bytes, "
    "last_vacuum, last_autovacuum, last_analyze, last_autoanalyze, n_mod_since_analyze",
    "indexes": "schema, table, index, definition, columns, is_unique, is_primary, is_valid, is_partial, "
    "constraint, idx_scan, idx_tup_read, idx_tup_fetch, bytes",
    "column_stats": "schema, table, column, null_frac, avg_width, n_distinct, estimated_distinct, correlation, "
    "most_common_vals, most_common_freqs, histogram_bounds",
    "settings": "name, setting, unit, category, source, pending_restart, short_desc",
}
SCHEMAS = collectors.COLLECTOR_COLUMNS


@pytest.fixture(scope="module")
def db(demo_db):
    from dbworkbench.datasets.workload import run_workload

    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        run_workload(conn, iterations=200, seed=7, progress=False)
    with wb.connect(demo_db) as workbench:
        yield workbench


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_collector_returns_its_columns_and_dtypes(db, name) -> None:
    frame = getattr(db, name)()
    required = [c.strip() for c in REQUIRED[name].split(",")]
    assert list(frame.columns[: len(required)]) == required
    assert {c: str(frame[c].dtype) for c in SCHEMAS[name]} == SCHEMAS[name]
    assert len(frame) > 0


def test_statements_after_the_workload(db) -> None:
    frame = db.statements()
    assert len(frame) >= 25, frame["query"].tolist()
    assert frame["total_exec_ms"].is_monotonic_decreasing
    assert frame["share_of_total_time"].sum() == pytest.approx(1.0)
    assert (frame["calls"] > 0).all()
    ratio = frame["cache_hit_ratio"].dropna()
    assert ((ratio >= 0) & (ratio <= 1)).all()
    assert not frame["query"].str.contains("dbworkbench:catalog").any()
    assert frame["query"].str.contains(r"lower\(email\)", case=False).any()
    own = db.statements(include_own=True)
    assert own["query"].str.contains("dbworkbench:catalog").any()


def test_statements_without_the_extension_say_what_to_run(server, empty_db) -> None:
    with wb.connect(empty_db) as db, pytest.raises(wb.ExtensionMissing, match="CREATE EXTENSION pg_stat_statements"):
        db.statements()


def test_tables_and_indexes_describe_the_demo_schema(db) -> None:
    tables = db.tables().set_index("table")
    assert {"users", "posts", "comments"} <= set(tables.index)
    assert (tables["total_bytes"] >= tables["table_bytes"] + tables["index_bytes"] - 8192 * 4).all()
    assert tables.loc["posts", "table_bytes"] > 0
    indexes = db.indexes().set_index("index")
    assert indexes.loc["idx_users_email", "is_unique"]
    assert pd.isna(indexes.loc["idx_users_email", "constraint"])
    assert indexes.loc["users_email_key", "constraint"] == "users_email_key"
    assert indexes.loc["idx_comments_post_parent", "columns"] == ["post_id", "parent_id"]
    assert indexes.loc["idx_posts_status_published", "is_partial"]
    assert indexes.loc["posts_pkey", "is_primary"]


def test_column_stats_by_name_and_without_values(db) -> None:
    posts = db.column_stats("posts")
    assert set(posts["table"]) == {"posts"} and "status" in set(posts["column"])
    status = posts.set_index("column").loc["status"]
    assert isinstance(status["most_common_vals"], list) and "published" in status["most_common_vals"]
    assert (posts["estimated_distinct"].dropna() >= 0).all()
    qualified = db.column_stats("public.posts", values=False)
    assert len(qualified) == len(posts)
    assert qualified["most_common_vals"].isna().all() and qualified["histogram_bounds"].isna().all()


def test_column_stats_unknown_table_suggests_names(db) -> None:
    with pytest.raises(wb.WorkbenchError, match="did you mean posts"):
        db.column_stats("postz")


def test_settings_show_the_preloads(db) -> None:
    settings = db.settings().set_index("name")
    assert "pg_stat_statements" in settings.loc["shared_preload_libraries", "setting"]
    assert settings.loc["track_io_timing", "setting"] == "on"
