"""Collectors: one catalog question each → one DataFrame with the columns declared here.

Each ``*_COLUMNS`` mapping is the stable contract (column → dtype, see
:mod:`dbworkbench.frames`); columns beyond it may be added, never renamed.
"""

from __future__ import annotations

import difflib
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from . import catalog
from .errors import ExtensionMissing, WorkbenchError
from .frames import typed_frame
from .server import ServerInfo

STATEMENTS_COLUMNS: dict[str, str] = {
    "queryid": "Int64",
    "query": "string",
    "calls": "Int64",
    "total_exec_ms": "float64",
    "mean_exec_ms": "float64",
    "stddev_exec_ms": "float64",
    "min_exec_ms": "float64",
    "max_exec_ms": "float64",
    "total_plan_ms": "float64",
    "rows": "Int64",
    "rows_per_call": "float64",
    "shared_blks_hit": "Int64",
    "shared_blks_read": "Int64",
    "shared_blks_dirtied": "Int64",
    "shared_blks_written": "Int64",
    "temp_blks_read": "Int64",
    "temp_blks_written": "Int64",
    "blk_read_ms": "float64",
    "blk_write_ms": "float64",
    "wal_bytes": "Int64",
    "cache_hit_ratio": "float64",
    "share_of_total_time": "float64",
    "database": "string",
    "user": "string",
    "toplevel": "boolean",
    "local_blks_hit": "Int64",
    "local_blks_read": "Int64",
    "wal_records": "Int64",
}

TABLES_COLUMNS: dict[str, str] = {
    "schema": "string",
    "table": "string",
    "n_live_tup": "Int64",
    "n_dead_tup": "Int64",
    "seq_scan": "Int64",
    "seq_tup_read": "Int64",
    "idx_scan": "Int64",
    "idx_tup_fetch": "Int64",
    "idx_scan_ratio": "float64",
    "heap_blks_hit": "Int64",
    "heap_blks_read": "Int64",
    "cache_hit_ratio": "float64",
    "table_bytes": "Int64",
    "index_bytes": "Int64",
    "total_bytes": "Int64",
    "last_vacuum": "datetime64[us, UTC]",
    "last_autovacuum": "datetime64[us, UTC]",
    "last_analyze": "datetime64[us, UTC]",
    "last_autoanalyze": "datetime64[us, UTC]",
    "n_mod_since_analyze": "Int64",
    "relid": "Int64",
    "n_tup_ins": "Int64",
    "n_tup_upd": "Int64",
    "n_tup_del": "Int64",
    "n_tup_hot_upd": "Int64",
    "idx_blks_hit": "Int64",
    "idx_blks_read": "Int64",
    "vacuum_count": "Int64",
    "autovacuum_count": "Int64",
    "analyze_count": "Int64",
    "autoanalyze_count": "Int64",
}

INDEXES_COLUMNS: dict[str, str] = {
    "schema": "string",
    "table": "string",
    "index": "string",
    "definition": "string",
    "columns": "object",
    "is_unique": "boolean",
    "is_primary": "boolean",
    "is_valid": "boolean",
    "is_partial": "boolean",
    "constraint": "string",
    "idx_scan": "Int64",
    "idx_tup_read": "Int64",
    "idx_tup_fetch": "Int64",
    "bytes": "Int64",
    "method": "string",
    "include_columns": "object",
    "predicate": "string",
    "idx_blks_hit": "Int64",
    "idx_blks_read": "Int64",
    "indexrelid": "Int64",
    "relid": "Int64",
}

COLUMN_STATS_COLUMNS: dict[str, str] = {
    "schema": "string",
    "table": "string",
    "column": "string",
    "null_frac": "float64",
    "avg_width": "Int64",
    "n_distinct": "float64",
    "estimated_distinct": "float64",
    "correlation": "float64",
    "most_common_vals": "object",
    "most_common_freqs": "object",
    "histogram_bounds": "object",
    "inherited": "boolean",
}

SETTINGS_COLUMNS: dict[str, str] = {
    "name": "string",
    "setting": "string",
    "unit": "string",
    "category": "string",
    "source": "string",
    "pending_restart": "boolean",
    "short_desc": "string",
    "vartype": "string",
    "context": "string",
    "boot_val": "string",
    "reset_val": "string",
    "sourcefile": "string",
}

#: Each collector's column contract, by Workbench method name.
COLLECTOR_COLUMNS: dict[str, dict[str, str]] = {
    "statements": STATEMENTS_COLUMNS,
    "tables": TABLES_COLUMNS,
    "indexes": INDEXES_COLUMNS,
    "column_stats": COLUMN_STATS_COLUMNS,
    "settings": SETTINGS_COLUMNS,
}


def query_frame(
    conn: psycopg.Connection[Any],
    name: str,
    schema: dict[str, str],
    server: ServerInfo,
    params: dict[str, Any] | None = None,
    **parts: sql.Composable,
) -> pd.DataFrame:
    """Run catalog question ``name`` (its ``{part}`` slots filled from ``parts``) → typed frame."""
    text = catalog.get(name, server.version_num)
    query: sql.Composed | sql.SQL = sql.SQL(text).format(**parts) if parts else sql.SQL(text)  # type: ignore[arg-type]
    cur = conn.execute(query, params or {})
    columns = [d.name for d in cur.description or []]
    return typed_frame(cur.fetchall(), columns, schema)


def pg_stat_statements_view(server: ServerInfo, name: str = "pg_stat_statements") -> sql.Identifier:
    """The schema-qualified pg_stat_statements view, or an error that says what to run."""
    schema = server.extension_schema("pg_stat_statements")
    if schema is None:
        preload = "pg_stat_statements" in server.preload_libraries
        steps = [] if preload else [
            "add it to postgresql.conf: shared_preload_libraries = 'pg_stat_statements' "
            "(keep any libraries already listed, comma-separated) and restart the server"
        ]
        steps.append(f"in database {server.database!r} run: CREATE EXTENSION pg_stat_statements;")
        raise ExtensionMissing(
            f"pg_stat_statements is not installed in database {server.database!r}. To install it: "
            + "; then ".join(steps)
        )
    return sql.Identifier(schema, name)


def statements(
    conn: psycopg.Connection[Any], server: ServerInfo, *, all_databases: bool = False, include_own: bool = False
) -> pd.DataFrame:
    """pg_stat_statements, slowest in total first (columns: :data:`STATEMENTS_COLUMNS`)."""
    view = pg_stat_statements_view(server)
    if server.version_num >= 170_000:
        blk_read, blk_write = "s.shared_blk_read_time + s.local_blk_read_time", "s.shared_blk_write_time + s.local_blk_write_time"
    else:
        blk_read, blk_write = "s.blk_read_time", "s.blk_write_time"
    return query_frame(
        conn,
        "statements",
        STATEMENTS_COLUMNS,
        server,
        {"all_databases": all_databases, "include_own": include_own},
        view=view,
        blk_read=sql.SQL(blk_read),
        blk_write=sql.SQL(blk_write),
        toplevel=sql.SQL("s.toplevel" if server.version_num >= 140_000 else "NULL::bool"),
    )


def statements_reset_at(conn: psycopg.Connection[Any], server: ServerInfo) -> pd.Timestamp | None:
    """When pg_stat_statements was last reset (PostgreSQL 14+), else None."""
    if server.version_num < 140_000:
        return None
    view = pg_stat_statements_view(server, "pg_stat_statements_info")
    row = conn.execute(sql.SQL(catalog.get("statements_info")).format(view=view)).fetchone()
    return pd.Timestamp(row[0]) if row and row[0] is not None else None


def tables(conn: psycopg.Connection[Any], server: ServerInfo) -> pd.DataFrame:
    """User tables: scans, tuples, cache hits, sizes, vacuum times (columns: :data:`TABLES_COLUMNS`)."""
    return query_frame(conn, "tables", TABLES_COLUMNS, server)


def indexes(conn: psycopg.Connection[Any], server: ServerInfo) -> pd.DataFrame:
    """User indexes with definitions, flags, scans and sizes (columns: :data:`INDEXES_COLUMNS`)."""
    return query_frame(conn, "indexes", INDEXES_COLUMNS, server)


def column_stats(
    conn: psycopg.Connection[Any], server: ServerInfo, table: str | None = None, *, values: bool = True
) -> pd.DataFrame:
    """Planner statistics per column (columns: :data:`COLUMN_STATS_COLUMNS`).

    ``table`` may be ``"posts"`` or ``"public.posts"``; an unknown name raises an error
    that lists the closest matches. ``values=False`` leaves out most_common_vals and
    histogram_bounds, which hold real data.
    """
    schema_name, table_name = _split_table(table)
    frame = query_frame(
        conn, "column_stats", COLUMN_STATS_COLUMNS, server,
        {"values": values, "schema": schema_name, "table": table_name},
    )
    if table is not None and frame.empty:
        _check_relation_exists(conn, server, schema_name, table_name)
    return frame


def settings(conn: psycopg.Connection[Any], server: ServerInfo) -> pd.DataFrame:
    """Every server setting (columns: :data:`SETTINGS_COLUMNS`)."""
    return query_frame(conn, "settings", SETTINGS_COLUMNS, server)


def _split_table(table: str | None) -> tuple[str | None, str | None]:
    """``"posts"`` → (None, "posts"); ``"public.posts"`` → ("public", "posts"); a part in double
    quotes is taken verbatim (``""`` is a quote), so ``'"x y"."a.b"'`` → ("x y", "a.b"). Unquoted
    parts are taken as written (no case folding: ``MixedCase`` finds the table ``MixedCase``)."""
    if table is None:
        return None, None
    parts = _name_parts(table)
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise WorkbenchError(
        f"{table!r} is not 'table' or 'schema.table': it has {len(parts)} dot-separated parts. "
        "Put a name that holds a dot in double quotes, e.g. '\"my schema\".\"a.b\"'.")


def _name_parts(text: str) -> list[str]:
    """The dot-separated parts of a possibly quoted, possibly qualified name."""
    parts: list[str] = []
    k, n = 0, len(text)
    while True:
        if text.startswith('"', k):
            chunks, k = [], k + 1
            while True:
                end = text.find('"', k)
                if end < 0:
                    raise WorkbenchError(f"{text!r} has an unterminated double quote")
                chunks.append(text[k:end])
                k = end + 1
                if not text.startswith('"', k):
                    break
                chunks.append('"')  # "" inside quotes is one quote
                k += 1
            part = "".join(chunks)
        else:
            end = text.find(".", k)
            end = n if end < 0 else end
            part = text[k:end]
            if '"' in part:
                raise WorkbenchError(f"{text!r}: put double quotes around a whole name, not part of it")
            k = end
        if not part:
            raise WorkbenchError(f"{text!r} has an empty name; give 'table' or 'schema.table'")
        parts.append(part)
        if k == n:
            return parts
        if text[k] != ".":
            raise WorkbenchError(f"{text!r}: expected a dot after the quoted name {part!r}")
        k += 1


def _check_relation_exists(
    conn: psycopg.Connection[Any], server: ServerInfo, schema: str | None, table: str | None
) -> None:
    rows = conn.execute(catalog.get("relations", server.version_num), {}).fetchall()
    names = {name for s, name in rows if schema is None or s == schema}
    if table in names:
        return  # it exists but has no statistics yet
    close = difflib.get_close_matches(table or "", sorted(names), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; tables here: {', '.join(sorted(names)[:20])}"
    where = f"schema {schema!r}" if schema else f"database {server.database!r}"
    raise WorkbenchError(f"no table or view named {table!r} in {where}{hint}")
