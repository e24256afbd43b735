"""The exceptions dbworkbench raises. Every message says what to do next."""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error dbworkbench raises on purpose."""


class SandboxError(WorkbenchError):
    """The embedded PostgreSQL could not be initialised, started or stopped."""


class ConnectionFailed(WorkbenchError):
    """A target could not be reached. The message never holds a password."""


class ExtensionMissing(WorkbenchError):
    """A collector needs an extension the server does not have; the message says what to run."""


class UnsafeStatement(WorkbenchError):
    """The guard refused a statement (a write on a read-only target, several statements, ...)."""


class PlanParseError(WorkbenchError, ValueError):
    """Input to :func:`dbworkbench.parse_plan` is not a plan.

    ``line`` is the 1-based line of the input where parsing failed (``None`` when
    the input as a whole is wrong) and ``expected`` says what was expected there.
    """

    def __init__(self, message: str, *, line: int | None = None, expected: str | None = None) -> None:
        self.line = line
        self.expected = expected
        where = f"line {line}: " if line is not None else ""
        tail = f" (expected {expected})" if expected else ""
        super().__init__(f"{where}{message}{tail}")


class QueryTimeout(WorkbenchError):
    """The server cancelled a statement at a session timeout; never a timing result.

    ``setting`` is ``"statement_timeout"`` or ``"lock_timeout"`` and ``limit_ms`` its
    value in milliseconds; the message says how to raise it.
    """

    def __init__(self, message: str, *, setting: str, limit_ms: int) -> None:
        self.setting = setting
        self.limit_ms = limit_ms
        super().__init__(message)


class SessionLost(WorkbenchError):
    """The connection broke during a call (terminated, server restart, network); the next call reconnects."""
