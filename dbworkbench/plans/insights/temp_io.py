"""temp-io: a node (other than a sort or a hash join) that wrote temporary files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import BLOCK_KB, Finding, fmt_kb, fmt_ms, hash_mem_multiplier, set_work_mem, spill_saving, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "temp-io"
#: Nodes with their own rule: sort-spill and hash-spill.
_OWN_RULES = ("Sort", "Incremental Sort", "Hash", "Hash Join")
#: Memory per kB written for tuple stores (Materialize, CTE, WindowAgg, function results).
MEMORY_PER_TEMP_KB = 1.5
#: Share of the node's own time that staying in memory saves when there is no temp I/O timing.
SAVING_SHARE = 0.5


def temp_io(plan: Plan) -> Iterator[Finding]:
    """A HashAggregate that spilled, a Materialize, CTE Scan, WindowAgg or function scan whose
    tuple store went to disk: anything but Sort and Hash (their own rules) that wrote temporary
    blocks itself. work_mem from the spill (HashAggregate: disk + peak memory over
    hash_mem_multiplier; others: "Maximum Storage" or temp blocks written x 8 kB x 1.5).
    Saving: its temp I/O time, or half its own time.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] in _OWN_RULES:
            continue
        written = v.num(i, "temp_written_excl")
        if written <= 0:
            continue
        raw = v.raw[i]
        disk_kb = written * BLOCK_KB
        hashed = r["node_type"] in ("Aggregate", "SetOp") and r["strategy"] in ("Hashed", "Mixed")
        if hashed:
            used = raw.get("Disk Usage")
            disk_kb = float(used) if isinstance(used, (int, float)) and used > 0 else disk_kb
            mult = hash_mem_multiplier(v)
            need = (disk_kb + v.num(i, "peak_memory_kb")) / mult
            how = f"with hash_mem_multiplier = {mult:g}, "
        else:
            stored = raw.get("Maximum Storage") if raw.get("Storage") == "Disk" else None
            need = float(stored) if isinstance(stored, (int, float)) else disk_kb * MEMORY_PER_TEMP_KB
            how = ""
        batches = f" in {v.num(i, 'hash_batches'):.0f} batches" if hashed and v.num(i, "hash_batches") > 1 else ""
        yield Finding(
            CODE,
            i,
            f"{v.label(i)} wrote {fmt_kb(written * BLOCK_KB)} of temporary files{batches}; it took "
            f"{fmt_ms(v.num(i, 'exclusive_ms'))}.",
            f"To stay in memory it needs work_mem of about {fmt_kb(need)} ({how}from the spill): "
            + set_work_mem(v, need),
            spill_saving(v, [i], SAVING_SHARE),
        )
