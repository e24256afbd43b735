"""not-in-subquery: ``x NOT IN (SELECT y ...)``: wrong with NULLs, and planned as a subplan."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query, unparen

CODE = "not-in-subquery"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'x NOT IN (SELECT ...) returns nothing when the subquery holds a NULL and is no anti-join: NOT EXISTS.'


def _qualified(q: Query, column: exp.Expr, owner: exp.Expr | None) -> exp.Expr | None:
    """The outer value with its table named, so that inside the subquery it still means the outer row."""
    if not isinstance(column, exp.Column):
        return column if not column.find(exp.Column) else None
    if column.table:
        return column.copy()
    tables = q.tables(owner) if owner is not None else {}
    return exp.column(column.name, table=next(iter(tables))) if len(tables) == 1 else None


def _not_exists(q: Query, node: exp.Not, outer: exp.Expr, sub: exp.Select) -> exp.Expr | None:
    """The statement with ``outer NOT IN (sub)`` written as NOT EXISTS (None when not mechanical)."""
    if len(sub.expressions) != 1 or any(sub.args.get(a) for a in ("group", "having", "limit", "offset", "distinct", "with")):
        return None
    inner = sub.expressions[0]
    inner = inner.this if isinstance(inner, exp.Alias) else inner
    value = _qualified(q, outer, q.owner(node))
    if value is None or not isinstance(inner, exp.Column):
        return None
    tree = q.tree.copy()
    target = next(n for n in tree.find_all(exp.Not) if n == node)
    body = sub.copy()
    body.set("expressions", [exp.Literal.number(1)])
    body = body.where(exp.EQ(this=inner.copy(), expression=value), copy=False)
    target.replace(exp.Not(this=exp.Exists(this=body)))
    return tree


def _outer_joined(select: exp.Expr) -> bool:
    """Whether ``select`` has a LEFT/RIGHT/FULL join (a NOT NULL column may then read as NULL)."""
    return any(j.args.get("side") for j in select.args.get("joins") or [])


def not_in_subquery(q: Query) -> Iterator[Finding]:
    """``x NOT IN (SELECT y ...)``. If the subquery returns a NULL, NOT IN is never true and the
    query returns no rows; a NULL ``x`` is never returned either. NOT EXISTS has neither trap and
    is planned as an anti-join (NOT IN with a subquery is a SubPlan, hashed only when it fits
    in work_mem). The NOT EXISTS form is the ``rewrite`` only when the catalog shows both sides
    NOT NULL (then the two return the same rows); otherwise it is in the suggestion."""
    for node in q.tree.find_all(exp.Not):
        inner = unparen(node.this)
        if not isinstance(inner, exp.In) or inner.args.get("query") is None:
            continue
        sub = unparen(inner.args["query"])
        sub = sub.this if isinstance(sub, exp.Subquery) else sub
        if not isinstance(sub, exp.Select):
            continue
        tree = _not_exists(q, node, inner.this, sub)
        form = q.rewritten(tree) if tree is not None else None
        sub_col = sub.expressions[0] if len(sub.expressions) == 1 else None
        outer_select = q.owner(node)
        safe = (
            form is not None
            and q.not_null(unparen(inner.this))
            and sub_col is not None
            and q.not_null(unparen(sub_col))
            and not _outer_joined(sub)
            and (outer_select is None or not _outer_joined(outer_select))
        )
        if safe:
            note = "Both sides are NOT NULL here, so NOT EXISTS returns the same rows."
        else:
            note = (
                "Check the NULLs first: NOT EXISTS also returns the rows NOT IN drops (outer value NULL, or a NULL "
                "in the subquery's result)."
            )
        yield q.finding(
            CODE,
            "warning",
            node,
            f"{q.text(inner.this)} NOT IN (SELECT ...): one NULL from the subquery makes it return no rows at all, and "
            "PostgreSQL runs it as a subplan rather than an anti-join.",
            "Write it as NOT EXISTS" + (f": {form}" if form and not safe else "") + ". " + note,
            form if safe else None,
        )
