"""loop-amplification: a subtree run thousands of times, once per row of another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, PlanView, fmt_ms, fmt_rows, view
from .misestimate import MIN_FACTOR as MISESTIMATE_FACTOR

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "loop-amplification"
#: A subtree run at least this many times per run of its parent ...
MIN_LOOPS = 1_000
#: A Nested Loop's inner side must also cost at least this much per loop: one index probe
#: (~0.005-0.02 ms) per outer row is what a nested loop is for, not a problem.
NESTED_LOOP_MIN_MS_PER_LOOP = 0.05
#: Share of the repeated subtree's time a set-based plan (one join, one aggregate) is
#: expected to save.
SAVING_SHARE = 0.5


def _outer_misestimated(v: PlanView, nl: int) -> bool:
    """Whether the Nested Loop's outer input had far more rows than planned: then the
    planner did not know it would loop this much, and the misestimate rule says so."""
    for c in v.children[nl]:
        r = v.rows[c]
        if r["parent_relationship"] == "Outer":
            return any(
                v.rows[j]["misestimate_direction"] == "under" and v.num(j, "misestimate", 1.0) >= MISESTIMATE_FACTOR
                for j in v.subtree(c)
            )
    return False


def loop_amplification(plan: Plan) -> Iterator[Finding]:
    """A correlated SubPlan, or the inner side of a Nested Loop costing 0.05 ms or more a
    loop, that ran 1,000 times or more per run of its parent (under a Memoize: its cache
    misses). A Nested Loop whose outer input was underestimated 10x is left to the
    misestimate rule, a Materialize inner side to rows-discarded (its loops re-read stored
    rows; the cost is the join's comparisons). Saving: half the repeated subtree's time.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        p = v.parent(i)
        if p is None:
            continue
        sub = r["parent_relationship"] == "SubPlan"
        inner = r["parent_relationship"] == "Inner" and v.rows[p]["node_type"] == "Nested Loop"
        if not (sub or inner):
            continue
        if r["node_type"] == "Materialize":
            continue  # re-reading stored rows: the cost is the join's comparisons (rows-discarded)
        run = i
        if r["node_type"] == "Memoize" and v.children[i]:
            run = v.children[i][0]
        loops = v.num(run, "actual_loops") / max(v.num(p, "actual_loops"), 1.0)
        if loops < MIN_LOOPS:
            continue
        if inner and _outer_misestimated(v, p):
            continue
        spent = v.num(i, "inclusive_ms")
        runs = v.num(run, "actual_loops")
        per = v.num(run, "actual_total_ms", spent / max(runs, 1.0))
        cached = " (Memoize cache misses)" if run != i else ""
        if inner and per < NESTED_LOOP_MIN_MS_PER_LOOP:
            continue
        label = v.label(run)
        scan = next((j for j in v.subtree(run) if v.rows[j]["relation"]), run)
        if scan != run:
            label += f" over {v.label(scan)}"
        if sub:
            name = r["subplan_name"] or "SubPlan"
            msg = (
                f"{name} ({label}) ran {fmt_rows(runs)} times, once per row of {v.label(p)}: "
                f"{fmt_ms(spent)} in all, {fmt_ms(per)} a run."
            )
            fix = (
                "Rewrite the correlated subquery as a join that runs once: join to a derived table "
                "grouped by the correlation key (LEFT JOIN (SELECT key, max(...) ... GROUP BY key) s "
                "ON s.key = t.key), or a LEFT JOIN LATERAL when it needs LIMIT per row."
            )
        else:
            msg = (
                f"The inner side of {v.label(p)} ({label}) ran {fmt_rows(runs)} times{cached}: "
                f"{fmt_ms(spent)} in all, {fmt_ms(per)} a loop."
            )
            fix = (
                "Make each loop cheaper (an index that answers the inner side's condition directly) "
                "or let the join read the inner side once: compare with a hash join in a test "
                "session (SET enable_nestloop = off) and check the outer side's row estimate."
            )
        yield Finding(CODE, run if r["node_type"] == "Memoize" else i, msg, fix, SAVING_SHARE * spent)
