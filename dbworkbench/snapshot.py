"""Snapshots of the cumulative statistics, and the deltas between two of them.

``later - earlier`` gives what happened in between, with per-second rates. A counter
that went down (``pg_stat_statements_reset()``, ``pg_stat_reset()``, an evicted
statement) restarted from zero, so its later value is the delta; a reset of the whole
of pg_stat_statements (seen in ``pg_stat_statements_info`` on 14+) restarts every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

STATEMENT_KEYS = ["queryid", "database", "user", "toplevel"]
STATEMENT_COUNTERS = [
    "calls", "total_exec_ms", "total_plan_ms", "rows",
    "shared_blks_hit", "shared_blks_read", "shared_blks_dirtied", "shared_blks_written",
    "temp_blks_read", "temp_blks_written", "blk_read_ms", "blk_write_ms", "wal_bytes",
]
TABLE_KEYS = ["schema", "table"]
TABLE_COUNTERS = [
    "seq_scan", "seq_tup_read", "idx_scan", "idx_tup_fetch", "n_tup_ins", "n_tup_upd",
    "n_tup_del", "n_tup_hot_upd", "heap_blks_hit", "heap_blks_read", "idx_blks_hit", "idx_blks_read",
]
INDEX_KEYS = ["schema", "table", "index"]
INDEX_COUNTERS = ["idx_scan", "idx_tup_read", "idx_tup_fetch", "idx_blks_hit", "idx_blks_read"]


@dataclass(frozen=True)
class Snapshot:
    """A timestamped capture of ``statements()``, ``tables()`` and ``indexes()``.

    ``statements`` is empty when pg_stat_statements is not installed.
    """

    taken_at: pd.Timestamp
    statements: pd.DataFrame
    tables: pd.DataFrame
    indexes: pd.DataFrame
    statements_reset_at: pd.Timestamp | None = None

    def __sub__(self, earlier: Snapshot) -> SnapshotDelta:
        if not isinstance(earlier, Snapshot):
            return NotImplemented
        seconds = (self.taken_at - earlier.taken_at).total_seconds()
        if seconds <= 0:
            raise ValueError("subtract the earlier snapshot from the later one: later - earlier")
        reset_all = (
            self.statements_reset_at is not None
            and earlier.statements_reset_at is not None
            and self.statements_reset_at != earlier.statements_reset_at
        )
        return SnapshotDelta(
            seconds=seconds,
            statements=counter_delta(
                self.statements, earlier.statements, STATEMENT_KEYS, STATEMENT_COUNTERS, seconds, reset_all
            ),
            tables=counter_delta(self.tables, earlier.tables, TABLE_KEYS, TABLE_COUNTERS, seconds),
            indexes=counter_delta(self.indexes, earlier.indexes, INDEX_KEYS, INDEX_COUNTERS, seconds),
            statements_reset=reset_all,
        )


@dataclass(frozen=True)
class SnapshotDelta:
    """What happened between two snapshots.

    Each frame has the key columns, the non-counter columns of the later snapshot
    (e.g. ``query``, ``n_live_tup``), every counter as its increase, a
    ``<counter>_per_s`` float64 rate for each counter, and ``restarted`` (boolean:
    the counter restarted between the two, so the later value was taken whole).
    ``statements`` also gets ``mean_exec_ms`` over the interval. Only rows with any
    activity are kept, busiest first.
    """

    seconds: float
    statements: pd.DataFrame
    tables: pd.DataFrame
    indexes: pd.DataFrame
    statements_reset: bool = False


def counter_delta(
    later: pd.DataFrame,
    earlier: pd.DataFrame,
    keys: list[str],
    counters: list[str],
    seconds: float,
    reset_all: bool = False,
) -> pd.DataFrame:
    """Per-key increase of ``counters`` from ``earlier`` to ``later``, with per-second rates."""
    counters = [c for c in counters if c in later.columns]
    before = earlier[keys + counters].rename(columns={c: f"{c}__before" for c in counters})
    merged = later.merge(before, on=keys, how="left", indicator=True)
    is_new = merged.pop("_merge").eq("left_only")
    went_down = pd.Series(False, index=merged.index)
    for c in counters:
        went_down |= (merged[c] < merged[f"{c}__before"]).fillna(False).astype(bool)
    restarted = is_new | went_down | reset_all
    out = merged.drop(columns=[f"{c}__before" for c in counters])
    for c in counters:
        delta = merged[c] - merged[f"{c}__before"]
        out[c] = merged[c].where(restarted, delta)
    for c in counters:
        out[f"{c}_per_s"] = out[c].astype("float64") / seconds
    out["restarted"] = restarted.astype("boolean")
    if "calls" in counters:
        out["mean_exec_ms"] = (out["total_exec_ms"] / out["calls"].astype("float64")).where(out["calls"] > 0)
    active = out[counters].fillna(0).ne(0).any(axis=1)
    out = out[active]
    first = counters[1] if "calls" in counters else counters[0]
    return out.sort_values(first, ascending=False, kind="stable").reset_index(drop=True)
