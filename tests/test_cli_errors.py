"""CLI errors: every library or driver error is one short ``Error:`` message, no traceback, no password
(issue #9, finding 7); ``--debug`` / ``DBWORKBENCH_DEBUG=1`` shows the traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg.conninfo import make_conninfo

from dbworkbench.cli import main
from tests.fix_db import Server

HOSTILE_PASSWORD = "p@ss w'rd\\=Zulu7:é"


def _clean(result: Result, status: int = 1) -> str:
    """The output of a run that failed cleanly: status, one Error: line first, no traceback."""
    assert result.exit_code == status, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # nothing escaped the CLI
    assert result.output.startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_missing_relation_is_the_servers_message(server: Server, demo_db: str) -> None:
    out = _clean(CliRunner().invoke(main, ["explain", "--sql", "SELECT * FROM no_such_table", "--dsn", demo_db]))
    assert 'relation "no_such_table" does not exist' in out
    assert "check the statement's names" in out


def test_debug_shows_the_traceback(server: Server, demo_db: str) -> None:
    args = ["explain", "--sql", "SELECT * FROM no_such_table", "--dsn", demo_db]
    for result in (CliRunner().invoke(main, ["--debug", *args]),
                   CliRunner().invoke(main, args, env={"DBWORKBENCH_DEBUG": "1"})):
        assert result.exit_code == 1
        assert "Traceback (most recent call last)" in result.output
        assert "UndefinedTable" in result.output
        assert 'Error: PostgreSQL: relation "no_such_table" does not exist' in result.output


def test_syntax_and_data_errors(server: Server, demo_db: str) -> None:
    runner = CliRunner()
    out = _clean(runner.invoke(main, ["explain", "--sql", "SELEC 1", "--dsn", demo_db]))
    assert 'syntax error at or near "SELEC"' in out
    out = _clean(runner.invoke(main, ["explain", "--sql", "SELECT count(*) / 0 FROM users", "--dsn", demo_db]))
    assert "division by zero" in out and "fix it" in out
    out = _clean(runner.invoke(main, ["explain", "--sql", "SELECT * FROM users WHERE id = 'not-a-uuid'",
                                      "--dsn", demo_db]))
    assert "invalid input syntax for type uuid" in out


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_bad_dsns_never_show_the_password(server: Server, debug: bool) -> None:
    dsns = [
        make_conninfo(server.conninfo("no_such_database"), password=HOSTILE_PASSWORD),      # server says no
        make_conninfo(host="/nonexistent/socket/dir", dbname="x", password=HOSTILE_PASSWORD),  # nothing listens
        f"host=/tmp password='{HOSTILE_PASSWORD}",                                          # unterminated quote
        "postgresql://app:Zulu7%zz@localhost/x",                                            # bad percent-encoding
    ]
    prefix = ["--debug"] if debug else []
    for dsn in dsns:
        for args in (["explain", "--sql", "SELECT 1", "--dsn", dsn], ["show", "tables", "--dsn", dsn],
                     ["health", "--dsn", dsn]):
            result = CliRunner().invoke(main, [*prefix, *args])
            assert result.exit_code == 1, result.output
            assert "Error: " in result.output
            assert ("Traceback" in result.output) == debug
            for secret in (HOSTILE_PASSWORD, "Zulu7", "w'rd", "w\\'rd"):
                assert secret not in result.output, (dsn, result.output)


def test_a_missing_database_names_the_cause(server: Server) -> None:
    out = _clean(CliRunner().invoke(main, ["show", "tables", "--dsn", server.conninfo("no_such_database")]))
    assert 'database "no_such_database" does not exist' in out


def test_os_errors_are_short_messages(tmp_path: Any) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    for args in (["sandbox", "status"], ["sandbox", "start"]):
        result = CliRunner().invoke(main, args, env={"DBWORKBENCH_HOME": str(not_a_folder / "home")})
        out = _clean(result)
        assert "Not a directory" in out and str(not_a_folder) in out


def test_each_command_fails_cleanly(server: Server, empty_db: str) -> None:
    gone = server.conninfo("no_such_database")
    runner = CliRunner()
    for args in (["show", "statements", "--dsn", gone], ["show", "column-stats", "--dsn", gone],
                 ["health", "--dsn", gone, "--format", "json"], ["workload", "run", "--dsn", gone, "--allow-writes"],
                 ["demo", "load", "--dsn", gone, "--allow-writes"], ["explain", "--sql", "SELECT 1", "--dsn", gone]):
        assert "does not exist" in _clean(runner.invoke(main, args)), args
    out = _clean(runner.invoke(main, ["show", "column-stats", "--table", "nope", "--dsn", empty_db]))
    assert "nope" in out
    out = _clean(runner.invoke(main, ["workload", "run", "--iterations", "2", "--dsn", empty_db, "--allow-writes"]))
    assert "demo" in out
    out = _clean(runner.invoke(main, ["demo", "load", "--dsn", empty_db]))   # no --allow-writes
    assert "--allow-writes" in out


SLOW = "SELECT count(*) FROM comments a, comments b, users c"


def _active(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s"
                           " AND pid <> pg_backend_pid()", [f"%{SLOW}%"]).fetchone()
        assert row is not None
        return int(row[0])


def test_an_interrupt_exits_130_and_cancels_the_query(server: Server, demo_db: str) -> None:
    """A real SIGINT while the server runs the statement (sent once pg_stat_activity shows it)."""
    stop = threading.Event()

    def interrupt_when_running() -> None:
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            if _active(demo_db):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=interrupt_when_running)
    watcher.start()
    started = time.monotonic()
    try:
        result = CliRunner().invoke(main, ["explain", "--sql", SLOW, "--dsn", demo_db])
    finally:
        stop.set()
        watcher.join()
    assert time.monotonic() - started < 15           # the 30 s statement_timeout did not end it
    assert _clean(result, 130).startswith("Error: interrupted")
    deadline = time.monotonic() + 2
    while _active(demo_db) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _active(demo_db) == 0                     # the server stopped running it


def test_a_closed_pipe_ends_quietly(tmp_path: Any) -> None:
    """``dbworkbench explain big-plan | head -1``: no error text, no 'Exception ignored' at exit."""
    children = "".join(f"  ->  Seq Scan on t{i}  (cost=0.00..1.00 rows=1 width=4)\n" for i in range(3000))
    path = tmp_path / "plan.txt"
    path.write_text("Append  (cost=0.00..3000.00 rows=3000 width=4)\n" + children, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "dbworkbench", "explain", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"Append")
    proc.stdout.close()                                   # the reader goes away, as `head -1` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert stderr == ""
