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


def select_star(q: Query) -> Iterator[Finding]:
    """A ``*`` (or ``t.*``) in a select list, except inside EXISTS (whose select list is never
    read) and ``count(*)``. With the catalog, the suggestion names the columns to choose from."""
    for select in q.selects():
        if isinstance(select.parent, exp.Exists) or (isinstance(select.parent, exp.Subquery) and isinstance(select.parent.parent, exp.Exists)):
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
