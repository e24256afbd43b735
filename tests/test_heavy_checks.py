"""Heavy health checks (pgstattuple reads whole relations) are off outside the sandbox (issue #9, finding 6).

The proof is the server's own record: pg_stat_statements, reset before each run, lists
every statement the run sent to the database; none may mention pgstattuple or pgstatindex
unless exact measurement was asked for (and then some must, or the proof proves nothing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

import dbworkbench as wb
from dbworkbench.cli import main
from dbworkbench.target import resolve_target
from dbworkbench.workbench import Workbench
from tests.fix_db import Server

# Every table and index is flagged, so exact measurement would run on each of them.
FLAG_ALL: dict[str, Any] = {"bloat_min_bytes": 0, "bloat_warn_ratio": 0.0}
BLOAT_CHECKS = ["table_bloat", "index_bloat"]


@pytest.fixture(scope="module")
def heavy_db(demo_db: str) -> str:
    """The module's demo copy with pgstattuple installed (as the test superuser)."""
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return demo_db


def _reset(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def _pgstattuple_calls(conninfo: str) -> int:
    """Calls of statements naming pgstattuple/pgstatindex in this database since the last reset."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(calls), 0)::int FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND (query ILIKE '%pgstattuple%' OR query ILIKE '%pgstatindex%')"
            " AND query NOT ILIKE '%pg_stat_statements%'").fetchone()
        assert row is not None
        return int(row[0])


def _statements_recorded(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT count(*)::int FROM pg_stat_statements WHERE dbid = "
                           "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
        assert row is not None
        return int(row[0])


def test_no_pgstattuple_on_a_server_that_is_not_the_sandbox(heavy_db: str) -> None:
    with wb.connect(heavy_db) as db:
        assert not db.target.is_sandbox
        _reset(heavy_db)
        report = db.health(**FLAG_ALL)
        full = db.health()
    assert _statements_recorded(heavy_db) > 10          # the run's catalog questions are recorded ...
    assert _pgstattuple_calls(heavy_db) == 0            # ... and none of them is pgstattuple
    bloat = report[report["check"].isin(BLOAT_CHECKS)]
    assert len(bloat) >= 10 and set(bloat["status"]) <= {"warn", "fail"}
    assert bloat["evidence"].str.contains("exact measurement with pgstattuple skipped").all()
    assert bloat["evidence"].str.contains(r"db.health\(exact_bloat=True\)").all()
    assert bloat["evidence"].str.contains("dbworkbench health --exact-bloat").all()
    assert not report["evidence"].str.contains("pgstattuple:|pgstatindex:").any()
    assert set(full["check"]) >= set(BLOAT_CHECKS)


def test_exact_bloat_true_measures_with_pgstattuple(heavy_db: str) -> None:
    with wb.connect(heavy_db) as db:
        _reset(heavy_db)
        report = db.health(checks=BLOAT_CHECKS, exact_bloat=True, **FLAG_ALL)
    assert _pgstattuple_calls(heavy_db) >= 10
    assert report["evidence"].str.contains("pgstattuple:|pgstatindex:").all()
    assert not report["evidence"].str.contains("skipped").any()


@pytest.fixture
def sandbox_db(sandbox: Any) -> Iterator[str]:
    """A database on the sandbox with a bloated table, pgstattuple and pg_stat_statements."""
    st = sandbox.status()
    server = Server("pg18", str(st.socket_dir), st.port)
    conninfo = server.create_database("heavy_checks_sandbox")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for stmt in ("CREATE EXTENSION pgstattuple", "CREATE EXTENSION pg_stat_statements",
                     "CREATE TABLE t (id int PRIMARY KEY, pad text)",
                     "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g",
                     "DELETE FROM t WHERE id % 2 = 0", "VACUUM (ANALYZE) t"):
            conn.execute(stmt)
    yield conninfo
    server.drop_database("heavy_checks_sandbox")


def test_the_sandbox_keeps_exact_bloat_on(sandbox: Any, sandbox_db: str) -> None:
    target = resolve_target(sandbox)
    dbname = psycopg.conninfo.conninfo_to_dict(sandbox_db)["dbname"]
    target = dataclasses.replace(target, params={**target.params, "dbname": str(dbname)})
    with Workbench(target) as db:
        assert db.target.is_sandbox
        _reset(sandbox_db)
        report = db.health(checks=BLOAT_CHECKS, **FLAG_ALL)
        assert _pgstattuple_calls(sandbox_db) >= 2      # t and t_pkey
        assert report["evidence"].str.contains("pgstattuple:|pgstatindex:").all()
        _reset(sandbox_db)
        off = db.health(checks=BLOAT_CHECKS, exact_bloat=False, **FLAG_ALL)
        assert _pgstattuple_calls(sandbox_db) == 0
        assert off["evidence"].str.contains("skipped").all()


def test_cli_exact_bloat_flag(heavy_db: str) -> None:
    runner = CliRunner()
    base = ["health", "--dsn", heavy_db, "--check", "table_bloat", "--format", "json"]
    _reset(heavy_db)
    default = runner.invoke(main, base)
    assert default.exit_code == 0, default.output
    assert "dbworkbench health --exact-bloat" in default.output and "pgstattuple measured" not in default.output
    assert _pgstattuple_calls(heavy_db) == 0
    measured = runner.invoke(main, [*base, "--exact-bloat"])
    assert measured.exit_code == 0, measured.output
    assert "pgstattuple measured" in measured.output and "skipped" not in measured.output
