"""correlated-subquery: a subquery that reads the outer row runs once per outer row."""

from __future__ import annotations

from collections.abc import Iterator

import sqlglot
from sqlglot import exp

from ._base import DIALECT, Finding, Query, unparen
from .count_for_existence import counts_for_existence

CODE = "correlated-subquery"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'A subquery reading the outer row runs once per row: LEFT JOIN LATERAL or a grouped JOIN.'


def _outer_refs(q: Query, sub: exp.Select, outer: exp.Expr) -> list[exp.Column]:
    """Columns of ``sub`` that name a table of the query around it."""
    inner_names = {t.alias_or_name for s in sub.find_all(exp.Select) for t in s.find_all(exp.Table)}
    outer_names = set(q.tables(outer))
    return [c for c in sub.find_all(exp.Column) if c.table and c.table not in inner_names and c.table in outer_names]


def _lateral(q: Query, outer: exp.Select, item: exp.Expr, sub: exp.Select) -> exp.Expr | None:
    """The statement with the select-list subquery moved into ``LEFT JOIN LATERAL (...) ON TRUE``:
    only for an aggregate without GROUP BY (exactly one row per outer row, as the subquery gives)."""
    value = sub.expressions[0] if len(sub.expressions) == 1 else None
    if value is None or any(sub.args.get(a) for a in ("group", "having", "limit", "offset", "distinct")):
        return None
    agg = unparen(value.this if isinstance(value, exp.Alias) else value)
    if not isinstance(agg, exp.AggFunc) or agg.find(exp.Window):
        return None
    if any(outer.args.get(a) for a in ("group", "distinct", "having")) or any(
        e.find(exp.AggFunc) and not e.find(exp.Subquery) for e in outer.expressions
    ):
        return None
    name = item.alias if isinstance(item, exp.Alias) else agg.sql_name().lower()
    if not name:
        return None
    taken = {t.alias_or_name for t in q.tree.find_all(exp.Table)} | set(q.cte_names)
    lateral = f"{name}_sub"
    while lateral in taken:
        lateral += "_"
    body = sub.copy()
    body.set("expressions", [exp.alias_(agg.copy(), name)])
    join = sqlglot.parse_one(
        f"SELECT 1 FROM x LEFT JOIN LATERAL ({body.sql(DIALECT)}) AS {lateral} ON TRUE", read=DIALECT
    ).args["joins"][0]
    tree = q.tree.copy()
    target_select = next(s for s in tree.find_all(exp.Select) if s == outer)
    target_item = next(e for e in target_select.expressions if e == item)
    target_item.replace(exp.alias_(exp.column(name, table=lateral), name))
    target_select.append("joins", join)
    return tree


def correlated_subquery(q: Query) -> Iterator[Finding]:
    """A scalar subquery (in the select list or a condition) that refers to a table of the query
    around it: it runs once per outer row (a SubPlan in the plan). For an aggregate in the select
    list the ``rewrite`` moves it into ``LEFT JOIN LATERAL (...) ON TRUE`` (same rows, and a form
    PostgreSQL can plan as a join); the suggestion also gives the grouped JOIN, better when the
    outer query reads many rows."""
    for node in q.tree.find_all(exp.Subquery):
        sub = node.this
        if not isinstance(sub, exp.Select) or isinstance(node.parent, (exp.Exists, exp.In, exp.From, exp.Join)):
            continue
        outer = q.owner(node)
        if outer is None or not isinstance(outer, exp.Select):
            continue
        refs = _outer_refs(q, sub, outer)
        if not refs or counts_for_existence(node):
            continue
        item = node.parent if isinstance(node.parent, exp.Alias) else node
        tree = _lateral(q, outer, item, sub) if item in outer.expressions else None
        keys = ", ".join(sorted({c.sql(DIALECT) for c in refs}))
        yield q.finding(
            CODE,
            "warning",
            node,
            f"A subquery that reads the outer row ({keys}) runs once for every row the outer query produces.",
            "Join it instead: LEFT JOIN LATERAL (the subquery) ON TRUE for a per-row aggregate, or, when the outer "
            "query reads many rows, LEFT JOIN (SELECT key, aggregate ... GROUP BY key) ON key = outer key, computed "
            "once for all rows." + (" The rewrite is the LATERAL form and returns the same rows." if tree is not None else ""),
            q.rewritten(tree) if tree is not None else None,
        )
