"""sort-spill: a sort that did not fit in work_mem and ran on disk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._base import Finding, PlanView, fmt_kb, fmt_ms, set_work_mem, spill_saving, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "sort-spill"
#: Memory an in-memory sort needs per kB the external sort wrote: the in-memory form is
#: larger (tuple headers, the SortTuple array). Measured 1.5 on the demo database; 2 leaves room.
MEMORY_PER_DISK_KB = 2.0
#: Share of the sort's own time an in-memory sort saves when the plan has no temp I/O timing.
SAVING_SHARE = 0.5


def _disk_kb(v: PlanView, i: int) -> float:
    """kB on disk of the sort's largest process (leader or worker), 0 when it sorted in memory."""
    r, raw = v.rows[i], v.raw[i]
    found = 0.0
    if r["sort_space_type"] == "Disk" or (r["sort_method"] or "").startswith("external"):
        found = v.num(i, "sort_space_kb")
    workers: Any = raw.get("Workers")
    for w in workers if isinstance(workers, list) else []:
        if isinstance(w, dict) and (w.get("Sort Space Type") == "Disk" or str(w.get("Sort Method", "")).startswith("external")):
            used = w.get("Sort Space Used")
            if isinstance(used, (int, float)):
                found = max(found, float(used))
    for group in ("Full-sort Groups", "Pre-sorted Groups"):  # Incremental Sort
        g = raw.get(group)
        disk = g.get("Sort Space Disk") if isinstance(g, dict) else None
        if isinstance(disk, dict) and isinstance(disk.get("Peak Sort Space Used"), (int, float)):
            found = max(found, float(disk["Peak Sort Space Used"]))
    return found


def sort_spill(plan: Plan) -> Iterator[Finding]:
    """A Sort (or Incremental Sort) that wrote to disk ("external merge"). work_mem of twice
    the disk space, rounded up to a power-of-two MB, keeps it in memory. Saving: the sort's
    temp I/O time, or half its own time when larger or not timed.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] not in ("Sort", "Incremental Sort"):
            continue
        disk = _disk_kb(v, i)
        if disk <= 0:
            continue
        need = disk * MEMORY_PER_DISK_KB
        keys = f" by {r['sort_key']}" if r["sort_key"] else ""
        yield Finding(
            CODE,
            i,
            f"{v.label(i)}{keys} spilled {fmt_kb(disk)} to disk ({r['sort_method'] or 'external sort'}); "
            f"it took {fmt_ms(v.num(i, 'exclusive_ms'))}.",
            f"In memory this sort needs about {fmt_kb(need)}: {set_work_mem(v, need)} Or sort fewer "
            f"rows: an index that returns them in order{keys}, or a LIMIT.",
            spill_saving(v, [i], SAVING_SHARE),
        )
