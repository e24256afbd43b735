"""The front door: :func:`connect` gives a :class:`Workbench` on one database."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg

from . import catalog, collectors
from ._faults import guarded, usable
from .errors import ExtensionMissing, UnsafeStatement
from .server import ServerInfo
from .snapshot import Snapshot, SnapshotDelta
from .target import CONNECT_TIMEOUT_S, Target, resolve_target

if TYPE_CHECKING:
    import sqlalchemy

    from .advisor.advice import Advice
    from .plans import Plan
    from .timing import Comparison, SameResults


class Workbench:
    """One database, with session guards, and the collectors as methods.

    Each collector returns a DataFrame whose columns and dtypes are listed in
    :mod:`dbworkbench.collectors` (``STATEMENTS_COLUMNS``, ``TABLES_COLUMNS``, ...).
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self._conn: psycopg.Connection[Any] | None = None

    def __repr__(self) -> str:
        mode = "sandbox" if self.target.is_sandbox else ("writes allowed" if self.target.allow_writes else "read-only")
        version = f"PostgreSQL {self.server.version}" if self._conn is not None else "not connected"
        return f"<Workbench {self.target.display} ({version}, {mode})>"

    # -- connection ------------------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection[Any]:
        """The workbench's autocommit connection, reopened if it was closed, broke, or the
        server ended it while it was idle (a terminated session, a server restart)."""
        if self._conn is None or not usable(self._conn):
            self.close()
            self._conn = self.target.connect()
        return self._conn

    @cached_property
    def server(self) -> ServerInfo:
        """Version, role and extensions of the server."""
        return ServerInfo.read(self.conn)

    @property
    def capabilities(self) -> dict[str, bool]:
        """Feature flags: pg_stat_statements, hypopg, EXPLAIN GENERIC_PLAN/SERIALIZE/MEMORY, ..."""
        return self.server.capabilities

    @cached_property
    def engine(self) -> sqlalchemy.engine.Engine:
        """A SQLAlchemy Engine for ``pd.read_sql``: its connections carry the same session guards,
        and every statement it sends passes the same gate as :meth:`explain` (it is not rolled back)."""
        import sqlalchemy

        from .guard import guard_engine

        engine = sqlalchemy.create_engine(
            "postgresql+psycopg://", creator=lambda: self.target.connect(autocommit=False), poolclass=sqlalchemy.pool.NullPool
        )
        guard_engine(engine, read_only=not self.target.allow_writes)
        return engine

    def refresh(self) -> None:
        """Forget cached server facts (after CREATE EXTENSION, say)."""
        self.__dict__.pop("server", None)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Workbench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- collectors --------------------------------------------------------------------

    @guarded
    def statements(self, *, all_databases: bool = False, include_own: bool = False) -> pd.DataFrame:
        """pg_stat_statements for this database, slowest in total first.

        Columns: queryid, query, calls, total/mean/stddev/min/max_exec_ms, total_plan_ms,
        rows, rows_per_call, shared_blks_hit/read/dirtied/written, temp_blks_read/written,
        blk_read_ms, blk_write_ms, wal_bytes, cache_hit_ratio, share_of_total_time, then
        database, user, toplevel, local_blks_hit/read, wal_records (dtypes:
        ``collectors.STATEMENTS_COLUMNS``). ``include_own=True`` keeps dbworkbench's own
        catalog queries; ``all_databases=True`` every database's statements.

        >>> db.statements().head(3)[["query", "calls", "total_exec_ms"]]  # doctest: +SKIP
        """
        return collectors.statements(self.conn, self.server, all_databases=all_databases, include_own=include_own)

    @guarded
    def tables(self) -> pd.DataFrame:
        """User tables: live/dead tuples, seq vs index scans, cache hits, sizes, vacuum times.

        Columns and dtypes: ``collectors.TABLES_COLUMNS``.
        """
        return collectors.tables(self.conn, self.server)

    @guarded
    def indexes(self) -> pd.DataFrame:
        """User indexes: definition, key columns, unique/primary/valid/partial, constraint, scans, bytes.

        Columns and dtypes: ``collectors.INDEXES_COLUMNS``.
        """
        return collectors.indexes(self.conn, self.server)

    @guarded
    def column_stats(self, table: str | None = None, *, values: bool = True) -> pd.DataFrame:
        """Planner statistics per column of ``table`` (or of every user table).

        ``values=False`` leaves out most_common_vals and histogram_bounds (they hold real data).
        Columns and dtypes: ``collectors.COLUMN_STATS_COLUMNS``.

        >>> db.column_stats("posts", values=False)  # doctest: +SKIP
        """
        return collectors.column_stats(self.conn, self.server, table, values=values)

    @guarded
    def settings(self) -> pd.DataFrame:
        """Every server setting with unit, category, source and pending_restart.

        Columns and dtypes: ``collectors.SETTINGS_COLUMNS``.
        """
        return collectors.settings(self.conn, self.server)

    @guarded
    def explain(
        self, sql: str, params: Sequence[Any] | None = None, *, analyze: bool = True, allow_side_effects: bool = False
    ) -> Plan:
        """EXPLAIN one statement and parse it into a :class:`~dbworkbench.plans.Plan`.

        The statement passes the safety gate first (:mod:`dbworkbench.guard`): one statement,
        no transaction control; with ANALYZE (the default: BUFFERS, WAL, SETTINGS, VERBOSE;
        SERIALIZE and MEMORY on 17+) it runs inside a transaction that is always rolled back, so a
        writing statement on a read-only target is refused unless ``analyze=False``, and calls
        whose effects a rollback does not undo (``pg_terminate_backend``, ``nextval``, advisory
        locks, VOLATILE user functions, ...) are refused unless ``allow_side_effects=True``; the
        plan then lists them in ``plan.cannot_undo``. ``$1``-style text without ``params`` gets the
        planner's generic plan (estimates only); with ``params`` it is prepared and executed.

        >>> db.explain("SELECT * FROM posts WHERE user_id = $1", params=[some_id]).insights()  # doctest: +SKIP
        """
        from .explain import run_explain

        return run_explain(
            self.conn, self.server, self.target, sql, params, analyze=analyze, allow_side_effects=allow_side_effects
        )

    @guarded
    def lint(self, sql: str) -> pd.DataFrame:
        """:func:`dbworkbench.sqltools.lint` with this database's catalog: indexes (an existing
        expression or trigram index silences its finding), column types, NOT NULL (NOT IN becomes
        NOT EXISTS only where no NULL can change the rows) and table sizes. Reads the catalog only.

        Same columns and dtypes as ``dbworkbench.lint`` (``sqltools.COLUMNS``).

        >>> db.lint("SELECT * FROM users WHERE lower(email) = lower($1)")[["code", "severity"]]  # doctest: +SKIP
        """
        from .advisor.schema import SchemaInfo
        from .sqltools import lint

        return lint(sql, schema=SchemaInfo.read(self))

    @guarded
    def load_demo(self, scale: str = "tiny", *, replace: bool = False, progress: bool = True) -> dict[str, Any]:
        """Load the demo blog database here (a write: the sandbox, or ``allow_writes=True``).

        ``replace=True`` drops only what the demo loader made (its tables, types and
        function carry a ``dbworkbench demo`` comment) and refuses, changing nothing, when a
        user's object has one of the demo's names or depends on a demo object. On the
        sandbox, pg_stat_statements is reset afterwards so the load's own statements
        don't top the list. Returns what :func:`datasets.load_demo` returns.
        """
        from .datasets.demo import load_demo

        if not self.target.allow_writes:
            raise UnsafeStatement(
                f"loading the demo writes, and {self.target.display} is read-only; connect with allow_writes=True (on the command line: --allow-writes)"
            )
        result = load_demo(self.conn, scale, replace=replace, progress=progress)
        self.refresh()
        if self.target.is_sandbox and self.server.has_extension("pg_stat_statements"):
            self.conn.execute("SELECT pg_stat_statements_reset()")
        return result

    @guarded
    def health(self, *, exact_bloat: bool | None = None, **kwargs: Any) -> pd.DataFrame:
        """The health checklist: one row per check and object, failures first.

        Columns: check, status (fail|warn|pass|skip), severity (critical|warning|info),
        object, evidence, recommendation, fix_sql (all strings; ``health.HEALTH_COLUMNS``).
        Keyword arguments go to :func:`dbworkbench.health.health`: ``checks=[...]``,
        ``thresholds=HealthThresholds(...)`` or single thresholds by name, ``ram_bytes=``,
        ``storage="ssd"|"hdd"``. ``exact_bloat``: measure flagged bloat with pgstattuple
        (it reads whole relations); ``None`` means on for the sandbox, off elsewhere.

        >>> db.health().query("status == 'fail'")[["check", "object", "fix_sql"]]  # doctest: +SKIP
        """
        from .health import health

        if exact_bloat is None:
            exact_bloat = self.target.is_sandbox
        return health(self.conn, self.server, exact_bloat=exact_bloat, **kwargs)

    @guarded
    def workload(self, *, top: int = 20, min_calls: int = 2) -> pd.DataFrame:
        """The statements that matter, from pg_stat_statements: the ``top`` by total time called at
        least ``min_calls`` times, and every write (their rate makes indexes cost more).

        Columns and dtypes: ``advisor.workload.WORKLOAD_COLUMNS`` (query, calls, total_ms, rows,
        kind, tables, source, queryid).

        >>> db.workload(top=10)[["query", "calls", "kind"]]  # doctest: +SKIP
        """
        from .advisor.workload import from_statements

        return from_statements(self.statements(), top=top, min_calls=min_calls)

    @guarded
    def advise(
        self,
        budget_mb: float = 500.0,
        *,
        workload: Any = None,
        top: int = 20,
        min_calls: int = 2,
        max_indexes: int | None = None,
        write_weight: float = 1.0,
        method: str = "greedy",
        min_benefit: float | None = None,
        allow_real_indexes: bool = False,
        progress: bool = True,
    ) -> Advice:
        """Index advice: the set of new indexes that lowers the workload's estimated cost most
        within ``budget_mb``, each with what it buys, and existing indexes to drop.

        ``workload``: None (:meth:`workload` with ``top``/``min_calls``), a list of SQL strings
        (``$n`` allowed), an auto_explain log (:func:`dbworkbench.read_auto_explain`), or a
        workload or ``statements()`` frame (a snapshot delta's too).
        Costs come from HypoPG where it is installed, else (the sandbox, or
        ``allow_real_indexes=True`` on a target with writes allowed) from real indexes built in
        a transaction that is rolled back. ``method="optimum"`` solves it exactly (an integer
        program, for small sets); ``write_weight`` scales what index upkeep costs the workload's
        writes; ``min_benefit``: each index must save at least this share of the workload's
        estimated cost given the others (None: 0.005, half a percent; 0: any gain that fits). Returns an :class:`~dbworkbench.advisor.advice.Advice`: ``.selected``,
        ``.per_statement``, ``.figure()``, ``.migration()``, ``.write_migration(folder)``,
        ``.verify(db)`` (sandbox).

        >>> advice = db.advise(budget_mb=50); advice.selected[["index_sql", "benefit_pct"]]  # doctest: +SKIP
        """
        from .advisor._advise import Advisor, _check_method

        _check_method(method)  # before the workload is costed
        with Advisor(self, workload=workload, top=top, min_calls=min_calls, write_weight=write_weight,
                     allow_real_indexes=allow_real_indexes, progress=progress) as advisor:
            floor = {} if min_benefit is None else {"min_benefit": min_benefit}
            return advisor.advise(budget_mb, method=method, max_indexes=max_indexes, **floor)

    @guarded
    def snapshot(self) -> Snapshot:
        """Statements, tables and indexes now; ``later - earlier`` gives the deltas with rates.

        >>> before = db.snapshot(); ...; delta = db.snapshot() - before  # doctest: +SKIP
        """
        taken_at = pd.Timestamp(self.conn.execute(f"SELECT {catalog.MARKER} clock_timestamp()").fetchone()[0])  # type: ignore[index]
        try:
            stmts = self.statements()
            reset_at = collectors.statements_reset_at(self.conn, self.server)
        except ExtensionMissing:
            from .frames import empty_frame

            stmts, reset_at = empty_frame(collectors.STATEMENTS_COLUMNS), None
        return Snapshot(taken_at, stmts, self.tables(), self.indexes(), reset_at)

    @guarded
    def compare(
        self, sql_a: str, sql_b: str, params: Sequence[Any] | None = None, *, params_b: Sequence[Any] | None = None,
        runs: int = 30, warmup: int = 3, max_seconds: float = 60.0, confidence: float = 0.95, progress: bool = True,
        stop: Any = None, on_run: Any = None, buffers_every: int = 5, check_results: bool = True,
        allow_side_effects: bool = False,
    ) -> Comparison:
        """Time ``sql_b`` (a rewrite) against ``sql_a``: is it really faster, and does it return the same rows?

        Both pass the safety gate; after ``warmup`` runs each they run ``runs`` times each,
        interleaved (ABBA...), each in a READ ONLY transaction (writes, where allowed, rolled
        back), all within ``max_seconds``. ``params`` fill ``$n`` (``params_b`` when B's differ);
        ``stop`` (a threading.Event or a callable) ends the runs early; ``on_run(dict)`` is called
        after each timed run. Returns a :class:`~dbworkbench.timing.Comparison`: ``.timings``,
        ``.summary``, ``.verdict`` ("faster" / "slower" / "no detectable difference", or
        "different results"), ``.verdict_text``, ``.figure()``, ``.plan_diff``, ``.same_results``.

        >>> cmp = db.compare("SELECT * FROM users WHERE lower(email) = 'a@x.org'",
        ...                  "SELECT * FROM users WHERE email = 'a@x.org'"); cmp.verdict  # doctest: +SKIP
        """
        from .timing import compare

        return compare(self, sql_a, sql_b, params, params_b=params_b, runs=runs, warmup=warmup,
                       max_seconds=max_seconds, confidence=confidence, progress=progress, stop=stop, on_run=on_run,
                       buffers_every=buffers_every, check_results=check_results, allow_side_effects=allow_side_effects)

    @guarded
    def same_results(
        self, sql_a: str, sql_b: str, params: Sequence[Any] | None = None, *, params_b: Sequence[Any] | None = None,
        ordered: bool | None = None,
    ) -> SameResults:
        """Do ``sql_a`` and ``sql_b`` return the same rows? The complete results, as multisets (in
        order too when both have a top-level ORDER BY, or ``ordered=True``), hashed and streamed on
        one snapshot, so a result of millions of rows does not fill memory. The answer is true or
        false, with ``.reason``, ``.rows_a``, ``.rows_b`` and ``.first_differences`` (a DataFrame
        with ``side``, ``copies``, ``position`` and the differing rows' columns).

        >>> db.same_results("SELECT id FROM users", "SELECT id FROM users WHERE email IS NOT NULL")  # doctest: +SKIP
        """
        from .timing import same_results

        return same_results(self.conn, sql_a, sql_b, params, params_b=params_b,
                            read_only=not self.target.allow_writes, ordered=ordered)

    @guarded
    def n_plus_one(self, delta: SnapshotDelta | None = None, *, min_calls: int = 100,
                   max_rows_per_call: float | None = None, tolerance: float = 0.02) -> pd.DataFrame:
        """N+1 loops: statements called very many times for a few rows each whose calls track another
        statement's rows, each with the one statement that replaces the loop (``= ANY($n)`` or a JOIN).

        From pg_stat_statements since its last reset, or from ``delta`` (``later - earlier`` snapshots).
        Columns and dtypes: ``timing.N_PLUS_ONE_COLUMNS`` (child_queryid, child_query, child_calls,
        rows_per_call, parent_queryid, parent_query, parent_rows, ratio, key_column, any_rewrite,
        join_rewrite, suggestion).

        >>> db.n_plus_one()[["child_query", "parent_query", "suggestion"]]  # doctest: +SKIP
        """
        from .timing import n_plus_one

        statements = delta.statements if delta is not None else self.statements()
        return n_plus_one(statements, min_calls=min_calls, max_rows_per_call=max_rows_per_call, tolerance=tolerance)


def connect(
    dsn: Any = None,
    *,
    service: str | None = None,
    allow_writes: bool = False,
    statement_timeout_ms: int = 30_000,
    lock_timeout_ms: int = 2_000,
    idle_in_transaction_timeout_ms: int = 60_000,
    connect_timeout_s: int = CONNECT_TIMEOUT_S,
    demo_scale: str = "tiny",
) -> Workbench:
    """Open a :class:`Workbench`.

    ``dsn``: a libpq conninfo or URL, a SQLAlchemy URL or Engine, or a Sandbox. With
    none, ``service=``, ``$DBWORKBENCH_DSN`` or the ``PG*`` environment are used; with
    none of those, the sandbox starts and its demo database is used (loaded at
    ``demo_scale`` when empty). Any target but the sandbox is read-only unless
    ``allow_writes=True``. Every session has ``statement_timeout``, ``lock_timeout`` and
    ``idle_in_transaction_session_timeout`` set; a statement stopped by one raises
    :class:`QueryTimeout`, a connection that broke :class:`SessionLost` (the next call
    reconnects). Connecting gives up after ``connect_timeout_s`` seconds (unless the DSN
    sets ``connect_timeout``) with :class:`ConnectionFailed`. The workbench holds one
    connection at a time.

    >>> import dbworkbench as wb
    >>> db = wb.connect()                               # doctest: +SKIP
    >>> db = wb.connect("postgresql://app@db.internal/shop")  # read-only  # doctest: +SKIP
    """
    target = resolve_target(
        dsn,
        service=service,
        allow_writes=allow_writes,
        statement_timeout_ms=statement_timeout_ms,
        lock_timeout_ms=lock_timeout_ms,
        idle_in_transaction_timeout_ms=idle_in_transaction_timeout_ms,
        connect_timeout_s=connect_timeout_s,
    )
    db = Workbench(target)
    if target.is_sandbox:
        _ensure_demo(db, demo_scale)
    return db


def _ensure_demo(db: Workbench, scale: str) -> None:
    """Load the demo at ``scale`` into the sandbox's demo database unless it is there."""
    from filelock import FileLock

    from ._paths import home_dir
    from .datasets.demo import demo_is_loaded

    if demo_is_loaded(db.conn):
        return
    with FileLock(str(home_dir() / "demo.lock"), timeout=600):
        if not demo_is_loaded(db.conn):
            db.load_demo(scale)
