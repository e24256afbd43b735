"""The health checklist: scan ratios, cache, index hygiene, schema audit, settings, vacuum, locks.

Each check is one function ``check(ctx: HealthContext) -> list[Finding]``, registered in
:data:`CHECKS` in the order the checklist reads. Adding a check means writing the function
(in the module of its topic, with its catalog SQL in ``catalog/health_<question>.sql``)
and adding one line to :data:`CHECKS`. Catalog questions are asked once per run and
shared between the checks (:meth:`HealthContext.rows`).

:func:`health` runs them and returns one DataFrame, one row per check and object:

=============== ========= ============================================================
column          dtype     meaning
=============== ========= ============================================================
check           string    the check's name (a function in :data:`CHECKS`)
status          string    fail, warn, pass or skip (could not run: evidence says why)
severity        string    critical, warning or info
object          string    what the row is about: a table, index, setting, session, or
                          the database for a database-wide result
evidence        string    what was measured, with the numbers
recommendation  string    what to do and why (for a DROP: the statement that undoes it)
fix_sql         string    runnable SQL that makes the check pass, or <NA>
=============== ========= ============================================================

Status: ``fail`` is a defect to fix, ``warn`` is worth a look (it depends on things the
server cannot know), ``pass`` says what was checked, ``skip`` says why a check could not
run here. Severity: ``critical`` where an outage or data loss is at stake (wraparound,
keys running out, archiving failing, autovacuum off, sessions stuck on locks),
``warning`` for performance and maintenance costs, ``info`` for listings and minor
settings. Rows are sorted fail, warn, pass, skip; then critical, warning, info; then in
checklist order. Every identifier in ``fix_sql`` is quoted by :mod:`psycopg.sql`. The checks only
read: they work on a read-only target and take no locks beyond those of catalog reads
(pgstattuple, where installed and asked for with ``exact_bloat=True``, reads flagged
tables under ACCESS SHARE, like a SELECT). The only check that reads whole relations is
that exact bloat measurement; it is off by default except on the sandbox.

>>> import dbworkbench as wb
>>> db = wb.connect()                                     # doctest: +SKIP
>>> report = db.health()                                  # doctest: +SKIP
>>> report[report.status == "fail"][["check", "object", "fix_sql"]]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any

import pandas as pd
import psycopg

from ..errors import ExtensionMissing, WorkbenchError
from ..frames import typed_frame
from ..server import ServerInfo
from ._context import (
    SEVERITIES,
    STATUSES,
    Check,
    CheckSkipped,
    Finding,
    HealthContext,
    first_line,
)
from ._render import to_markdown
from ._thresholds import HealthThresholds
from .activity import (
    connections,
    idle_in_transaction,
    lock_contention,
    long_running_queries,
)
from .capacity import integer_key_near_limit, sequence_near_limit
from .indexes import duplicate_index, invalid_index, unused_index
from .scans import cache_hit, seq_scan_heavy
from .schema import (
    fk_on_delete,
    fk_without_index,
    primary_key_missing,
    updated_at_without_trigger,
)
from .settings import (
    autovacuum_settings,
    backup_readiness,
    checkpoint_settings,
    logging_settings,
    memory_settings,
    pg_stat_statements,
    planner_settings,
)
from .vacuum import analyze_stale, dead_tuples, index_bloat, table_bloat, xid_wraparound

#: The checklist, in order: (category, check). Add a check here.
CHECKS: tuple[tuple[str, Check], ...] = (
    ("schema", primary_key_missing),
    ("schema", fk_without_index),
    ("schema", fk_on_delete),
    ("schema", updated_at_without_trigger),
    ("indexes", invalid_index),
    ("indexes", duplicate_index),
    ("indexes", unused_index),
    ("scans", seq_scan_heavy),
    ("scans", cache_hit),
    ("vacuum", dead_tuples),
    ("vacuum", analyze_stale),
    ("vacuum", table_bloat),
    ("vacuum", index_bloat),
    ("vacuum", xid_wraparound),
    ("capacity", sequence_near_limit),
    ("capacity", integer_key_near_limit),
    ("settings", memory_settings),
    ("settings", planner_settings),
    ("settings", logging_settings),
    ("settings", pg_stat_statements),
    ("settings", autovacuum_settings),
    ("settings", checkpoint_settings),
    ("backup", backup_readiness),
    ("activity", lock_contention),
    ("activity", long_running_queries),
    ("activity", idle_in_transaction),
    ("activity", connections),
)

#: Columns of :func:`health`'s DataFrame and their dtypes.
HEALTH_COLUMNS: dict[str, str] = {
    "check": "string",
    "status": "string",
    "severity": "string",
    "object": "string",
    "evidence": "string",
    "recommendation": "string",
    "fix_sql": "string",
}

CHECK_NAMES: tuple[str, ...] = tuple(check.__name__ for _, check in CHECKS)


def health(
    conn: psycopg.Connection[Any],
    server: ServerInfo,
    *,
    checks: Iterable[str] | None = None,
    thresholds: HealthThresholds | None = None,
    ram_bytes: int | None = None,
    storage: str = "ssd",
    exact_bloat: bool | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Run the checklist (or the ``checks`` named) and return its findings (columns: :data:`HEALTH_COLUMNS`).

    ``thresholds``: a :class:`HealthThresholds`; single thresholds can also be given as
    keyword arguments (``unused_index_max_scans=50``). ``ram_bytes``: the server machine's
    RAM (else read on the server where it can be). ``storage``: "ssd" or "hdd", for the
    planner cost rules. ``exact_bloat=True`` measures flagged tables and indexes with
    pgstattuple/pgstatindex where the extension is installed: each reads a whole relation
    (up to ``exact_bloat_max_objects`` relations of up to ``exact_bloat_max_bytes``), heavy
    I/O on a busy server, so it is off unless asked for (``None``, the default, is off
    here; :meth:`Workbench.health` turns it on for the sandbox). A check that cannot
    run here (privileges, a missing extension) gives one row with status skip and the
    reason. ``frame.attrs["seconds"]`` holds each check's run time.

    >>> health(db.conn, db.server, checks=["fk_without_index"])  # doctest: +SKIP
    """
    if storage not in ("ssd", "hdd"):
        raise WorkbenchError(f"storage must be 'ssd' or 'hdd', not {storage!r}")
    thresholds = _merge_thresholds(thresholds, overrides)
    selected = _select(checks)
    ctx = HealthContext(conn, server, thresholds, ram_bytes=ram_bytes, storage=storage,
                        exact_bloat=bool(exact_bloat))
    findings: list[Finding] = []
    seconds: dict[str, float] = {}
    for _category, check in selected:
        started = time.perf_counter()
        findings.extend(run_check(check, ctx))
        seconds[check.__name__] = round(time.perf_counter() - started, 4)
    frame = findings_frame(findings)
    frame.attrs["seconds"] = seconds
    return frame


def run_check(check: Check, ctx: HealthContext) -> list[Finding]:
    """One check's findings, named; a check that cannot run gives one skip row."""
    name = check.__name__
    try:
        found = check(ctx)
    except CheckSkipped as err:
        found = [Finding("skip", ctx.database, str(err))]
    except psycopg.errors.InsufficientPrivilege as err:
        found = [Finding("skip", ctx.database, f"permission denied: {first_line(err)}",
                         "Run the checklist as a role with pg_monitor (or pg_read_all_stats and "
                         "pg_read_all_settings).")]
    except psycopg.errors.QueryCanceled as err:
        found = [Finding("skip", ctx.database, f"timed out: {first_line(err)}",
                         "Raise statement_timeout_ms in wb.connect(...) for a catalog this large.")]
    except ExtensionMissing as err:
        found = [Finding("skip", ctx.database, str(err))]
    except psycopg.Error as err:
        if ctx.conn.broken or ctx.conn.closed:
            raise  # the session is gone, not this check: Workbench.health reports SessionLost
        found = [Finding("skip", ctx.database, f"could not run: {first_line(err)}")]
    return [dataclasses.replace(f, check=name) for f in found]


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Findings → the sorted DataFrame of :func:`health`."""
    order = {name: i for i, name in enumerate(CHECK_NAMES)}
    rows = sorted(
        findings,
        key=lambda f: (STATUSES.index(f.status), SEVERITIES.index(f.severity), order.get(f.check, len(order)),
                       f.object),
    )
    records = [(f.check, f.status, f.severity, f.object, f.evidence, f.recommendation, f.fix_sql) for f in rows]
    return typed_frame(records, list(HEALTH_COLUMNS), HEALTH_COLUMNS)


def describe_checks() -> pd.DataFrame:
    """The checklist itself: category, check name and the first line of its docstring.

    >>> describe_checks().head(2)["check"].tolist()
    ['primary_key_missing', 'fk_without_index']
    """
    rows = [(category, check.__name__, (check.__doc__ or "").strip().splitlines()[0]) for category, check in CHECKS]
    return pd.DataFrame(rows, columns=["category", "check", "what"]).astype("string")


def _select(checks: Iterable[str] | None) -> list[tuple[str, Check]]:
    if checks is None:
        return list(CHECKS)
    wanted = [checks] if isinstance(checks, str) else list(checks)
    unknown = [c for c in wanted if c not in CHECK_NAMES]
    if unknown:
        raise WorkbenchError(f"unknown health check(s) {', '.join(unknown)}; known: {', '.join(CHECK_NAMES)}")
    return [(cat, check) for cat, check in CHECKS if check.__name__ in wanted]


def _merge_thresholds(base: HealthThresholds | None, overrides: dict[str, Any]) -> HealthThresholds:
    base = base or HealthThresholds()
    unknown = sorted(set(overrides) - set(HealthThresholds.names()))
    if unknown:
        raise WorkbenchError(
            f"unknown health option(s) {', '.join(unknown)}; thresholds are: {', '.join(HealthThresholds.names())}")
    return dataclasses.replace(base, **overrides) if overrides else base


__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "HEALTH_COLUMNS",
    "CheckSkipped",
    "Finding",
    "HealthContext",
    "HealthThresholds",
    "describe_checks",
    "findings_frame",
    "health",
    "run_check",
    "to_markdown",
]
