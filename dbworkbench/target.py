"""A target: one PostgreSQL server and database, with the session guards every connection gets.

Every session sets ``application_name``, ``statement_timeout``, ``lock_timeout`` and
``idle_in_transaction_session_timeout``; every target that is not the sandbox also gets
``default_transaction_read_only = on`` unless it was opened with ``allow_writes=True``.
Secrets never leave this module: ``repr()``, :attr:`Target.display` and every error message
show ``***`` in place of every secret-bearing key (``password``, ``sslpassword``, ... as libpq
marks them; see :mod:`dbworkbench.redaction`), and a connection string that cannot be read is
not echoed at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .errors import ConnectionFailed
from .redaction import EXPECTED_FORMS, describe_unreadable, is_url, mask_params, scrub, secret_values

if TYPE_CHECKING:
    import sqlalchemy

APPLICATION_NAME = "dbworkbench"
PG_ENV_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
CONNECT_TIMEOUT_S = 10
# TCP keepalives so a server that vanished mid-query is noticed in about a minute
# (libpq ignores them on Unix sockets; a DSN that sets any keepalives* key keeps its own).
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}


@dataclass(frozen=True)
class SessionGuards:
    """Settings applied to every session through the libpq ``options`` startup parameter."""

    statement_timeout_ms: int = 30_000
    lock_timeout_ms: int = 2_000
    idle_in_transaction_timeout_ms: int = 60_000
    read_only: bool = True

    def options(self) -> str:
        opts = [
            f"-c statement_timeout={int(self.statement_timeout_ms)}",
            f"-c lock_timeout={int(self.lock_timeout_ms)}",
            f"-c idle_in_transaction_session_timeout={int(self.idle_in_transaction_timeout_ms)}",
            # strings are read as the guard's parser reads them, whatever the server's default
            "-c standard_conforming_strings=on",
            "-c client_encoding=UTF8",
        ]
        if self.read_only:
            opts.append("-c default_transaction_read_only=on")
        return " ".join(opts)


@dataclass(frozen=True)
class Target:
    """Where to connect and how. Build it with :func:`resolve_target`, not by hand."""

    params: dict[str, str] = field(repr=False)
    guards: SessionGuards
    is_sandbox: bool = False
    connect_timeout_s: int = CONNECT_TIMEOUT_S

    @property
    def allow_writes(self) -> bool:
        return not self.guards.read_only

    @property
    def conninfo(self) -> str:
        """The libpq connection string with the guards added. Holds the password: never print it."""
        params = dict(self.params)
        params.setdefault("application_name", APPLICATION_NAME)
        params["options"] = " ".join(p for p in (params.get("options", ""), self.guards.options()) if p)
        return make_conninfo(**params)

    @property
    def display(self) -> str:
        """The connection string with every secret (``password``, ``sslpassword``, ...) replaced by ``***``."""
        shown = mask_params({k: v for k, v in self.params.items() if k != "options"})
        return make_conninfo(**shown) if shown else "(libpq defaults and PG* environment)"

    def __repr__(self) -> str:
        return f"Target({self.display!r}, sandbox={self.is_sandbox}, allow_writes={self.allow_writes})"

    def redact(self, text: str) -> str:
        """``text`` with every secret this target may use (its own and ``$PGPASSWORD``) replaced by ``***``."""
        return redact(text, *secret_values(self.params))

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A new autocommit connection with the guards set; errors hold no password.

        It gives up after ``connect_timeout_s`` seconds (libpq's minimum is 2) unless the
        DSN or ``$PGCONNECT_TIMEOUT`` sets it, and has TCP keepalives on (:data:`KEEPALIVES`).
        """
        kwargs.setdefault("autocommit", True)
        if "connect_timeout" not in self.params and not os.environ.get("PGCONNECT_TIMEOUT"):
            kwargs.setdefault("connect_timeout", self.connect_timeout_s)
        if not any(k.startswith("keepalives") for k in self.params):
            kwargs = {**KEEPALIVES, **kwargs}
        try:
            return psycopg.connect(self.conninfo, **kwargs)
        except psycopg.Error as err:
            raise ConnectionFailed(
                f"cannot connect to {self.display}: {self.redact(str(err)).strip()}"
            ) from None


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with each of the known ``secrets`` replaced by ``***``, also percent-encoded or quoted.

    >>> redact("FATAL: bad password hunter2", "hunter2")
    'FATAL: bad password ***'
    """
    return scrub(text, secrets)


def _params_from_sqlalchemy(url: sqlalchemy.engine.URL) -> dict[str, str]:
    args = url.translate_connect_args(username="user", database="dbname")
    params = {k: str(v) for k, v in args.items() if v is not None}
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    return params


def _unreadable(dsn: str, reason: str) -> ConnectionFailed:
    return ConnectionFailed(f"not a connection string or URL that can be read: {describe_unreadable(dsn, reason)}; "
                            f"{EXPECTED_FORMS}")


def _is_sqlalchemy_url(dsn: str) -> bool:
    """``postgresql+psycopg://...`` and the like: a dialect+driver scheme, which libpq does not read."""
    scheme, sep, _ = dsn.partition("://")
    name, plus, driver = scheme.partition("+")
    return bool(sep and plus) and name.lower() in ("postgres", "postgresql") and driver.replace("_", "").isalnum()


def _check_url_authority(params: dict[str, str], dsn: str) -> dict[str, str]:
    """Refuse a URL whose host, port or database came out holding ``@``: an unencoded ``@`` or ``/``
    in the password, whose tail would otherwise be shown (and sent) as a host or database name."""
    if any("@" in params.get(key, "") for key in ("host", "hostaddr", "port", "dbname")):
        raise _unreadable(dsn, "an '@' or '/' in the user name or password is not percent-encoded (%40, %2F)")
    return params


def _params_from_string(dsn: str) -> dict[str, str]:
    dsn = dsn.strip()
    if _is_sqlalchemy_url(dsn):
        import sqlalchemy

        try:
            url = sqlalchemy.engine.make_url(dsn)
        except (sqlalchemy.exc.ArgumentError, ValueError):  # their messages may quote the URL
            raise _unreadable(dsn, "SQLAlchemy cannot read it (is the port a number?)") from None
        return _check_url_authority(_params_from_sqlalchemy(url), dsn)
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except psycopg.Error as err:
        raise _unreadable(dsn, str(err)) from None
    return _check_url_authority(params, dsn) if is_url(dsn) else params


def resolve_target(
    dsn: Any = None,
    *,
    service: str | None = None,
    allow_writes: bool = False,
    statement_timeout_ms: int = 30_000,
    lock_timeout_ms: int = 2_000,
    idle_in_transaction_timeout_ms: int = 60_000,
    connect_timeout_s: int = CONNECT_TIMEOUT_S,
) -> Target:
    """Turn what the user gave into a :class:`Target`.

    ``dsn`` may be a libpq conninfo or URL, a SQLAlchemy URL (string or object) or
    Engine, or a :class:`~dbworkbench.sandbox.Sandbox`. With nothing given:
    ``service=``, then ``$DBWORKBENCH_DSN``, then the ``PG*`` environment, and last
    the sandbox's demo database (started if needed). Connecting gives up after
    ``connect_timeout_s`` seconds unless the DSN sets ``connect_timeout``.
    """
    from .sandbox import Sandbox

    def guards(read_only: bool) -> SessionGuards:
        return SessionGuards(statement_timeout_ms, lock_timeout_ms, idle_in_transaction_timeout_ms, read_only)

    if isinstance(dsn, Sandbox):
        return Target(_params_from_string(dsn.start().conninfo()), guards(False), is_sandbox=True,
                      connect_timeout_s=connect_timeout_s)
    if dsn is None and service:
        params = {"service": service}
    elif dsn is None and os.environ.get("DBWORKBENCH_DSN"):
        params = _params_from_string(os.environ["DBWORKBENCH_DSN"])
    elif dsn is None and any(os.environ.get(v) for v in PG_ENV_VARS):
        params = {}  # libpq reads the PG* environment itself
    elif dsn is None:
        return resolve_target(
            Sandbox(),
            statement_timeout_ms=statement_timeout_ms,
            lock_timeout_ms=lock_timeout_ms,
            idle_in_transaction_timeout_ms=idle_in_transaction_timeout_ms,
            connect_timeout_s=connect_timeout_s,
        )
    elif isinstance(dsn, str):
        params = _params_from_string(dsn)
    elif hasattr(dsn, "url") and hasattr(dsn, "dispose"):  # a SQLAlchemy Engine
        params = _params_from_sqlalchemy(dsn.url)
    elif hasattr(dsn, "translate_connect_args"):  # a SQLAlchemy URL object
        params = _params_from_sqlalchemy(dsn)
    else:
        raise ConnectionFailed(
            f"cannot connect to a {type(dsn).__name__}; give a connection string or URL, "
            "a SQLAlchemy URL or Engine, or a Sandbox"
        )
    if service and "service" not in params:
        params["service"] = service
    return Target(params, guards(not allow_writes), connect_timeout_s=connect_timeout_s)
