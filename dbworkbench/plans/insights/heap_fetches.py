"""heap-fetches: an Index Only Scan that still visits the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, fmt_rows, view
from ._sql import qualified

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "heap-fetches"
#: At least this many heap fetches (over all loops) ...
MIN_HEAP_FETCHES = 1_000
#: ... for at least this share of the rows the scan read.
MIN_FETCH_SHARE = 0.10
#: Share of the scan's time a VACUUM is expected to save per fetched share (a visit to the
#: table costs several times an index-only read; measured ~85% on the demo database).
SAVING_SHARE = 0.8


def heap_fetches(plan: Plan) -> Iterator[Finding]:
    """An Index Only Scan with 1,000 or more heap fetches for at least 10% of its rows: the
    visibility map is out of date, so the "index only" scan reads the table too. VACUUM sets
    the map. Saving: 80% of the scan's own time times the share of rows fetched.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] != "Index Only Scan" or not r["relation"]:
            continue
        fetches = v.num(i, "heap_fetches")  # a total over loops (not per loop, unlike rows)
        read = v.total_rows(i) + v.total_rows(i, "rows_removed_by_filter")
        if fetches < MIN_HEAP_FETCHES or fetches < MIN_FETCH_SHARE * read:
            continue
        share = min(fetches / read, 1.0) if read else 1.0
        table = qualified(r["schema"], r["relation"])
        yield Finding(
            CODE,
            i,
            f"{v.label(i)} visited the table {fmt_rows(fetches)} times for the {fmt_rows(read)} rows it "
            f"read: those pages are not marked all-visible, so the index alone could not answer; "
            f"{fmt_ms(v.num(i, 'exclusive_ms'))} in the scan.",
            f"VACUUM (ANALYZE) {table}; sets the visibility map. If it comes back, autovacuum is "
            f"not keeping up with the writes: ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.02); "
            f"(for insert-mostly tables, autovacuum_vacuum_insert_scale_factor).",
            v.num(i, "exclusive_ms") * share * SAVING_SHARE,
        )
