"""Catalog SQL: one named ``.sql`` file per question, read once and cached.

A file ``<name>_post_<NNNNNN>.sql`` replaces ``<name>.sql`` on servers whose
``server_version_num`` is at least ``NNNNNN``; the first line of each file is
``-- <name>: <description>``. The loader tags the first SELECT or WITH with the
comment ``/* dbworkbench:catalog */`` so ``statements()`` can leave our own queries out
(PostgreSQL 18 drops leading comments from pg_stat_statements' query text). Every other
statement the workbench makes up itself (EXPLAIN, the advisor's what-if indexes) carries a
:func:`own_marker` too: one rule in ``statements.sql`` leaves them all out.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

OWN = "/* dbworkbench:"  # what statements.sql looks for


def own_marker(kind: str) -> str:
    """The comment that marks a statement the workbench sends of its own accord (``kind``: what it is)."""
    return f"{OWN}{kind} */"


MARKER = own_marker("catalog")
_FIRST_KEYWORD = re.compile(r"^(\s*(?:SELECT|WITH)\b)", re.MULTILINE | re.IGNORECASE)
_VARIANT = re.compile(r"^(?P<name>[a-z_]+?)(?:_post_(?P<version>\d{6}))?\.sql$")


@cache
def _variants() -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for entry in resources.files(__package__).iterdir():
        m = _VARIANT.match(entry.name)
        if m:
            found.setdefault(m["name"], []).append((int(m["version"] or 0), entry.name))
    return {name: sorted(v, reverse=True) for name, v in found.items()}


@cache
def get(name: str, server_version_num: int = 999_999) -> str:
    """The SQL text of catalog question ``name`` for a server of that version."""
    try:
        variants = _variants()[name]
    except KeyError:
        raise KeyError(f"no catalog SQL named {name!r}; known: {', '.join(sorted(_variants()))}") from None
    for since, filename in variants:
        if server_version_num >= since:
            text = (resources.files(__package__) / filename).read_text(encoding="utf-8")
            return _FIRST_KEYWORD.sub(rf"\1 {MARKER}", text, count=1)
    raise KeyError(f"catalog SQL {name!r} does not support server version {server_version_num}")


def description(name: str) -> str:
    """The ``-- name: description`` first line of a catalog file, without the name."""
    first = get(name).splitlines()[0]
    return first.split(":", 1)[1].strip() if ":" in first else first
