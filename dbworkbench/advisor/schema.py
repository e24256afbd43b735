"""What the advisor knows of a database: columns and types, indexes, pg_stats, table sizes,
extensions, the search path. Read once from a server with :meth:`SchemaInfo.read`; the
candidate generator only reads it (pure), so tests and offline use can build one by hand.

>>> import pandas as pd
>>> info = SchemaInfo(columns=pd.DataFrame({"schema": ["app"], "table": ["users"], "column": ["email"],
...                                         "type": ["text"], "not_null": [True]}), search_path=("app",))
>>> info.resolve_table(None, "users"), info.column_type("app", "users", "email")
(('app', 'users'), 'text')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._expr import IndexShape, parse_definition

if TYPE_CHECKING:
    from ..workbench import Workbench

#: Columns and dtypes of :attr:`SchemaInfo.columns` (``category`` is pg_type.typcategory).
COLUMNS_COLUMNS: dict[str, str] = {
    "schema": "string",
    "table": "string",
    "column": "string",
    "type": "string",
    "not_null": "boolean",
    "category": "string",
}
_SESSION_COLUMNS: dict[str, str] = {"search_path": "object", "extensions": "object", "text_search_config": "string"}


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


@dataclass(frozen=True, eq=False)
class SchemaInfo:
    """Columns (schema, table, column, type, not_null), ``db.indexes()``, ``db.column_stats()``,
    ``db.tables()``, the installed extensions, the search path (``current_schemas(false)``) and
    the default text search configuration. Every frame may be empty: the advisor then works
    without that knowledge (no pruning by existing indexes, default selectivities)."""

    columns: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS_COLUMNS))
    indexes: pd.DataFrame = field(default_factory=lambda: _empty({"schema": "string", "table": "string", "definition": "string"}))
    column_stats: pd.DataFrame = field(default_factory=lambda: _empty({"schema": "string", "table": "string", "column": "string"}))
    tables: pd.DataFrame = field(default_factory=lambda: _empty({"schema": "string", "table": "string", "n_live_tup": "Int64"}))
    extensions: frozenset[str] = frozenset()
    search_path: tuple[str, ...] = ("public",)
    text_search_config: str = "english"

    @classmethod
    def read(cls, db: Workbench) -> SchemaInfo:
        """Read it from the database ``db`` is connected to (catalog queries only; nothing changes).

        >>> info = SchemaInfo.read(db)  # doctest: +SKIP
        """
        from .. import collectors
        from .._faults import translated

        with translated(db):
            session = collectors.query_frame(db.conn, "advisor_session", _SESSION_COLUMNS, db.server)
            columns = collectors.query_frame(db.conn, "advisor_columns", COLUMNS_COLUMNS, db.server)
        row = session.iloc[0]
        config = str(row["text_search_config"]).removeprefix("pg_catalog.")
        return cls(
            columns=columns,
            indexes=db.indexes(),
            column_stats=db.column_stats(),
            tables=db.tables(),
            extensions=frozenset(row["extensions"] or ()),
            search_path=tuple(row["search_path"] or ()),
            text_search_config=config,
        )

    # -- lookups -------------------------------------------------------------------------

    @cached_property
    def _columns(self) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
        out: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for rec in self.columns.to_dict("records"):
            out.setdefault((str(rec["schema"]), str(rec["table"])), {})[str(rec["column"])] = rec
        return out

    @cached_property
    def _stats(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        frame = self.column_stats
        if "inherited" in frame.columns:  # a partitioned table's own rows first
            frame = frame.sort_values("inherited", ascending=False, kind="stable")
        for rec in frame.to_dict("records"):
            out.setdefault((str(rec["schema"]), str(rec["table"]), str(rec["column"])), rec)
        return out

    @cached_property
    def _rows(self) -> dict[tuple[str, str], float]:
        out = {}
        for rec in self.tables.to_dict("records"):
            n = rec.get("n_live_tup")
            if n is not None and n is not pd.NA and not (isinstance(n, float) and math.isnan(n)):
                out[(str(rec["schema"]), str(rec["table"]))] = float(n)
        return out

    @cached_property
    def _shapes(self) -> dict[tuple[str, str], list[IndexShape]]:
        out: dict[tuple[str, str], list[IndexShape]] = {}
        for rec in self.indexes.to_dict("records"):
            if rec.get("is_valid") is False or not isinstance(rec.get("definition"), str):
                continue
            shape = parse_definition(rec["definition"], unique=bool(rec.get("is_unique") is True))
            if shape is not None:
                out.setdefault((str(rec["schema"]), str(rec["table"])), []).append(shape)
        return out

    @property
    def knows_tables(self) -> bool:
        """Whether the column list is there (else every table is taken on trust)."""
        return bool(self._columns)

    def resolve_table(self, schema: str | None, table: str) -> tuple[str, str] | None:
        """(schema, table) of a table as a statement names it: an unqualified name is looked up
        along the search path. None when the columns are known and the table is not among them;
        with no column list, an unqualified name goes to the first schema of the search path."""
        if not self.knows_tables:
            return (schema or (self.search_path[0] if self.search_path else "public"), table)
        for s in [schema] if schema else self.search_path:
            if (s, table) in self._columns:
                return (s, table)
        return None

    def table_columns(self, schema: str, table: str) -> dict[str, dict[str, Any]]:
        """Column name → its row (type, not_null, category); empty when unknown."""
        return self._columns.get((schema, table), {})

    def column_type(self, schema: str, table: str, column: str) -> str | None:
        rec = self.table_columns(schema, table).get(column)
        return None if rec is None else str(rec["type"])

    def stats(self, schema: str, table: str, column: str) -> dict[str, Any] | None:
        """The column's pg_stats row (``db.column_stats()`` columns), or None."""
        return self._stats.get((schema, table, column))

    def rows(self, schema: str, table: str) -> float | None:
        """Live rows of the table (``n_live_tup``), or None when unknown."""
        return self._rows.get((schema, table))

    def index_shapes(self, schema: str, table: str) -> list[IndexShape]:
        """The table's valid indexes as :class:`~dbworkbench.advisor._expr.IndexShape`."""
        return self._shapes.get((schema, table), [])
