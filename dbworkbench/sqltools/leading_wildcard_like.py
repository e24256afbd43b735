"""leading-wildcard-like: ``LIKE '%word'`` cannot use a B-tree index."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ..plans.insights._index import index_sql
from ._base import Finding, Query, key_text, unparen

CODE = "leading-wildcard-like"
#: One line for lists of the rules (README, the QueryLab).
DOC = "LIKE '%x' cannot use a B-tree index: a pg_trgm index or full-text search."


def _leading(pattern: exp.Expr) -> bool:
    """Whether the pattern starts with a wildcard: a literal '%...'/'_...', or such a literal first in a ``||``."""
    node = unparen(pattern)
    while isinstance(node, exp.DPipe):
        node = unparen(node.this)
    return isinstance(node, exp.Literal) and node.is_string and node.this[:1] in ("%", "_")


def leading_wildcard_like(q: Query) -> Iterator[Finding]:
    """A LIKE or ILIKE whose pattern begins with ``%`` or ``_`` (also ``'%' || $1``): no B-tree index
    can serve it, so every row is read. With the catalog, a trigram (GIN/GiST ``*_trgm_ops``)
    index on the column silences it."""
    for node in q.tree.find_all(exp.Like, exp.ILike):
        target, pattern = unparen(node.this), node.expression
        if not _leading(pattern):
            continue
        column = target if isinstance(target, exp.Column) else target.find(exp.Column)
        if column is not None and _has_trigram(q, column, key_text(target)):
            continue
        index = _index_sql(q, column, target) if column is not None else None
        yield q.finding(
            CODE,
            "warning",
            node,
            f"{q.text(node)}: a pattern that starts with a wildcard cannot use a B-tree index; every row is read and tested.",
            (f"A trigram index serves it: {index} " if index else "A trigram index (pg_trgm, gin_trgm_ops) serves it. ")
            + "For words in running text, full-text search (to_tsvector ... @@ plainto_tsquery ...) with a GIN index "
            "is the better tool; for a prefix search, drop the leading %.",
        )


def _has_trigram(q: Query, column: exp.Column, key: str) -> bool:
    table = q.resolved(column)
    if table is None or q.schema is None:
        return False
    return any(s.keys and s.keys[0].expr == key and (s.keys[0].opclass or "").endswith("_trgm_ops") for s in q.schema.index_shapes(*table))


def _index_sql(q: Query, column: exp.Column, target: exp.Expr) -> str | None:
    where = q.table_of(column)
    if where is None:
        return None
    from ..advisor.index import IndexDef  # here: the advisor package imports a driver at its top

    return index_sql(IndexDef(where[0] or "", where[1], (f"{key_text(target)} gin_trgm_ops",), method="gin"))
