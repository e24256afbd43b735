"""Classify a statement before it is sent, and refuse what the target does not allow.

Classification reads sqlglot's PostgreSQL tokens (strings, quoted names, dollar quotes
and comments are handled by the tokenizer), so it never needs a parse that sqlglot
might not support. Kinds: ``read`` (SELECT, VALUES, TABLE, SHOW, plain EXPLAIN),
``write`` (INSERT, UPDATE, DELETE, MERGE, COPY FROM, SELECT INTO, a WITH holding any of
them, CALL, DO), ``ddl`` (CREATE, ALTER, DROP, TRUNCATE, GRANT, VACUUM, ...),
``transaction`` (BEGIN, COMMIT, SET, ...).

>>> classify("WITH gone AS (DELETE FROM posts RETURNING id) SELECT count(*) FROM gone").kind
'write'
>>> classify("SELECT 1; SELECT 2").statements
2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlglot
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from .errors import UnsafeStatement

WRITE_KEYWORDS = {"INSERT", "UPDATE", "DELETE", "MERGE", "CALL", "DO"}
DDL_KEYWORDS = {
    "CREATE", "ALTER", "DROP", "TRUNCATE", "GRANT", "REVOKE", "COMMENT", "REINDEX", "CLUSTER",
    "VACUUM", "ANALYZE", "REFRESH", "SECURITY", "IMPORT", "LOCK", "REASSIGN",
}
TRANSACTION_KEYWORDS = {
    "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET", "RESET",
    "PREPARE", "EXECUTE", "DEALLOCATE", "DISCARD", "LISTEN", "NOTIFY", "UNLISTEN", "LOAD", "CHECKPOINT",
    "DECLARE", "FETCH", "CLOSE", "MOVE",
}
READ_KEYWORDS = {"SELECT", "VALUES", "TABLE", "SHOW", "WITH", "EXPLAIN"}


@dataclass(frozen=True)
class Classification:
    """What a piece of SQL is: its kind, first keyword, statement count and row locks."""

    kind: str
    keyword: str
    statements: int
    locks_rows: bool = False
    has_parameters: bool = False

    @property
    def writes(self) -> bool:
        return self.kind in ("write", "ddl")


@cache
def _dialect() -> sqlglot.Dialect:
    return sqlglot.Dialect.get_or_raise("postgres")


def _tokens(text: str) -> list[Token]:
    try:
        return _dialect().tokenize(text)
    except TokenError as err:
        raise UnsafeStatement(f"cannot read this SQL ({err}); check quotes and comments") from None


def _split(tokens: list[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth = max(depth - 1, 0)
        if tok.token_type == TokenType.SEMICOLON and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def _words(tokens: list[Token]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if tok.token_type == TokenType.COMMAND:  # sqlglot keeps e.g. EXPLAIN's rest as one string
            out.append(tok.text.upper())
        elif tok.token_type == TokenType.STRING and out and out[-1] == "EXPLAIN":
            out.extend(w.text.upper() for w in _tokens(tok.text) if w.token_type not in (TokenType.STRING,))
        elif tok.token_type not in (TokenType.STRING, TokenType.IDENTIFIER, TokenType.HEREDOC_STRING):
            out.append(tok.text.upper())
    return out


def _kind(words: list[str]) -> tuple[str, bool]:
    first = words[0] if words else ""
    locks = any(a == "FOR" and b in ("UPDATE", "SHARE", "NO", "KEY") for a, b in zip(words, words[1:]))
    if first == "EXPLAIN":
        if "ANALYZE" in words[1:4] or "ANALYSE" in words[1:4] or "(ANALYZE" in words:
            inner = _kind([w for w in words[1:] if w not in ("ANALYZE", "ANALYSE", "VERBOSE", "(", ")")])[0]
            return ("write" if inner in ("write", "ddl") else "read"), locks
        return "read", False
    if first in DDL_KEYWORDS:
        return "ddl", False
    if first in TRANSACTION_KEYWORDS:
        return "transaction", False
    if first in ("INSERT", "UPDATE", "DELETE", "MERGE", "CALL", "DO"):
        return "write", locks
    if first == "COPY":
        return ("write" if "FROM" in words and "TO" not in words else "read"), False
    if first in READ_KEYWORDS or first == "(":
        previous = ""
        for word in words:
            if word in WRITE_KEYWORDS and previous not in ("FOR", "NO", "KEY", "ON"):
                return "write", locks
            if word == "INTO" and first in ("SELECT", "WITH", "("):
                return "write", locks  # SELECT ... INTO creates a table
            previous = word
        return "read", locks
    return "ddl", False  # unknown: treat as the most dangerous kind that is not data


def split_statements(text: str) -> list[str]:
    """The statements of ``text`` (top-level semicolons split; quoted text never does)."""
    parts = _split(_tokens(text))
    return [" ".join(t.text for t in part) for part in parts]


def classify(text: str) -> Classification:
    """Classify ``text`` (see the module doc); several statements are counted, not refused."""
    parts = _split(_tokens(text))
    if not parts:
        raise UnsafeStatement("the SQL is empty (only whitespace or comments)")
    kinds = [_kind(_words(part)) for part in parts]
    order = ["read", "transaction", "write", "ddl"]
    kind = max((k for k, _ in kinds), key=order.index)
    first = parts[0][0].text.upper()
    has_params = any(t.token_type == TokenType.PARAMETER for part in parts for t in part)
    return Classification(kind, first, len(parts), any(lock for _, lock in kinds), has_params)


def check_single(text: str) -> Classification:
    """Classify ``text`` and refuse more than one statement, naming what was found."""
    found = classify(text)
    if found.statements > 1:
        heads = ", ".join(s.split()[0].upper() for s in split_statements(text))
        raise UnsafeStatement(
            f"one statement at a time: this SQL holds {found.statements} ({heads}); nothing was sent"
        )
    return found
