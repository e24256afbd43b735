"""distinct-hides-join-fanout: a JOIN multiplies rows, then DISTINCT removes the copies."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query

CODE = "distinct-hides-join-fanout"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'SELECT DISTINCT over a join that adds no column removes the copies the join made: EXISTS.'


def distinct_hides_join_fanout(q: Query) -> Iterator[Finding]:
    """``SELECT DISTINCT`` (not DISTINCT ON) over a JOIN where some joined table contributes no
    column to the select list or ORDER BY: it is there to filter, the join makes one copy of each
    row per match, and DISTINCT sorts or hashes them all away again. EXISTS filters without the
    copies. No ``rewrite``: the two are the same only when the kept rows were distinct already."""
    for select in q.selects():
        distinct = select.args.get("distinct")
        joins = select.args.get("joins") or []
        if distinct is None or distinct.args.get("on") is not None or not joins:
            continue
        tables = q.tables(select)
        used = {c.table for e in select.expressions for c in e.find_all(exp.Column)}
        order = select.args.get("order")
        if order is not None:
            used |= {c.table for c in order.find_all(exp.Column)}
        if "" in used or any(isinstance(e, exp.Star) for e in select.expressions):
            continue  # unqualified columns or *: cannot tell which table they come from
        filtering = [j for j in joins if j.this.alias_or_name in tables and j.this.alias_or_name not in used]
        if not filtering or not used:
            continue
        names = ", ".join(j.this.alias_or_name for j in filtering)
        first, _ = q.span(select.expressions[0])
        at = q.sql.lower().rfind("distinct", 0, first) if first is not None else -1
        yield Finding(
            CODE,
            "warning",
            f"DISTINCT over a join with {names}, which adds no column: the join makes a copy of each row per match "
            "and DISTINCT removes them again.",
            f"Filter with EXISTS instead of joining {names}: SELECT ... FROM <the other tables> WHERE EXISTS (SELECT 1 "
            f"FROM {names} WHERE <the join condition>); then drop DISTINCT if the remaining rows are distinct "
            "(a unique key in the select list).",
            at if at >= 0 else None,
            at + len("distinct") if at >= 0 else None,
        )
