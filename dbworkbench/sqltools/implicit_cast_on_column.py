"""implicit-cast-on-column: a cast applied to a column in a condition hides it from its index."""

from __future__ import annotations

from collections.abc import Iterator

import sqlglot
from sqlglot import exp

from ._base import DIALECT, Finding, Query, in_condition, unparen

CODE = "implicit-cast-on-column"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'A cast of a column in a condition (col::date = ...) hides it from its index: cast the other side.'
# Casts PostgreSQL applies for free (binary-coercible text types): an index on the column still serves them.
_FREE = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.NAME}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between)
_INTEGERS = {"smallint", "integer", "bigint"}
_FRACTIONAL = {exp.DataType.Type.DECIMAL, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.BIGDECIMAL}


def _comparison(node: exp.Expr) -> exp.Expr | None:
    p = node.parent
    while isinstance(p, exp.Paren):
        p = p.parent
    return p if isinstance(p, _COMPARISONS) else None


def _same_type(catalog_type: str, to: exp.DataType) -> bool:
    """Whether the catalog's ``format_type`` text names the type ``to`` (a cast that changes nothing)."""
    try:
        return exp.DataType.build(catalog_type, dialect=DIALECT).sql(DIALECT).lower() == to.sql(DIALECT).lower()
    except (ValueError, sqlglot.errors.SqlglotError):
        return False


def implicit_cast_on_column(q: Query) -> Iterator[Finding]:
    """In a WHERE/ON comparison: a column cast to another type (``created_at::date = $1``,
    ``CAST(id AS text) = $1``), or, with the catalog, an integer column compared with a decimal
    literal (``id = 10.0`` casts the column to numeric). An index on the column cannot serve the
    cast value. Casts between text types are free and left alone, as are casts to the column's
    own type (catalog); with the catalog also an integer column compared with a value cast to
    numeric or a float type (``id = $1::numeric``)."""
    for cast in q.tree.find_all(exp.Cast):
        column = unparen(cast.this)
        cmp = _comparison(cast)
        if not isinstance(column, exp.Column) or cmp is None or not in_condition(cmp):
            continue
        if cast.to.this in _FREE:
            continue
        info = q.column_info(column)
        if info is not None and _same_type(str(info["type"]), cast.to):
            continue
        to = cast.to.sql(DIALECT).lower()
        yield q.finding(
            CODE,
            "warning",
            cmp,
            f"{q.text(cmp)}: {column.sql(DIALECT)} is cast to {to} on every row, so an index on {column.name} cannot serve it.",
            "Cast the other side to the column's type instead"
            + (
                f" (for a date: {column.name} >= $1::date AND {column.name} < $1::date + 1)"
                if to == "date"
                else ""
            )
            + f", or index the expression ({column.name}::{to}).",
        )
    if q.schema is None:
        return
    for cmp in q.tree.find_all(*_COMPARISONS):
        if not in_condition(cmp) or cmp.expression is None:
            continue
        for col, other in ((unparen(cmp.this), unparen(cmp.expression)), (unparen(cmp.expression), unparen(cmp.this))):
            if not isinstance(col, exp.Column) or not _fractional(other):
                continue
            info = q.column_info(col)
            if info is None or str(info["type"]).lower() not in _INTEGERS:
                continue
            to = other.to.sql(DIALECT).lower().replace("decimal", "numeric") if isinstance(other, exp.Cast) else "numeric"
            value = f"{q.text(other.this)}::{to}" if isinstance(other, exp.Cast) else q.text(other)
            yield q.finding(
                CODE,
                "warning",
                cmp,
                f"{q.text(cmp)}: {col.name} is {info['type']} and {value} is not, so every {col.name} is cast to "
                f"{to} and its index is not used.",
                f"Compare with a value of the column's type: {col.name} = <the value>::{info['type']} (round it first "
                "if it may have a fraction).",
            )


def _fractional(node: exp.Expr) -> bool:
    """A decimal literal (``10.0``) or a value cast to numeric, real or double precision."""
    if isinstance(node, exp.Literal):
        return not node.is_string and "." in node.this
    return isinstance(node, exp.Cast) and node.to.this in _FRACTIONAL
