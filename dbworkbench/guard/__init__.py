"""The one gate every statement a user supplies passes before it is sent.

:func:`admit` reads the text with PostgreSQL's own parser (:mod:`pglast`, no server needed)
and refuses, before anything is sent, with a message naming the reason and the opt-in where
there is one:

- several statements (``SELECT 1; DELETE ...``), and text the parser cannot read;
- transaction control and session commands (BEGIN, COMMIT, SET, PREPARE, LISTEN, NOTIFY, ...);
- when the statement will run (EXPLAIN ANALYZE): writes (INSERT, UPDATE, DELETE, MERGE,
  data-modifying WITH, SELECT INTO, COPY FROM) and row locks (FOR UPDATE/SHARE) on a read-only
  target (opt-in: ``connect(..., allow_writes=True)``; they then run in a transaction that is
  rolled back), and calls with effects a rollback does not undo (:mod:`.functions`: the
  deny-list, and on a live target every VOLATILE function not on the allow-list, in views too;
  opt-in: ``allow_side_effects=True``, and the result names them in ``cannot_undo``).

What is admitted then goes over the extended query protocol (:func:`send`), in which the
server itself refuses a second statement, so the parser is not the only wall. Every
dbworkbench session sets ``standard_conforming_strings = on`` and ``client_encoding = UTF8``,
so the server reads strings exactly as the gate did; on a connection where
``standard_conforming_strings`` is off anyway, text with a backslash is refused.

>>> admit("SELECT * FROM posts WHERE id = $1", read_only=True).statement.has_parameters
True
>>> admit("SELECT pg_terminate_backend(42)", read_only=True)
Traceback (most recent call last):
...
dbworkbench.errors.UnsafeStatement: ...pg_terminate_backend() reaches outside the transaction...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from .._pyformat import from_pyformat
from ..errors import UnsafeStatement
from ._read import DDL, READ, TRANSACTION, WRITE, Statement, read_statements, split_text
from ._live import risky_calls

if TYPE_CHECKING:
    import sqlalchemy

__all__ = [
    "Admitted", "Classification", "Statement", "admit", "check_single", "classify", "from_pyformat", "guard_engine",
    "read_statements", "send", "split_statements",
]


@dataclass(frozen=True)
class Admitted:
    """A statement the gate let through, and what a rollback will not undo when it runs."""

    statement: Statement
    cannot_undo: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The statement alone, without leading comments or a trailing semicolon."""
        return self.statement.text

    @property
    def composable(self) -> sql.Composable:
        """:attr:`text` as a ``psycopg.sql`` piece, to compose into what :func:`send` sends."""
        return sql.SQL(self.text)  # type: ignore[arg-type]  # admitted by the gate; sent over the extended protocol


def _one(text: str) -> Statement:
    found = read_statements(text)
    if len(found) > 1:
        heads = ", ".join(s.keyword or "?" for s in found)
        raise UnsafeStatement(f"one statement at a time: this SQL holds {len(found)} ({heads}); nothing was sent")
    return found[0]


def admit(
    text: str,
    *,
    read_only: bool,
    conn: psycopg.Connection[Any] | None = None,
    execute: bool = True,
    allow_side_effects: bool = False,
    action: str = "EXPLAIN ANALYZE",
    alternative: str = "",
    side_effects_opt_in: str | None = "pass allow_side_effects=True",
    rolled_back: bool = True,
) -> Admitted:
    """Let ``text`` through the gate or raise :class:`~dbworkbench.UnsafeStatement` (module doc).

    ``read_only``: the target refuses writes; ``conn``: a live connection to ask about functions
    and views (without one only the deny-list applies); ``execute``: the statement will run (False
    for a plan without ANALYZE: nothing VOLATILE is evaluated then); ``action`` and
    ``alternative`` word the refusal (``"EXPLAIN ANALYZE"``, ``"use analyze=False ..."``);
    ``side_effects_opt_in`` names the caller's opt-in for side effects (None: it has none);
    ``rolled_back``: the caller rolls the statement back (the refusal says so).
    """
    if conn is not None and conn.info.parameter_status("standard_conforming_strings") == "off" and "\\" in text:
        raise UnsafeStatement(
            "this session has standard_conforming_strings = off, where a backslash can end a string early; "
            "remove the backslashes or connect through dbworkbench.connect(), which turns it on; nothing was sent"
        )
    stmt = _one(text)
    if stmt.kind == TRANSACTION:
        raise UnsafeStatement(
            f"{stmt.keyword} is transaction control or a session command, which the gate lets none of through "
            "(dbworkbench manages transactions itself; session options are keyword arguments of connect()); nothing was sent"
        )
    if not execute:
        return Admitted(stmt)
    if read_only and (stmt.writes or stmt.locks_rows):
        what = f"a writing statement ({stmt.writes_via or stmt.keyword})" if stmt.writes else "SELECT ... FOR UPDATE/SHARE (row locks)"
        raise UnsafeStatement(
            f"{action} would execute {what} and this target is read-only. "
            + (f"{alternative}, or connect" if alternative else "Connect")
            + " with allow_writes=True"
            + (" (it then runs inside a transaction that is rolled back)" if rolled_back else "")
            + "; nothing was sent"
        )
    risky = risky_calls(conn, stmt)
    if risky and not allow_side_effects:
        opt_in = [alternative] if alternative else []
        if side_effects_opt_in:
            opt_in.append(side_effects_opt_in + " if you mean it (see dbworkbench.guard.functions)")
        raise UnsafeStatement(
            f"{action} would run calls whose effects a rollback does not undo: {'; '.join(risky)}. "
            + (" or ".join(opt_in) + "; " if opt_in else "")
            + "nothing was sent"
        )
    cannot_undo = list(risky)
    if stmt.writes_via in ("INSERT", "MERGE", "COPY FROM"):
        cannot_undo.append(f"sequence values drawn by column defaults during the {stmt.writes_via} (nextval is never rolled back)")
    return Admitted(stmt, tuple(cannot_undo))


def send(
    conn: psycopg.Connection[Any], query: sql.Composable | str, params: Sequence[Any] | None = None
) -> psycopg.Cursor[Any]:
    """Execute ``query`` over the extended query protocol and return the cursor.

    ``params``: the values of the text's own ``$1 ... $n`` (bound by the server, through a raw
    cursor; psycopg's ``%s`` placeholders are not read). Requesting binary results makes psycopg
    use PQsendQueryParams with or without them, so the server parses the text as exactly one
    statement and refuses a second (``cannot insert multiple commands into a prepared
    statement``) even if the gate were wrong.
    """
    cur: psycopg.Cursor[Any] = psycopg.RawCursor(conn) if params else conn.cursor()  # type: ignore[assignment]
    cur.execute(query, list(params) if params else None, binary=True)  # type: ignore[arg-type]
    return cur


def guard_engine(engine: sqlalchemy.engine.Engine, *, read_only: bool) -> None:
    """Put the gate in front of every statement ``engine`` sends (``pd.read_sql(sql, db.engine)``)."""
    from sqlalchemy import event

    def check(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        admit(from_pyformat(statement), read_only=read_only, conn=cursor.connection, action="db.engine",
              side_effects_opt_in=None, rolled_back=False)

    event.listen(engine, "before_cursor_execute", check)


# -- classification without a verdict (the workload reader, tests) ------------------------------


@dataclass(frozen=True)
class Classification:
    """What a piece of SQL is: its strongest kind, first keyword, statement count, row locks."""

    kind: str
    keyword: str
    statements: int
    locks_rows: bool = False
    has_parameters: bool = False

    @property
    def writes(self) -> bool:
        return self.kind in (WRITE, DDL)


def classify(text: str) -> Classification:
    """Classify ``text``; several statements are counted, not refused.

    >>> classify("WITH gone AS (DELETE FROM posts RETURNING id) SELECT count(*) FROM gone").kind
    'write'
    >>> classify("SELECT 1; SELECT 2").statements
    2
    """
    found = read_statements(text)
    order = [READ, TRANSACTION, WRITE, DDL]
    return Classification(
        kind=max((s.kind for s in found), key=order.index),
        keyword=found[0].keyword,
        statements=len(found),
        locks_rows=any(s.locks_rows for s in found),
        has_parameters=any(s.has_parameters for s in found),
    )


def check_single(text: str) -> Classification:
    """Classify ``text`` and refuse more than one statement, naming what was found."""
    _one(text)
    return classify(text)


def split_statements(text: str) -> list[str]:
    """The statements of ``text`` (top-level semicolons split; quoted text and comments never do)."""
    return split_text(text)
