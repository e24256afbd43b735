"""What the server knows about the functions, operators and views a statement names."""

from __future__ import annotations

from typing import Any

import psycopg

from .. import catalog
from ._read import Statement, read_statements
from .functions import allowed_volatile, denied

MAX_VIEWS = 100  # views followed into, in all, for one statement


def _through_views(conn: psycopg.Connection[Any], stmt: Statement) -> list[tuple[str, Statement]]:
    """The statement and, recursively, each view it reads, as (where, statement) pairs."""
    found = [("", stmt)]
    seen: set[str] = set()
    queue = [stmt]
    while queue and len(seen) < MAX_VIEWS:
        relations = queue.pop().relations
        if not relations:
            continue
        rows = conn.execute(
            catalog.get("guard_views"),
            {"schemas": [r[-2] if len(r) > 1 else None for r in relations], "names": [r[-1] for r in relations]},
        ).fetchall()
        for name, definition in rows:
            if name in seen or not definition:
                continue
            seen.add(name)
            for inner in read_statements(definition):
                found.append((f" (in view {name})", inner))
                queue.append(inner)
    return found


def risky_calls(conn: psycopg.Connection[Any] | None, stmt: Statement) -> list[str]:
    """What in ``stmt`` may have effects a rollback does not undo, one description each.

    Functions on the deny-list always; with a server to ask, also every function that any
    overload makes VOLATILE (unless :func:`~dbworkbench.guard.functions.allowed_volatile`) and
    every user-defined operator backed by a VOLATILE function, in the statement and in the
    views it reads.
    """
    problems: list[str] = []
    for where, part in _through_views(conn, stmt) if conn is not None else [("", stmt)]:
        problems += [f"{'.'.join(f)}() reaches outside the transaction{where}" for f in part.functions if denied(f[-1])]
        if conn is None:
            continue
        wanted = {f[-1] for f in part.functions if not allowed_volatile(f[-1]) and not denied(f[-1])}
        rows = conn.execute(catalog.get("guard_functions"), {"names": sorted(wanted)}).fetchall() if wanted else []
        for parts in part.functions:
            schema = parts[-2] if len(parts) > 1 else None
            if any(r[1] == parts[-1] and (schema is None or r[0] == schema) and r[2] for r in rows):
                problems.append(f"{'.'.join(parts)}() is VOLATILE{where}")
        operators = sorted({o[-1] for o in part.operators})
        if operators:
            for schema, name, function in conn.execute(catalog.get("guard_operators"), {"names": operators}):
                problems.append(f"operator {schema}.{name} runs the VOLATILE function {function}(){where}")
    return list(dict.fromkeys(problems))
