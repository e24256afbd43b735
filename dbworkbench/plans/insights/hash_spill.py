"""hash-spill: a hash join whose hash table did not fit in memory and was split into batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_kb, fmt_ms, hash_mem_multiplier, set_work_mem, spill_saving, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "hash-spill"
#: Share of the Hash and Hash Join's own time a single batch saves when there is no temp I/O timing.
SAVING_SHARE = 0.5


def hash_spill(plan: Plan) -> Iterator[Finding]:
    """A Hash node with more than one batch: both join inputs went through temporary files.
    The table needs about peak memory x batches; hash nodes may use work_mem x
    hash_mem_multiplier, so work_mem = that / hash_mem_multiplier, rounded up to a
    power-of-two MB. Saving: temp I/O time of the Hash and its join, or half their own time.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] != "Hash":
            continue
        batches = v.num(i, "hash_batches")
        if batches <= 1:
            continue
        peak = v.num(i, "peak_memory_kb")
        need = peak * batches
        mult = hash_mem_multiplier(v)
        original = v.num(i, "hash_batches_original", batches)
        grew = (
            f" (planned {original:.0f}: the input was larger than estimated)" if original < batches else ""
        )
        p = v.parent(i)
        nodes = [i] if p is None else [i, p]
        join = v.label(p) if p is not None else "the join"
        yield Finding(
            CODE,
            i,
            f"{v.label(i)} for {join} used {batches:.0f} batches{grew}, {fmt_kb(peak)} each: both join "
            f"inputs were written to temporary files; {fmt_ms(sum(v.num(j, 'exclusive_ms') for j in nodes))} "
            f"in the hash and the join.",
            f"One batch needs about {fmt_kb(need)}, that is work_mem of {fmt_kb(need / mult)} with "
            f"hash_mem_multiplier = {mult:g}: {set_work_mem(v, need / mult)}",
            spill_saving(v, nodes, SAVING_SHARE),
        )
