"""lossy-bitmap: a bitmap heap scan whose bitmap outgrew work_mem and went lossy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_kb, fmt_ms, fmt_rows, set_work_mem, view, work_mem_kb

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "lossy-bitmap"
#: Bytes of work_mem a bitmap needs per heap page it tracks exactly: PostgreSQL's
#: TIDBitmap sizes its page table at work_mem / 64 bytes (``tbm_calculate_entries``),
#: doubled for headroom.
BYTES_PER_PAGE = 128
#: Share of the scan's time spent on lossy pages that exact pages would save.
SAVING_SHARE = 0.5


def lossy_bitmap(plan: Plan) -> Iterator[Finding]:
    """A Bitmap Heap Scan with lossy heap blocks: the bitmap did not fit in work_mem, so whole
    pages were re-checked row by row. work_mem for (exact + lossy) pages x 128 bytes keeps it
    exact. Saving: the scan's own time times the share of rows removed by the recheck, or, when
    that is not reported, half its time times the share of lossy pages.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] != "Bitmap Heap Scan":
            continue
        lossy, exact = v.num(i, "lossy_heap_blocks"), v.num(i, "exact_heap_blocks")
        if lossy <= 0:
            continue
        own = v.num(i, "exclusive_ms")
        kept, rechecked = v.total_rows(i), v.total_rows(i, "rows_removed_by_index_recheck")
        if rechecked > 0:
            saving = own * rechecked / (kept + rechecked)
        else:
            saving = own * SAVING_SHARE * lossy / (lossy + exact)
        need_kb = (lossy + exact) * BYTES_PER_PAGE / 1024
        removed = f"; the recheck threw away {fmt_rows(rechecked)} rows" if rechecked else ""
        yield Finding(
            CODE,
            i,
            f"{v.label(i)}: {fmt_rows(lossy)} of {fmt_rows(lossy + exact)} heap blocks were lossy (the "
            f"bitmap outgrew work_mem, so every row of those pages was re-checked against "
            f"{r['recheck_cond'] or 'the condition'}){removed}; {fmt_ms(own)} in the scan.",
            (
                f"An exact bitmap of {fmt_rows(lossy + exact)} pages needs about {fmt_kb(need_kb)}: "
                if need_kb > work_mem_kb(v)
                else f"The bitmap of {fmt_rows(lossy + exact)} pages did not fit in work_mem: "
            )
            + set_work_mem(v, need_kb),
            saving,
        )
