"""rows-discarded: a join or an upper node produced rows only to throw them away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, PlanView, fmt_ms, fmt_pct, fmt_rows, view
from ._index import condition_index, index_sql
from ._sql import can_index, index_columns, unquote_ident

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "rows-discarded"
#: At least this many rows removed (over all loops) ...
MIN_ROWS_REMOVED = 1_000
#: ... keeping at most this share of them.
MAX_KEPT_SHARE = 0.20
#: Share of the subtree's time a pushed-down filter is expected to save (non-join nodes).
SAVING_SHARE = 0.5

_JOINS = ("Nested Loop", "Hash Join", "Merge Join")
# Scans with their own rules (seq-scan-selective, index-filter-inefficient, cte-scan-filter).
_SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "CTE Scan")
# A HAVING clause filters groups an aggregate had to build anyway: nothing to push down.
_GROUPING = ("Aggregate", "Group")


def _join_index(v: PlanView, i: int) -> str | None:
    """CREATE INDEX for the join key and the Join Filter's columns (the index advisor's best
    candidate for both conditions), on the joined table that reads the most rows (the index
    lets the join look up few rows of the large side)."""
    r = v.rows[i]
    key = r["hash_cond"] or r["merge_cond"]
    both = f"({key}) AND ({r['join_filter']})" if key else r["join_filter"]
    best: tuple[float, str] | None = None
    for side in v.children[i]:
        for j in v.subtree(side):
            s = v.rows[j]
            if not s["relation"] or s["node_type"] not in _SCANS or not can_index(s["schema"], s["relation"]):
                continue
            names = {n for n in (s["alias"], s["relation"]) if n}
            filtered = {unquote_ident(c.element) for c in index_columns(r["join_filter"], names) if not c.element.startswith("(")}
            ix = condition_index(s["schema"], s["relation"], s["alias"], both, using=filtered) if filtered else None
            if ix is None:
                continue
            size = v.total_rows(j) + v.total_rows(j, "rows_removed_by_filter")
            if best is None or size > best[0]:
                best = (size, index_sql(ix))
    return None if best is None else best[1]


def rows_discarded(plan: Plan) -> Iterator[Finding]:
    """A join whose Join Filter, or a node other than a table scan or an aggregate's HAVING
    (a Subquery Scan, Function Scan, Foreign Scan, ...) whose Filter, removed 1,000 rows or
    more and kept at most 20%: the rows were produced, then thrown away. Saving, for a join: its own time (and, for a Nested Loop, its
    inner side's) times the share removed; otherwise half the node's time times that share.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        nt = r["node_type"]
        if nt in _JOINS and r["join_filter"]:
            cond, removed = r["join_filter"], v.total_rows(i, "rows_removed_by_join_filter")
        elif nt not in _SCANS and nt not in _JOINS and nt not in _GROUPING and r["filter"]:
            cond, removed = r["filter"], v.total_rows(i, "rows_removed_by_filter")
        else:
            continue
        kept = v.total_rows(i)
        if removed < MIN_ROWS_REMOVED or kept > MAX_KEPT_SHARE * (kept + removed):
            continue
        waste = removed / (kept + removed)
        if nt in _JOINS:
            inner = [c for c in v.children[i] if v.rows[c]["parent_relationship"] == "Inner"]
            spent = v.num(i, "exclusive_ms") + (v.num(inner[0], "inclusive_ms") if nt == "Nested Loop" and inner else 0.0)
            saving = spent * waste
            where = "the join and its inner side" if nt == "Nested Loop" else "the join"
            msg = (
                f"{v.label(i)}: the Join Filter {cond} removed {fmt_rows(removed)} joined rows and kept "
                f"{fmt_rows(kept)} ({fmt_pct(1 - waste)}); {fmt_ms(spent)} in {where}."
            )
            sql = _join_index(v, i)
            fix = (
                "Make the condition part of how the join finds its rows instead of a test on every "
                "pair: " + (f"{sql} (if there is no such index yet) lets the join look the rows up; " if sql else "")
                + "rewrite an OR or a function around the join column as conditions the join can use "
                "(a hash or merge join needs an equality, an index scan needs the bare column)."
            )
        else:
            spent = v.num(i, "inclusive_ms")
            saving = SAVING_SHARE * spent * waste
            msg = (
                f"{v.label(i)}: the Filter {cond} removed {fmt_rows(removed)} rows and kept "
                f"{fmt_rows(kept)} ({fmt_pct(1 - waste)}) after {fmt_ms(spent)} spent producing them."
            )
            fix = (
                "Apply the condition earlier: PostgreSQL cannot push it below this node (a window "
                "function, DISTINCT ON, LIMIT or set-returning function is in the way), so write it "
                "inside the subquery, on the base columns, where an index can serve it."
            )
        yield Finding(CODE, i, msg, fix, saving)
