"""Run EXPLAIN safely and hand the JSON to the offline parser.

- The statement passes the gate (:func:`dbworkbench.guard.admit`) first: one statement,
  no transaction control, no writes or row locks to execute on a read-only target, no calls
  whose effects a rollback does not undo unless ``allow_side_effects=True``.
- It then goes over the extended query protocol (:func:`dbworkbench.guard.send`), inside a
  transaction that is always rolled back.
- ``$1``-style text (as pg_stat_statements shows it) is prepared (PREPARE) and explained
  with EXPLAIN EXECUTE: with the given ``params``, or, without them, as the planner's generic
  plan (``plan_cache_mode = force_generic_plan``, estimates only), on every version;
  DEALLOCATE even on error.
- pg_stat_statements' text of a typed literal (``date $1``, which is not SQL) is explained as
  the cast it stands for (``$1::date``).
- Options follow the server version: SETTINGS (12+), WAL (13+), SERIALIZE and MEMORY (17+).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from . import catalog
from ._pyformat import typed_parameters
from .errors import UnsafeStatement
from .guard import admit, send
from .server import ServerInfo
from .target import Target

if TYPE_CHECKING:
    from .plans import Plan

_MARK = catalog.own_marker("explain")  # statements() leaves these out
EXPLAINABLE = {"SELECT", "VALUES", "TABLE", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "("}
_names = itertools.count()


def explain_options(server: ServerInfo, *, analyze: bool) -> list[sql.Composable]:
    """The EXPLAIN options this server supports for this kind of run."""
    opts = ["VERBOSE", "FORMAT JSON"]
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
    allow_side_effects: bool = False,
) -> Plan:
    """EXPLAIN ``query`` (see the module doc) and parse the result into a Plan."""
    from .plans import parse_plan

    original, query = query, typed_parameters(query)  # pg_stat_statements' ``date $1`` as ``$1::date``
    count = admit(query, read_only=True, execute=False).statement.parameters
    if params is not None and len(params) != count:
        raise UnsafeStatement(f"this statement uses {count} parameter(s) ($1 ... ${count}) and params has {len(params)}")
    generic = count > 0 and params is None
    analyze = analyze and not generic
    admitted = admit(
        query, read_only=not target.allow_writes, conn=conn, execute=analyze, allow_side_effects=allow_side_effects,
        alternative="Use analyze=False for the estimated plan",
    )
    if admitted.statement.keyword not in EXPLAINABLE:
        raise UnsafeStatement(
            f"EXPLAIN takes a SELECT, VALUES, INSERT, UPDATE, DELETE or MERGE; this statement starts with "
            f"{admitted.statement.keyword} (give the statement itself, without EXPLAIN)"
        )
    body = admitted.composable
    options = sql.SQL(", ").join(explain_options(server, analyze=analyze))
    name = f"dbworkbench_explain_{next(_names)}" if count else None
    try:
        with conn.transaction(force_rollback=True):
            if name is None:
                statement: sql.Composable = body
            else:
                prepared = sql.Identifier(name)
                send(conn, sql.SQL("PREPARE {} AS ").format(prepared) + body)
                if generic:
                    conn.execute(f"SET LOCAL {_MARK} plan_cache_mode = force_generic_plan")
                values = params if params is not None else [None] * count
                statement = sql.SQL("EXECUTE {}({})").format(prepared, sql.SQL(", ").join(map(sql.Literal, values)))
            row = send(conn, sql.SQL("EXPLAIN {} ({}) ").format(sql.SQL(_MARK), options) + statement).fetchone()
    finally:
        if name is not None:
            _deallocate(conn, name)
    plan = parse_plan(row[0] if row else None)
    plan.query = original
    plan.cannot_undo = admitted.cannot_undo
    return plan


def _deallocate(conn: psycopg.Connection[Any], name: str) -> None:
    """Drop the prepared statement if it was created (PREPARE is not undone by ROLLBACK)."""
    if conn.closed or conn.broken:
        return
    if conn.execute(f"SELECT 1 {catalog.MARKER} FROM pg_prepared_statements WHERE name = %s", [name]).fetchone():
        conn.execute(sql.SQL("DEALLOCATE {} {}").format(sql.SQL(_MARK), sql.Identifier(name)))
