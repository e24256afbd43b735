"""sqltools: read SQL with sqlglot (PostgreSQL dialect) and lint it for performance anti-patterns.

Pure: sqlglot only, never a database driver. :func:`lint` works on text alone;
``Workbench.lint`` passes the catalog (indexes, column types, NOT NULL, table sizes) to
sharpen or silence findings.

``lint(sql)`` returns one row per finding, in the order of the text:

========== ======= ==========================================================================
column     dtype   meaning
========== ======= ==========================================================================
code       string  what was found: one of the codes below (stable)
severity   string  error (parse-error only), warning (fix it) or info (worth knowing)
message    string  the problem, quoting the statement's own text
start      Int64   0-based offset of the offending text in ``sql`` (``sql[start:end]``); <NA>
end        Int64   end of that text (exclusive); <NA> when unknown
suggestion string  the fix, with the SQL to write where there is one (CREATE INDEX, keyset form)
rewrite    string  the whole statement rewritten, only where the fix is mechanical and returns
                   the same rows; <NA> otherwise
========== ======= ==========================================================================

Codes (each is one rule, one module of this package; see :data:`RULE_DOCS`):

=============================== =================================================================
code                            finding
=============================== =================================================================
select-star                     ``SELECT *`` whose rows reach the client: name the columns
function-on-indexed-column      ``lower(email) = ...``: an expression index (the advisor's IndexDef)
                                or the sargable form; silent when the expression index exists
leading-wildcard-like           ``LIKE '%x'``: a pg_trgm GIN index or full-text search
offset-pagination               ``OFFSET $n`` or >= 1,000: the keyset form in the suggestion
not-in-subquery                 ``x NOT IN (SELECT ...)``: NOT EXISTS, and the NULL difference;
                                the rewrite when both sides are NOT NULL (catalog)
or-across-columns               ``a = x OR b = y``: an index per column or a UNION (the rewrite
                                when a unique key is selected, catalog); silent when all indexed
correlated-subquery             a subquery reading the outer row: LEFT JOIN LATERAL (the rewrite,
                                for an aggregate in the select list) or a grouped JOIN
implicit-cross-join             ``FROM a, b`` with no condition linking them
count-for-existence             ``(SELECT count(*) ...) > 0``: EXISTS (the rewrite)
distinct-hides-join-fanout      ``SELECT DISTINCT`` over a join adding no column: EXISTS
implicit-cast-on-column         ``col::date = ...`` in a condition (an integer column against a
                                decimal literal, with the catalog)
order-by-random                 ``ORDER BY random()``: TABLESAMPLE or a random key
missing-limit-on-unbounded-read a SELECT of a table with no WHERE, LIMIT or aggregate (warning
                                from 10,000 rows, catalog)
full-text-without-index         ``to_tsvector('english', col) @@ ...`` with no GIN index on that
                                expression (info offline; silent when the index exists)
parse-error                     the text could not be read: one finding at the position, no other
=============================== =================================================================

Clean SQL gives no warning. ``$n`` parameters are read as values; psycopg's ``%(name)s`` are
not (convert them first). Several statements separated by ``;`` are linted one by one; a
``rewrite`` is then that statement alone.

>>> found = lint("SELECT * FROM users WHERE lower(email) = lower($1)")
>>> found["code"].tolist()
['select-star', 'function-on-indexed-column']
>>> lint("SELECT 1 WHERE (SELECT count(*) FROM posts WHERE user_id = $1) > 0").loc[0, "rewrite"]
'SELECT\\n  1\\nWHERE\\n  EXISTS(\\n    SELECT\\n      1\\n    FROM posts\\n    WHERE\\n      user_id = $1\\n  )'
>>> lint("SELECT id FROM users WHERE id = $1").empty
True
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._base import SEVERITIES, Finding, Query
from ._parse import parse
from .correlated_subquery import correlated_subquery
from .count_for_existence import count_for_existence
from .distinct_hides_join_fanout import distinct_hides_join_fanout
from .full_text_without_index import full_text_without_index
from .function_on_indexed_column import function_on_indexed_column
from .implicit_cast_on_column import implicit_cast_on_column
from .implicit_cross_join import implicit_cross_join
from .leading_wildcard_like import leading_wildcard_like
from .missing_limit_on_unbounded_read import missing_limit_on_unbounded_read
from .not_in_subquery import not_in_subquery
from .offset_pagination import offset_pagination
from .or_across_columns import or_across_columns
from .order_by_random import order_by_random
from .select_star import select_star

if TYPE_CHECKING:
    from ..advisor.schema import SchemaInfo

Rule = Callable[[Query], Iterable[Finding]]

#: The rules, in the order their findings are listed at the same position.
RULES: tuple[Rule, ...] = (
    select_star,
    function_on_indexed_column,
    leading_wildcard_like,
    offset_pagination,
    not_in_subquery,
    or_across_columns,
    correlated_subquery,
    implicit_cross_join,
    count_for_existence,
    distinct_hides_join_fanout,
    implicit_cast_on_column,
    order_by_random,
    missing_limit_on_unbounded_read,
    full_text_without_index,
)

PARSE_ERROR = "parse-error"


def _code(rule: Rule) -> str:
    return getattr(rule, "__name__", str(rule)).replace("_", "-")


#: Every code with its one-line doc (each rule module's ``DOC``), ``parse-error`` last.
RULE_DOCS: dict[str, str] = {
    **{_code(r): str(getattr(sys.modules[r.__module__], "DOC", "")) for r in RULES},
    PARSE_ERROR: "The text could not be read as PostgreSQL SQL: one finding at the position, and no other.",
}
#: Every code, in :data:`RULES` order, then ``parse-error``.
CODES: tuple[str, ...] = tuple(RULE_DOCS)

#: Columns of :func:`lint`'s DataFrame and their dtypes.
COLUMNS: dict[str, str] = {
    "code": "string",
    "severity": "string",
    "message": "string",
    "start": "Int64",
    "end": "Int64",
    "suggestion": "string",
    "rewrite": "string",
}


def frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Findings as :func:`lint`'s DataFrame (columns and dtypes: :data:`COLUMNS`)."""
    rows = list(findings)
    columns: dict[str, Any] = {}
    for name, dtype in COLUMNS.items():
        columns[name] = pd.array([getattr(f, name) for f in rows], dtype=dtype)  # type: ignore[call-overload]
    return pd.DataFrame(columns)


def lint(sql: str, *, schema: SchemaInfo | None = None, rules: Iterable[Rule] | None = None) -> pd.DataFrame:
    """Lint ``sql`` (PostgreSQL; ``$n`` parameters allowed) for performance anti-patterns.

    One row per finding, ordered by position; columns and dtypes: :data:`COLUMNS`; codes:
    :data:`RULE_DOCS`. Text that cannot be parsed gives one ``parse-error`` row (never an
    exception). ``schema``: the catalog (:class:`~dbworkbench.advisor.schema.SchemaInfo`), as
    ``Workbench.lint`` passes it; ``rules``: a subset of :data:`RULES`.

    >>> lint("SELECT id FROM posts ORDER BY random() LIMIT 5")["code"].tolist()
    ['order-by-random']
    """
    if not isinstance(sql, str):
        raise TypeError(f"lint() takes the SQL text as a str, not {type(sql).__name__}")
    trees, error = parse(sql)
    if error is not None:
        return frame([error])
    selected = list(RULES if rules is None else rules)
    order = {_code(r): k for k, r in enumerate(selected)}
    found: list[Finding] = []
    for tree in trees:
        q = Query(sql, tree, schema)
        for rule in selected:
            found.extend(rule(q))
    found.sort(key=lambda f: (f.start if f.start is not None else len(sql), order.get(f.code, len(order)), SEVERITIES.index(f.severity)))
    return frame(found)


__all__ = ["CODES", "COLUMNS", "RULES", "RULE_DOCS", "SEVERITIES", "Finding", "Query", "Rule", "frame", "lint"]
