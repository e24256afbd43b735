"""Real PostgreSQL servers for the tests: the sandbox (18) always, PostgreSQL 15 when installed.

Fixtures:
- ``server``: a :class:`Server`, parametrised over ``pg18`` and ``pg15`` (skipped, with the
  reason, where the machine has no PostgreSQL 15 binaries).
- ``empty_db``: conninfo of a fresh empty database on ``server`` (one per test module).
- ``demo_db``: conninfo of a fresh copy of the tiny demo database on ``server`` (one per module).
- ``sandbox``: the session's :class:`dbworkbench.Sandbox` (its home is a temporary folder).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG15_BIN = Path(os.environ.get("DBWORKBENCH_PG15_BIN", "/usr/lib/postgresql/15/bin"))
SERVERS = ["pg18", "pg15"]
_counter = itertools.count()

# The sandbox of this test session lives in its own short temporary folder (socket
# paths are limited to ~100 bytes). Set before anything starts it, so notebook
# kernels that nbval spawns inherit it too.
if "DBWORKBENCH_TEST_HOME" in os.environ:
    os.environ["DBWORKBENCH_HOME"] = os.environ["DBWORKBENCH_TEST_HOME"]
else:
    os.environ["DBWORKBENCH_HOME"] = f"/tmp/dwbt-{os.getpid()}"  # made when the sandbox first starts
for var in ("DBWORKBENCH_DSN", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"):
    os.environ.pop(var, None)


class Server:
    """A running server the tests may create databases on (as a superuser)."""

    def __init__(self, name: str, host: str, port: int, user: str = "postgres") -> None:
        self.name, self.host, self.port, self.user = name, host, port, user

    def conninfo(self, dbname: str = "postgres") -> str:
        return psycopg.conninfo.make_conninfo(host=self.host, port=str(self.port), user=self.user, dbname=dbname)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(query)
        return self.conninfo(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _pg15_missing() -> str | None:
    if not (PG15_BIN / "postgres").exists():
        return f"PostgreSQL 15 binaries not found in {PG15_BIN} (apt-get install postgresql-15)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' system user to run PostgreSQL 15 as"
    return None


def _start_pg15(tmp: Path) -> Server:
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = tmp / "data"
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    run(str(PG15_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "--encoding=utf8")
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            "\nshared_preload_libraries = 'pg_stat_statements, auto_explain'\n"
            "track_io_timing = on\ncompute_query_id = on\npg_stat_statements.max = 10000\n"
            "pg_stat_statements.track_planning = on\nlisten_addresses = ''\n"
            f"unix_socket_directories = '{tmp}'\nport = 5415\n"
        )
    try:
        run(str(PG15_BIN / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-t", "60", "start")
    except subprocess.CalledProcessError as err:
        log = (tmp / "log").read_text() if (tmp / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL 15 did not start: {err.stderr}\n{log[-2000:]}") from None
    return Server("pg15", str(tmp), 5415)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop this session's sandbox (tests or notebook kernels may have started it) and remove it."""
    home = Path(os.environ["DBWORKBENCH_HOME"])
    if "DBWORKBENCH_TEST_HOME" in os.environ or not home.exists():
        return
    import dbworkbench as wb

    sb = wb.Sandbox(home)
    if sb.status().running:
        sb.stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox() -> object:
    import dbworkbench as wb

    return wb.Sandbox().start()


@pytest.fixture(scope="session")
def pg15_server() -> Iterator[Server]:
    reason = _pg15_missing()
    if reason:
        pytest.skip(reason)
    tmp = Path(tempfile.mkdtemp(prefix="dwb15-", dir="/tmp"))
    os.chmod(tmp, 0o755)
    yield _start_pg15(tmp)
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_user, str(PG15_BIN / "pg_ctl"), "-D", str(tmp / "data"), "-m", "immediate", "-w", "stop"],
                   capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Server:
    if request.param == "pg15":
        return request.getfixturevalue("pg15_server")
    sb = request.getfixturevalue("sandbox")
    st = sb.status()
    return Server("pg18", str(st.socket_dir), st.port)


@pytest.fixture(scope="session")
def demo_template(server: Server) -> str:
    """A database holding the tiny demo, used as the template of ``demo_db``."""
    from dbworkbench.datasets.demo import load_demo

    server.create_database("demo_template")
    with psycopg.connect(server.conninfo("demo_template"), autocommit=True) as conn:
        load_demo(conn, "tiny", progress=False)
    return "demo_template"


def _module_db_name(request: pytest.FixtureRequest, kind: str) -> str:
    module = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])
    return f"t_{kind}_{module}_{next(_counter)}"[:63]


@pytest.fixture(scope="module")
def empty_db(server: Server, request: pytest.FixtureRequest) -> Iterator[str]:
    name = _module_db_name(request, "empty")
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture(scope="module")
def demo_db(server: Server, demo_template: str, request: pytest.FixtureRequest) -> Iterator[str]:
    name = _module_db_name(request, "demo")
    yield server.create_database(name, template=demo_template)
    server.drop_database(name)
