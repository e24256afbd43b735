"""Placeholders written the way the server reads them (pure: no driver): psycopg's ``%s`` as
``$n``, and pg_stat_statements' ``date $1`` as ``$1::date``."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pglast.parser import ParseError, scan

_PSYCOPG_TOKEN = re.compile(r"(?P<str>[Ee]?'(?:[^']|'')*')|(?P<named>%\((?P<name>\w+)\)s)|(?P<pos>%s)|(?P<pct>%%)")


def from_pyformat(sql: str) -> str:
    """``%(name)s`` / ``%s`` placeholders as ``$n`` (one number per name), ``%%`` as ``%``;
    text with no psycopg placeholder outside its string literals is returned as it is.

    >>> from_pyformat("SELECT 1 WHERE a = %(x)s AND b LIKE '%%' || %(y)s AND c = %(x)s")
    "SELECT 1 WHERE a = $1 AND b LIKE '%' || $2 AND c = $1"
    >>> from_pyformat("SELECT 1 WHERE title LIKE '%slow%'")
    "SELECT 1 WHERE title LIKE '%slow%'"
    """
    tokens = list(_PSYCOPG_TOKEN.finditer(sql))
    if not any(m.group("named") or m.group("pos") for m in tokens):
        return sql
    numbers: dict[str, int] = {}

    def sub(m: re.Match[str]) -> str:
        if m.group("str"):
            return m.group().replace("%%", "%")
        if m.group("pct"):
            return "%"
        key = m.group("name") or f"\0{len(numbers)}"
        numbers.setdefault(key, len(numbers) + 1)
        return f"${numbers[key]}"

    return _PSYCOPG_TOKEN.sub(sub, sql)


#: keywords that end a type name written before a typed literal (``timestamp '...'``, ``double precision '...'``)
_TYPE_KEYWORDS = {"TIMESTAMP", "TIME", "INTERVAL", "INT_P", "INTEGER", "BIGINT", "SMALLINT", "NUMERIC", "DECIMAL_P",
                  "DEC", "REAL", "FLOAT_P", "BOOLEAN_P", "CHAR_P", "CHARACTER", "VARCHAR", "VARYING", "BIT", "PRECISION",
                  "JSON"}
_INTERVAL_UNITS = {"YEAR_P", "MONTH_P", "DAY_P", "HOUR_P", "MINUTE_P", "SECOND_P"}


@lru_cache(maxsize=256)  # a pure function of the text; the what-if advisor explains the same texts thousands of times
def typed_parameters(sql: str) -> str:
    """pg_stat_statements' text of a typed literal as a cast the server and sqlglot read.

    pg_stat_statements replaces the string of ``date '2024-01-01'`` or ``interval '1' month`` by a
    parameter, and ``date $1`` / ``interval $2 month`` is not SQL (PostgreSQL refuses it too). As
    ``$1::date`` / ``$2::interval`` it is, with the same type. Text without such a pair (or that
    PostgreSQL's scanner cannot read) is returned as it is.

    >>> typed_parameters("SELECT 1 FROM t WHERE d >= date $1 AND d < date $1 + interval $2 month AND u = 'date $3'")
    "SELECT 1 FROM t WHERE d >= $1::date AND d < $1::date + $2::interval AND u = 'date $3'"
    >>> typed_parameters("SELECT x AT TIME ZONE $1, y BETWEEN $2 AND $3 FROM t LIMIT $4")
    'SELECT x AT TIME ZONE $1, y BETWEEN $2 AND $3 FROM t LIMIT $4'
    >>> typed_parameters("SELECT timestamp with time zone $1, pg_catalog.date $2, double precision $3")
    'SELECT $1::timestamp with time zone, $2::pg_catalog.date, $3::double precision'
    """
    if "$" not in sql:
        return sql
    try:
        tokens = [t for t in scan(sql) if t.name not in ("C_COMMENT", "SQL_COMMENT")]
    except ParseError:
        return sql
    edits: list[tuple[int, int, str]] = []
    for k, tok in enumerate(tokens):
        if tok.name != "PARAM" or k == 0:
            continue
        first = _type_start(tokens, k - 1)
        if first is None:
            continue
        last = k
        if tokens[k - 1].name == "INTERVAL":  # the unit qualified the string; the cast keeps the type
            while last + 1 < len(tokens) and (tokens[last + 1].name in _INTERVAL_UNITS or tokens[last + 1].name == "TO"):
                last += 1
        kind = sql[tokens[first].start:tokens[k - 1].end + 1]
        edits.append((tokens[first].start, tokens[last].end + 1, f"{sql[tok.start:tok.end + 1]}::{kind}"))
    for start, end, text in reversed(edits):
        sql = sql[:start] + text + sql[end:]
    return sql


def _type_start(tokens: list[Any], k: int) -> int | None:
    """Where the type name that ends at ``tokens[k]`` starts, if it is one that precedes a typed literal."""
    name = tokens[k].name
    if name == "IDENT":  # date, timestamptz, "MyType", schema.type
        while k >= 2 and tokens[k - 1].name == "ASCII_46" and tokens[k - 2].name == "IDENT":
            k -= 2
        return k
    if name == "ZONE":  # timestamp/time with[out] time zone, not AT TIME ZONE
        ok = k >= 3 and tokens[k - 1].name == "TIME" and tokens[k - 2].name in ("WITH", "WITHOUT") \
            and tokens[k - 3].name in ("TIMESTAMP", "TIME")
        return k - 3 if ok else None
    if name == "PRECISION":
        return k - 1 if k >= 1 and tokens[k - 1].name == "DOUBLE_P" else None
    if name == "VARYING":
        return k - 1 if k >= 1 and tokens[k - 1].name in ("CHARACTER", "CHAR_P") else None
    return k if name in _TYPE_KEYWORDS else None
