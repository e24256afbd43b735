"""seq-scan-selective: a sequential scan that reads a table to keep a few of its rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, fmt_pct, fmt_rows, view
from ._index import condition_index, index_sql

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "seq-scan-selective"
#: The scan's Filter must have removed at least this many rows (over all loops).
MIN_ROWS_REMOVED = 1_000
#: ... and kept at most this share of the rows it read.
MAX_KEPT_SHARE = 0.10


def seq_scan_selective(plan: Plan) -> Iterator[Finding]:
    """A Seq Scan whose Filter keeps at most 10% of the rows it reads (and removes 1,000 or
    more): an index for the Filter, the index advisor's best candidate for it (plain columns, an
    expression, full-text GIN, ...), reads only the matching rows. Saving: the scan's
    own time (and its Gather's, when it runs in parallel) times the share of rows thrown away.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] != "Seq Scan" or not r["filter"] or not r["relation"]:
            continue
        kept, removed = v.total_rows(i), v.total_rows(i, "rows_removed_by_filter")
        if removed < MIN_ROWS_REMOVED or kept > MAX_KEPT_SHARE * (kept + removed):
            continue
        waste = removed / (kept + removed)
        own = v.num(i, "exclusive_ms")
        p = v.parent(i)
        if p is not None and v.rows[p]["node_type"] in ("Gather", "Gather Merge") and len(v.children[p]) == 1:
            own += v.num(p, "exclusive_ms")
        ix = condition_index(r["schema"], r["relation"], r["alias"], r["filter"])
        if ix is not None:
            fix = f"An index for the Filter lets PostgreSQL read only the matching rows: {index_sql(ix)}"
        else:
            fix = f"An index matching the condition {r['filter']} would let PostgreSQL read only the matching rows."
        loops = int(v.num(i, "actual_loops"))
        times = ""
        if loops > 1:
            times = f" in {loops} processes" if v.raw[i].get("Parallel Aware") is True else f" over {loops:,} loops"
        yield Finding(
            CODE,
            i,
            f"{v.label(i)} read {fmt_rows(kept + removed)} rows{times} and kept {fmt_rows(kept)} "
            f"({fmt_pct(1 - waste)}) with Filter {r['filter']}; it took {fmt_ms(v.num(i, 'exclusive_ms'))}.",
            fix,
            own * waste,
        )

