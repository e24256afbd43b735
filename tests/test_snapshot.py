"""Snapshots and their deltas, across a pg_stat_statements_reset()."""

from __future__ import annotations

import time

import psycopg
import pytest

import dbworkbench as wb


def _run(conninfo: str, n: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for i in range(n):
            conn.execute("SELECT count(*) FROM posts WHERE view_count > %s", [i])


def test_delta_counts_what_happened_in_between(server, demo_db) -> None:
    with wb.connect(demo_db) as db:
        before = db.snapshot()
        _run(demo_db, 7)
        time.sleep(0.05)
        after = db.snapshot()
    delta = after - before
    assert delta.seconds > 0
    row = delta.statements[delta.statements["query"].str.contains("view_count >")].iloc[0]
    assert row["calls"] == 7 and row["calls_per_s"] == pytest.approx(7 / delta.seconds)
    posts = delta.tables.set_index("table").loc["posts"]
    assert posts["seq_scan"] + posts["idx_scan"] >= 7
    assert {"calls_per_s", "total_exec_ms_per_s", "restarted", "mean_exec_ms"} <= set(delta.statements.columns)
    with pytest.raises(ValueError):
        before - after


def test_delta_survives_a_reset(server, demo_db) -> None:
    _run(demo_db, 5)
    with wb.connect(demo_db) as db:
        before = db.snapshot()
        with psycopg.connect(demo_db, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
        _run(demo_db, 3)
        after = db.snapshot()
    delta = after - before
    row = delta.statements[delta.statements["query"].str.contains("view_count >")].iloc[0]
    assert row["calls"] == 3 and bool(row["restarted"])
    assert (delta.statements["calls"] >= 0).all()
