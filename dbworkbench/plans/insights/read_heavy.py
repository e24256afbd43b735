"""read-heavy: a node that read much of its data from outside shared buffers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import BLOCK_KB, SHARED_READ_KEYS, Finding, fmt_kb, fmt_ms, fmt_pct, fmt_rows, view
from ._sql import qualified, quote_literal

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "read-heavy"
#: At least this many blocks read by the node itself (1,000 blocks = 8 MB) ...
MIN_READ_BLOCKS = 1_000
#: ... for at least this share of the blocks it touched.
MIN_READ_SHARE = 0.50
#: Share of the node's own time (times the share of blocks read) counted as the cost of
#: reading: the I/O wait that track_io_timing sees is only part of it (buffer allocation,
#: page faults, and with asynchronous I/O the wait is partly hidden). A cold-cache scan of the
#: demo's comments table took 147 ms with 21 ms of I/O wait, 30 ms warm.
SAVING_SHARE = 0.5


def read_heavy(plan: Plan) -> Iterator[Finding]:
    """A node that read 1,000 or more blocks itself, at least half of what it touched, from
    outside shared buffers (the OS cache or the disk). Saving: its I/O wait
    (track_io_timing) or half its own time times the share read, whichever is larger. A cold
    cache after a restart looks the same: the suggestion says how to tell and what to do.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        read, hit = v.num(i, "shared_read_excl"), v.num(i, "shared_hit_excl")
        if read < MIN_READ_BLOCKS or read < MIN_READ_SHARE * (read + hit):
            continue
        own = v.num(i, "exclusive_ms")
        io = v.raw_excl(i, SHARED_READ_KEYS)
        timed = any(k in v.raw[i] for k in SHARED_READ_KEYS)
        saving = max(min(io, own), SAVING_SHARE * own * read / (read + hit))
        reading = f", {fmt_ms(io)} waiting for reads" if timed else ""
        table = qualified(r["schema"], r["relation"]) if r["relation"] else None
        sb = v.setting("shared_buffers")
        prewarm = (
            f" To warm it after a restart: CREATE EXTENSION IF NOT EXISTS pg_prewarm; "
            f"SELECT pg_prewarm({quote_literal(table)});"
            if table
            else ""
        )
        yield Finding(
            CODE,
            i,
            f"{v.label(i)} read {fmt_rows(read)} blocks ({fmt_kb(read * BLOCK_KB)}) from outside shared "
            f"buffers and found {fmt_rows(hit)} in them ({fmt_pct(read / (read + hit))} read){reading}; "
            f"{fmt_ms(own)} in the node.",
            "Run it again: if the reads are gone it was a cold cache (after a restart or a large "
            "scan elsewhere). If they stay, the data this query needs does not stay in "
            f"shared_buffers{f' ({sb})' if sb else ''}: read fewer pages (a selective or covering "
            "index, VACUUM a bloated table) or give shared_buffers more memory (db.health() checks "
            "the cache hit ratio)." + prewarm,
            saving,
        )
