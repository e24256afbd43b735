"""Example values for a statement's ``$n`` parameters, taken from the data it compares them with.

``WHERE lower(email) = lower($1)`` gets an e-mail from ``users.email``; ``LIMIT $2`` gets 20;
the text search configuration of ``to_tsvector($2, content)`` (pg_stat_statements replaces
the constant ``'english'`` by ``$2``) gets the server's ``default_text_search_config``.
A parameter that is compared with no single column gets no value, and the statement is then
reported as not measured rather than run with a guess.
"""

from __future__ import annotations

import random
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError
from psycopg import sql

from .._pyformat import typed_parameters
from ..catalog import own_marker
from ..guard._read import _walk

SAMPLE_ROWS = 200  # a value is picked among the first rows that have one

_MARK = own_marker("advisor")  # the samples are ours: statements() leaves them out


def _params_in(node: Any) -> list[int]:
    return [n.number or 0 for n in _walk(node) if isinstance(n, ast.ParamRef)]


def _columns_in(node: Any) -> list[tuple[str, ...]]:
    return [tuple(getattr(f, "sval", "*") for f in n.fields or ()) for n in _walk(node) if isinstance(n, ast.ColumnRef)]


def _function(node: ast.FuncCall) -> str:
    return str(getattr((node.funcname or (None,))[-1], "sval", ""))


def _in_text_search(node: Any) -> bool:
    return any(isinstance(n, ast.FuncCall) and "tsquery" in _function(n) for n in _walk(node))


def _targets(stmt: Any) -> dict[int, tuple[tuple[str, ...], bool]]:
    """$n → (the column it is compared with or stored in, whether it feeds a text-search query)."""
    found: dict[int, tuple[tuple[str, ...], bool]] = {}
    for node in _walk(stmt):
        if isinstance(node, ast.UpdateStmt):  # SET col = $n
            for target in node.targetList or ():
                for number in _params_in(target.val):
                    found.setdefault(number, ((target.name,), False))
        if isinstance(node, ast.InsertStmt) and node.cols and isinstance(node.selectStmt, ast.SelectStmt):
            for row in node.selectStmt.valuesLists or ():  # INSERT (cols) VALUES ($n, ...)
                for target, value in zip(node.cols, row):
                    for number in _params_in(value):
                        found.setdefault(number, ((target.name,), False))
        if isinstance(node, ast.A_Expr):
            for mine, other in ((node.lexpr, node.rexpr), (node.rexpr, node.lexpr)):
                columns = _columns_in(other)
                if len(set(columns)) == 1:
                    for number in _params_in(mine):
                        found.setdefault(number, (columns[0], _in_text_search(mine)))
    return found


_TEXT_SEARCH = {"to_tsvector", "to_tsquery", "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery"}


def _configs(stmt: Any) -> set[int]:
    """The $n given as the text search configuration (first of two arguments) of a text search function."""
    found = set()
    for n in _walk(stmt):
        args = n.args or () if isinstance(n, ast.FuncCall) and _function(n) in _TEXT_SEARCH else ()
        if len(args) == 2 and isinstance(args[0], ast.ParamRef):
            found.add(args[0].number or 0)
    return found


def _tables(stmt: Any) -> dict[str, tuple[str | None, str]]:
    """Alias or name → (schema, table) of every relation in the statement."""
    out: dict[str, tuple[str | None, str]] = {}
    for node in _walk(stmt):
        if isinstance(node, ast.RangeVar) and node.relname:
            ref = (node.schemaname, node.relname)
            out[node.relname] = ref
            if node.alias is not None and node.alias.aliasname:
                out[node.alias.aliasname] = ref
    return out


def _sample(conn: psycopg.Connection[Any], table: tuple[str | None, str], column: str, rng: random.Random) -> str | None:
    name = sql.Identifier(*[p for p in table if p])
    query = sql.SQL("SELECT {m} {c}::text FROM {t} WHERE {c} IS NOT NULL LIMIT {n}").format(
        m=sql.SQL(_MARK), c=sql.Identifier(column), t=name, n=sql.Literal(SAMPLE_ROWS))
    try:
        with conn.transaction(force_rollback=True):
            values = [r[0] for r in conn.execute(query)]
    except psycopg.Error:  # a CTE's name, a column of another table, no privilege: no sample here
        return None
    return rng.choice(values) if values else None


def example_params(conn: psycopg.Connection[Any], query: str, *, seed: int = 0) -> list[str] | None:
    """Values for every ``$n`` of ``query`` sampled from the data, or None if one cannot be found."""
    try:
        stmt = parse_sql(typed_parameters(query))[0].stmt
    except (ParseError, IndexError):
        return None
    numbers = _params_in(stmt)
    if not numbers:
        return []
    rng = random.Random(seed)
    targets, tables = _targets(stmt), _tables(stmt)
    limits = {n for node in _walk(stmt) if isinstance(node, ast.SelectStmt)
              for part in (node.limitCount, node.limitOffset) for n in _params_in(part)}
    values: dict[int, str] = {}
    configs = _configs(stmt)
    for number in sorted(set(numbers)):
        if number in configs:
            row = conn.execute(f"SELECT {_MARK} current_setting('default_text_search_config')").fetchone()
            values[number] = str(row[0]) if row else "pg_catalog.english"
            continue
        if number in limits:
            values[number] = "20" if number not in _offsets(stmt) else "0"
            continue
        if number not in targets:
            return None
        column, text_search = targets[number]
        where = [tables[column[0]]] if len(column) > 1 and column[0] in tables else list(dict.fromkeys(tables.values()))
        value = next((v for t in where if (v := _sample(conn, t, column[-1], rng)) is not None), None)
        if value is None:
            return None
        values[number] = " ".join(value.split()[:2]) if text_search else value
    return [values[n] for n in range(1, max(values) + 1)] if len(values) == max(values) else None


def _offsets(stmt: Any) -> set[int]:
    return {n for node in _walk(stmt) if isinstance(node, ast.SelectStmt) for n in _params_in(node.limitOffset)}
