"""The workload the advisor works for: the statements that matter, with how often they run.

From ``pg_stat_statements`` (or a snapshot delta's statements), from an auto_explain log, or
from SQL the user gives.
Each statement is read by the gate's parser (no server) for its kind and the tables it
touches; writes are kept whatever their rank, since their rate makes every index on their
tables cost more.

Columns (:data:`WORKLOAD_COLUMNS`): ``query`` string, ``calls`` Int64, ``total_ms`` float64,
``rows`` Int64 (rows returned or written, in all), ``kind`` string (read | write | other |
catalog (only system catalogs: no index can help) | unparsed), ``tables`` object (list of the tables named, as written), ``source`` string
(statements | auto_explain | sql), ``queryid`` Int64 (NA for SQL given by hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import UnsafeStatement
from ..frames import typed_frame
from ..guard import read_statements

if TYPE_CHECKING:
    from ..plans import PlanLog

WORKLOAD_COLUMNS: dict[str, str] = {
    "query": "string",
    "calls": "Int64",
    "total_ms": "float64",
    "rows": "Int64",
    "kind": "string",
    "tables": "object",
    "source": "string",
    "queryid": "Int64",
}


_SESSION_WORDS = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET", "RESET", "DEALLOCATE", "PREPARE")


def _read(query: str) -> tuple[str, list[str]]:
    try:
        found = read_statements(query)
    except UnsafeStatement:  # pg_stat_statements' "SAVEPOINT $1" does not parse, and needs no index
        return ("other" if query.lstrip().upper().startswith(_SESSION_WORDS) else "unparsed"), []
    if len(found) != 1 or found[0].keyword == "EXPLAIN":  # EXPLAIN's own entries: their statement counts
        return "other", []
    stmt = found[0]
    tables = [".".join(parts) for parts in stmt.relations]
    if tables and all(_system(parts) for parts in stmt.relations):
        return "catalog", tables
    return {"read": "read", "write": "write"}.get(stmt.kind, "other"), tables


def _system(parts: tuple[str, ...]) -> bool:
    """A system catalog or view (no index can be added there)."""
    return parts[0] in ("pg_catalog", "information_schema") if len(parts) > 1 else parts[0].startswith("pg_")


def from_statements(statements: pd.DataFrame, *, top: int = 20, min_calls: int = 2) -> pd.DataFrame:
    """The workload in a ``statements()`` frame (or a snapshot delta's): the ``top`` reads and
    writes by total time called at least ``min_calls`` times, plus every other write so called.

    >>> from_statements(db.statements(), top=10)  # doctest: +SKIP
    """
    return _ranked(statements, "statements", top, min_calls)


def from_log(log: PlanLog, *, top: int = 20, min_calls: int = 2) -> pd.DataFrame:
    """The workload in an auto_explain log (:func:`dbworkbench.read_auto_explain`): each query text
    its plans were logged for, with as many calls as entries and their summed duration, ranked as
    :func:`from_statements` ranks. Entries without ``Query Text`` (``auto_explain.log_verbose`` and
    the query text are on by default) cannot be costed and are left out.

    >>> from_log(read_auto_explain("postgresql.log"), top=10)  # doctest: +SKIP
    """
    table = log.table(insights=False)  # the insight rules (about 15 ms a plan) are not needed here
    plans = table[table["query"].notna()]
    grouped = plans.groupby("query", sort=False)["duration_ms"].agg(["size", "sum"]).reset_index()
    statements = pd.DataFrame({
        "query": grouped["query"], "calls": grouped["size"], "total_exec_ms": grouped["sum"],
        "rows": pd.array([None] * len(grouped), dtype="Int64"), "queryid": pd.array([None] * len(grouped), dtype="Int64"),
    })
    return _ranked(statements, "auto_explain", top, min_calls)


def _ranked(statements: pd.DataFrame, source: str, top: int, min_calls: int) -> pd.DataFrame:
    frame = statements[statements["calls"].fillna(0) >= min_calls].sort_values("total_exec_ms", ascending=False)
    rows = []
    for record in frame.itertuples(index=False):
        kind, tables = _read(str(record.query))
        rows.append([record.query, record.calls, record.total_exec_ms, record.rows, kind, tables, source,
                     record.queryid])
    work = typed_frame(rows, list(WORKLOAD_COLUMNS), WORKLOAD_COLUMNS)
    ranked = work[work["kind"].isin(["read", "write", "unparsed"])]
    keep = ranked.head(top).index.union(work.index[work["kind"] == "write"])
    return work.loc[keep].sort_values("total_ms", ascending=False).reset_index(drop=True)


def from_sql(queries: Sequence[str] | pd.Series, calls: Sequence[int] | None = None) -> pd.DataFrame:
    """A workload of SQL strings given by hand (``$n`` allowed), each run ``calls`` times (default 1).

    >>> from_sql(["SELECT * FROM users WHERE lower(email) = $1"])["kind"].tolist()
    ['read']
    """
    counts = list(calls) if calls is not None else [1] * len(queries)
    if len(counts) != len(queries):
        raise ValueError(f"calls has {len(counts)} numbers for {len(queries)} statements")
    rows = []
    for query, count in zip(list(queries), counts):
        kind, tables = _read(str(query))
        rows.append([str(query), count, None, None, kind, tables, "sql", None])
    return typed_frame(rows, list(WORKLOAD_COLUMNS), WORKLOAD_COLUMNS)
