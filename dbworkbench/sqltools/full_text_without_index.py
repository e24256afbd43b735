"""full-text-without-index: ``to_tsvector(...) @@ query`` computed for every row, with no index."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ..plans.insights._index import index_sql
from ._base import Finding, Query, key_text, unparen

CODE = "full-text-without-index"
#: One line for lists of the rules (README, the QueryLab).
DOC = "to_tsvector(...) @@ ... with no GIN index on that expression parses every row's text: the index."


def _tsvector(node: exp.Expr) -> exp.Anonymous | None:
    n = unparen(node)
    return n if isinstance(n, exp.Anonymous) and str(n.this).lower() == "to_tsvector" and n.find(exp.Column) else None


def full_text_without_index(q: Query) -> Iterator[Finding]:
    """A full-text match ``to_tsvector(config, column) @@ tsquery`` whose tsvector is computed
    from a column: without a GIN index on exactly that expression every row's text is parsed on
    every search. With the catalog: silent when such an index exists, else a *warning*; offline
    *info* (the index may exist). ``to_tsvector(column)`` without a configuration is a warning
    either way: it depends on a setting, so no index can be built on it."""
    for match in q.tree.find_all(exp.MatchAgainst):
        vector = next((v for v in (_tsvector(e) for e in [match.this, *match.expressions]) if v is not None), None)
        if vector is None:
            continue
        column = vector.find(exp.Column)
        assert column is not None
        key = key_text(vector)
        if len(vector.expressions) < 2:
            yield q.finding(
                CODE,
                "warning",
                match,
                f"{key} has no text search configuration: its result depends on default_text_search_config, so no "
                "index can be built on it and every row's text is parsed on every search.",
                f"Name the configuration (to_tsvector('english', {column.name})) here and in a GIN index on that expression.",
            )
            continue
        keys = q.index_keys(column)
        if keys is not None and any(k and k[0] == key for k in keys):
            continue
        where = q.table_of(column)
        fix = None
        if where is not None:
            from ..advisor.index import IndexDef  # here: the advisor package imports a driver at its top

            fix = index_sql(IndexDef(where[0] or "", where[1], (key,), method="gin"))
        yield q.finding(
            CODE,
            "info" if keys is None else "warning",
            match,
            f"{key} is computed for every row on every search"
            + (" (no GIN index on it)." if keys is not None else " unless a GIN index on that expression exists."),
            (f"{fix} Or store the tsvector in a generated column and index that." if fix else
             "A GIN index on exactly that expression, or a stored tsvector column with a GIN index."),
        )
