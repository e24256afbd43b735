"""The ledger test: every public function, CLI command and notebook leaves a user's server as it was.

The server is a private cluster (``tests/fix_ledger.py``, PostgreSQL 18 and 15), not the
sandbox; the workbench connects as ``ledger_writer``, a role that *can* write, without
``allow_writes``. Around every call the test takes a :class:`~tests.ledger.Ledger` (table
checksums, sequences, catalogs, advisory locks, prepared transactions, sessions, statistics
resets, notifications) and checks the workbench's own session (prepared statements, cursors,
LISTEN, read-only mode). Nothing may differ. Hostile calls may be refused
(:class:`~dbworkbench.UnsafeStatement`) or refused by the server; the ledger decides.

A public member of :class:`~dbworkbench.Workbench`, a public function of ``dbworkbench`` or a
CLI command without a recipe here fails :func:`test_every_public_function_and_command_has_a_recipe`.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pandas as pd
import psycopg
import pytest
import sqlalchemy.exc
from click.testing import CliRunner
from psycopg import sql

import dbworkbench as wb
from dbworkbench.cli import main
from tests.fix_ledger import (
    BYSTANDER,
    DATABASE,
    EMPTY_DATABASE,
    PURGE_FUNCTION,
    SEQUENCE,
    SERIAL_SEQUENCE,
    WRITER_PASSWORD,
    LedgerCluster,
)
from tests.ledger import Ledger, Listener, describe, session_state

CHANNELS = ["ledger", "dbworkbench", "ledger_writer"]
NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CLEAN_SESSION = {"prepared_statements": [], "cursors": [], "listening": [], "advisory_locks": [], "temp_tables": [],
                 "default_transaction_read_only": "on", "in_transaction": False}
SETTLE_SECONDS = 2.0  # a closed session leaves pg_stat_activity within milliseconds


# -- the witnesses: sessions a careless call could end, and a listener ---------------------------


class Witness:
    """A bystander session and a LISTEN session of a plain role, opened before the run."""

    def __init__(self, cluster: LedgerCluster) -> None:
        self.cluster = cluster
        self.bystander: psycopg.Connection[Any] | None = None
        self.listener: Listener | None = None
        self.open()

    def open(self) -> None:
        self.close()
        self.bystander = psycopg.connect(self.cluster.bystander(), autocommit=True, application_name=BYSTANDER)
        self.listener = Listener(self.cluster.bystander(), CHANNELS)

    def alive(self) -> bool:
        try:
            assert self.bystander is not None and self.listener is not None
            self.bystander.execute("SELECT 1")
            return self.listener.lost is None
        except psycopg.Error:
            return False

    def close(self) -> None:
        for conn in (self.bystander, self.listener):
            if conn is not None:
                conn.close()

    def take(self, databases: str = "one", ignore_pids: tuple[int, ...] = ()) -> Ledger:
        return Ledger.take(self.cluster.admin(), DATABASE, listener=self.listener, ignore_pids=ignore_pids,
                           databases=databases)

    def settled(self, before: Ledger, databases: str = "one") -> Ledger:
        """Take the ledger again; while sessions that just closed still show, wait for them a little."""
        deadline = time.monotonic() + SETTLE_SECONDS
        after = self.take(databases)
        while (time.monotonic() < deadline and before.diff(after)
               and all(d.startswith("session") and " new: " in d for d in before.diff(after))):
            time.sleep(0.1)
            after = self.take(databases)
        return after


@pytest.fixture(scope="module")
def witness(ledger_cluster: LedgerCluster) -> Iterator[Witness]:
    w = Witness(ledger_cluster)
    yield w
    w.close()


# -- recipes: how each public function is called, normally and with hostile arguments ----------


@dataclass(frozen=True)
class Call:
    label: str
    run: Callable[[wb.Workbench, LedgerCluster], Any]
    must_refuse: bool = False  # an UnsafeStatement is the only acceptable outcome


def _dblink_target(c: LedgerCluster) -> str:
    return c.writer()


def _lit(value: str) -> str:
    return sql.Literal(value).as_string(None)


def _some_user_id(db: wb.Workbench) -> Any:
    return db.conn.execute("SELECT user_id FROM posts ORDER BY id LIMIT 1").fetchone()[0]  # type: ignore[index]


def _explain(text: str | Callable[[LedgerCluster], str], *, analyze: bool = True, must_refuse: bool = False,
             label: str | None = None) -> Call:
    def run(db: wb.Workbench, c: LedgerCluster) -> Any:
        return db.explain(text(c) if callable(text) else text, analyze=analyze)

    shown = label or (text if isinstance(text, str) else "?")
    return Call(f"explain({shown!r}{'' if analyze else ', analyze=False'})", run, must_refuse)


def _read_sql_through_engine(db: wb.Workbench, c: LedgerCluster) -> Any:
    return pd.read_sql("SELECT count(*) AS n FROM posts", db.engine)


def _write_through_engine(db: wb.Workbench, c: LedgerCluster) -> Any:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET note = 'engine wrote this'")


def _snapshot_delta(db: wb.Workbench, c: LedgerCluster) -> Any:
    before = db.snapshot()
    time.sleep(0.01)
    return db.snapshot() - before


def _with_connect(c: LedgerCluster, use: Callable[[wb.Workbench], Any], **kwargs: Any) -> Any:
    with wb.connect(c.writer(), **kwargs) as other:
        return use(other)


_PLAN_JSON = json.dumps([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "posts", "Alias": "posts",
                                   "Startup Cost": 0.0, "Total Cost": 10.0, "Plan Rows": 100, "Plan Width": 8}}])

RECIPES: dict[str, list[Call]] = {
    "Workbench.conn": [Call("db.conn.info.server_version", lambda db, c: db.conn.info.server_version)],
    "Workbench.server": [Call("db.server", lambda db, c: (db.server.version, repr(db)))],
    "Workbench.capabilities": [Call("db.capabilities", lambda db, c: db.capabilities)],
    "Workbench.engine": [
        Call("pd.read_sql(SELECT, db.engine)", _read_sql_through_engine),
        Call("UPDATE through db.engine", _write_through_engine),
    ],
    "Workbench.refresh": [Call("db.refresh()", lambda db, c: db.refresh())],
    "Workbench.close": [Call("db.close()", lambda db, c: db.close())],
    "Workbench.statements": [
        Call("db.statements()", lambda db, c: db.statements()),
        Call("db.statements(all_databases=True, include_own=True)",
             lambda db, c: db.statements(all_databases=True, include_own=True)),
    ],
    "Workbench.tables": [Call("db.tables()", lambda db, c: db.tables())],
    "Workbench.indexes": [Call("db.indexes()", lambda db, c: db.indexes())],
    "Workbench.column_stats": [
        Call("db.column_stats()", lambda db, c: db.column_stats()),
        Call("db.column_stats('posts', values=False)", lambda db, c: db.column_stats("posts", values=False)),
        Call("db.column_stats(hostile name)", lambda db, c: db.column_stats("posts'; DELETE FROM comments; --")),
        Call("db.column_stats(hostile quoted name)", lambda db, c: db.column_stats('"; DROP TABLE comments; --')),
    ],
    "Workbench.settings": [Call("db.settings()", lambda db, c: db.settings())],
    "Workbench.explain": [
        _explain("SELECT title FROM posts WHERE status = 'published' ORDER BY published_at DESC LIMIT 10"),
        _explain("SELECT title FROM posts WHERE status = 'published' ORDER BY published_at DESC LIMIT 10",
                 analyze=False),
        Call("explain('SELECT * FROM posts WHERE user_id = $1', params=[id])",
             lambda db, c: db.explain("SELECT * FROM posts WHERE user_id = $1", params=[_some_user_id(db)])),
        Call("explain('SELECT * FROM posts WHERE user_id = $1') (generic plan)",
             lambda db, c: db.explain("SELECT * FROM posts WHERE user_id = $1")),
        Call("explain('... WHERE title = $1', params=[hostile text])",
             lambda db, c: db.explain("SELECT * FROM posts WHERE title = $1",
                                      params=["x'); DELETE FROM comments; --"])),
        _explain("UPDATE posts SET title = 'ledger'", must_refuse=True),
        _explain("SELECT 1; DELETE FROM comments", must_refuse=True),
        _explain("WITH d AS (DELETE FROM comments RETURNING 1) SELECT count(*) FROM d", must_refuse=True),
        _explain("EXPLAIN ANALYZE DELETE FROM comments", must_refuse=True),
        _explain("DO $$ BEGIN DELETE FROM comments; END $$", must_refuse=True),
        _explain("SELECT * FROM posts FOR UPDATE"),
        _explain("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"),
        _explain(f"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '{BYSTANDER}'"),
        _explain("SELECT pg_advisory_lock(1)"),
        _explain("SELECT pg_advisory_lock(1)", analyze=False),
        _explain("SELECT pg_try_advisory_lock(3)"),
        _explain(f"SELECT nextval('{SEQUENCE}')"),
        _explain(f"SELECT nextval('{SERIAL_SEQUENCE}')"),
        _explain(f"SELECT setval('{SEQUENCE}', 1000)"),
        _explain("SELECT pg_notify('ledger', 'x')"),
        _explain(lambda c: f"SELECT dblink_exec({_lit(_dblink_target(c))}, 'DELETE FROM comments')",
                 label="SELECT dblink_exec('<ledger_writer conninfo>', 'DELETE FROM comments')"),
        _explain(lambda c: f"SELECT * FROM dblink({_lit(_dblink_target(c))}, "
                           "'DELETE FROM audit_log RETURNING id') AS t(id bigint)",
                 label="SELECT * FROM dblink('<conninfo>', 'DELETE FROM audit_log RETURNING id') AS t(id bigint)"),
        _explain(lambda c: f"SELECT dblink_connect('ledger_link', {_lit(_dblink_target(c))})",
                 label="SELECT dblink_connect('ledger_link', '<conninfo>')"),
        _explain(f"SELECT {PURGE_FUNCTION}()"),
        _explain("SELECT set_config('default_transaction_read_only', 'off', false)"),
        _explain("SELECT lo_create(424242)"),
        _explain("SELECT pg_stat_reset()"),
        _explain("SELECT pg_stat_statements_reset()"),
    ],
    "Workbench.load_demo": [
        Call("db.load_demo('tiny')", lambda db, c: db.load_demo("tiny", progress=False), must_refuse=True),
        Call("db.load_demo('tiny', replace=True)", lambda db, c: db.load_demo("tiny", replace=True, progress=False),
             must_refuse=True),
    ],
    "Workbench.health": [
        Call("db.health()", lambda db, c: db.health()),
        Call("db.health(exact_bloat=True)", lambda db, c: db.health(exact_bloat=True)),
        Call("db.health(checks=['fk_without_index'])", lambda db, c: db.health(checks=["fk_without_index"])),
    ],
    "Workbench.snapshot": [Call("db.snapshot() - db.snapshot()", _snapshot_delta)],
    "Workbench.workload": [Call("db.workload()", lambda db, c: db.workload(min_calls=1))],
    "Workbench.compare": [
        Call("db.compare(feed, rewrite)", lambda db, c: db.compare(
            "SELECT title FROM posts WHERE status = 'published' ORDER BY published_at DESC LIMIT 10",
            "SELECT title FROM posts WHERE status = 'published' ORDER BY published_at DESC, id LIMIT 10",
            runs=3, warmup=1, progress=False, buffers_every=2).plan_diff),
        Call("db.compare($1 with params)", lambda db, c: db.compare(
            "SELECT * FROM posts WHERE user_id = $1", "SELECT * FROM posts WHERE user_id = ANY($1)",
            [_some_user_id(db)], params_b=[[_some_user_id(db)]], runs=2, warmup=0, progress=False)),
        Call("db.compare(UPDATE, SELECT)", lambda db, c: db.compare("UPDATE posts SET title = 'ledger'", "SELECT 1",
                                                                    progress=False), must_refuse=True),
        Call("db.compare(SELECT, SELECT 1; DELETE)", lambda db, c: db.compare("SELECT 1", "SELECT 1; DELETE FROM comments",
                                                                             progress=False), must_refuse=True),
        Call("db.compare(pg_advisory_lock)", lambda db, c: db.compare("SELECT pg_advisory_lock(1)", "SELECT 1",
                                                                      runs=2, progress=False)),
        Call(f"db.compare(nextval('{SEQUENCE}'))", lambda db, c: db.compare(f"SELECT nextval('{SEQUENCE}')", "SELECT 1",
                                                                           runs=2, progress=False)),
    ],
    "Workbench.same_results": [
        Call("db.same_results(ordered, reversed)", lambda db, c: db.same_results(
            "SELECT id FROM comments ORDER BY id", "SELECT id FROM comments ORDER BY id DESC")),
        Call("db.same_results(all, without NULLs)", lambda db, c: db.same_results(
            "SELECT id, parent_id FROM comments", "SELECT id, parent_id FROM comments WHERE parent_id IS NOT NULL")),
        Call("db.same_results(DELETE RETURNING, SELECT)", lambda db, c: db.same_results(
            "DELETE FROM comments RETURNING id", "SELECT id FROM comments"), must_refuse=True),
        Call(f"db.same_results(nextval('{SEQUENCE}'))", lambda db, c: db.same_results(
            f"SELECT nextval('{SEQUENCE}')", "SELECT 1")),
    ],
    "Workbench.n_plus_one": [
        Call("db.n_plus_one(min_calls=1)", lambda db, c: db.n_plus_one(min_calls=1)),
        Call("db.n_plus_one(delta)", lambda db, c: db.n_plus_one(_snapshot_delta(db, c), min_calls=1)),
    ],
    "Workbench.advise": [
        # PostgreSQL 15 has HypoPG installed here; without it (18) advise must refuse, naming what to do
        Call("db.advise(50)", lambda db, c: db.advise(50, progress=False)),
        Call("db.advise(50, workload=[hostile SQL], method='optimum')",
             lambda db, c: db.advise(50, workload=["SELECT * FROM posts WHERE user_id = $1 AND status = 'draft'",
                                                   "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
                                                   "DELETE FROM comments WHERE user_id = $1",
                                                   "SELECT 1; DELETE FROM comments"], method="optimum", progress=False)),
        # read-only: never real indexes here (HypoPG is used where installed, else a refusal)
        Call("db.advise(50, allow_real_indexes=True)", lambda db, c: db.advise(50, allow_real_indexes=True, progress=False)),
    ],
    "dbworkbench.connect": [
        Call("wb.connect(dsn) and a query", lambda db, c: _with_connect(c, lambda other: other.tables())),
        Call("wb.connect(dsn, statement_timeout_ms=1000)",
             lambda db, c: _with_connect(c, lambda other: other.settings(), statement_timeout_ms=1000)),
    ],
    "dbworkbench.parse_plan": [Call("wb.parse_plan(json)", lambda db, c: wb.parse_plan(_PLAN_JSON).nodes)],
    "dbworkbench.read_auto_explain": [Call("wb.read_auto_explain(log)", lambda db, c: wb.read_auto_explain(
        "2026-01-01 00:00:00 UTC [1] LOG:  duration: 1.0 ms  plan:\n\t" + _PLAN_JSON).nodes)],
    "dbworkbench.safe_tables": [Call("wb.safe_tables()", lambda db, c: wb.safe_tables())],
    "dbworkbench.setup_notebook": [Call("wb.setup_notebook()", lambda db, c: wb.setup_notebook())],
    "dbworkbench.build_report": [Call("wb.build_report(dsn) (notebook 06_report)", lambda db, c: wb.build_report(
        c.writer(), Path(tempfile.mkdtemp(prefix="dwbrep-", dir="/tmp")) / "report.html", progress=False))],
    "Workbench.lint": [
        Call("db.lint(SELECT * ... lower(email) ... NOT IN ...)",
             lambda db, c: db.lint("SELECT * FROM users u WHERE lower(u.email) = lower($1) "
                                   "AND u.id NOT IN (SELECT p.user_id FROM posts p)")),
        Call("db.lint(hostile statements)",
             lambda db, c: db.lint("DELETE FROM comments; DROP TABLE posts; SELECT pg_terminate_backend(pid) FROM pg_stat_activity")),
    ],
    "dbworkbench.lint": [Call("wb.lint(sql)", lambda db, c: wb.lint("SELECT * FROM posts ORDER BY random() LIMIT 1 OFFSET $1"))],
}


def public_names() -> set[str]:
    """Public members of Workbench and public functions of the package: each needs a recipe."""
    members = {f"Workbench.{n}" for n, _ in inspect.getmembers(wb.Workbench) if not n.startswith("_")}
    functions = {f"dbworkbench.{n}" for n in wb.__all__
                 if callable(getattr(wb, n)) and not inspect.isclass(getattr(wb, n))}
    return members | functions


def cli_commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> set[str]:
    out: set[str] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out |= cli_commands(command, (*prefix, name))
        else:
            out.add(" ".join((*prefix, name)))
    return out


# -- CLI recipes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cli:
    args: Callable[[LedgerCluster, Path], list[str]]
    must_refuse: bool = False  # exit status 1 with a message naming --allow-writes
    stdin: str | None = None
    env: Callable[[Path], dict[str, str]] = field(default=lambda tmp: {})


def _dsn(*args: str, db: str = DATABASE) -> Callable[[LedgerCluster, Path], list[str]]:
    return lambda c, tmp: [*args, "--dsn", c.writer(db)]


def _home(tmp: Path) -> dict[str, str]:
    return {"DBWORKBENCH_HOME": str(tmp / "home")}


def _plan_file(c: LedgerCluster, tmp: Path) -> list[str]:
    path = tmp / "plan.json"
    path.write_text(_PLAN_JSON)
    return ["explain", str(path)]


def _sql_files(tmp: Path, a: str, b: str) -> list[str]:
    (tmp / "a.sql").write_text(a)
    (tmp / "b.sql").write_text(b)
    return ["compare", str(tmp / "a.sql"), str(tmp / "b.sql")]


# Sandbox commands take no DSN: they run against a throwaway sandbox home, and the ledger
# shows they never reach the user's server.
CLI_RECIPES: dict[str, list[Cli]] = {
    "show": [Cli(_dsn("show", what, "--format", fmt)) for what, fmt in
             [("statements", "table"), ("tables", "json"), ("indexes", "csv"), ("settings", "table"),
              ("column-stats", "table")]] + [Cli(_dsn("show", "column-stats", "--table", "posts"))],
    "health": [Cli(_dsn("health")), Cli(_dsn("health", "--format", "json", "--all")),
               Cli(_dsn("health", "--format", "markdown", "--fail-on", "warn"))],
    "explain": [
        Cli(_dsn("explain", "--sql", "SELECT count(*) FROM posts")),
        Cli(_dsn("explain", "--sql", "SELECT * FROM users WHERE email = 'x'", "--no-analyze", "--format", "json")),
        Cli(_dsn("explain", "--sql", "UPDATE posts SET title = 'cli'")),
        Cli(_dsn("explain", "--sql", "SELECT pg_advisory_lock(2)")),
        Cli(_dsn("explain", "--sql", f"SELECT {PURGE_FUNCTION}()")),
        Cli(_plan_file),
        Cli(lambda c, tmp: ["explain", "-"], stdin=_PLAN_JSON),
    ],
    "lint": [
        Cli(_dsn("lint", "-"), stdin="SELECT * FROM users WHERE lower(email) = lower($1); DELETE FROM comments"),
        Cli(lambda c, tmp: ["lint", "--format", "json", "-"], stdin="UPDATE posts SET title = 'x' WHERE id NOT IN (SELECT 1)"),
    ],
    "demo load": [
        Cli(_dsn("demo", "load", "--scale", "tiny")),
        Cli(_dsn("demo", "load", "--scale", "tiny", "--replace"), must_refuse=True),
        Cli(_dsn("demo", "load", "--scale", "tiny", db=EMPTY_DATABASE), must_refuse=True),
    ],
    "workload run": [Cli(_dsn("workload", "run", "--iterations", "5"), must_refuse=True)],
    # advise: runs where HypoPG is installed (15 here), refuses cleanly where it is not (18); --out writes files only
    "advise": [Cli(lambda c, tmp: _dsn("advise", "--budget-mb", "20", "--out", str(tmp / "migrations"))(c, tmp)),
               Cli(_dsn("advise", "--budget-mb", "20", "--format", "json", "--method", "optimum"))],
    "compare": [Cli(lambda c, tmp: _sql_files(tmp, "SELECT count(*) FROM posts", "SELECT count(id) FROM posts")
                    + ["--runs", "2", "--warmup", "0", "--dsn", c.writer()]),
                Cli(lambda c, tmp: _sql_files(tmp, "DELETE FROM comments", "SELECT 1") + ["--dsn", c.writer()],
                    must_refuse=True)],
    "tpch load": [Cli(_dsn("tpch", "load", "--sf", "0.01"), must_refuse=True),
                  Cli(_dsn("tpch", "load", "--sf", "0.01", db=EMPTY_DATABASE), must_refuse=True)],
    "sandbox status": [Cli(lambda c, tmp: ["sandbox", "status"], env=_home)],
    "sandbox start": [Cli(lambda c, tmp: ["sandbox", "start"], env=_home)],
    "sandbox url": [Cli(lambda c, tmp: ["sandbox", "url"], env=_home)],
    "lab": [Cli(lambda c, tmp: ["lab", "--no-lab", "--scale", "tiny", "--iterations", "5"], env=_home)],
    "report": [Cli(lambda c, tmp: ["report", "--dsn", c.writer(), "--out", str(tmp / "report.html"), "--column-stats"])],
    "sandbox stop": [Cli(lambda c, tmp: ["sandbox", "stop"], env=_home)],
}


SANDBOX_ONLY = {"sandbox status", "sandbox start", "sandbox url", "lab", "sandbox stop"}


# -- running and judging ----------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    result: str
    differences: list[str]

    def line(self) -> str:
        return f"{self.label}: {self.result}" + "".join(f"\n    DIFF {d}" for d in self.differences)


def _baseline(witness: Witness, previous: Ledger | None) -> Ledger:
    """The ledger before the next call: the previous call's last one, unless a witness had to be reopened."""
    if not witness.alive():
        witness.open()
        previous = None
    return previous or witness.take()


def _run_call(witness: Witness, call: Call, before: Ledger) -> tuple[Outcome, Ledger]:
    """One call on a fresh Workbench, between two ledgers; its session must end clean."""
    c = witness.cluster
    db = wb.connect(c.writer())
    try:
        call.run(db, c)
        result = "ran"
    except wb.UnsafeStatement as err:
        result = f"refused (UnsafeStatement: {str(err)[:100]})"
    except wb.WorkbenchError as err:
        result = f"{type(err).__name__}: {str(err)[:100]}"
    except (psycopg.Error, sqlalchemy.exc.DBAPIError) as err:
        cause = getattr(err, "orig", None) or err
        result = f"server refused ({type(cause).__name__}: {str(cause).strip().splitlines()[0][:100]})"
    differences: list[str] = []
    if call.must_refuse and not result.startswith("refused"):
        differences.append(f"expected a refusal (UnsafeStatement), got: {result}")
    state = session_state(db.conn)
    if state != CLEAN_SESSION:
        differences.append(f"the workbench's session holds {_unclean(state)}")
    while_open = witness.take("none", ignore_pids=(db.conn.info.backend_pid,))
    differences += before.diff(while_open)
    db.close()
    after = witness.settled(before)
    differences += [d for d in before.diff(after) if d not in differences]
    return Outcome(call.label, result, differences), after


def _unclean(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if CLEAN_SESSION[k] != v}


def _report(title: str, cluster: LedgerCluster, counts: dict[str, int], outcomes: list[Outcome]) -> str:
    lines = [f"{title} on {cluster.name} (server {cluster.version}): compared {describe(counts)}",
             *(o.line() for o in outcomes)]
    return "\n".join(lines)


def _assert_no_differences(title: str, cluster: LedgerCluster, first: Ledger, last: Ledger,
                           outcomes: list[Outcome]) -> None:
    overall = first.diff(last)
    report = _report(title, cluster, first.counts(), outcomes)
    if overall:
        report += "\nOVERALL (first ledger -> last):" + "".join(f"\n    DIFF {d}" for d in overall)
    print(report)
    assert not overall and not any(o.differences for o in outcomes), report


# -- the tests ------------------------------------------------------------------------------------


def test_every_public_function_and_command_has_a_recipe() -> None:
    missing = sorted(public_names() - RECIPES.keys())
    stale = sorted(RECIPES.keys() - public_names())
    assert not missing, f"public functions without a ledger recipe (add them to RECIPES): {missing}"
    assert not stale, f"RECIPES names functions that are gone: {stale}"
    commands = cli_commands()
    assert not sorted(commands - CLI_RECIPES.keys()), f"CLI commands without a recipe: {sorted(commands - CLI_RECIPES.keys())}"
    assert not sorted(CLI_RECIPES.keys() - commands), f"CLI_RECIPES names commands that are gone: {sorted(CLI_RECIPES.keys() - commands)}"


def test_the_ledger_sees_a_real_change(ledger_cluster: LedgerCluster, witness: Witness) -> None:
    """The control: real changes through a superuser session are each named by the diff."""
    before = witness.take("all")
    assert before.diff(witness.take("all")) == [], "two ledgers in a row differ: the ledger is not stable"
    with psycopg.connect(ledger_cluster.admin(), autocommit=True) as conn:
        conn.execute("SELECT nextval(%s)", [SEQUENCE])
        conn.execute("UPDATE audit_log SET note = note || '!' WHERE id = 1")
        conn.execute("SELECT pg_notify('ledger', 'control')")
        conn.execute("SELECT pg_advisory_lock(4242)")
        conn.execute("CREATE TABLE ledger_control (id int)")
        conn.execute("ALTER ROLE ledger_bystander SET work_mem = '8MB'")
        with psycopg.connect(ledger_cluster.admin("postgres"), autocommit=True) as other:
            other.execute("CREATE TABLE elsewhere AS SELECT 1 AS one")
        during = witness.take("all")
        conn.execute("SELECT pg_advisory_unlock(4242)")
        conn.execute("DROP TABLE ledger_control")
        conn.execute("ALTER ROLE ledger_bystander RESET work_mem")
        with psycopg.connect(ledger_cluster.admin("postgres"), autocommit=True) as other:
            other.execute("DROP TABLE elsewhere")
    differences = "\n".join(before.diff(during))
    for expected in (f"sequence ledger.public.{SEQUENCE}", "table ledger.public.audit_log",
                     "notification received: channel 'ledger' payload 'control'", "advisory lock new",
                     "catalog ledger.pg_class", "catalog pg_db_role_setting", "table postgres.public.elsewhere",
                     "session (pid, user, database, application_name, type) new"):
        assert expected in differences, f"{expected!r} not in the ledger's differences:\n{differences}"
    # the sequence and the row stay changed: a new baseline for the tests that follow
    assert [d.split(":")[0] for d in before.diff(witness.settled(before, "all"))] == [
        "table ledger.public.audit_log", f"sequence ledger.public.{SEQUENCE}"]


def test_public_functions_change_nothing(ledger_cluster: LedgerCluster, witness: Witness) -> None:
    first = witness.take("all")
    outcomes: list[Outcome] = []
    ledger: Ledger | None = None
    for name in sorted(RECIPES):
        for call in RECIPES[name]:
            outcome, ledger = _run_call(witness, call, _baseline(witness, ledger))
            outcomes.append(outcome)
    if not witness.alive():
        witness.open()
    last = witness.settled(first, "all")
    _assert_no_differences("public functions", ledger_cluster, first, last, outcomes)


def test_cli_commands_change_nothing(ledger_cluster: LedgerCluster, witness: Witness) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="dwblc-", dir="/tmp"))
    first = witness.take("all")
    outcomes: list[Outcome] = []
    ledger: Ledger | None = None
    try:
        for name in CLI_RECIPES:
            if name in SANDBOX_ONLY and ledger_cluster.name != "pg18":
                continue  # they take no DSN: one cluster shows they never reach it
            for recipe in CLI_RECIPES[name]:
                outcome, ledger = _run_cli(witness, tmp, recipe, _baseline(witness, ledger))
                outcomes.append(outcome)
    finally:
        home = tmp / "home"
        if home.exists() and wb.Sandbox(home).status().running:
            wb.Sandbox(home).stop()
        shutil.rmtree(tmp, ignore_errors=True)
    last = witness.settled(first, "all")
    _assert_no_differences("CLI commands", ledger_cluster, first, last, outcomes)


def _run_cli(witness: Witness, tmp: Path, recipe: Cli, before: Ledger) -> tuple[Outcome, Ledger]:
    args = recipe.args(witness.cluster, tmp)
    env = {"DBWORKBENCH_DSN": None, **recipe.env(tmp)}
    result = CliRunner().invoke(main, args, input=recipe.stdin, env=env)  # type: ignore[arg-type]
    output = result.output  # stdout and stderr, interleaved
    shown = " ".join("--dsn <ledger_writer conninfo>" if a.startswith("host=") else a for a in args)
    shown = shown.replace("--dsn --dsn", "--dsn")
    after = witness.settled(before)
    differences = before.diff(after)
    last_line = output.strip().splitlines()[-1][:100] if output.strip() else ""
    if WRITER_PASSWORD in output or "pw'" in output:
        differences.append("the password appears in the output")
    if "Traceback" in output or (result.exception is not None and not isinstance(result.exception, SystemExit)):
        differences.append(f"a traceback / unexpected exception: {result.exception!r}")
    if recipe.must_refuse and not (result.exit_code == 1 and "--allow-writes" in output):
        differences.append(f"expected a refusal naming --allow-writes, got exit {result.exit_code}: {last_line}")
    return Outcome(f"dbworkbench {shown}", f"exit {result.exit_code}: {last_line}", differences), after


# A notebook that only the sandbox can run in full may refuse cleanly: these are its refusals.
CLEAN_REFUSALS = ("UnsafeStatement", "WorkbenchError", "ExtensionMissing")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_change_nothing(ledger_cluster: LedgerCluster, witness: Witness, notebook: Path,
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if not witness.alive():
        witness.open()
    monkeypatch.setenv("DBWORKBENCH_DSN", ledger_cluster.writer())
    first = witness.take("all")
    out = tmp_path / notebook.name
    try:
        papermill.execute_notebook(str(notebook), str(out), parameters={"observe_seconds": 1.0},
                                   kernel_name="python3", cwd=str(notebook.parent), progress_bar=False,
                                   execution_timeout=300)
        result = "ran every cell"
    except PapermillExecutionError as err:
        result = f"cell {err.exec_count} raised {err.ename}: {err.evalue[:150]}"
        assert err.ename in CLEAN_REFUSALS, f"{notebook.name} failed on {ledger_cluster.name}: {result}"
    last = witness.settled(first, "all")
    written = out.read_text() if out.exists() else ""
    leaks = ["the password appears in the notebook's output"] if (
        WRITER_PASSWORD in written or json.dumps(WRITER_PASSWORD)[1:-1] in written) else []
    outcome = Outcome(f"notebook {notebook.name} (DBWORKBENCH_DSN=<ledger_writer conninfo>)", result, leaks)
    _assert_no_differences("notebook", ledger_cluster, first, last, [outcome])


def test_the_test_clusters_are_not_the_sandbox(ledger_cluster: LedgerCluster) -> None:
    with psycopg.connect(ledger_cluster.writer(), autocommit=True) as conn:
        row = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    assert row == ("ledger_writer", False)
    db = wb.connect(ledger_cluster.writer())
    try:
        assert not db.target.is_sandbox and not db.target.allow_writes
        assert os.environ.get("DBWORKBENCH_HOME") != ledger_cluster.socket_dir
    finally:
        db.close()
