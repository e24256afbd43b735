"""index-filter-inefficient: an index finds rows that a Filter then throws away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, fmt_pct, fmt_rows, view
from ._index import condition_index, index_sql

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "index-filter-inefficient"
#: The Filter must have removed at least this many rows (over all loops) ...
MIN_ROWS_REMOVED = 1_000
#: ... and kept at most this share of the rows the index gave ...
MAX_KEPT_SHARE = 0.20
#: ... from at least this many rows per loop: a lookup that finds a row or two per loop is
#: the loop's cost (loop-amplification, misestimate), not the index's.
MIN_ROWS_PER_LOOP = 10

_NODES = ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")


def index_filter_inefficient(plan: Plan) -> Iterator[Finding]:
    """An Index Scan, Index Only Scan or Bitmap Heap Scan whose Filter removes 1,000 rows or
    more and keeps at most 20% of what the index returned (10 rows or more a loop): an index that also covers the
    filtered columns (the index advisor's best candidate for the Index Cond and the Filter together) returns only
    the wanted rows. Saving: the scan's own time (with its
    Bitmap Index Scans) times the share of rows thrown away.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] not in _NODES or not r["filter"] or not r["relation"]:
            continue
        kept, removed = v.total_rows(i), v.total_rows(i, "rows_removed_by_filter")
        if removed < MIN_ROWS_REMOVED or kept > MAX_KEPT_SHARE * (kept + removed):
            continue
        if kept + removed < MIN_ROWS_PER_LOOP * max(v.num(i, "actual_loops"), 1.0):
            continue
        waste = removed / (kept + removed)
        own = v.num(i, "exclusive_ms") + sum(
            v.num(j, "exclusive_ms") for j in v.subtree(i) if j != i and v.rows[j]["node_type"] == "Bitmap Index Scan"
        )
        cond = r["index_cond"] or r["recheck_cond"]
        both = f"({cond}) AND ({r['filter']})" if cond else r["filter"]
        ix = condition_index(r["schema"], r["relation"], r["alias"], both)
        indexes = [r["index_name"]] if r["index_name"] else [
            v.rows[j]["index_name"] for j in v.subtree(i) if v.rows[j]["node_type"] == "Bitmap Index Scan" and v.rows[j]["index_name"]
        ]
        used = f" {indexes[0]}" if len(indexes) == 1 else ""
        if ix is not None and not cond and used:
            # no Index Cond: the index is read whole, for its order; keep the order, filter first
            fix = (
                f"The index{used} is read whole for its order (it has no Index Cond) and the Filter "
                f"throws most rows away. An index for the Filter returns only the wanted rows: "
                f"{index_sql(ix)} Where the Filter compares with =, the key columns of{used} written "
                f"after its own keep that index's order too (no sort)."
            )
        elif ix is not None:
            fix = (
                f"Give the index the filtered columns too, so it returns only the rows wanted: {index_sql(ix)}"
                + (f" (it can then replace{used} if nothing else needs that one)." if used else "")
            )
        else:
            fix = f"An index that also covers the condition {r['filter']} would return only the rows wanted."
        yield Finding(
            CODE,
            i,
            f"{v.label(i)}: the index{used} returned {fmt_rows(kept + removed)} rows, the Filter "
            f"{r['filter']} kept {fmt_rows(kept)} ({fmt_pct(1 - waste)}); {fmt_ms(own)} in the scan.",
            fix,
            own * waste,
        )
