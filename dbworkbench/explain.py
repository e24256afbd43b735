"""Run EXPLAIN safely and hand the JSON to the offline parser.

- One statement only: several are refused before anything is sent.
- ANALYZE of a writing statement runs in a transaction that is always rolled back,
  and against a read-only target it is refused with a message saying what to do.
- ``$1``-style text (as pg_stat_statements shows it): ``GENERIC_PLAN`` on 16+ when no
  parameters are given, else PREPARE / EXPLAIN EXECUTE with the values, DEALLOCATE even
  on error.
- Options follow the server version: SETTINGS (12+), WAL (13+), SERIALIZE and MEMORY (17+).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from .errors import UnsafeStatement
from .guard import check_single
from .server import ServerInfo
from .target import Target

if TYPE_CHECKING:
    from .plans import Plan

EXPLAINABLE = {"SELECT", "VALUES", "TABLE", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "("}
_names = itertools.count()


def explain_options(server: ServerInfo, *, analyze: bool, generic: bool = False) -> list[sql.Composable]:
    """The EXPLAIN options this server supports for this kind of run."""
    opts = ["VERBOSE", "FORMAT JSON"]
    if generic:
        return [sql.SQL("GENERIC_PLAN"), *map(sql.SQL, opts)]
    if analyze:
        opts = ["ANALYZE", "BUFFERS", *opts]
        if server.version_num >= 130_000:
            opts.append("WAL")
        if server.version_num >= 170_000:
            opts += ["SERIALIZE", "MEMORY"]
    elif server.version_num >= 170_000:
        opts.append("MEMORY")
    if server.version_num >= 120_000:
        opts.append("SETTINGS")
    return [sql.SQL(o) for o in opts]


def run_explain(
    conn: psycopg.Connection[Any],
    server: ServerInfo,
    target: Target,
    query: str,
    params: Sequence[Any] | None = None,
    *,
    analyze: bool = True,
) -> Plan:
    """EXPLAIN ``query`` (see the module doc) and parse the result into a Plan."""
    from .plans import parse_plan

    found = check_single(query)
    if found.keyword.upper() not in EXPLAINABLE:
        raise UnsafeStatement(
            f"EXPLAIN takes a SELECT, VALUES, INSERT, UPDATE, DELETE or MERGE; this statement starts with "
            f"{found.keyword.upper()} (give the statement itself, without EXPLAIN)"
        )
    if analyze and found.writes and not target.allow_writes:
        raise UnsafeStatement(
            f"EXPLAIN ANALYZE would execute this {found.kind} statement on {target.display}, which is read-only. "
            "Use analyze=False for the estimated plan, or connect with allow_writes=True "
            "(the statement then runs inside a transaction that is rolled back)."
        )
    body = sql.SQL(query.strip().rstrip(";"))  # type: ignore[arg-type]  # the user's statement, sent as written
    generic = found.has_parameters and params is None
    if generic:
        if server.version_num < 160_000:
            raise UnsafeStatement(
                f"this statement has $n parameters; PostgreSQL {server.version} has no EXPLAIN (GENERIC_PLAN) "
                "(16+), so pass params=[...] with example values"
            )
        analyze = False
    options = sql.SQL(", ").join(explain_options(server, analyze=analyze, generic=generic))
    name = f"dbworkbench_explain_{next(_names)}" if params is not None else None
    prepared = sql.Identifier(name) if name else None
    try:
        with conn.transaction(force_rollback=True):
            if prepared is not None:
                conn.execute(sql.SQL("PREPARE {} AS ").format(prepared) + body)
                args = sql.SQL(", ").join(sql.Literal(p) for p in params or [])
                statement: sql.Composed | sql.SQL = sql.SQL("EXECUTE {}({})").format(prepared, args) if params else sql.SQL("EXECUTE {}").format(prepared)
            else:
                statement = body
            row = conn.execute(sql.SQL("EXPLAIN ({}) ").format(options) + statement).fetchone()
    finally:
        if name is not None:
            _deallocate(conn, name)
    plan = parse_plan(row[0] if row else None)
    plan.query = query
    return plan


def _deallocate(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop the prepared statement if it was created (PREPARE is not undone by ROLLBACK)."""
    if conn.closed or conn.broken:
        return
    if conn.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name]).fetchone():
        conn.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(name)))
