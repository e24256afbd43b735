"""missing-limit-on-unbounded-read: a SELECT that returns every row of a table."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query

CODE = "missing-limit-on-unbounded-read"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'A SELECT of a whole table with no WHERE or LIMIT returns every row, more as it grows.'
#: With the catalog, a table of at least this many live rows makes it a warning.
LARGE_TABLE_ROWS = 10_000


def missing_limit_on_unbounded_read(q: Query) -> Iterator[Finding]:
    """The statement is a SELECT with no WHERE, no LIMIT/FETCH and no aggregate or GROUP BY over
    a table: every row is read and sent to the client, however large the table grows. *info*;
    *warning* when the catalog says a table holds 10,000 rows or more."""
    select = q.tree
    if not isinstance(select, exp.Select) or not q.tables(select):
        return
    if any(select.args.get(a) for a in ("where", "limit", "fetch", "group", "having")):
        return
    if any(e.find(exp.AggFunc) for e in select.expressions):
        return
    severity, sizes = "info", []
    if q.schema is not None:
        for t in q.tables(select).values():
            found = q.schema.resolve_table(t.db or None, t.name)
            n = q.schema.rows(*found) if found else None
            if n is not None:
                sizes.append(f"{t.name}: about {round(n):,} rows")
                if n >= LARGE_TABLE_ROWS:
                    severity = "warning"
    size = f" ({'; '.join(sizes)})" if sizes else ""
    yield q.finding(
        CODE,
        severity,
        select.args.get("from_") or select,
        f"No WHERE and no LIMIT: the query returns every row of {', '.join(sorted({t.name for t in q.tables(select).values()}))}{size}, "
        "and more as the table grows.",
        "Add the condition the caller filters on, or LIMIT with keyset pagination (WHERE key > $last ORDER BY key LIMIT n); "
        "for a total, aggregate in the query instead of counting rows on the client.",
    )
