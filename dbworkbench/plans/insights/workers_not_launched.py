"""workers-not-launched: a parallel plan that got fewer workers than planned."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "workers-not-launched"


def workers_not_launched(plan: Plan) -> Iterator[Finding]:
    """A Gather or Gather Merge that launched fewer workers than planned: the pool
    (max_parallel_workers, max_worker_processes) was used up, so the leader did the work
    planned for several processes. Saving: the Gather's time x (1 - processes that ran /
    processes planned), leader included.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] not in ("Gather", "Gather Merge"):
            continue
        planned, launched = r["workers_planned"], r["workers_launched"]
        if planned is None or launched is None or launched >= planned:
            continue
        leader = 0 if str(v.setting("parallel_leader_participation") or "on").lower() in ("off", "false") else 1
        ran, wanted = launched + leader, planned + leader
        spent = v.num(i, "inclusive_ms")
        saving = spent * (1 - max(ran, 1) / max(wanted, 1))
        limits = [f"{k} = {v.setting(k)}" for k in ("max_parallel_workers", "max_worker_processes") if v.setting(k)]
        listed = f" (this plan ran with {', '.join(limits)})" if limits else ""
        yield Finding(
            CODE,
            i,
            f"{v.label(i)} planned {planned} workers and launched {launched}{listed}; "
            f"{fmt_ms(spent)} with {'only the leader' if launched == 0 else f'{launched} of {planned}'}.",
            "Parallel workers come from max_parallel_workers (within max_worker_processes); when "
            "other queries hold them, new ones get fewer or none. Raise max_parallel_workers "
            "(and max_worker_processes, which needs a restart) to at least the workers your "
            "concurrent parallel queries plan, or lower max_parallel_workers_per_gather so "
            "more queries get some.",
            saving,
        )
