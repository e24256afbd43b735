"""Driver errors → workbench errors, in one place.

Every :class:`~dbworkbench.workbench.Workbench` method that talks to the server runs
inside :func:`translated`:

- ``statement_timeout`` (SQLSTATE 57014) → :class:`QueryTimeout` naming the timeout and
  how to raise it; a cancelled statement is never a timing.
- ``lock_timeout`` (55P03) → :class:`QueryTimeout` naming the sessions that hold an
  ACCESS EXCLUSIVE lock here (one cheap catalog query).
- a connection that broke (``pg_terminate_backend``, a server restart, the network,
  ``idle_in_transaction_session_timeout``) → :class:`SessionLost`; the broken connection
  is dropped so the next call opens a new one. Nothing is retried: a call is never sent twice.

A ``KeyboardInterrupt`` is left alone: psycopg cancels the server-side query before
re-raising it, and the connection stays usable.
"""

from __future__ import annotations

import functools
import inspect
import select
import time
import warnings
from pathlib import Path
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import psycopg
from psycopg.pq import ConnStatus, TransactionStatus

from . import catalog
from .errors import QueryTimeout, SessionLost, WorkbenchError
from .target import Target

P = ParamSpec("P")
R = TypeVar("R")


class _Session(Protocol):
    """What :func:`guarded` needs of its object: the target and the open connection."""

    target: Target
    _conn: psycopg.Connection[Any] | None

    def close(self) -> None: ...


S = TypeVar("S", bound=_Session)


@contextmanager
def translated(session: _Session) -> Iterator[None]:
    """Run the body; re-raise timeouts and lost connections as workbench errors."""
    started = time.monotonic()
    try:
        yield
    except psycopg.Error as err:
        conn = session._conn
        lost = conn is not None and (conn.broken or conn.closed)
        if lost:
            session.close()
        better = translate(err, session.target, conn, lost=lost, elapsed_ms=(time.monotonic() - started) * 1000)
        if better is None:
            raise
        raise better from err


def guarded(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Decorate a Workbench method so its driver errors go through :func:`translated`."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with translated(self):
            return method(self, *args, **kwargs)

    return wrapper


_PACKAGE = str(Path(__file__).resolve().parent)


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointing at the user's line: the first caller outside this package
    (however deep inside it the warning arose)."""
    level, frame = 2, inspect.currentframe()
    frame = frame.f_back if frame is not None else None
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def usable(conn: psycopg.Connection[Any]) -> bool:
    """False when ``conn`` is closed, broken, or the server closed it while it sat idle.

    An idle connection has nothing to read unless the server sent something; reading
    it then (without blocking) sees the server's goodbye, so a call after a
    ``pg_terminate_backend`` or a restart opens a new connection instead of failing.
    """
    if conn.closed or conn.broken:
        return False
    if conn.info.transaction_status != TransactionStatus.IDLE:
        return True
    pgconn = conn.pgconn
    for _ in range(4):  # the error message, then the end of the stream
        readable, _w, _x = select.select([pgconn.socket], [], [], 0)
        if not readable:
            return True
        try:
            pgconn.consume_input()
        except psycopg.OperationalError:
            return False
        if pgconn.status == ConnStatus.BAD:
            return False
    return True


def translate(
    err: psycopg.Error,
    target: Target,
    conn: psycopg.Connection[Any] | None = None,
    *,
    lost: bool = False,
    elapsed_ms: float = 0.0,
) -> WorkbenchError | None:
    """The workbench error for driver error ``err``, or None to let it through unchanged."""
    reason = target.redact(_first_line(err))
    if lost or isinstance(err, psycopg.errors.AdminShutdown | psycopg.errors.CrashShutdown):
        return SessionLost(
            f"the connection to {target.display} was lost ({reason}); the next call reconnects"
        )
    guards = target.guards
    if err.sqlstate == "57014" and _is_statement_timeout(reason, elapsed_ms, guards.statement_timeout_ms):
        return QueryTimeout(
            f"the server cancelled the statement at statement_timeout ({guards.statement_timeout_ms} ms) on "
            f"{target.display}; this is a timeout, not a timing. To allow longer, connect with "
            f"wb.connect(..., statement_timeout_ms={_raised(guards.statement_timeout_ms)})",
            setting="statement_timeout",
            limit_ms=guards.statement_timeout_ms,
        )
    if err.sqlstate == "55P03":
        holders = _lock_holders(conn, target)
        return QueryTimeout(
            f"waited lock_timeout ({guards.lock_timeout_ms} ms) for a lock on {target.display} and gave up"
            f"{holders}. Retry when the lock is released, or connect with "
            f"wb.connect(..., lock_timeout_ms={_raised(guards.lock_timeout_ms)}) to wait longer",
            setting="lock_timeout",
            limit_ms=guards.lock_timeout_ms,
        )
    return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _is_statement_timeout(message: str, elapsed_ms: float, limit_ms: int) -> bool:
    """57014 is also a cancel request; tell them by the message, or (localised servers) by the time taken."""
    if "statement timeout" in message:
        return True
    return "user request" not in message and limit_ms > 0 and elapsed_ms >= limit_ms * 0.95


def _raised(limit_ms: int) -> int:
    """A suggested higher limit: four times the current one, at least 10 s."""
    return max(limit_ms * 4, 10_000)


def _lock_holders(conn: psycopg.Connection[Any] | None, target: Target) -> str:
    """'; held by ...' naming sessions with ACCESS EXCLUSIVE locks here, or '' when that cannot be told."""
    if conn is None or conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
        return ""
    try:
        rows = conn.execute(catalog.get("lock_holders")).fetchall()  # type: ignore[arg-type]  # catalog SQL is trusted text
    except psycopg.Error:
        return ""
    if not rows:
        return ""
    held = [
        f"{relation} by pid {pid}"
        + (f" ({app or 'no application_name'}, {state}" + (f" for {xact_s:.0f} s" if xact_s is not None else "") + ")"
           if state else "")
        for relation, pid, app, state, xact_s in rows
    ]
    return target.redact("; ACCESS EXCLUSIVE locks are held on " + ", ".join(held))
