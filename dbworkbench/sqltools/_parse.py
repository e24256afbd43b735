"""Text → sqlglot trees (PostgreSQL dialect), or one ``parse-error`` finding at the position."""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError

from ._base import DIALECT, Finding

CODE = "parse-error"


def _offset(sql: str, line: int, col: int) -> int:
    """0-based offset of 1-based (line, col) in ``sql``."""
    lines = sql.split("\n")
    line = max(1, min(line, len(lines)))
    return min(sum(len(x) + 1 for x in lines[: line - 1]) + max(col, 1) - 1, len(sql))


def _error(sql: str, err: SqlglotError) -> Finding:
    start: int | None = None
    end: int | None = None
    detail = str(err).split("\n")[0]
    if isinstance(err, ParseError) and err.errors:
        e = err.errors[0]
        detail = str(e.get("description") or detail)
        highlight = str(e.get("highlight") or "")
        if isinstance(e.get("line"), int) and isinstance(e.get("col"), int):
            end = min(_offset(sql, e["line"], e["col"]) + 1, len(sql))  # col: the offending token's last character
            start = max(end - len(highlight), 0) if highlight else max(end - 1, 0)
        detail = re.sub(r"<Token token_type: [^,]+, text: ([^,]*), .*?>", r"'\1'", detail)
    elif isinstance(err, TokenError):
        cause = str(err.__cause__ or "")
        m = re.search(r"from \d+:(\d+)", cause)  # "Missing ' from <line>:<offset>"
        if m and int(m.group(1)) < len(sql):
            start, end = int(m.group(1)), len(sql)
            detail = f"{cause.split(' from ')[0]} (unterminated from here to the end)"
    where = f" at offset {start}" if start is not None else ""
    return Finding(
        CODE,
        "error",
        f"The SQL could not be read{where}: {detail}.",
        "Check the statement near that position; lint reads PostgreSQL SQL with $1, $2 ... parameters "
        "(psycopg's %(name)s are not read).",
        start,
        end,
    )


def parse(sql: str) -> tuple[list[exp.Expr], Finding | None]:
    """The statements of ``sql`` (empty ones dropped), or the parse-error finding."""
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # sqlglot warns on the log when it falls back to a Command: the finding says it
    try:
        trees = sqlglot.parse(sql, read=DIALECT)
    except SqlglotError as err:
        return [], _error(sql, err)
    except (ValueError, RecursionError) as err:  # sqlglot's rare non-SqlglotError failures
        return [], Finding(CODE, "error", f"The SQL could not be read: {err}.", "Check the statement.", None, None)
    finally:
        quiet.setLevel(level)
    out = [t for t in trees if t is not None]
    bad = [t for t in out if isinstance(t, exp.Command)]
    if bad:
        word = str(bad[0].this).split()[0] if str(bad[0].this).split() else "?"
        start = sql.upper().find(word.upper())
        return [], Finding(
            CODE,
            "error",
            f"The SQL could not be read: {word} ... is not a statement lint understands.",
            "lint reads SELECT, INSERT, UPDATE, DELETE and WITH statements (for EXPLAIN, lint the statement explained).",
            start if start >= 0 else None,
            start + len(word) if start >= 0 else None,
        )
    return out, None
