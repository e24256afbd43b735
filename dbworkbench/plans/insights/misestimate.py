"""misestimate: the planner's row estimate was off by an order of magnitude where it mattered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, PlanView, fmt_ms, fmt_rows, view
from ._sql import create_statistics, index_columns, qualified

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "misestimate"
#: Estimates off by this factor or more (either way) are reported ...
MIN_FACTOR = 10.0
#: ... when the larger of estimated and actual rows (over all loops) reaches this.
MIN_ROWS = 1_000
#: Share of the consuming node's time (without the misestimated input) a good estimate is
#: expected to save: the plan above was chosen for the wrong row count.
SAVING_SHARE = 0.5

# Nodes that pass rows on without a choice of their own: the consumer is above them.
_PASS_THROUGH = ("Hash", "Materialize", "Memoize", "Gather", "Gather Merge", "Result", "Limit", "Unique")
# Nodes whose row count is their input's: an error there started below.
_NOT_ORIGINS = ("Hash", "Materialize", "Memoize", "Sort", "Incremental Sort", "Gather", "Gather Merge", "Limit")
_SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan", "Tid Scan", "Tid Range Scan")


def _stops_early(v: PlanView, i: int) -> bool:
    """Whether node i may have been stopped before its last row (a Limit, EXISTS, a semi or
    anti join, a merge join): there fewer rows than estimated are no misestimate."""
    r = v.rows[i]
    if r["parent_relationship"] in ("SubPlan", "InitPlan"):
        return True
    for a in v.ancestors(i):
        ra = v.rows[a]
        if ra["node_type"] in ("Limit", "Merge Join") or ra["join_type"] in ("Semi", "Anti", "Right Semi", "Right Anti"):
            return True
        if ra["parent_relationship"] in ("SubPlan", "InitPlan"):
            return True
    return False


def _consumer(v: PlanView, i: int) -> int | None:
    p = v.parent(i)
    while p is not None and v.rows[p]["node_type"] in _PASS_THROUGH:
        p = v.parent(p)
    return p


def _tables(v: PlanView, i: int) -> list[str]:
    out: list[str] = []
    for j in v.subtree(i):
        r = v.rows[j]
        if r["relation"] and r["node_type"] in _SCANS:
            name = qualified(r["schema"], r["relation"])
            if name not in out:
                out.append(name)
    return out


def _fix(v: PlanView, i: int) -> str:
    r = v.rows[i]
    if r["node_type"] == "Function Scan":
        fn = v.raw[i].get("Function Name")
        name = qualified(r["schema"], fn) if isinstance(fn, str) else "the function"
        return (
            f"The planner takes a set-returning function's rows from its ROWS setting (1000 unless "
            f"declared): ALTER FUNCTION {name} ROWS {max(round(v.num(i, 'actual_rows')), 1)}; "
            f"(add the argument types when the name is overloaded)."
        )
    if r["node_type"] in ("CTE Scan", "WorkTable Scan"):
        return (
            "The planner cannot see what a CTE (above all a recursive one) returns. Write its result "
            "to a temporary table and ANALYZE it before the main query, or join the tables directly "
            "so their statistics apply."
        )
    heap = r
    if r["node_type"] == "Bitmap Index Scan":  # the table is its Bitmap Heap Scan's
        heap = next((v.rows[a] for a in v.ancestors(i) if v.rows[a]["node_type"] == "Bitmap Heap Scan"), r)
    if r["node_type"] in _SCANS and heap["relation"]:
        table = qualified(heap["schema"], heap["relation"])
        names = {n for n in (heap["alias"], heap["relation"]) if n}
        cols = []
        for expr in (r["index_cond"], r["recheck_cond"], r["filter"]):
            for c in index_columns(expr, names):
                if c.element not in cols and not c.element.startswith("("):
                    cols.append(c.element)
        if len(cols) >= 2:
            return (
                f"ANALYZE {table}; if the estimate stays off, the columns are correlated and the planner "
                f"multiplies their selectivities: {create_statistics(heap['schema'], heap['relation'], cols)} ANALYZE {table};"
            )
        if len(cols) == 1:
            return (
                f"ANALYZE {table}; (a table never analyzed, or changed a lot since, is the usual cause). "
                f"If the estimate stays off, sample more: ALTER TABLE {table} ALTER COLUMN {cols[0]} "
                f"SET STATISTICS 1000; ANALYZE {table};"
            )
        return f"ANALYZE {table}; (a table never analyzed, or changed a lot since, is the usual cause)."
    tables = _tables(v, i)
    if tables:
        return (
            f"ANALYZE {', '.join(tables)}; if the estimate stays off with fresh statistics, the "
            f"conditions are correlated: extended statistics (CREATE STATISTICS ... ON the filtered "
            f"or grouped columns) or a rewrite that states the relationship directly."
        )
    return "Refresh the statistics (ANALYZE) of the tables below this node."


def misestimate(plan: Plan) -> Iterator[Finding]:
    """A node whose actual rows differ from the estimate by 10x or more (1,000 rows or more
    either way), where the error starts (its inputs were estimated well enough: its own
    factor is 10x beyond theirs). Fewer rows than estimated under a Limit, EXISTS or a
    semi/anti/merge join are not counted (those stop early). Saving: half the time of the
    node that consumed the rows (its first ancestor that is not a Hash, Materialize, Gather,
    ...), without the misestimated input's own time: the plan from there up was chosen for the
    wrong count. Fix: ANALYZE; CREATE STATISTICS for correlated columns of one table; ROWS for
    a set-returning function; a temporary table for a CTE. Nodes that only pass their input's
    rows on (Hash, Sort, Materialize, Gather, ...) are never the origin.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        factor, direction = r["misestimate"], r["misestimate_direction"]
        if factor is None or direction is None or factor < MIN_FACTOR or r["node_type"] in _NOT_ORIGINS:
            continue
        loops = max(v.num(i, "actual_loops"), 1.0)
        if max(v.num(i, "actual_rows"), v.num(i, "plan_rows")) * loops < MIN_ROWS:
            continue
        if direction == "over" and _stops_early(v, i):
            continue
        inherited = max(
            (v.num(c, "misestimate", 1.0) for c in v.children[i] if v.rows[c]["misestimate_direction"] == direction),
            default=1.0,
        )
        if factor / inherited < MIN_FACTOR:
            continue
        c = _consumer(v, i)
        saving = 0.0 if c is None else SAVING_SHARE * max(v.num(c, "inclusive_ms") - v.num(i, "inclusive_ms"), 0.0)
        what = (
            f"; {v.label(c)} above it took {fmt_ms(v.num(c, 'inclusive_ms'))} with a plan chosen for the estimate"
            if c is not None
            else "; it is the last node, so no plan choice depended on it"
        )
        per_loop = " per loop" if loops > 1 else ""
        cond = r["filter"] or r["index_cond"] or r["recheck_cond"] or r["hash_cond"] or r["merge_cond"] or r["join_filter"]
        on = f" for {cond}" if cond else ""
        yield Finding(
            CODE,
            i,
            f"{v.label(i)}: estimated {fmt_rows(v.num(i, 'plan_rows'))} rows{per_loop}, got "
            f"{fmt_rows(v.num(i, 'actual_rows'))}{on} ({factor:,.0f}x {'too few' if direction == 'under' else 'too many'} "
            f"estimated){what}.",
            _fix(v, i),
            saving,
        )


