"""select-star: ``SELECT *`` reads and sends every column, today's and tomorrow's."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query

CODE = "select-star"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'SELECT * reads and sends every column: name the columns.'


def _columns(q: Query, select: exp.Select) -> str | None:
    """The star's columns from the catalog (single-table SELECT only), as a select list."""
    tables = q.tables(select)
    if q.schema is None or len(tables) != 1 or select.args.get("joins"):
        return None
    t = next(iter(tables.values()))
    found = q.schema.resolve_table(t.db or None, t.name)
    if found is None:
        return None
    names = list(q.schema.table_columns(*found))
    return ", ".join(exp.to_identifier(n).sql("postgres") for n in names) or None


def _output(q: Query, select: exp.Select) -> bool:
    """Whether ``select``'s rows go to the client: the statement itself or a branch of its UNION
    (a ``*`` inside a subquery or CTE costs nothing: the planner keeps only the columns used)."""
    node: exp.Expr = select
    while node is not q.tree:
        parent = node.parent
        if not isinstance(parent, (exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.Paren)) or parent is None:
            return False
        node = parent
    return True


def select_star(q: Query) -> Iterator[Finding]:
    """A ``*`` (or ``t.*``) in the select list whose rows go to the client (the statement's own,
    or a branch of its UNION; not in a subquery, CTE or EXISTS, where the planner keeps only the
    columns used; ``count(*)`` is no star). With the catalog, the suggestion names the columns."""
    for select in q.selects():
        if not _output(q, select):
            continue
        for item in select.expressions:
            star = item if isinstance(item, exp.Star) else item.this if isinstance(item, exp.Column) and isinstance(item.this, exp.Star) else None
            if star is None:
                continue
            names = _columns(q, select)
            listed = f" The table's columns: {names}." if names else ""
            yield q.finding(
                CODE,
                "warning",
                item,
                "SELECT * reads and sends every column (wide TEXT values included) and changes meaning when a "
                "column is added; it also rules out an index-only scan.",
                "Name the columns the caller uses." + listed,
            )
