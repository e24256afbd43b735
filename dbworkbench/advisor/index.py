"""One index, as the advisor proposes it: where, on what, how; and the SQL that makes and drops it.

Pure: no server. Names are quoted the PostgreSQL way and index names are cut to 63 bytes
with a hash suffix, so two long names never collide.

>>> ix = IndexDef("public", "users", ("lower(email)",))
>>> ix.name
'idx_users_lower_email'
>>> ix.create_sql()
'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_lower_email ON public.users USING btree (lower(email));'
>>> IndexDef.on_columns("public", "Order Items", ["user id", ("created_at", "DESC")]).keys
('"user id"', 'created_at DESC')
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..plans.insights._sql import MAX_NAME_BYTES, qualified, quote_ident, truncate_name

METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")


@dataclass(frozen=True)
class IndexDef:
    """An index definition.

    ``keys``: the key items as they appear between the parentheses of CREATE INDEX, each
    already valid SQL (a quoted column with an optional ``DESC``/opclass, or an expression such
    as ``lower(email)`` or ``to_tsvector('english', content)``); ``include``: column names
    (unquoted) for INCLUDE; ``where``: the predicate of a partial index, as SQL; ``method``: the
    access method. Build plain-column indexes with :meth:`on_columns`.
    """

    schema: str
    table: str
    keys: tuple[str, ...]
    method: str = "btree"
    include: tuple[str, ...] = ()
    where: str | None = None
    columns: tuple[str, ...] = field(default=(), compare=False)
    given_name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown index method {self.method!r}; one of {', '.join(METHODS)}")
        if not self.keys:
            raise ValueError("an index needs at least one key")

    @classmethod
    def on_columns(
        cls,
        schema: str,
        table: str,
        columns: Iterable[str | tuple[str, str]],
        *,
        method: str = "btree",
        include: Sequence[str] = (),
        where: str | None = None,
    ) -> IndexDef:
        """An index on plain columns; a column may come as ``(name, "DESC")`` or ``(name, opclass)``."""
        keys, names = [], []
        for column in columns:
            name, suffix = (column, "") if isinstance(column, str) else column
            names.append(name)
            keys.append(quote_ident(name) + (f" {suffix}" if suffix else ""))
        return cls(schema, table, tuple(keys), method, tuple(include), where, tuple(names))

    @property
    def qualified_table(self) -> str:
        return qualified(self.schema, self.table)

    def named(self, taken: set[str]) -> IndexDef:
        """This index under a name no relation in ``taken`` has (``_2``, ``_3``, ... appended as needed)."""
        name, n = self.name, 1
        while name in taken:
            n += 1
            name = truncate_name(self.name, MAX_NAME_BYTES - len(f"_{n}")) + f"_{n}"
        return self if name == self.name else replace(self, given_name=name)

    @property
    def name(self) -> str:
        """A readable name (``idx_<table>_<keys>[_<method>][_covering][_partial]``, ``desc`` after a key
        sorted descending) within 63 bytes; a hash keeps cut names apart."""
        if self.given_name:
            return self.given_name
        words = re.findall(r"[A-Za-z0-9]+", " ".join(self.keys).replace(" ASC", ""))
        words = [w.lower() for w in words if w.lower() not in ("english", "simple", "ops", "asc")]
        base = "_".join(["idx", re.sub(r"\W+", "_", self.table.lower()).strip("_") or "t", *words[:6]])
        if self.method not in ("btree",):
            base += f"_{self.method}"
        if self.include:
            base += "_covering"
        if self.where:
            base += "_partial"
        digest = hashlib.sha1(self.definition.encode()).hexdigest()[:8]
        if len(base.encode()) > MAX_NAME_BYTES or base != base.encode("ascii", "ignore").decode():
            base = truncate_name(base, MAX_NAME_BYTES - 9) + "_" + digest
        return base

    @property
    def definition(self) -> str:
        """``ON table USING method (keys) [INCLUDE (...)] [WHERE ...]``: what makes two indexes the same."""
        text = f"ON {self.qualified_table} USING {self.method} ({', '.join(self.keys)})"
        if self.include:
            text += f" INCLUDE ({', '.join(map(quote_ident, self.include))})"
        if self.where:
            text += f" WHERE {self.where}"
        return text

    def create_sql(self, *, concurrently: bool = True, if_not_exists: bool = True, name: str | None = None) -> str:
        """The CREATE INDEX statement (CONCURRENTLY and IF NOT EXISTS by default, for migrations)."""
        words = ["CREATE INDEX"] + (["CONCURRENTLY"] if concurrently else []) + (["IF NOT EXISTS"] if if_not_exists else [])
        return f"{' '.join(words)} {quote_ident(name or self.name)} {self.definition};"

    def drop_sql(self, *, concurrently: bool = True, name: str | None = None) -> str:
        """The DROP INDEX statement that undoes :meth:`create_sql`."""
        words = ["DROP INDEX"] + (["CONCURRENTLY"] if concurrently else []) + ["IF EXISTS"]
        return f"{' '.join(words)} {qualified(self.schema, name or self.name)};"
