"""planning-time: planning took longer than a large share of running."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, fmt_pct, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "planning-time"
#: Planning must take at least this share of planning + execution ...
MIN_SHARE = 0.30
#: ... and at least this many milliseconds.
MIN_MS = 1.0
#: Below this, the finding stays info: a session's first plans also load the catalog
#: caches, so a few milliseconds of planning are not yet a pattern.
WARN_MIN_MS = 5.0

_SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "CTE Scan", "Function Scan",
          "Subquery Scan", "Values Scan", "Foreign Scan", "Tid Scan", "Tid Range Scan")


def planning_time(plan: Plan) -> Iterator[Finding]:
    """Planning time of at least 1 ms and 30% of planning + execution (info below 5 ms: a
    session's first plans load the catalog caches too). Saving: the planning time (a prepared
    statement reuses its plan). Fix: prepare the statement; with many
    joins, join_collapse_limit / from_collapse_limit bound the search.
    """
    v = view(plan)
    planning = plan.planning_ms
    if planning is None or v.total_ms is None or planning < MIN_MS or planning < MIN_SHARE * v.total_ms:
        return
    scans = sum(1 for r in v.rows if r["node_type"] in _SCANS)
    limits = [f"{k} = {v.setting(k)}" for k in ("join_collapse_limit", "from_collapse_limit", "geqo_threshold", "geqo")
              if v.setting(k)]
    search = ""
    if scans >= 8:
        search = (
            f" With {scans} relations the join order search is large"
            + (f" ({', '.join(limits)} in this plan: back to the defaults, 8, 8, 12, on)" if limits else "")
            + "; lower join_collapse_limit to keep the order as written, or split the query."
        )
    buffers = plan.planning_buffers or {}
    reads = buffers.get("shared_read") or 0
    catalog = f" Planning read {reads:,} blocks (catalog or statistics not cached)." if reads > 100 else ""
    yield Finding(
        CODE,
        None,
        f"Planning took {fmt_ms(planning)}, {fmt_pct(planning / v.total_ms)} of the statement "
        f"({fmt_ms(v.execution_ms or 0.0)} to execute, {scans} relations scanned).{catalog}",
        "Prepare the statement so its plan is reused (PREPARE / EXECUTE, or server-side prepared "
        "statements in the driver: psycopg's prepare=True, JDBC's prepareThreshold)." + search,
        float(planning),
        None if planning >= WARN_MIN_MS else "info",
    )
