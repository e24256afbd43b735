"""cte-scan-filter: a materialized CTE computed in full, then filtered by its reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, fmt_pct, fmt_rows, view
from ._sql import quote_ident, unquote_ident

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "cte-scan-filter"
#: The CTE Scan's Filter must remove at least this many rows ...
MIN_ROWS_REMOVED = 1_000
#: ... and keep at most this share of the CTE's rows.
MAX_KEPT_SHARE = 0.50


def cte_scan_filter(plan: Plan) -> Iterator[Finding]:
    """A CTE Scan whose Filter removes 1,000 rows or more and keeps at most half: the CTE is
    materialized (MATERIALIZED, or read more than once, or before PostgreSQL 12), so every
    row was computed and stored before the condition applied. Saving: the CTE's time (split
    between the scans that read it) and the scan's own, times the share filtered out.
    """
    v = view(plan)
    readers: dict[str, int] = {}
    for r in v.rows:
        if r["node_type"] == "CTE Scan" and r["cte_name"]:
            readers[r["cte_name"]] = readers.get(r["cte_name"], 0) + 1
    for i, r in enumerate(v.rows):
        if r["node_type"] != "CTE Scan" or not r["filter"] or not r["cte_name"]:
            continue
        kept, removed = v.total_rows(i), v.total_rows(i, "rows_removed_by_filter")
        if removed < MIN_ROWS_REMOVED or kept > MAX_KEPT_SHARE * (kept + removed):
            continue
        name = r["cte_name"]
        body = [
            j for j, s in enumerate(v.rows)
            if (s["subplan_name"] or "").startswith("CTE ") and unquote_ident(s["subplan_name"][4:].strip()) == name
        ]
        cte_ms = sum(v.num(j, "inclusive_ms") for j in body) / max(readers.get(name, 1), 1)
        waste = removed / (kept + removed)
        spent = cte_ms + v.num(i, "exclusive_ms")
        q = quote_ident(name)
        more = readers.get(name, 1) > 1
        yield Finding(
            CODE,
            i,
            f"{v.label(i)}: the CTE produced {fmt_rows(kept + removed)} rows and the Filter "
            f"{r['filter']} kept {fmt_rows(kept)} ({fmt_pct(1 - waste)}); {fmt_ms(spent)} for the "
            f"CTE and its scan.",
            (
                f"Move the condition into the CTE {q} (it is read {readers[name]} times, so PostgreSQL "
                f"materializes it), or use a separate CTE for this reader."
                if more
                else f"Let PostgreSQL push the condition into the CTE: WITH {q} AS NOT MATERIALIZED (...) "
                f"(PostgreSQL 12+ inlines a CTE read once unless it says MATERIALIZED), or move the "
                f"condition into the CTE."
            ),
            spent * waste,
        )
