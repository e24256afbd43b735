"""Read SQL the way PostgreSQL does: its own parser (libpg_query, through pglast), no server.

The parser is PostgreSQL's, so statement boundaries, strings (``''``, ``E''``, ``U&''``,
dollar quotes), quoted names and nested comments are found exactly as the server finds them
with ``standard_conforming_strings = on``, which every dbworkbench session sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast import ast, parse_sql
from pglast.parser import ParseError, scan, split

from ..errors import UnsafeStatement

READ, WRITE, DDL, TRANSACTION = "read", "write", "ddl", "transaction"

_WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt, ast.CallStmt, ast.DoStmt)
_TRANSACTION = (
    ast.TransactionStmt, ast.VariableSetStmt, ast.PrepareStmt, ast.ExecuteStmt, ast.DeallocateStmt,
    ast.DiscardStmt, ast.ListenStmt, ast.NotifyStmt, ast.UnlistenStmt, ast.LoadStmt, ast.CheckPointStmt,
    ast.DeclareCursorStmt, ast.FetchStmt, ast.ClosePortalStmt, ast.ConstraintsSetStmt,
)
_READS = (ast.SelectStmt, ast.VariableShowStmt, ast.ExplainStmt)


@dataclass(frozen=True)
class Statement:
    """One statement as PostgreSQL's parser reads it.

    ``kind``: read | write | ddl | transaction; ``keyword``: its first keyword, upper case;
    ``text``: the statement alone (no leading comments, no trailing semicolon);
    ``parameters``: the highest ``$n`` it uses (0: none);
    ``functions``, ``operators``, ``relations``: every function called by name, operator used
    and table or view named (not a WITH query's own name), each as its name parts
    (``("pg_catalog", "now")``, ``("posts",)``);
    ``writes_via``: what makes it write (``INSERT``, ``a data-modifying WITH``, ``SELECT INTO``, ...).
    """

    text: str
    kind: str
    keyword: str
    parameters: int = 0
    locks_rows: bool = False
    functions: tuple[tuple[str, ...], ...] = ()
    operators: tuple[tuple[str, ...], ...] = ()
    relations: tuple[tuple[str, ...], ...] = ()
    writes_via: str | None = None

    @property
    def writes(self) -> bool:
        return self.kind in (WRITE, DDL)

    @property
    def has_parameters(self) -> bool:
        return self.parameters > 0


def _walk(node: Any) -> Iterator[ast.Node]:
    if isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from _walk(getattr(node, name))
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _walk(item)


def _parts(names: Any) -> tuple[str, ...]:
    return tuple(getattr(n, "sval", "*") for n in names or ())


def _kind(stmt: ast.Node | None, nodes: list[ast.Node]) -> tuple[str, str | None]:
    """The statement's kind and, for a write hidden in a read, what makes it one."""
    if isinstance(stmt, ast.ExplainStmt):
        analyze = any(getattr(o, "defname", "") in ("analyze", "analyse") for o in stmt.options or ())
        inner_kind, via = _kind(stmt.query, nodes)
        return (inner_kind, via) if analyze and inner_kind in (WRITE, DDL) else (READ, None)
    if isinstance(stmt, _WRITES):
        return WRITE, type(stmt).__name__.removesuffix("Stmt").upper()
    if isinstance(stmt, ast.CopyStmt):
        return (WRITE, "COPY FROM") if stmt.is_from else (READ, None)
    if isinstance(stmt, _TRANSACTION):
        return TRANSACTION, None
    if isinstance(stmt, _READS):
        if any(isinstance(n, ast.SelectStmt) and n.intoClause for n in nodes):
            return WRITE, "SELECT INTO"
        if any(isinstance(n, ast.CommonTableExpr) and isinstance(n.ctequery, _WRITES) for n in nodes):
            return WRITE, "a data-modifying WITH"
        return READ, None
    return DDL, None  # CREATE, ALTER, DROP, TRUNCATE, GRANT, VACUUM, LOCK, ... and anything unknown


def _first_keyword(text: str) -> str:
    for tok in scan(text):
        if tok.name not in ("C_COMMENT", "SQL_COMMENT"):
            return text[tok.start:tok.end + 1].upper()
    return ""


def _where(text: str, err: ParseError) -> str:
    """``line L, column C`` of a parse error (pglast reports a character offset)."""
    offset = err.args[1] if len(err.args) > 1 else None
    if not isinstance(offset, int) or offset < 0:
        return " at its end"
    before = text[:offset]
    return f" at line {before.count(chr(10)) + 1}, column {offset - (before.rfind(chr(10)) + 1) + 1}"


def read_statements(text: str) -> list[Statement]:
    """Every statement in ``text``, read by PostgreSQL's parser.

    Raises :class:`~dbworkbench.UnsafeStatement` for empty text or text the parser refuses,
    naming the line and column.

    >>> [s.kind for s in read_statements("SELECT 1; WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d")]
    ['read', 'write']
    """
    return list(_read(text))


@lru_cache(maxsize=256)
def _read(text: str) -> tuple[Statement, ...]:
    """:func:`read_statements`, remembered by text (a pure function of it; the what-if advisor
    explains the same statements thousands of times)."""
    try:
        raw = parse_sql(text)
    except ParseError as err:
        raise UnsafeStatement(
            f"PostgreSQL's parser cannot read this SQL{_where(text, err)}: {err.args[0]}; "
            "nothing was sent"
        ) from None
    if not raw:
        raise UnsafeStatement("the SQL is empty (only whitespace, semicolons or comments); nothing was sent")
    found = []
    for item in raw:  # offsets are in characters
        if item.stmt is None:
            continue
        start = item.stmt_location or 0
        own = (text[start:start + item.stmt_len] if item.stmt_len else text[start:]).strip()
        nodes = list(_walk(item.stmt))
        kind, via = _kind(item.stmt, nodes)
        ctes = {n.ctename for n in nodes if isinstance(n, ast.CommonTableExpr)}
        found.append(Statement(
            text=own,
            kind=kind,
            keyword=_first_keyword(own),
            parameters=max((n.number or 0 for n in nodes if isinstance(n, ast.ParamRef)), default=0),
            locks_rows=any(isinstance(n, ast.SelectStmt) and n.lockingClause for n in nodes),
            functions=tuple(dict.fromkeys(_parts(n.funcname) for n in nodes if isinstance(n, ast.FuncCall))),
            operators=tuple(dict.fromkeys(_parts(n.name) for n in nodes if isinstance(n, ast.A_Expr) and n.name)),
            relations=tuple(dict.fromkeys(
                (str(n.schemaname), str(n.relname)) if n.schemaname else (str(n.relname),)
                for n in nodes if isinstance(n, ast.RangeVar) and (n.schemaname or n.relname not in ctes)
            )),
            writes_via=via,
        ))
    return tuple(found)


def split_text(text: str) -> list[str]:
    """The statements of ``text`` by PostgreSQL's scanner, even where they would not parse."""
    try:
        ranges = split(text, with_parser=False, only_slices=True)
    except ParseError as err:
        raise UnsafeStatement(f"cannot read this SQL{_where(text, err)}: {err.args[0]}; check quotes and comments") from None
    parts = [text[r].strip() for r in ranges]
    return [p for p in parts if p]
