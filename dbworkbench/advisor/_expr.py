"""SQL expressions for index keys, with sqlglot: parse, strip, render, compare.

Pure: no server. Two forms of an expression matter to the advisor: the *key* form, written
into CREATE INDEX (qualifiers dropped, casts to a text type of a column and the
``::regconfig`` of a text search configuration dropped, function names in lower case,
identifiers quoted the PostgreSQL way), and the *compare* form, which also drops every
cast of a literal and the parentheses around plain items, so that PostgreSQL's printed
``lower((email)::text)`` and a query's ``LOWER(u.email)`` are the same key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from ..plans.insights._sql import quote_ident

DIALECT = "postgres"

_TEXT_TYPES = frozenset({exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.NAME,
                         exp.DataType.Type.NCHAR, exp.DataType.Type.NVARCHAR})
def unparen(node: exp.Expr) -> exp.Expr:
    """``node`` without the parentheses around it."""
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    """The AND-ed conditions of ``node``, each without its parentheses."""
    if node is None:
        return []
    node = unparen(node)
    if isinstance(node, exp.And):
        return conjuncts(node.left) + conjuncts(node.right)
    return [node]


def disjuncts(node: exp.Expr) -> list[exp.Expr]:
    """The OR-ed branches of ``node``."""
    node = unparen(node)
    if isinstance(node, exp.Or):
        return disjuncts(node.left) + disjuncts(node.right)
    return [node]


def is_text_cast(node: exp.Expr) -> bool:
    return isinstance(node, exp.Cast) and isinstance(node.to, exp.DataType) and node.to.this in _TEXT_TYPES


def is_regconfig_cast(node: exp.Expr) -> bool:
    return isinstance(node, exp.Cast) and node.to.sql(DIALECT).lower() == "regconfig"


def strip_column(node: exp.Expr) -> exp.Expr:
    """A column without the parentheses and text casts PostgreSQL prints around it."""
    node = unparen(node)
    while is_text_cast(node) and isinstance(unparen(node.this), exp.Column):
        node = unparen(node.this)
    return node


def _key_tree(node: exp.Expr, *, compare: bool) -> exp.Expr:
    def fix(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column):
            name = n.name
            return exp.column(exp.to_identifier(name, quoted=quote_ident(name) != name))
        if isinstance(n, exp.Paren) and isinstance(unparen(n), (exp.Column, exp.Literal, exp.Parameter)):
            return unparen(n)
        if isinstance(n, exp.Cast):
            inner = unparen(n.this)
            if is_text_cast(n) and isinstance(inner, exp.Column):
                return inner
            if is_regconfig_cast(n) and isinstance(inner, exp.Literal):
                return inner
            if compare and isinstance(inner, exp.Literal):
                return inner
        return n

    return node.copy().transform(fix)


def key_sql(node: exp.Expr) -> str:
    """The expression as written in CREATE INDEX.

    >>> key_sql(sqlglot.parse_one("LOWER(u.email)", read="postgres"))
    'lower(email)'
    >>> key_sql(sqlglot.parse_one("to_tsvector('english'::regconfig, p.content)", read="postgres"))
    "to_tsvector('english', content)"
    """
    return _key_tree(node, compare=False).sql(DIALECT, normalize_functions="lower")


def compare_sql(node: exp.Expr) -> str:
    """The expression in the form two equal keys or predicates share.

    >>> compare_sql(sqlglot.parse_one("lower((email)::text)", read="postgres"))
    'lower(email)'
    >>> compare_sql(sqlglot.parse_one("(status = 'published'::post_status)", read="postgres"))
    "status = 'published'"
    """
    return _key_tree(unparen(node), compare=True).sql(DIALECT, normalize_functions="lower")


def parse_expression(text: str) -> exp.Expr | None:
    """``text`` as one expression, or None when sqlglot cannot read it."""
    try:
        return sqlglot.parse_one(text, read=DIALECT, into=exp.Condition)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        try:
            select = sqlglot.parse_one(f"SELECT {text}", read=DIALECT)
            return select.selects[0] if isinstance(select, exp.Select) else None
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError, IndexError):
            return None


# --------------------------------------------------------------------------- existing indexes


@dataclass(frozen=True)
class KeySpec:
    """One key of an index, in compare form: the expression (a column's quoted name or an
    expression), the operator class (None for the default), descending, NULLS FIRST."""

    expr: str
    opclass: str | None = None
    desc: bool = False
    nulls_first: bool = False

    def flipped(self) -> KeySpec:
        return KeySpec(self.expr, self.opclass, not self.desc, not self.nulls_first)


@dataclass(frozen=True)
class IndexShape:
    """What makes two indexes serve the same scans: method, keys, INCLUDE columns, predicate."""

    method: str
    keys: tuple[KeySpec, ...]
    include: frozenset[str] = frozenset()
    where: str | None = None
    unique: bool = False


def _scan(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth after it) of each character outside quotes."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote or ch in "'\"":
            quote = "" if ch == quote else (quote or ch)
            continue
        depth += (ch in "([") - (ch in ")]")
        yield i, ch, depth


def _split_top(text: str, sep: str = ",") -> list[str]:
    parts, last = [], 0
    for i, ch, depth in _scan(text):
        if depth == 0 and (ch == sep or (sep == " " and ch.isspace())):
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    return next((i for i, ch, depth in _scan(text, start) if ch == ")" and depth == 0), len(text))


def parse_key(item: str) -> KeySpec | None:
    """One key item as ``pg_get_indexdef`` prints it: ``expr [COLLATE c] [opclass] [DESC] [NULLS FIRST|LAST]``.

    >>> parse_key("title gin_trgm_ops")
    KeySpec(expr='title', opclass='gin_trgm_ops', desc=False, nulls_first=False)
    >>> parse_key("created_at DESC")
    KeySpec(expr='created_at', opclass=None, desc=True, nulls_first=True)
    """
    words = _split_top(item, " ")
    if not words:
        return None
    desc = nulls_first = None
    while len(words) > 1:
        last = words[-1].upper()
        if last in ("FIRST", "LAST") and len(words) > 2 and words[-2].upper() == "NULLS":
            nulls_first = last == "FIRST"
            words = words[:-2]
        elif last in ("ASC", "DESC"):
            desc = last == "DESC"
            words = words[:-1]
        else:
            break
    opclass = None
    if len(words) > 1 and words[-2].upper() != "COLLATE":
        opclass = words[-1].split("(")[0].lower()
        words = words[:-1]
    node = parse_expression(" ".join(words))
    if node is None:
        return None
    d = bool(desc)
    return KeySpec(compare_sql(node), opclass, d, d if nulls_first is None else nulls_first)


def parse_definition(definition: str, *, unique: bool = False) -> IndexShape | None:
    """The shape of an index from ``pg_get_indexdef``'s CREATE INDEX text (None when unreadable).

    >>> s = parse_definition("CREATE INDEX i ON public.users USING btree (lower((email)::text))")
    >>> s.method, s.keys[0].expr
    ('btree', 'lower(email)')
    """
    m = re.search(r"\sUSING\s+(\w+)\s*\(", definition)
    if not m:
        return None
    open_at = m.end() - 1
    close_at = _closing(definition, open_at)
    keys = [parse_key(k) for k in _split_top(definition[open_at + 1 : close_at])]
    if not keys or any(k is None for k in keys):
        return None
    rest = definition[close_at + 1 :]
    include: frozenset[str] = frozenset()
    inc = re.match(r"\s*INCLUDE\s*\(", rest)
    if inc:
        end = _closing(rest, inc.end() - 1)
        include = frozenset(_unquote(c) for c in _split_top(rest[inc.end() : end]))
        rest = rest[end + 1 :]
    where = None
    w = re.search(r"\sWHERE\s", rest)
    if w:
        node = parse_expression(rest[w.end() :].strip())
        where = compare_sql(node) if node is not None else rest[w.end() :].strip()
    return IndexShape(m.group(1).lower(), tuple(k for k in keys if k is not None), include, where, unique)


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if len(name) >= 2 and name[0] == name[-1] == '"' else name
