"""Faults and load: timeouts, lost sessions, interrupts, silent addresses, pgbench on the same server.

Most scenarios run on a private embedded PostgreSQL 18 of this module (it is stopped
and started here, which the session's shared sandbox must not be); the lock-timeout
scenario also runs on PostgreSQL 15. Each scenario checks the error's type and message
and that the next call works.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

import dbworkbench as wb
from dbworkbench.target import resolve_target

PASSWORD = "s3cr=t 'pw' \\ @:ü"  # never sent (trust auth) but part of every DSN here: must never be shown


@pytest.fixture(scope="module")
def private() -> Iterator[wb.Sandbox]:
    """An embedded PostgreSQL of this module alone, with a database ``faults`` holding table ``t``."""
    home = Path(f"/tmp/dwbf-{os.getpid()}")
    sb = wb.Sandbox(home).start()
    with psycopg.connect(sb.conninfo("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS faults WITH (FORCE)")
        admin.execute("CREATE DATABASE faults")
    with psycopg.connect(sb.conninfo("faults"), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
        conn.execute("INSERT INTO t SELECT generate_series(1, 1000)")
    yield sb
    sb.stop()
    shutil.rmtree(home, ignore_errors=True)


def _dsn(conninfo: str) -> str:
    return psycopg.conninfo.make_conninfo(conninfo, password=PASSWORD)


def _connect(sb: wb.Sandbox, **kwargs: Any) -> wb.Workbench:
    return wb.connect(_dsn(sb.conninfo("faults")), **kwargs)


@contextmanager
def _holding_lock(conninfo: str, table: str = "t") -> Iterator[psycopg.Connection[Any]]:
    """Another session holding ACCESS EXCLUSIVE on ``table`` (application_name fault-holder)."""
    conn = psycopg.connect(conninfo, application_name="fault-holder")
    try:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield conn
    finally:
        conn.close()


def _activity(conninfo: str, pid: int) -> tuple[str | None, str | None, str | None]:
    with psycopg.connect(conninfo, autocommit=True) as admin:
        row = admin.execute("SELECT state, wait_event_type, query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return (row[0], row[1], row[2]) if row else (None, None, None)


def _when_busy(conninfo: str, pid: int, action: Callable[[], None], *, done: threading.Event) -> threading.Thread:
    """Run ``action`` in a thread once backend ``pid`` is running a statement (not before, never after ``done``)."""

    def watch() -> None:
        deadline = time.monotonic() + 20
        while not done.is_set() and time.monotonic() < deadline:
            state, wait_type, query = _activity(conninfo, pid)
            if state == "active" and (wait_type == "Lock" or "pg_sleep" in (query or "")):
                action()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _terminate(conninfo: str, pid: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def _assert_works(db: wb.Workbench) -> None:
    frame = db.tables()
    assert "t" in set(frame["table"])


# -- timeouts -----------------------------------------------------------------------------


def _tables_behind_a_lock(db: wb.Workbench, conninfo: str) -> tuple[wb.QueryTimeout, float, int]:
    """``db.tables()`` while another session holds ACCESS EXCLUSIVE on ``t``: the error, seconds taken, holder's pid."""
    with _holding_lock(conninfo) as holder:
        started = time.monotonic()
        with pytest.raises(wb.QueryTimeout) as caught:
            db.tables()
        return caught.value, time.monotonic() - started, holder.info.backend_pid


def test_statement_timeout_is_a_timeout_in_a_collector(private: wb.Sandbox) -> None:
    db = _connect(private, statement_timeout_ms=500, lock_timeout_ms=0)  # wait for the lock until statement_timeout
    _assert_works(db)
    pid = db.conn.info.backend_pid
    err, took, _holder = _tables_behind_a_lock(db, private.conninfo("faults"))
    print(f"statement_timeout 500 ms: QueryTimeout after {took * 1000:.0f} ms: {err}")
    assert 0.4 < took < 5
    assert (err.setting, err.limit_ms) == ("statement_timeout", 500)
    assert "statement_timeout (500 ms)" in str(err) and "not a timing" in str(err)
    assert "wb.connect(..., statement_timeout_ms=10000)" in str(err)
    assert PASSWORD not in str(err) and "s3cr" not in str(err)
    assert isinstance(err.__cause__, psycopg.errors.QueryCanceled)
    _assert_works(db)
    assert db.conn.info.backend_pid == pid  # a timeout keeps the connection


def test_statement_timeout_in_explain_is_not_a_plan(private: wb.Sandbox) -> None:
    db = _connect(private, statement_timeout_ms=300)
    started = time.monotonic()
    with pytest.raises(wb.QueryTimeout, match=r"statement_timeout \(300 ms\)") as caught:
        db.explain("SELECT pg_sleep(5)")
    took = time.monotonic() - started
    print(f"explain under statement_timeout 300 ms: QueryTimeout after {took * 1000:.0f} ms")
    assert took < 3
    assert caught.value.setting == "statement_timeout"
    plan = db.explain("SELECT count(*) FROM t")
    assert plan.nodes.shape[0] >= 1


def test_lock_timeout_returns_within_its_bound_and_names_the_holder(server: Any, empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (id int)")
    db = wb.connect(_dsn(empty_db), lock_timeout_ms=300)
    _assert_works(db)
    err, took, holder_pid = _tables_behind_a_lock(db, empty_db)
    print(f"{server.name}: lock_timeout 300 ms: QueryTimeout after {took * 1000:.0f} ms: {err}")
    assert took < 1.5  # 300 ms plus one catalog query, not the 30 s statement_timeout
    assert (err.setting, err.limit_ms) == ("lock_timeout", 300)
    assert "lock_timeout (300 ms)" in str(err) and "lock_timeout_ms=10000" in str(err)
    assert f"t by pid {holder_pid} (fault-holder, idle in transaction" in str(err)
    assert PASSWORD not in str(err)
    _assert_works(db)


# -- lost sessions ------------------------------------------------------------------------


CALLS: dict[str, Callable[[wb.Workbench], Any]] = {
    "tables": lambda db: db.tables(),  # waits for the held lock
    "health": lambda db: db.health(),  # its table checks wait for the held lock
    "explain": lambda db: db.explain("SELECT pg_sleep(30)"),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_session_terminated_mid_call_is_session_lost_and_the_next_call_reconnects(private: wb.Sandbox, call: str) -> None:
    admin = private.conninfo("postgres")
    db = _connect(private, lock_timeout_ms=0)
    _assert_works(db)
    old_pid = db.conn.info.backend_pid
    done = threading.Event()
    with _holding_lock(private.conninfo("faults")):
        _when_busy(admin, old_pid, lambda: _terminate(admin, old_pid), done=done)
        try:
            with pytest.raises(wb.SessionLost) as caught:
                CALLS[call](db)
        finally:
            done.set()
    message = str(caught.value)
    print(f"terminated mid-{call}: {message}")
    assert "was lost (terminating connection due to administrator command); the next call reconnects" in message
    assert message.startswith("the connection to ") and "dbname=faults" in message
    assert PASSWORD not in message and "s3cr" not in message
    _assert_works(db)
    assert db.conn.info.backend_pid != old_pid


def test_session_terminated_while_idle_the_next_call_just_works(private: wb.Sandbox) -> None:
    db = _connect(private)
    _assert_works(db)
    old_pid = db.conn.info.backend_pid
    _terminate(private.conninfo("postgres"), old_pid)
    time.sleep(0.2)
    _assert_works(db)  # the workbench sees the server's goodbye and opens a new connection
    assert db.conn.info.backend_pid != old_pid


def test_server_restart_idle_and_mid_call(private: wb.Sandbox) -> None:
    db = _connect(private, lock_timeout_ms=0)
    _assert_works(db)
    pid = db.conn.info.backend_pid

    private.stop()
    private.start()
    _assert_works(db)  # restarted while idle: reconnects on its own
    assert db.conn.info.backend_pid != pid

    pid = db.conn.info.backend_pid
    done = threading.Event()
    with _holding_lock(private.conninfo("faults")):
        _when_busy(private.conninfo("postgres"), pid, private.stop, done=done)
        try:
            with pytest.raises(wb.SessionLost, match="the next call reconnects") as caught:
                db.tables()
        finally:
            done.set()
    print(f"server stopped mid-call: {caught.value}")
    assert PASSWORD not in str(caught.value)
    with pytest.raises(wb.ConnectionFailed, match="cannot connect to") as down:
        db.tables()  # the server is down: a clear error, no traceback from the driver
    assert PASSWORD not in str(down.value)
    private.start()
    _assert_works(db)


# -- interrupts ---------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["explain", "tables"])
def test_keyboard_interrupt_cancels_the_server_query_within_a_second(private: wb.Sandbox, call: str) -> None:
    admin = private.conninfo("postgres")
    db = _connect(private, lock_timeout_ms=0)
    _assert_works(db)
    pid = db.conn.info.backend_pid
    sent: list[float] = []

    def interrupt() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    done = threading.Event()
    with _holding_lock(private.conninfo("faults")):
        _when_busy(admin, pid, interrupt, done=done)
        try:
            with pytest.raises(KeyboardInterrupt):
                CALLS[call](db)
        finally:
            done.set()
        while _activity(admin, pid)[0] != "idle" and time.monotonic() - sent[0] < 5:
            time.sleep(0.01)
        idle_after = time.monotonic() - sent[0]
    print(f"KeyboardInterrupt during {call}: backend idle {idle_after * 1000:.0f} ms after SIGINT")
    assert _activity(admin, pid)[0] == "idle"
    assert idle_after < 1.0
    _assert_works(db)
    assert db.conn.info.backend_pid == pid  # cancelled, not disconnected


# -- connecting ---------------------------------------------------------------------------


def test_an_address_that_never_answers_hits_the_connect_timeout() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # the kernel completes the handshake; nobody ever reads or answers
    port = listener.getsockname()[1]
    try:
        dsn = psycopg.conninfo.make_conninfo(host="127.0.0.1", port=str(port), dbname="shop", user="app")
        db = wb.connect(_dsn(dsn), connect_timeout_s=2)
        started = time.monotonic()
        with pytest.raises(wb.ConnectionFailed) as caught:
            db.tables()
        took = time.monotonic() - started
    finally:
        listener.close()
    print(f"silent address, connect_timeout_s=2: ConnectionFailed after {took:.1f} s: {caught.value}")
    assert 1.5 < took < 6
    assert "timeout" in str(caught.value) and f"port={port}" in str(caught.value)
    assert PASSWORD not in str(caught.value) and "s3cr" not in str(caught.value)
    assert resolve_target("host=db.internal dbname=shop").connect_timeout_s == 10  # on by default


def test_connections_have_tcp_keepalives_unless_the_dsn_sets_them(private: wb.Sandbox) -> None:
    def options(db: wb.Workbench) -> dict[str, str]:
        return {o.keyword.decode(): (o.val or b"").decode() for o in db.conn.pgconn.info}

    db = _connect(private)
    assert {k: options(db)[k] for k in ("keepalives", "keepalives_idle", "keepalives_count")} == {
        "keepalives": "1", "keepalives_idle": "30", "keepalives_count": "3"}
    own = wb.connect(psycopg.conninfo.make_conninfo(private.conninfo("faults"), keepalives_idle="120"))
    assert options(own)["keepalives_idle"] == "120" and options(own)["keepalives_count"] == ""


# -- load ---------------------------------------------------------------------------------


def _load_module() -> Any:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "load.py"
    spec = importlib.util.spec_from_file_location("bench_load", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_collectors_and_explain_keep_working_under_pgbench(private: wb.Sandbox) -> None:
    load = _load_module()
    conninfo = load.prepare(private.conninfo("postgres"), database="faults_load")
    result = load.run(conninfo, seconds=6, clients=4, progress=print)
    print(result.table())
    print(result.pgbench_summary)
    assert {name: errs for name, errs in result.errors.items() if errs} == {}
    assert all(len(ms) >= 1 for ms in result.latencies.values())
    assert max(max(ms) for ms in result.latencies.values()) < 30_000  # within statement_timeout
    assert "tps" in result.pgbench_summary
    assert result.samples > 50
    assert result.max_connections == 1 and result.backends_seen == 1
