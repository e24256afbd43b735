"""The two ways :class:`~dbworkbench.advisor.whatif.WhatIf` makes indexes the planner can see.

- :class:`HypoBackend`: HypoPG's hypothetical indexes, private to the session, never on disk.
  Only the difference to the previous set is created or dropped; ``hypopg_reset()`` at the end.
- :class:`RollbackBackend`: real indexes, each built once inside one transaction that is always
  rolled back. A set is costed inside a savepoint in which the other built indexes are dropped;
  rolling back to the savepoint brings them back (and releases the ACCESS EXCLUSIVE locks the
  drops took). The SHARE locks of the builds are held until the WhatIf ends.

Both keep ``failed``: indexes the backend could not make, with the server's reason; such an
index is left out of every set (the plan is costed without it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg
from psycopg import sql

from ..catalog import own_marker
from ..guard import admit, send
from ..plans.insights._sql import qualified, truncate_name
from .index import IndexDef


_MARK = own_marker("whatif")  # on every statement of ours: statements() leaves them out


class Backend(Protocol):
    name: str
    failed: dict[IndexDef, str]

    def configured(self, indexes: frozenset[IndexDef]) -> AbstractContextManager[dict[str, IndexDef]]:
        """While open, the planner sees exactly ``indexes`` (less ``failed``); yields index name → IndexDef."""
        ...

    def close(self) -> None: ...


def _admitted(ix: IndexDef, *, execute: bool, name: str | None = None, conn: psycopg.Connection[Any] | None = None) -> str:
    """The CREATE INDEX text of ``ix``, after the gate: one statement, no side effects."""
    text = ix.create_sql(concurrently=False, if_not_exists=False, name=name)
    text = text.replace("CREATE ", f"CREATE {_MARK} ", 1)  # statements() leaves it out
    return admit(text, read_only=False, conn=conn, execute=execute, action="what-if CREATE INDEX", side_effects_opt_in=None).text


def _reason(err: psycopg.Error) -> str:
    diag = err.diag.message_primary if err.diag else None
    return diag or str(err).strip().splitlines()[0]


class HypoBackend:
    """Hypothetical indexes with HypoPG (installed in ``schema``)."""

    name = "hypopg"

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self.conn, self.schema = conn, schema
        self.failed: dict[IndexDef, str] = {}
        self._made: dict[IndexDef, tuple[int, str]] = {}
        self._texts: dict[tuple[IndexDef, str], str] = {}
        self._call("hypopg_reset")

    def _text(self, ix: IndexDef) -> str:
        """The admitted CREATE INDEX text of ``ix``, once per index (it is made again and again)."""
        key = (ix, ix.name)
        if key not in self._texts:
            self._texts[key] = _admitted(ix, execute=False)
        return self._texts[key]

    def _call(self, function: str, *args: Any) -> list[tuple[Any, ...]]:
        query = sql.SQL("SELECT {} * FROM {}({})").format(  # marked: statements() leaves HypoPG's calls out
            sql.SQL(_MARK), sql.Identifier(self.schema, function), sql.SQL(", ").join(sql.Placeholder() * len(args))
        )
        return self.conn.execute(query, args).fetchall()

    @contextmanager
    def configured(self, indexes: frozenset[IndexDef]) -> Iterator[dict[str, IndexDef]]:
        for ix in [ix for ix in self._made if ix not in indexes]:
            self._call("hypopg_drop_index", self._made.pop(ix)[0])
        for ix in sorted(indexes - self._made.keys() - self.failed.keys(), key=lambda ix: ix.definition):
            try:
                oid, name = self._call("hypopg_create_index", self._text(ix))[0]
            except psycopg.Error as err:
                if self.conn.broken:
                    raise
                self.failed[ix] = _reason(err)
                continue
            self._made[ix] = (oid, name)
        yield {name: ix for ix, (_, name) in self._made.items()}

    def size(self, index: IndexDef) -> int | None:
        """HypoPG's own size estimate of ``index`` (None if it cannot make it)."""
        with self.configured(frozenset(self._made) | {index}):
            made = self._made.get(index)
            return int(self._call("hypopg_relation_size", made[0])[0][0]) if made else None

    def close(self) -> None:
        if not (self.conn.closed or self.conn.broken):
            self._call("hypopg_reset")
        self._made.clear()


class RollbackBackend:
    """Real indexes inside one transaction that is rolled back at :meth:`close`."""

    name = "rollback"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.failed: dict[IndexDef, str] = {}
        self._built: dict[IndexDef, str] = {}
        self._numbers = itertools.count(1)
        self._tx = conn.transaction(force_rollback=True)
        self._tx.__enter__()
        # each build and drop is a statement of its own to pg_stat_statements: a superuser keeps them out
        # of the user's statistics for this transaction (the other sessions' tracking is untouched)
        if conn.execute(f"SELECT {_MARK} current_setting('is_superuser')").fetchone() == ("on",):
            conn.execute(f"SET LOCAL {_MARK} pg_stat_statements.track_utility = off")

    def _build(self, ix: IndexDef) -> None:
        name = truncate_name(f"whatif{next(self._numbers)}_{ix.name}", 63)
        try:
            with self.conn.transaction():
                send(self.conn, sql.SQL(_admitted(ix, execute=True, name=name, conn=self.conn)))  # type: ignore[arg-type]  # admitted by the gate
        except psycopg.Error as err:
            if self.conn.broken:
                raise
            self.failed[ix] = _reason(err)
            return
        self._built[ix] = name

    @contextmanager
    def configured(self, indexes: frozenset[IndexDef]) -> Iterator[dict[str, IndexDef]]:
        for ix in sorted(indexes - self._built.keys() - self.failed.keys(), key=lambda ix: ix.definition):
            self._build(ix)
        others = [sql.Identifier(ix.schema, name) for ix, name in self._built.items() if ix not in indexes]
        with self.conn.transaction(force_rollback=True):
            if others:
                self.conn.execute(sql.SQL("DROP {} INDEX {}").format(sql.SQL(_MARK), sql.SQL(", ").join(others)))
            yield {name: ix for ix, name in self._built.items() if ix in indexes}

    def size(self, index: IndexDef) -> int | None:
        """``pg_relation_size`` of ``index`` built for real (None if it cannot be built)."""
        if index not in self._built and index not in self.failed:
            self._build(index)
        name = self._built.get(index)
        if name is None:
            return None
        row = self.conn.execute(f"SELECT {_MARK} pg_catalog.pg_relation_size(%s::regclass)",
                                [qualified(index.schema, name)]).fetchone()
        return int(row[0]) if row else None

    def close(self) -> None:
        if not (self.conn.closed or self.conn.broken):
            self._tx.__exit__(None, None, None)
        self._built.clear()
