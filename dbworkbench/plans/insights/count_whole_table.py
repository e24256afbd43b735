"""count-whole-table: an exact count(*) of every row of a large table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._base import Finding, PlanView, fmt_ms, fmt_rows, view
from ._sql import qualified, quote_literal

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "count-whole-table"
#: At least this many rows counted.
MIN_ROWS = 100_000
#: Share of the count's time the estimate saves (it reads one catalog row).
SAVING_SHARE = 0.95
_PASS_THROUGH = ("Gather", "Aggregate", "Append")
_SCANS = ("Seq Scan", "Index Only Scan", "Bitmap Heap Scan", "Index Scan")


def _outputs(raw: dict[str, Any]) -> str:
    out = raw.get("Output")
    return " ".join(map(str, out)) if isinstance(out, list) else str(out or "")


def _whole_scan(v: PlanView, i: int) -> int | None:
    """The scan under an ungrouped aggregate when it reads its table whole (no Filter, no
    index condition), through Gather and partial aggregates; None otherwise."""
    j = i
    while True:
        kids = v.children[j]
        if len(kids) != 1:
            return None
        j = kids[0]
        r = v.rows[j]
        if r["node_type"] in _SCANS:
            unfiltered = not r["filter"] and not r["index_cond"] and not r["recheck_cond"]
            return j if unfiltered and r["relation"] else None
        if r["node_type"] not in _PASS_THROUGH or v.raw[j].get("Group Key"):
            return None


def count_whole_table(plan: Plan) -> Iterator[Finding]:
    """A count(*) (VERBOSE plans show it) with no GROUP BY over a scan that reads its table
    whole, 100,000 rows or more: an exact count reads every row (MVCC: no stored total). An
    estimate from the statistics costs nothing; an exact figure that is read often belongs in
    a counter kept by a trigger. Saving: 95% of the aggregate's time.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] != "Aggregate" or r["strategy"] not in (None, "Plain") or v.raw[i].get("Group Key"):
            continue
        if v.raw[i].get("Partial Mode") == "Partial":
            continue  # a parallel count's workers: the Finalize Aggregate above is the finding
        if "count(" not in _outputs(v.raw[i]):
            continue
        scan = _whole_scan(v, i)
        if scan is None:
            continue
        t = v.rows[scan]
        counted = v.total_rows(scan)
        if counted < MIN_ROWS:
            continue
        name = qualified(t["schema"], str(t["relation"]))
        spent = v.num(i, "inclusive_ms")
        yield Finding(
            CODE,
            i,
            f"count(*) read every row of {name} ({fmt_rows(counted)} rows, {fmt_ms(spent)}) to count them.",
            "For a figure to show, the planner's estimate costs nothing: SELECT reltuples::bigint FROM pg_class "
            f"WHERE oid = {quote_literal(name)}::regclass; (as fresh as the last ANALYZE or VACUUM). For an exact "
            "number read often, keep it in a counter table updated by a trigger.",
            SAVING_SHARE * spent,
        )
