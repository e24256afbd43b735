"""or-across-columns: ``WHERE a = x OR b = y`` on two columns: one index cannot serve both."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import DIALECT, Finding, Query, conjuncts, unparen

CODE = "or-across-columns"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'a = x OR b = y needs an index on each column: index both, or a UNION.'
_SIMPLE = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Like, exp.ILike, exp.Is)


def _disjuncts(node: exp.Expr) -> list[exp.Expr]:
    node = unparen(node)
    if isinstance(node, exp.Or):
        return _disjuncts(node.left) + _disjuncts(node.right)
    return [node]


def _column(branch: exp.Expr) -> exp.Column | None:
    b = unparen(branch)
    if isinstance(b, _SIMPLE) and isinstance(unparen(b.this), exp.Column):
        other = [b.expression] if b.expression is not None else list(b.expressions)
        if not any(o.find(exp.Column) for o in other):
            col = unparen(b.this)
            return col if isinstance(col, exp.Column) else None
    return None


# Types without an equality operator: UNION cannot compare rows holding them.
_NO_EQUALITY = ("json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle")


def _unique_key_selected(q: Query, select: exp.Select, column: exp.Column) -> bool:
    """Whether the select list holds a column some unique index of the (single) table is on alone,
    and only plain columns of types UNION can compare."""
    table = q.resolved(column)
    if table is None or q.schema is None:
        return False
    items = [unparen(e) for e in select.expressions]
    if not all(isinstance(e, exp.Column) for e in items):
        return False
    types = q.schema.table_columns(*table)
    if any(str(types.get(e.name, {}).get("type", "json")).startswith(_NO_EQUALITY) for e in items):
        return False
    names = {e.name for e in items}
    return any(s.unique and len(s.keys) == 1 and s.keys[0].expr in names and not s.where for s in q.schema.index_shapes(*table))


def _union(q: Query, select: exp.Select, cond: exp.Expr, branches: list[exp.Expr]) -> str:
    others = [c for c in conjuncts(select.args["where"].this) if c is not cond]
    parts = []
    for b in branches:
        s = select.copy()
        s.set("where", None)
        s = s.where(*[o.copy() for o in others], b.copy(), copy=False)
        parts.append(s)
    tree: exp.Expr = parts[0]
    for p in parts[1:]:
        tree = exp.Union(this=tree, expression=p, distinct=True)
    return tree.sql(DIALECT, pretty=True)


def or_across_columns(q: Query) -> Iterator[Finding]:
    """A WHERE condition ``a = x OR b = y`` whose branches test different columns of one table.
    Without the catalog it is *info* (PostgreSQL can combine two indexes with a BitmapOr); with
    the catalog it is silent when every column leads an index, else a *warning*. The UNION form
    is the ``rewrite`` only when the catalog shows a unique key in the select list of a plain
    single-table SELECT (then UNION removes no row but the doubles the OR would not have made)."""
    for select in q.selects():
        where = select.args.get("where")
        if where is None:
            continue
        for cond in conjuncts(where.this):
            branches = _disjuncts(cond)
            if len(branches) < 2:
                continue
            cols = [_column(b) for b in branches]
            if any(c is None for c in cols) or len({c.name for c in cols if c}) < 2:
                continue
            columns = [c for c in cols if c is not None]
            if len({q.table_of(c) for c in columns}) != 1:
                continue
            indexed = [q.leads_index(c, c.name) for c in columns]
            if all(indexed):
                continue
            severity = "info" if any(i is None for i in indexed) else "warning"
            plain = len(q.tables(select)) == 1 and not select.args.get("joins") and not any(
                select.args.get(a) for a in ("group", "having", "distinct", "order", "limit", "offset", "with")
            ) and not any(e.find(exp.AggFunc, exp.Window) for e in select.expressions) and select is q.tree
            form = _union(q, select, cond, branches) if plain else None
            safe = form is not None and _unique_key_selected(q, select, columns[0])
            missing = [c.name for c, i in zip(columns, indexed) if i is False]
            yield q.finding(
                CODE,
                severity,
                cond,
                f"{q.text(cond)}: an OR across columns ({', '.join(dict.fromkeys(c.name for c in columns))}) needs an index on "
                "each of them (combined by a BitmapOr), else the table is scanned."
                + (f" No index leads with {', '.join(missing)}." if missing else ""),
                "Index every column of the OR, or write one SELECT per branch joined by UNION"
                + (f": {form}" if form and not safe else "")
                + " (UNION removes duplicate rows: keep a unique key in the select list).",
                form if safe else None,
            )
