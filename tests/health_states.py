"""Helpers for the health tests (no tests here): states, statistics, fixes, server settings."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

import dbworkbench as wb


def execute(conninfo: str, *statements: str, params: Any = None) -> None:
    """Run statements on a plain autocommit connection (for setting up states)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt, params)


def check(conninfo: str, name: str, **kwargs: Any) -> pd.DataFrame:
    """One check's rows, run read-only (the way users run it)."""
    with wb.connect(conninfo) as db:
        assert db.conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        frame = db.health(checks=[name], **kwargs)
    assert set(frame["check"]) == {name}, frame
    return frame


def statuses(frame: pd.DataFrame) -> set[str]:
    return set(frame["status"])


def row(frame: pd.DataFrame, obj: str) -> pd.Series:
    """The row about ``obj`` (exactly one)."""
    found = frame[frame["object"] == obj]
    assert len(found) == 1, f"no single row for {obj!r} in {frame[['status', 'object']].to_dict('records')}"
    return found.iloc[0]


def apply_fixes(conninfo: str, frame: pd.DataFrame) -> int:
    """Run every fix_sql of the non-passing rows, statement by statement (CONCURRENTLY needs that)."""
    n = 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for fix in frame.loc[frame["status"].isin(["fail", "warn"]) & frame["fix_sql"].notna(), "fix_sql"]:
            for stmt in fix.split(";\n"):
                if stmt.strip():
                    conn.execute(stmt)
                    n += 1
    return n


def wait_until(conninfo: str, query: str, predicate: Callable[[Any], bool], timeout: float = 10.0) -> Any:
    """Poll ``query`` (first column of the first row) until ``predicate`` holds: statistics arrive late."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while True:
            row = conn.execute(query).fetchone()
            value = row[0] if row else None
            if predicate(value) or time.monotonic() > deadline:
                return value
            time.sleep(0.1)


def flush_stats(conn: psycopg.Connection[Any]) -> None:
    """Ask this session to publish its statistics now (PostgreSQL 15+ batches them)."""
    conn.execute("SELECT pg_stat_force_next_flush()")


@contextlib.contextmanager
def system_setting(conninfo: str) -> Iterator[None]:
    """Restore, on exit, every server setting changed with ALTER SYSTEM inside the block."""
    query = "SELECT name, setting, sourcefile FROM pg_settings"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        before = {r[0]: r for r in conn.execute(query).fetchall()}
    try:
        yield
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for name, _setting, sourcefile in conn.execute(query).fetchall():
                old = before[name]
                if (_setting, sourcefile) == (old[1], old[2]):
                    continue
                ident = sql.Identifier(*name.split("."))
                if old[2] and old[2].endswith("postgresql.auto.conf"):
                    conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(ident, sql.Literal(old[1])))
                else:
                    conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(ident))
            conn.execute("SELECT pg_reload_conf()")
            time.sleep(0.2)
