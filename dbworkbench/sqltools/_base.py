"""What every lint rule shares: :class:`Finding`, :class:`Query` (one parsed statement, with the
catalog when there is one), positions in the text, and small tree helpers.

Pure: sqlglot only. The catalog, when given, is the index advisor's
:class:`~dbworkbench.advisor.schema.SchemaInfo` (a plain data holder); it is only read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..advisor._expr import conjuncts as conjuncts, unparen as unparen  # the rules take them from here

if TYPE_CHECKING:
    from ..advisor.schema import SchemaInfo

DIALECT = "postgres"
#: Severities, worst first. *error*: the text could not be read; *warning*: fix it;
#: *info*: worth knowing, often fine.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One thing a rule noticed in a statement.

    ``start``/``end``: the 0-based character offsets of the offending text in the SQL given to
    :func:`~dbworkbench.sqltools.lint` (``sql[start:end]``), None when unknown. ``rewrite``:
    the whole statement rewritten, only where the fix is mechanical and returns the same rows.
    """

    code: str
    severity: str
    message: str
    suggestion: str
    start: int | None = None
    end: int | None = None
    rewrite: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")


_CAST_SUFFIX = re.compile(
    r'(?:\s*::\s*(?:"[^"]+"|[A-Za-z_][\w.]*)(?:\s+(?:precision|varying|with(?:out)?\s+time\s+zone))?'
    r"(?:\s*\([\d,\s]*\))?(?:\[\])*)+",
    re.I,
)


def _closing_parens(sql: str, start: int, end: int) -> int:
    """``end`` moved past the closing parentheses that balance those opened in ``sql[start:end]``."""
    depth, quote = 0, ""
    for ch in sql[start:end]:
        if quote or ch in "'\"":
            quote = "" if ch == quote else (quote or ch)
            continue
        depth += (ch == "(") - (ch == ")")
    while depth > 0 and end < len(sql):
        ch = sql[end]
        if quote or ch in "'\"":
            quote = "" if ch == quote else (quote or ch)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        end += 1
    return end


def _opening_parens(sql: str, start: int, end: int) -> int:
    """``start`` moved back to the opening parenthesis of a ``)`` in ``sql[start:end]`` left unmatched."""
    opened = depth = 0
    quote = ""
    for ch in sql[start:end]:
        if quote or ch in "'\"":
            quote = "" if ch == quote else (quote or ch)
        elif ch == "(":
            opened += 1
        elif ch == ")" and opened:
            opened -= 1
        elif ch == ")":
            depth += 1
    while depth > 0 and start > 0:
        start -= 1
        depth += (sql[start] == ")") - (sql[start] == "(")
    return start


@dataclass
class Query:
    """One statement as rules read it: the whole text, its tree, and the catalog (or None)."""

    sql: str
    tree: exp.Expr
    schema: SchemaInfo | None = None

    # -- positions ---------------------------------------------------------------------------

    def span(self, node: exp.Expr) -> tuple[int | None, int | None]:
        """(start, end) of ``node`` in :attr:`sql` (end exclusive), from the tokens sqlglot kept;
        (None, None) when none of its parts carries a position."""
        starts, ends = [], []
        for n in node.walk():
            meta = n.meta if isinstance(n, exp.Expr) else None
            if meta and "start" in meta and "end" in meta:
                dollar = isinstance(n.parent, exp.Parameter) and self.sql[int(meta["start"]) - 1 : int(meta["start"])] == "$"
                starts.append(int(meta["start"]) - dollar)
                ends.append(int(meta["end"]) + 1)
        if not starts:
            return None, None
        start, end = min(starts), max(ends)
        if isinstance(node, exp.Func) and end < len(self.sql) and self.sql[end:].lstrip().startswith("("):
            end = self.sql.index("(", end) + 1
        end = _closing_parens(self.sql, start, end)
        if any(isinstance(n, exp.Cast) for n in node.walk()):  # a trailing ::type carries no position
            m = _CAST_SUFFIX.match(self.sql, end)
            end = m.end() if m else end
        start = _opening_parens(self.sql, start, end)
        if isinstance(node, exp.Literal) and node.is_string:  # the meta covers the text between the quotes
            start, end = max(start - 1, 0), min(end + 1, len(self.sql))
        return start, end

    def text(self, node: exp.Expr) -> str:
        """The statement's own text of ``node`` where its position is known, else sqlglot's."""
        start, end = self.span(node)
        return self.sql[start:end] if start is not None and end is not None else node.sql(DIALECT)

    def finding(
        self, code: str, severity: str, node: exp.Expr, message: str, suggestion: str, rewrite: str | None = None
    ) -> Finding:
        start, end = self.span(node)
        return Finding(code, severity, message, suggestion, start, end, rewrite)

    def rewritten(self, tree: exp.Expr) -> str:
        """A rewritten tree as the whole statement's SQL."""
        return tree.sql(DIALECT, pretty=True)

    # -- the statement's tables ---------------------------------------------------------------

    def selects(self) -> Iterator[exp.Select]:
        yield from self.tree.find_all(exp.Select)

    @cached_property
    def cte_names(self) -> set[str]:
        return {cte.alias_or_name for cte in self.tree.find_all(exp.CTE)}

    def tables(self, select: exp.Expr) -> dict[str, exp.Table]:
        """Name or alias → base table of ``select``'s FROM and JOINs (CTEs and subqueries left out)."""
        out: dict[str, exp.Table] = {}
        sources: list[Any] = []
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is not None:
            sources.append(from_.this)
        sources.extend(j.this for j in select.args.get("joins") or [])
        if isinstance(select, (exp.Update, exp.Delete)) and isinstance(select.this, exp.Table):
            sources.append(select.this)
        for src in sources:
            if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier) and src.name not in self.cte_names:
                out[src.alias_or_name] = src
        return out

    def owner(self, node: exp.Expr) -> exp.Expr | None:
        """The SELECT, UPDATE or DELETE whose clause holds ``node``."""
        p = node.parent
        while p is not None and not isinstance(p, (exp.Select, exp.Update, exp.Delete)):
            p = p.parent
        return p

    def table_of(self, column: exp.Column) -> tuple[str | None, str] | None:
        """(schema, table) a column belongs to, as far as the statement (and catalog) tell."""
        owner = self.owner(column)
        if owner is None:
            return None
        tables = self.tables(owner)
        if column.table:
            t = tables.get(column.table)
            return None if t is None else (t.db or None, t.name)
        if len(tables) == 1:
            t = next(iter(tables.values()))
            return (t.db or None, t.name)
        if self.schema is not None:
            for t in tables.values():
                found = self.schema.resolve_table(t.db or None, t.name)
                if found and column.name in self.schema.table_columns(*found):
                    return (t.db or None, t.name)
        return None

    # -- the catalog ---------------------------------------------------------------------------

    def resolved(self, column: exp.Column) -> tuple[str, str] | None:
        """(schema, table) of the column in the catalog; None without a catalog or when unknown."""
        where = self.table_of(column)
        if self.schema is None or where is None:
            return None
        return self.schema.resolve_table(where[0], where[1])

    def column_info(self, column: exp.Column) -> dict[str, Any] | None:
        """The catalog's row for the column (type, not_null, category), or None."""
        table = self.resolved(column)
        if table is None or self.schema is None:
            return None
        info = self.schema.table_columns(*table).get(column.name)
        return None if info is None else dict(info)

    def not_null(self, node: exp.Expr) -> bool:
        """Whether ``node`` can never be NULL: a NOT NULL column (catalog) or a non-NULL literal."""
        if isinstance(node, exp.Literal):
            return True
        if isinstance(node, exp.Column):
            info = self.column_info(node)
            return bool(info is not None and info.get("not_null") is True)
        return False

    def index_keys(self, column: exp.Column) -> list[tuple[str, ...]] | None:
        """The key expressions (compare form: ``email``, ``lower(email)``) of each index on the
        column's table; None without a catalog or when the table is unknown."""
        table = self.resolved(column)
        if table is None or self.schema is None:
            return None
        return [tuple(k.expr for k in shape.keys) for shape in self.schema.index_shapes(*table)]

    def leads_index(self, column: exp.Column, key: str) -> bool | None:
        """Whether an index on the column's table starts with ``key`` (compare form); None when unknown."""
        keys = self.index_keys(column)
        return None if keys is None else any(k and k[0] == key for k in keys)


# --------------------------------------------------------------------------- tree helpers



def in_condition(node: exp.Expr) -> bool:
    """Whether ``node`` sits in a WHERE, JOIN ... ON or HAVING clause."""
    p: exp.Expr | None = node
    while p is not None and not isinstance(p, (exp.Select, exp.Update, exp.Delete)):
        if isinstance(p, (exp.Where, exp.Having)) or (isinstance(p.parent, exp.Join) and p.arg_key == "on"):
            return True
        p = p.parent
    return False


def unqualified(node: exp.Expr) -> exp.Expr:
    """A copy of ``node`` with its columns' table qualifiers dropped (an index key's form)."""

    def drop(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column) and n.table:
            return exp.column(n.this.copy())
        return n

    return node.copy().transform(drop)


def key_text(node: exp.Expr) -> str:
    """The expression as CREATE INDEX writes it and ``SchemaInfo`` compares it: ``lower(email)``."""
    return unqualified(node).sql(DIALECT, normalize_functions="lower")


def limit_value(select: exp.Expr) -> exp.Expr | None:
    limit = select.args.get("limit")
    return None if limit is None else limit.expression
