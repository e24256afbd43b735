"""top-n-sort: a LIMIT served by sorting a whole table, where an index would read a few rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, PlanView, fmt_ms, fmt_rows, view
from ._index import columns_index, index_sql
from ._sql import unquote_ident
from .offset_pagination import MIN_ROWS_SKIPPED

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "top-n-sort"
#: The sort's input has at least this many rows ...
MIN_SORTED_ROWS = 10_000
#: ... and the Limit keeps at most this share of them.
MAX_KEPT_SHARE = 0.01
#: Share of the Limit's time an index in the ORDER BY's order is expected to save.
SAVING_SHARE = 0.9
_KEY = re.compile(r'^(?:(?:"[^"]+"|\w+)\.)?("(?:[^"]|"")+"|\w+)(?: (DESC))?(?: NULLS (?:FIRST|LAST))?$')


def _scan(v: PlanView, i: int) -> int | None:
    """The one table scan below node i (through Gather and the like), or None."""
    scans = [j for j in v.subtree(i) if v.rows[j]["relation"]]
    return scans[0] if len(scans) == 1 else None


def top_n_sort(plan: Plan) -> Iterator[Finding]:
    """A Limit over a Sort of 10,000 rows or more from one table, keeping at most 1% of them
    (``ORDER BY <column> LIMIT n`` on a column no index orders): every row is read and sorted
    to return the first few. A B-tree index on the sort keys (after the WHERE's equality
    columns, if any) returns them in order and stops after n. Saving: 90% of the Limit's time.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] != "Limit" or not v.children[i]:
            continue
        sort = v.children[i][0]
        while v.rows[sort]["node_type"] in ("Gather Merge",) and v.children[sort]:
            sort = v.children[sort][0]
        s = v.rows[sort]
        if s["node_type"] != "Sort" or not s["sort_key"] or not v.children[sort]:
            continue
        sorted_rows = v.total_rows(v.children[sort][0])
        kept = v.total_rows(i)
        if sorted_rows < MIN_SORTED_ROWS or kept > MAX_KEPT_SHARE * sorted_rows:
            continue
        if v.total_rows(sort) - kept >= MIN_ROWS_SKIPPED:
            continue  # an OFFSET skipped what the sort returned: offset-pagination says so
        keys = [_KEY.match(k.strip()) for k in str(s["sort_key"]).split(",")]
        scan = _scan(v, sort)
        ix = None
        if scan is not None and all(keys):
            t = v.rows[scan]
            cols = [(unquote_ident(m.group(1)), "DESC") if m.group(2) else unquote_ident(m.group(1)) for m in keys if m]
            ix = columns_index(t["schema"], str(t["relation"]), cols)  # type: ignore[arg-type]
        spent = v.num(i, "inclusive_ms")
        yield Finding(
            CODE,
            i,
            f"{v.label(sort)} by {s['sort_key']} ({s['sort_method'] or 'sort'}) read and sorted {fmt_rows(sorted_rows)} "
            f"rows to return {fmt_rows(kept)}; {fmt_ms(spent)}.",
            (f"{index_sql(ix)} returns the rows in this order, so the scan stops after the LIMIT" if ix else
             "An index on the ORDER BY columns returns the rows in order, so the scan stops after the LIMIT")
            + " (put the WHERE's equality columns first, or make it a partial index WHERE <that condition>).",
            SAVING_SHARE * spent,
        )
