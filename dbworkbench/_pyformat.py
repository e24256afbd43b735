"""psycopg's placeholders read the way the server will see them (pure: no driver)."""

from __future__ import annotations

import re

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
