"""function-on-indexed-column: ``WHERE lower(email) = ...`` hides the column from its index."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ..plans.insights._index import index_sql
from ._base import Finding, Query, in_condition, key_text, unparen

CODE = "function-on-indexed-column"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'A function around a column in a condition (lower(email) = ...) hides it from its index: an expression index or the sargable form.'

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between, exp.Like, exp.ILike)
# Functions the lint has a sargable form for: name -> how to write the condition on the bare column.
_SARGABLE = {
    "lower": "store the value in one case (a CHECK ({col} = lower({col})) keeps it so) and compare the bare column, "
    "or make the column citext",
    "upper": "store the value in one case and compare the bare column, or make the column citext",
    "date_trunc": "compare a range on the bare column: {col} >= x AND {col} < x + interval '1 <unit>'",
    "extract": "compare a range on the bare column: {col} >= make_date(y, 1, 1) AND {col} < make_date(y + 1, 1, 1)",
    "date_part": "compare a range on the bare column: {col} >= make_date(y, 1, 1) AND {col} < make_date(y + 1, 1, 1)",
    "coalesce": "compare the bare column ({col} = x, when x is not the default value), or add OR {col} IS NULL explicitly",
    "trim": "store the value trimmed and compare the bare column",
}


def _name(func: exp.Func) -> str:
    if isinstance(func, exp.Anonymous):
        return str(func.this).lower()
    return func.sql_name().lower()


def _wrapped_column(side: exp.Expr) -> tuple[exp.Func, exp.Column] | None:
    """(function, column) when ``side`` is a plain function applied to a column of the row."""
    node = unparen(side)
    if not isinstance(node, exp.Func) or isinstance(node, (exp.AggFunc, exp.Cast, exp.Window)):
        return None
    if node.find(exp.Select, exp.AggFunc, exp.Window):
        return None  # a subquery or an aggregate inside: not a function of the row's column
    columns = list(node.find_all(exp.Column))
    if not columns or len({(c.table, c.name) for c in columns}) != 1:
        return None
    return node, columns[0]


def function_on_indexed_column(q: Query) -> Iterator[Finding]:
    """A comparison in WHERE/ON whose one side is a function of a column (``lower(email)``,
    ``date_trunc('day', created_at)``, ``coalesce(x, 0)``) and the other side does not read that
    table: an index on the column cannot serve it. The fix: an expression index on exactly that
    expression (the advisor's IndexDef) or a form that compares the bare column. With the
    catalog: silent when such an expression index exists; *info* when the column has no index
    of its own either; else *warning*."""
    for cmp in q.tree.find_all(*_COMPARISONS):
        if not in_condition(cmp) or cmp.find_ancestor(exp.Having) is not None:
            continue  # HAVING filters groups: no index serves it anyway
        sides = [cmp.this] + ([cmp.expression] if cmp.expression is not None else []) + list(cmp.expressions)
        for k, side in enumerate(sides):
            found = _wrapped_column(side)
            if found is None:
                continue
            func, column = found
            others = [s for j, s in enumerate(sides) if j != k]
            mine = q.table_of(column) or column.table
            if any((q.table_of(c) or c.table) == mine for o in others for c in o.find_all(exp.Column)):
                continue  # a join between two expressions of the same table, or col compared to itself
            key = key_text(func)
            severity = "warning"
            if q.leads_index(column, key):
                continue
            if q.leads_index(column, key_text(column)) is False:
                severity = "info"
            where = q.table_of(column)
            fix = []
            if where is not None:
                from ..advisor.index import IndexDef  # here: the advisor package imports a driver at its top

                fix.append(f"An expression index serves it: {index_sql(IndexDef(where[0] or '', where[1], (key,)))}")
            name = _name(func)
            if name in _SARGABLE:
                fix.append(("Or " if fix else "") + _SARGABLE[name].format(col=column.name) + ".")
            yield q.finding(
                CODE,
                severity,
                cmp,
                f"{q.text(cmp)}: the function {name}() is applied to {column.sql('postgres')} on every row, so an "
                f"index on {column.name} cannot find the rows; the table is scanned.",
                " ".join(fix) if fix else "Compare the bare column, or index the expression.",
            )
            break
