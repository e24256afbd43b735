"""N+1 from the statement statistics: a statement called very many times, returning a few rows
each, whose calls track the rows another statement returned (the loop ``for row in parent:
run child(row.key)``). Pure: works on a ``statements()`` frame or a snapshot delta's.

A finding pairs the child with the parent whose returned rows its calls match best (the ratio
child calls / parent rows within ``tolerance`` of 1; a parent reading the table the child's
key column names, ``user_id`` → ``users``, comes first where several fit) and proposes the one statement that
replaces the loop: the child with ``col = ANY($n)`` (send the parent's keys as one array) and
a JOIN of the parent with the child's table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

__all__ = ["N_PLUS_ONE_COLUMNS", "n_plus_one"]

N_PLUS_ONE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("child_queryid", "Int64"), ("child_query", "string"), ("child_calls", "Int64"), ("rows_per_call", "Float64"),
    ("parent_queryid", "Int64"), ("parent_query", "string"), ("parent_rows", "Int64"), ("ratio", "Float64"),
    ("key_column", "string"), ("any_rewrite", "string"), ("join_rewrite", "string"), ("suggestion", "string"),
)


@dataclass(frozen=True)
class _Child:
    table: str
    alias: str
    column: str
    param: str
    any_sql: str
    rest: str | None  # the other WHERE conditions
    projection: str


def _child_shape(query: str) -> _Child | None:
    """A single-table SELECT with ``column = $n`` in its WHERE, else None."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(query, read="postgres")
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(tree, exp.Select) or tree.args.get("joins") or tree.args.get("with") or tree.args.get("group"):
        return None
    table = tree.args.get("from_") or tree.args.get("from")
    where = tree.args.get("where")
    if table is None or where is None or not isinstance(table.this, exp.Table):
        return None
    found = None
    for eq in where.find_all(exp.EQ):
        col, par = eq.this, eq.expression
        if isinstance(par, exp.Column) and isinstance(col, exp.Parameter | exp.Placeholder):
            col, par = par, col
        if isinstance(col, exp.Column) and isinstance(par, exp.Parameter | exp.Placeholder):
            found = (eq, col, par)
            break
    if found is None:
        return None
    eq, col, par = found
    param_sql = par.sql(dialect="postgres")
    any_tree = tree.copy()
    for node in any_tree.find_all(exp.EQ):
        if node.sql(dialect="postgres") == eq.sql(dialect="postgres"):
            node.set("expression", exp.Anonymous(this="ANY", expressions=[par.copy()]))
            break
    rest_tree = where.this.copy()
    rest = None
    if rest_tree.sql(dialect="postgres") != eq.sql(dialect="postgres"):
        conditions = [c for c in rest_tree.flatten() if c.sql(dialect="postgres") != eq.sql(dialect="postgres")] \
            if isinstance(rest_tree, exp.And) else []
        rest = " AND ".join(_qualified(c, table.this.alias_or_name) for c in conditions) or None
    alias = table.this.alias_or_name
    projection = ", ".join(f"{alias}.*" if isinstance(p, exp.Star) else _qualified(p, alias) for p in tree.expressions)
    return _Child(table.this.name, alias, col.name, param_sql, any_tree.sql(dialect="postgres"), rest, projection)


def _qualified(node: object, alias: str) -> str:
    """A projection with its bare columns qualified by the child's alias (the parent has columns too)."""
    from sqlglot import exp

    assert isinstance(node, exp.Expression)
    out = node.copy()
    for col in out.find_all(exp.Column):
        if not col.table:
            col.set("table", exp.to_identifier(alias))
    return out.sql(dialect="postgres")


def _reads(query: str) -> set[str]:
    import sqlglot
    from sqlglot import exp

    try:
        return {t.name for t in sqlglot.parse_one(query, read="postgres").find_all(exp.Table)}
    except sqlglot.errors.ParseError:
        return set()


def _names_table(column: str, tables: set[str]) -> bool:
    """``user_id`` names ``users`` (or ``user``)."""
    stem = column[:-3] if column.endswith("_id") else column
    return any(t in (stem, stem + "s", stem + "es") for t in tables)


def _join(parent: str, child: _Child, key: str) -> str:
    where = f" WHERE {child.rest}" if child.rest else ""
    return (f"SELECT {child.projection} FROM ({parent}) AS parent JOIN {child.table} AS {child.alias} "
            f"ON {child.alias}.{child.column} = parent.{key}{where}")


def n_plus_one(statements: pd.DataFrame, *, min_calls: int = 100, max_rows_per_call: float | None = None,
               tolerance: float = 0.02) -> pd.DataFrame:
    """N+1 findings in ``statements`` (``db.statements()`` or ``(later - earlier).statements``).

    A child: called at least ``min_calls`` times (at most ``max_rows_per_call`` rows per call when
    given), a single-table SELECT with ``column = $n``. Its parent: a statement called less often
    whose returned rows are within ``tolerance`` (relative; a loop gives exactly one call per row)
    of the child's calls. Where several parents fit (two statements returned the same number of
    rows), each gets a row, the likelier first (the parent reads the table the key names). Columns (:data:`N_PLUS_ONE_COLUMNS`):
    child_queryid, child_query, child_calls, rows_per_call, parent_queryid, parent_query,
    parent_rows, ratio (child calls / parent rows), key_column (the child's ``$n`` column),
    any_rewrite (the child with ``= ANY($n)``), join_rewrite (parent JOIN child table), suggestion.
    Most calls first.
    """
    needed = {"queryid", "query", "calls", "rows"}
    if not needed <= set(statements.columns):
        raise ValueError(f"n_plus_one needs a statements frame with {sorted(needed)}; "
                         "pass db.statements() or (later - earlier).statements")
    frame = statements.dropna(subset=["query", "calls", "rows"])
    frame = frame[frame["calls"] > 0]
    records = []
    for child in frame[frame["calls"] >= min_calls].itertuples(index=False):
        per_call = float(child.rows) / float(child.calls)
        if max_rows_per_call is not None and per_call > max_rows_per_call:
            continue
        shape = _child_shape(str(child.query))
        if shape is None:
            continue
        fits = []
        for parent in frame[(frame["rows"] > 0) & (frame["queryid"] != child.queryid)].itertuples(index=False):
            if int(parent.calls) >= int(child.calls):
                continue
            ratio = float(child.calls) / float(parent.rows)
            off = abs(math.log(ratio))
            if off <= math.log1p(tolerance):
                named = _names_table(shape.column, _reads(str(parent.query)))
                fits.append((off - (1.0 if named else 0.0), str(parent.query), parent, ratio, named))
        for _, pq, parent, ratio, named in sorted(fits, key=lambda f: (f[0], f[1])):
            key = "id" if named else shape.column
            join_sql = _join(pq, shape, key)
            suggestion = (f"{int(child.calls):,} calls of this statement track the {int(parent.rows):,} rows "
                          f"of the parent: an N+1 loop over its {key}. Fetch them in one statement: pass the parent's "
                          f"{key} values as one array ({shape.any_sql}) or join: {join_sql}")
            records.append([child.queryid, child.query, child.calls, per_call, parent.queryid, pq,
                            parent.rows, ratio, shape.column, shape.any_sql, join_sql, suggestion])
    out = pd.DataFrame(records, columns=[c for c, _ in N_PLUS_ONE_COLUMNS]).astype(dict(N_PLUS_ONE_COLUMNS))
    return out.sort_values("child_calls", ascending=False, kind="stable").reset_index(drop=True)
