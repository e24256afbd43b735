"""Every number a health check compares against, with where its default comes from."""

from __future__ import annotations

from dataclasses import dataclass, fields

MiB = 1024**2
GiB = 1024**3


@dataclass(frozen=True)
class HealthThresholds:
    """Thresholds of the health checks. Override any with ``db.health(name=value)``.

    Each default names its source: PgHero (``lib/pghero/methods/*.rb`` and its
    configuration defaults), postgres-checkup (report codes such as H002, F004),
    check_postgres (action defaults), the handbook (``/work/shared/seed/database-engineer.md``:
    its ``postgresql.conf`` and monitoring SQL) or PostgreSQL's own defaults. Where no
    tool sets a number, the default is dbworkbench's and says why.

    >>> HealthThresholds().cache_hit_warn
    0.99
    >>> HealthThresholds(capacity_fail=0.8).capacity_fail
    0.8
    """

    # -- indexes ---------------------------------------------------------------------
    #: An index scanned at most this often since the statistics were reset is unused.
    #: postgres-checkup H002 lists never-used indexes (idx_scan = 0); PgHero's
    #: ``unused_indexes(max_scans: 50)`` is looser. Raise it to PgHero's 50 on a busy server.
    unused_index_max_scans: int = 0
    #: Unused indexes smaller than this are left out. PgHero's ``min_size`` default is 0.
    unused_index_min_bytes: int = 0

    # -- scans and cache -------------------------------------------------------------
    #: Tables with at least this many rows are checked for sequential-scan reads.
    #: PgHero ``missing_indexes``: ``n_live_tup >= 10000``.
    seq_scan_min_rows: int = 10_000
    #: Tables with fewer sequential scans are not judged: a load, a pg_dump or a few ad-hoc
    #: queries are not a pattern (dbworkbench; PgHero waits for index scans, "Insufficient data").
    seq_scan_min_scans: int = 50
    #: A table whose share of index scans is below this is read mostly by sequential
    #: scans. PgHero ``missing_indexes``: index used in less than 95 % of scans.
    seq_scan_min_index_share: float = 0.95
    #: Share of index scans below which the finding is a failure, not a warning:
    #: fewer than half of the reads use an index (dbworkbench).
    seq_scan_fail_index_share: float = 0.50
    #: Cache hit ratio below this warns. PgHero ``cache_hit_rate_threshold`` = 99.
    cache_hit_warn: float = 0.99
    #: Cache hit ratio below this fails: one block in ten comes from outside shared
    #: buffers (the 90 % line of pgwatch's and most monitoring dashboards' health panels).
    cache_hit_fail: float = 0.90
    #: Per-table cache ratios need this many block requests to mean anything (dbworkbench).
    cache_min_blocks: int = 1_000

    # -- vacuum ----------------------------------------------------------------------
    #: Dead share of a table's tuples that warns: PostgreSQL's default
    #: ``autovacuum_vacuum_scale_factor`` (0.2), past which autovacuum should have run.
    dead_tuple_warn_share: float = 0.20
    #: Dead share that fails: half the table is dead rows (postgres-checkup F003 lists
    #: tables by dead share; the cut is dbworkbench's).
    dead_tuple_fail_share: float = 0.50
    #: Fewer dead tuples than this are never reported; PostgreSQL's
    #: ``autovacuum_vacuum_threshold`` is 50, this is 20 times that to skip tiny tables.
    dead_tuple_min: int = 1_000
    #: Rows changed since the last ANALYZE beyond this many times the autoanalyze trigger
    #: (``autovacuum_analyze_threshold + autovacuum_analyze_scale_factor * reltuples``)
    #: means autoanalyze is behind (dbworkbench).
    analyze_overdue_factor: float = 2.0

    # -- bloat -----------------------------------------------------------------------
    #: Estimated bloat ratio that warns. The common ioguix / pgexperts bloat queries
    #: flag 40 %; postgres-checkup F004/F005 show the ratio for every object.
    bloat_warn_ratio: float = 0.40
    #: Bloat ratio that fails: postgres-checkup F004/F005 ``CRITICAL_BLOAT_RATIO`` = 70.
    bloat_fail_ratio: float = 0.70
    #: Wasted bytes below this are never reported. PgHero ``index_bloat_bytes`` = 100 MB.
    bloat_min_bytes: int = 100 * MiB
    #: pgstattuple reads a whole relation: with ``exact_bloat=True`` (the default only on
    #: the sandbox) objects up to this size are measured exactly (dbworkbench: about a
    #: second of I/O on an SSD).
    exact_bloat_max_bytes: int = 1 * GiB
    #: At most this many relations are measured exactly per run (dbworkbench).
    exact_bloat_max_objects: int = 20

    # -- capacity: sequences, integer keys, wraparound -------------------------------
    #: Share of a sequence's or integer key's range used that warns:
    #: check_postgres ``sequence`` action default warning 85 %.
    capacity_warn: float = 0.85
    #: Share used that fails: PgHero ``sequence_danger(threshold: 0.9)``.
    capacity_fail: float = 0.90
    #: Transaction ID age that warns; ``None`` uses the server's
    #: ``autovacuum_freeze_max_age`` (past it, the forced anti-wraparound vacuum is overdue).
    xid_age_warn: int | None = None
    #: Transaction ID age that fails: half of the 2^31 horizon, postgres-checkup F002
    #: (``CRITICAL_CAPACITY_USAGE`` = 50 %).
    xid_age_fail: int = 2**30

    # -- settings (the handbook's postgresql.conf) ----------------------------------
    #: shared_buffers as a share of RAM: handbook "shared_buffers = 4GB  # 25% of RAM".
    shared_buffers_share: float = 0.25
    #: effective_cache_size as a share of RAM: handbook "12GB  # 75% of RAM".
    effective_cache_size_share: float = 0.75
    #: maintenance_work_mem as a share of RAM: the handbook's 1GB on its 16 GB machine
    #: (16 GB is what its 4GB = 25 % implies), i.e. 1/16.
    maintenance_work_mem_share: float = 1 / 16
    #: maintenance_work_mem above this is never asked for (handbook: 1GB; VACUUM uses
    #: at most 1 GB for dead tuple IDs before PostgreSQL 17).
    maintenance_work_mem_cap: int = 1 * GiB
    #: work_mem: handbook "work_mem = 64MB  # Per-operation memory".
    work_mem_target: int = 64 * MiB
    #: A memory setting within [low, high] times its target passes, outside warns
    #: (dbworkbench: half to 1.6 times, e.g. shared_buffers 12.5 %..40 % of RAM).
    memory_tolerance: tuple[float, float] = (0.5, 1.6)
    #: ... and outside [low, high] times its target fails (dbworkbench: shared_buffers
    #: under 5 % or over 50 % of RAM).
    memory_fail_tolerance: tuple[float, float] = (0.2, 2.0)
    #: random_page_cost on SSD: handbook "random_page_cost = 1.1  # For SSD storage".
    random_page_cost_ssd: float = 1.1
    #: random_page_cost above this on SSD warns (dbworkbench: anything nearer 4 than 1).
    random_page_cost_ssd_max: float = 2.0
    #: effective_io_concurrency on SSD: handbook "effective_io_concurrency = 200".
    effective_io_concurrency_ssd: int = 200
    #: log_min_duration_statement: handbook "log_min_duration_statement = 1000".
    log_min_duration_ms: int = 1_000

    # -- sessions --------------------------------------------------------------------
    #: A query running longer warns: PgHero ``long_running_query_sec`` = 60.
    long_query_warn_s: float = 60.0
    #: ... and fails (check_postgres ``query_time`` examples use 5 minutes).
    long_query_fail_s: float = 300.0
    #: Idle in transaction longer than this warns: dbworkbench's own session guard
    #: ``idle_in_transaction_session_timeout`` default (60 s).
    idle_in_transaction_warn_s: float = 60.0
    #: ... and fails (5 minutes: autovacuum cannot clean behind it).
    idle_in_transaction_fail_s: float = 300.0
    #: A session waiting for a lock longer than this fails; any wait warns. The
    #: handbook's ``log_lock_waits`` reports waits past ``deadlock_timeout`` (1 s);
    #: 30 s is dbworkbench's line for "users notice".
    lock_wait_fail_s: float = 30.0
    #: Connections in use as a share of max_connections that warns / fails:
    #: check_postgres ``backends`` defaults 90 % and 95 %.
    connections_warn: float = 0.90
    connections_fail: float = 0.95

    @classmethod
    def names(cls) -> list[str]:
        """Every threshold's name."""
        return [f.name for f in fields(cls)]
