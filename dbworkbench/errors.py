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
