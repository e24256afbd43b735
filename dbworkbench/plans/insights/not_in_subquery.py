"""not-in-subquery: ``NOT IN (SELECT ...)`` run as a SubPlan filter instead of an anti-join."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, fmt_ms, fmt_rows, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "not-in-subquery"
# How PostgreSQL prints NOT IN (subquery) in a Filter: "NOT (ANY (x = (hashed SubPlan 1).col1))"
# (17+), "NOT (hashed SubPlan 1)" or "NOT (SubPlan 1)" (before 17).
_NOT_IN = re.compile(r"NOT \((ANY \(|hashed SubPlan \d+\)|SubPlan \d+\))")
#: Share of a non-hashed SubPlan's time an anti-join is expected to save.
SAVING_SHARE = 0.5


def not_in_subquery(plan: Plan) -> Iterator[Finding]:
    """A Filter holding ``NOT IN (SELECT ...)``: PostgreSQL cannot turn it into an anti-join
    (its NULL rules differ), so it runs as a SubPlan, hashed when the subquery's rows fit in
    work_mem, else once per row. And if the subquery returns a NULL, NOT IN keeps no row.
    NOT EXISTS has neither problem. Saving: half the SubPlan's time when it ran per row;
    none when hashed (the finding then stays *info*: the NULL trap, not the time).
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        cond = r["filter"] or r["join_filter"]
        if not cond or not _NOT_IN.search(str(cond)):
            continue
        subs = [c for c in v.children[i] if v.rows[c]["parent_relationship"] == "SubPlan"]
        hashed = "hashed SubPlan" in str(cond) or any("hashed" in str(v.rows[c]["subplan_name"] or "") for c in subs)
        spent = sum(v.num(c, "inclusive_ms") for c in subs)  # already over all loops
        loops = max((v.num(c, "actual_loops") for c in subs), default=0.0)
        how = (
            "hashed (the subquery's rows fit in work_mem)"
            if hashed
            else f"run once per row ({fmt_rows(loops)} times, {fmt_ms(spent)})"
        )
        yield Finding(
            CODE,
            i,
            f"{v.label(i)} filters with NOT IN (SELECT ...) ({cond}): a SubPlan, {how}, where NOT EXISTS would be an "
            "anti-join; and one NULL from the subquery makes NOT IN keep no row at all.",
            "Write it as NOT EXISTS (SELECT 1 FROM ... WHERE <subquery column> = <outer value> ...): the same rows when "
            "neither side can be NULL, and PostgreSQL plans it as an anti-join. dbworkbench.lint(sql) writes it.",
            0.0 if hashed else SAVING_SHARE * spent,
            severity="info" if hashed else None,
        )
