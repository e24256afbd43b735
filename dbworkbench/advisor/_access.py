"""How one statement reads each table: the conditions, sorts and groupings an index could serve.

Pure: sqlglot's parse tree and a :class:`~dbworkbench.advisor.schema.SchemaInfo`, no server.
Each SELECT scope (subqueries, CTEs, the SELECT of an INSERT) and the target of an UPDATE or
DELETE gives one :class:`Access` per table it reads: equality keys (``=``, ``IN``, ``= ANY``,
``IS NULL``, joins, boolean columns), range keys (``<``, ``BETWEEN``, ``LIKE 'prefix%'``),
ORDER BY and GROUP BY keys, the non-B-tree keys (full-text ``@@``, trigram ``LIKE '%x%'``,
JSONB/array containment), OR branches, and the constant predicates a partial index can use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from ..plans.insights._sql import quote_ident, quote_literal
from ._expr import compare_sql, conjuncts, disjuncts, key_sql, strip_column, unparen
from .schema import SchemaInfo

#: Functions whose result changes from call to call or with the session: never an index key.
VOLATILE = frozenset(
    """now random clock_timestamp statement_timestamp transaction_timestamp timeofday nextval currval
    setval txid_current pg_backend_pid current_setting gen_random_uuid uuid_generate_v4 age""".split()
)
_NOT_KEYS = (exp.Subquery, exp.Select, exp.AggFunc, exp.Window, exp.Parameter, exp.Placeholder, exp.Star,
             exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime, exp.Rand)
_CONTAINMENT = tuple(
    getattr(exp, name)
    for name in ("ArrayContainsAll", "ArrayContainedBy", "ArrayOverlaps", "JSONBContains", "JSONBContainsTopKey",
                 "JSONBContainsAnyTopKeys", "JSONBContainsAllTopKeys")
    if hasattr(exp, name)
)


@dataclass(frozen=True)
class Key:
    """One index key a statement could use.

    ``sql``: as written in CREATE INDEX; ``cmp``: the compare form; ``column``: the raw name of a
    plain column (None for an expression); ``role``: eq, in, null, bool, join, range, prefix, sort,
    group, fts, trgm, contain; ``note``: a remark for the reason (a configuration assumed, ...).
    ``desc``/``nulls_first``: a sort key's direction.
    """

    sql: str
    cmp: str
    column: str | None
    role: str
    desc: bool = False
    nulls_first: bool = False
    opclass: str | None = None
    note: str = ""
    value: str | None = None  # the constant an equality compares with, as pg_stats prints it

    @property
    def is_column(self) -> bool:
        return self.column is not None


@dataclass(frozen=True)
class Const:
    """A constant predicate on one column (``status = 'published'``, ``NOT is_deleted``): what a
    partial index's WHERE can hold. ``value`` is the constant as pg_stats prints it."""

    sql: str
    cmp: str
    column: str
    value: str


@dataclass
class Access:
    """What one scope of a statement asks of one table."""

    schema: str
    table: str
    eq: list[Key] = field(default_factory=list)
    rng: list[Key] = field(default_factory=list)
    sort: list[Key] = field(default_factory=list)
    group: list[Key] = field(default_factory=list)
    singles: list[Key] = field(default_factory=list)
    special: list[tuple[Key, str]] = field(default_factory=list)  # (key, method)
    consts: list[Const] = field(default_factory=list)
    referenced: set[str] = field(default_factory=set)
    star: bool = False
    limit: bool = False

    def add(self, bucket: list[Key], key: Key) -> None:
        if all(k.cmp != key.cmp or k.opclass != key.opclass for k in bucket):
            bucket.append(key)


_OUTER = "\0outer"


class _Context:
    """One scope: its tables by alias, its derived sources, and how columns resolve."""

    def __init__(self, tables: dict[str, tuple[str, str]], derived: set[str], info: SchemaInfo) -> None:
        self.tables, self.derived, self.info = tables, derived, info
        self.access = {alias: Access(*t) for alias, t in tables.items()}

    def owner(self, col: exp.Column) -> str | None:
        """The alias owning ``col``; ``_OUTER`` for another scope's or a derived source's; None when unclear."""
        if col.table:
            return col.table if col.table in self.tables else _OUTER
        if len(self.tables) == 1 and not self.derived:
            return next(iter(self.tables))
        having = [a for a, (s, t) in self.tables.items() if col.name in self.info.table_columns(s, t)]
        return having[0] if len(having) == 1 else None

    def columns(self, node: exp.Expr) -> Iterator[exp.Column]:
        """The column references of ``node``, not those inside its subqueries."""
        for n in node.walk(prune=lambda x: isinstance(x, (exp.Subquery, exp.Select)) and x is not node):
            if isinstance(n, exp.Column) and not isinstance(n.this, exp.Star):
                yield n

    def own_key(self, node: exp.Expr, role: str, **extra: object) -> tuple[str, Key] | None:
        """(alias, key) when ``node`` is a column or an indexable expression of one table."""
        node = strip_column(node)
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            alias = self.owner(node)
            if alias is None or alias == _OUTER:
                return None
            return alias, Key(quote_ident(node.name), quote_ident(node.name), node.name, role, **extra)  # type: ignore[arg-type]
        if node.find(*_NOT_KEYS) is not None:
            return None
        if any(isinstance(f, exp.Func) and _func_name(f) in VOLATILE for f in node.find_all(exp.Func)):
            return None
        owners = {self.owner(c) for c in self.columns(node)}
        if len(owners) != 1 or None in owners or _OUTER in owners:
            return None
        alias = owners.pop()
        assert alias is not None
        sql = key_sql(node)
        if not isinstance(node, (exp.Func, exp.Cast)):
            sql = f"({sql})"
        return alias, Key(sql, compare_sql(node), None, role, **extra)  # type: ignore[arg-type]

    def is_value_for(self, node: exp.Expr, alias: str) -> bool:
        return all(self.owner(c) != alias for c in self.columns(node))

    def joins_other(self, node: exp.Expr, alias: str) -> bool:
        return any(self.owner(c) not in (alias, None) for c in self.columns(node))


def _func_name(f: exp.Func) -> str:
    return (f.name if isinstance(f, exp.Anonymous) else f.sql_name()).lower()


def _literal_text(node: exp.Expr) -> str | None:
    node = unparen(node)
    while isinstance(node, exp.Cast):
        node = unparen(node.this)
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    return None


def _constant(node: exp.Expr) -> str | None:
    """The value of a literal (as pg_stats prints it: 't'/'f' for booleans), else None."""
    node = unparen(node)
    while isinstance(node, exp.Cast):
        node = unparen(node.this)
    if isinstance(node, exp.Boolean):
        return "t" if node.this else "f"
    if isinstance(node, exp.Literal):
        return str(node.this)
    return None


class _Reader:
    """Reads one condition tree into the context's accesses."""

    def __init__(self, ctx: _Context, info: SchemaInfo) -> None:
        self.ctx, self.info = ctx, info

    def condition(self, node: exp.Expr | None) -> None:
        for c in conjuncts(node):
            if isinstance(c, exp.Or):
                self.or_branches(c)
            else:
                self.simple(c, single=False)

    def or_branches(self, node: exp.Expr) -> None:
        for branch in disjuncts(node):
            for c in conjuncts(branch):
                if not isinstance(c, exp.Or):
                    self.simple(c, single=True)

    def _put(self, alias: str, bucket: str, key: Key, single: bool) -> None:
        acc = self.ctx.access[alias]
        if single and bucket in ("eq", "rng"):
            acc.add(acc.singles, Key(key.sql, key.cmp, key.column, "or", key.desc, key.nulls_first, key.opclass, key.note))
        else:
            acc.add(getattr(acc, bucket), key)

    def simple(self, c: exp.Expr, *, single: bool) -> None:
        c = unparen(c)
        if c.args.get("negate"):  # NOT LIKE, NOT IN as sqlglot may write them: no index reads those
            return
        if isinstance(c, exp.Not):
            inner = strip_column(c.this)
            if isinstance(inner, exp.Column):
                self._boolean(inner, negated=True, single=single)
            return
        if isinstance(c, exp.Column):
            self._boolean(c, negated=False, single=single)
        elif isinstance(c, (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
            self._comparison(c, single)
        elif isinstance(c, exp.Between):
            found = self.ctx.own_key(c.this, "range")
            if found and all(self.ctx.is_value_for(c.args[k], found[0]) for k in ("low", "high")):
                self._put(found[0], "rng", found[1], single)
        elif isinstance(c, exp.In):
            found = self.ctx.own_key(c.this, "in")
            values = [*c.expressions, *([c.args["query"]] if c.args.get("query") else [])]
            if found and all(self.ctx.is_value_for(v, found[0]) for v in values):
                self._put(found[0], "eq", found[1], single)
        elif isinstance(c, exp.Is) and isinstance(unparen(c.expression), exp.Null):
            found = self.ctx.own_key(c.this, "null")
            if found:
                self._put(found[0], "eq", found[1], single)
        elif isinstance(c, (exp.Like, exp.ILike)):
            self._like(c, single)
        elif isinstance(c, exp.MatchAgainst):
            self._fulltext([c.this, *c.expressions])
        elif isinstance(c, _CONTAINMENT):
            self._containment(c)

    def _boolean(self, col: exp.Column, *, negated: bool, single: bool) -> None:
        found = self.ctx.own_key(col, "bool")
        if not found or found[1].column is None:
            return
        alias, key = found
        key = Key(key.sql, key.cmp, key.column, "bool", value="f" if negated else "t")
        self._put(alias, "eq", key, single)
        if not single:
            self.ctx.access[alias].consts.append(
                Const(("NOT " if negated else "") + key.sql, ("NOT " if negated else "") + key.cmp, key.column or "", "f" if negated else "t")
            )

    def _comparison(self, c: exp.Expr, single: bool) -> None:
        eq = isinstance(c, exp.EQ)
        for mine, other in ((c.this, c.expression), (c.expression, c.this)):
            found = self.ctx.own_key(mine, "eq" if eq else "range")
            if not found or not self.ctx.is_value_for(other, found[0]):
                continue
            alias, key = found
            value = _constant(other)
            if eq and self.ctx.joins_other(other, alias):
                key = Key(key.sql, key.cmp, key.column, "join")
            elif eq and value is not None:
                key = Key(key.sql, key.cmp, key.column, "eq", value=value)
            self._put(alias, "eq" if eq else "rng", key, single)
            if eq and not single and value is not None and key.column is not None:
                lit = unparen(other)
                text = lit.sql("postgres") if not isinstance(lit, exp.Literal) or not lit.is_string else quote_literal(value)
                self.ctx.access[alias].consts.append(Const(f"{key.sql} = {text}", f"{key.cmp} = {quote_literal(value)}", key.column, value))

    def _like(self, c: exp.Like | exp.ILike, single: bool) -> None:
        found = self.ctx.own_key(c.this, "prefix")
        if not found or not self.ctx.is_value_for(c.expression, found[0]):
            return
        alias, key = found
        pattern = _literal_text(c.expression)
        if isinstance(c, exp.Like) and pattern is not None and pattern[:1] not in ("%", "_", "") and "%" in pattern:
            self._put(alias, "rng", Key(key.sql, key.cmp, key.column, "prefix", opclass="text_pattern_ops"), single)
            return
        if pattern is not None and not any(ch in pattern for ch in "%_"):
            self._put(alias, "eq", Key(key.sql, key.cmp, key.column, "eq"), single)
            return
        word = "ILIKE" if isinstance(c, exp.ILike) else "LIKE"
        note = f"{word} with a leading or unknown wildcard"
        self.ctx.access[alias].special.append((Key(key.sql, key.cmp, key.column, "trgm", opclass="gin_trgm_ops", note=note), "gin"))

    def _fulltext(self, sides: list[exp.Expr]) -> None:
        for side in sides:
            side = unparen(side)
            if isinstance(side, exp.Anonymous) and side.name.lower() == "to_tsvector":
                args = list(side.expressions)
                note = ""
                config = self.info.text_search_config or "english"
                if len(args) == 1:
                    args = [exp.Literal.string(config), args[0]]
                    note = f"the query's to_tsvector names no configuration: write to_tsvector('{config}', ...) in it too"
                elif len(args) == 2 and _literal_text(args[0]) is None:
                    args = [exp.Literal.string(config), args[1]]
                    note = f"the configuration is a parameter; the default ('{config}') is assumed"
                found = self.ctx.own_key(exp.Anonymous(this="to_tsvector", expressions=args), "fts")
                if found:
                    k = found[1]
                    self.ctx.access[found[0]].special.append((Key(k.sql, k.cmp, None, "fts", note=note), "gin"))
            elif isinstance(side, exp.Column):
                found = self.ctx.own_key(side, "fts")
                if found and self._type(found[0], found[1]) in (None, "tsvector"):
                    self.ctx.access[found[0]].special.append((found[1], "gin"))

    def _containment(self, c: exp.Expr) -> None:
        found = self.ctx.own_key(c.this, "contain")
        if not found or found[1].column is None or not self.ctx.is_value_for(c.expression, found[0]):
            return
        alias, key = found
        s, t = self.ctx.tables[alias]
        rec = self.info.table_columns(s, t).get(key.column or "")
        category = None if rec is None else rec.get("category")
        method = "gist" if category == "R" else "gin"
        self.ctx.access[alias].special.append((key, method))

    def _type(self, alias: str, key: Key) -> str | None:
        s, t = self.ctx.tables[alias]
        return self.info.column_type(s, t, key.column or "")



# --------------------------------------------------------------------------- statements


def _table_name(table: exp.Table) -> tuple[str | None, str]:
    return (table.db or None, table.name)


def _resolve(ctx_tables: dict[str, tuple[str, str]], unknown: list[str], table: exp.Table, info: SchemaInfo) -> None:
    schema, name = _table_name(table)
    resolved = info.resolve_table(schema, name)
    if resolved is None:
        unknown.append(f"{schema}.{name}" if schema else name)
        return
    ctx_tables[table.alias_or_name] = resolved


def _select_scope(scope: Scope, info: SchemaInfo, unknown: list[str]) -> list[Access]:
    select = scope.expression
    if not isinstance(select, exp.Select):
        return []
    tables: dict[str, tuple[str, str]] = {}
    derived: set[str] = set()
    for alias, (_node, source) in scope.selected_sources.items():
        if isinstance(source, exp.Table):
            _resolve(tables, unknown, source, info)
        else:
            derived.add(alias)
    if not tables:
        return []
    ctx = _Context(tables, derived, info)
    reader = _Reader(ctx, info)
    where = select.args.get("where")
    reader.condition(where.this if where is not None else None)
    for join in select.args.get("joins") or []:
        reader.condition(join.args.get("on"))
    _sort_and_group(ctx, select)
    _referenced(ctx, select)
    return list(ctx.access.values())


def _sort_and_group(ctx: _Context, select: exp.Select) -> None:
    group = select.args.get("group")
    aggregates = any(select.find_all(exp.AggFunc))
    if group is not None:
        for item in group.expressions:
            found = ctx.own_key(item, "group")
            if found:
                ctx.access[found[0]].add(ctx.access[found[0]].group, found[1])
    order = select.args.get("order")
    limit = select.args.get("limit") is not None or select.args.get("fetch") is not None
    for acc in ctx.access.values():
        acc.limit = limit
    if order is None or group is not None or aggregates or select.args.get("distinct") is not None:
        return
    aliases = {s.alias_or_name: s.unalias() for s in select.selects if isinstance(s, exp.Alias)}
    keys: list[tuple[str, Key]] = []
    for item in order.expressions:
        node = item.this if isinstance(item, exp.Ordered) else item
        node = unparen(node)
        if isinstance(node, exp.Column) and not node.table and node.name in aliases:
            node = aliases[node.name]
        desc = bool(item.args.get("desc")) if isinstance(item, exp.Ordered) else False
        nulls_first = bool(item.args.get("nulls_first")) if isinstance(item, exp.Ordered) else False
        found = ctx.own_key(node, "sort", desc=desc, nulls_first=nulls_first)
        if not found:
            return
        keys.append(found)
    if len({a for a, _ in keys}) == 1:
        acc = ctx.access[keys[0][0]]
        for _a, k in keys:
            acc.add(acc.sort, k)


def _referenced(ctx: _Context, root: exp.Expr) -> None:
    for node in root.walk(prune=lambda x: isinstance(x, (exp.Subquery,)) and x is not root):
        if isinstance(node, exp.Star) and isinstance(node.parent, (exp.Select,)):
            for acc in ctx.access.values():
                acc.star = True
        elif isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                if node.table in ctx.access:
                    ctx.access[node.table].star = True
                continue
            alias = ctx.owner(node)
            if alias is not None and alias != _OUTER:
                ctx.access[alias].referenced.add(node.name)


def _dml_target(tree: exp.Expr, info: SchemaInfo, unknown: list[str]) -> list[Access]:
    target = tree.this
    if not isinstance(target, exp.Table):
        return []
    tables: dict[str, tuple[str, str]] = {}
    _resolve(tables, unknown, target, info)
    extra = tree.args.get("from_") or tree.args.get("from") or tree.args.get("using")
    sources = [extra] if isinstance(extra, exp.Expression) else list(extra or [])
    for src in sources:
        for t in src.find_all(exp.Table):
            if t.find_ancestor(exp.Subquery) is None:
                _resolve(tables, unknown, t, info)
    if not tables:
        return []
    ctx = _Context(tables, set(), info)
    where = tree.args.get("where")
    _Reader(ctx, info).condition(where.this if where is not None else None)
    for acc in ctx.access.values():
        acc.star = False
    return list(ctx.access.values())


def accesses(tree: exp.Expr, info: SchemaInfo) -> tuple[list[Access], list[str]]:
    """Every table access of one parsed statement, and the names of the tables not found."""
    out: list[Access] = []
    unknown: list[str] = []
    try:
        scopes = traverse_scope(tree)
    except SqlglotError:
        scopes = []
    for scope in scopes:
        out.extend(_select_scope(scope, info, unknown))
    if isinstance(tree, (exp.Update, exp.Delete)):
        out.extend(_dml_target(tree, info, unknown))
    return out, sorted(set(unknown))
