"""jit-overhead: JIT compilation took a large share of a short query."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, fmt_pct, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "jit-overhead"
#: JIT time must reach this share of the execution time to be reported.
MIN_SHARE = 0.10
#: PostgreSQL's default jit_above_cost; the suggestion never goes below it.
DEFAULT_JIT_ABOVE_COST = 100_000


def jit_overhead(plan: Plan) -> Iterator[Finding]:
    """JIT compilation time of at least 10% of the execution: for a query this short the
    compiled code cannot win back its compile time. Saving: the JIT time. Fix: jit off for
    the query, or jit_above_cost above the plan's cost.
    """
    v = view(plan)
    jit = plan.jit or {}
    total = jit.get("total")
    if not total or not v.execution_ms or total < MIN_SHARE * v.execution_ms:
        return
    cost = v.num(0, "total_cost")
    above = max(10 ** math.ceil(math.log10(max(cost, 1.0) * 2)), DEFAULT_JIT_ABOVE_COST) if cost > 0 else None
    parts = [f"{k} {fmt_ms(jit[k])}" for k in ("generation", "inlining", "optimization", "emission") if jit.get(k)]
    detail = f" ({', '.join(parts)})" if parts else ""
    listed = [f"{k} = {v.setting(k)}" for k in ("jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost")
              if v.setting(k) is not None]
    ran = f"; this plan ran with {', '.join(listed)} (defaults 100000, 500000, 500000)" if listed else ""
    raise_cost = (
        f"SET jit_above_cost = {above:.0f}; (the plan costs {cost:,.0f}, so it would no longer be "
        f"compiled{ran}), "
        if above
        else ""
    )
    expensive = ""
    if (jit.get("inlining") or 0) + (jit.get("optimization") or 0) > 0.5 * total:
        expensive = (
            " Inlining and optimization took most of it: raising jit_inline_above_cost and "
            "jit_optimize_above_cost keeps the cheap part of JIT."
        )
    yield Finding(
        CODE,
        None,
        f"JIT compiled {jit.get('functions') or 'some'} functions in {fmt_ms(total)}{detail}, "
        f"{fmt_pct(total / v.execution_ms)} of the execution time.",
        f"{raise_cost}or SET jit = off; for this query or its role.{expensive}",
        float(total),
    )
