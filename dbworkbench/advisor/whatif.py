"""What-if costing: the planner's estimated cost of a statement with and without a set of indexes.

Two backends (:mod:`._whatif_backends`):

- ``"hypopg"``: HypoPG's hypothetical indexes, where the extension is installed in the
  database (works on a read-only target; dbworkbench never runs CREATE EXTENSION itself). HypoPG
  simulates btree, hash and brin (and bloom); others (gin, gist) end up in :attr:`WhatIf.failed`.
- ``"rollback"``: real indexes built inside one transaction that is rolled back when the WhatIf
  closes: only on the sandbox, or with ``allow_real_indexes=True`` on a target opened with
  ``allow_writes=True``. The builds hold SHARE locks (writes to those tables wait) until then.

Every statement goes through :func:`dbworkbench.explain.run_explain` (the safety gate, the
extended protocol, a rolled-back transaction, ``analyze=False``); ``$n`` statements get the
planner's generic plan, never one reduced to ``One-Time Filter: false`` by NULL parameters.
The WhatIf has its own session, so its indexes are never seen by the Workbench's other calls.

Costs are cached per statement and *relevant* set: only indexes on tables the statement's plan
without them reads (or their partition parents) can change it, so ``cost(q, {a, b})`` with ``b``
on another table is answered from ``cost(q, {a})``. A set whose plan can be inferred needs no
EXPLAIN either: when ``q`` with ``{a, b, c}`` used only ``a``, then ``q`` with ``{a, b}`` gets
the same plan (the planner has fewer plans to choose from, and the one it chose is among them). :attr:`WhatIf.requests` counts the cost
requests, :attr:`WhatIf.explains` the EXPLAINs of statements actually run.

>>> from dbworkbench.advisor import IndexDef
>>> from dbworkbench.advisor.whatif import WhatIf
>>> with WhatIf(db) as w:                                        # doctest: +SKIP
...     ix = IndexDef("public", "users", ("lower(email)",))
...     w.cost(sql) > w.cost(sql, [ix]), w.used(sql, [ix]) == {ix}
(True, True)
"""

from __future__ import annotations

import math
import select
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg
from psycopg.pq import ConnStatus
from pglast import parse_sql
from pglast.stream import RawStream
from pglast.visitors import Visitor

from .. import catalog
from .._faults import guarded, usable, warn_user
from ..errors import ExtensionMissing, UnsafeStatement, WorkbenchError
from ..explain import run_explain
from ..plans.insights._sql import quote_ident
from ._whatif_backends import Backend, HypoBackend, RollbackBackend
from ._whatif_size import KeyWidth, index_bytes, sampled_distinct
from .index import IndexDef

if TYPE_CHECKING:
    from ..plans import Plan
    from ..workbench import Workbench

BACKENDS = ("hypopg", "rollback")
#: types whose btree indexes PostgreSQL does not deduplicate (besides INCLUDE indexes)
_NO_DEDUP_TYPES = {"numeric", "float4", "float8", "jsonb"}
#: char(n) keys: measured deduplicated by PostgreSQL 18, not by 15 (16 and 17 taken as 15: a size
#: estimated too large keeps within the budget)
_DEDUP_BPCHAR_FROM = 180_000


@dataclass(frozen=True)
class _Costed:
    plan: Plan
    used: frozenset[IndexDef]

    @property
    def cost(self) -> float:
        return float(self.plan.raw["Plan"]["Total Cost"])  # the root's; the node table is not needed for it


class WhatIf:
    """Estimated costs of statements under hypothetical index sets (the module doc).

    ``backend``: ``"hypopg"``, ``"rollback"`` or None (HypoPG where installed, else rollback).
    ``allow_real_indexes``: permit the rollback backend on a target that is not the sandbox
    (it must also allow writes). Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, db: Workbench, *, backend: str | None = None, allow_real_indexes: bool = False) -> None:
        if backend not in (None, *BACKENDS):
            raise ValueError(f"unknown what-if backend {backend!r}; one of {', '.join(BACKENDS)}, or None to choose")
        self.db = db
        self.target = db.target
        self.server = db.server
        hypopg = self.server.has_extension("hypopg")
        self.backend: str = backend or ("hypopg" if hypopg else "rollback")
        if self.backend == "hypopg" and not hypopg:
            raise ExtensionMissing(self._refusal(asked_hypopg=True, allow_real_indexes=allow_real_indexes))
        if self.backend == "rollback" and not (self.target.is_sandbox or (allow_real_indexes and self.target.allow_writes)):
            error = UnsafeStatement if backend == "rollback" else ExtensionMissing
            raise error(self._refusal(asked_hypopg=False, allow_real_indexes=allow_real_indexes))
        self.requests = 0
        self.explains = 0
        #: example values for the ``$n`` of a statement: with them it is costed by its custom plan
        #: for those values, without them by the generic plan
        self.examples: dict[str, list[Any]] = {}
        self._conn: psycopg.Connection[Any] | None = None
        self._impl: Backend | None = None
        self._cache: dict[tuple[str, frozenset[IndexDef]], _Costed] = {}
        self._tables: dict[str, frozenset[tuple[str, str]]] = {}
        #: for :meth:`_inferred`: per statement, the indexes a plan used → the sets costed with that plan
        self._wider: dict[str, dict[frozenset[IndexDef], list[tuple[frozenset[IndexDef], _Costed]]]] = {}
        self._sizes: dict[IndexDef, int] = {}
        self._failed: dict[IndexDef, str] = {}

    def _refusal(self, *, asked_hypopg: bool, allow_real_indexes: bool) -> str:
        where = f"{self.target.display} (database {self.server.database})"
        if "hypopg" in self.server.available_extensions:
            hypo = "run CREATE EXTENSION hypopg in that database (HypoPG is available on the server; dbworkbench does not install it)"
        else:
            hypo = (f"install HypoPG on the server (Debian/Ubuntu: apt-get install postgresql-{self.server.major}-hypopg), "
                    "then run CREATE EXTENSION hypopg in that database")
        real = ("connect with allow_writes=True and pass WhatIf(db, allow_real_indexes=True) to build each index for real "
                "inside a transaction that is rolled back (writes to those tables wait while it is open)")
        if allow_real_indexes and not self.target.allow_writes:
            real = "allow_real_indexes=True also needs the target opened with allow_writes=True (connect(dsn, allow_writes=True))"
        head = "HypoPG is not installed in" if asked_hypopg else "what-if costing needs HypoPG or permission to build real indexes on"
        return f"{head} {where}: {hypo}; or {real}. Nothing was sent."

    # -- session ---------------------------------------------------------------------

    def _session(self) -> Backend:
        """The backend on a live session of our own (reopened, and rebuilt, if the server ended it)."""
        if self._impl is not None and self._conn is not None and _alive(self._conn):
            return self._impl
        self._drop_session()
        self._conn = self.target.connect()
        if self.backend == "hypopg":
            self._impl = HypoBackend(self._conn, self.server.extension_schema("hypopg") or "public")
        else:
            self._impl = RollbackBackend(self._conn)
        self._impl.failed = self._failed
        return self._impl

    def close(self) -> None:
        """Drop every hypothetical index / roll the real ones back, and end the session."""
        impl, conn = self._impl, self._conn
        try:
            if impl is not None and conn is not None and _alive(conn):
                impl.close()
        finally:
            self._drop_session()

    def _drop_session(self) -> None:
        """Forget the session (the server ends a closed one's transaction and hypothetical indexes)."""
        conn, self._impl, self._conn = self._conn, None, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> WhatIf:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<WhatIf {self.backend} on {self.target.display}: {self.requests} requests, {self.explains} EXPLAINs>"

    @property
    def failed(self) -> dict[IndexDef, str]:
        """Indexes the backend could not make (HypoPG and GIN, a vanished column, ...) with the server's reason;
        they are costed as absent."""
        return dict(self._failed)

    # -- costing ---------------------------------------------------------------------

    @guarded
    def cost(self, sql: str, indexes: Iterable[IndexDef] = ()) -> float:
        """The estimated total cost of ``sql``'s plan with ``indexes`` added to the existing ones."""
        self.requests += 1
        return self._costed(sql, indexes).cost

    @guarded
    def plan(self, sql: str, indexes: Iterable[IndexDef] = ()) -> Plan:
        """The estimated plan of ``sql`` with ``indexes`` (index names in it are the backend's own)."""
        self.requests += 1
        return self._costed(sql, indexes).plan

    @guarded
    def used(self, sql: str, indexes: Iterable[IndexDef]) -> set[IndexDef]:
        """Which of ``indexes`` the plan of ``sql`` with them uses."""
        self.requests += 1
        return set(self._costed(sql, indexes).used)

    @guarded
    def tables(self, sql: str) -> frozenset[tuple[str, str]]:
        """(schema, table) of each table the plan of ``sql`` without new indexes reads, and of the
        tables they inherit from: only indexes on these can change its cost."""
        self._explain(sql, frozenset())
        return self._tables[sql]

    def _costed(self, sql: str, indexes: Iterable[IndexDef]) -> _Costed:
        base = self._explain(sql, frozenset())
        tables = self._tables[sql]
        relevant = frozenset(ix for ix in indexes if (ix.schema, ix.table) in tables)
        if not relevant:
            return base
        return self._cache.get((sql, relevant)) or self._inferred(sql, relevant) or self._explain(sql, relevant)

    def _inferred(self, sql: str, indexes: frozenset[IndexDef]) -> _Costed | None:
        """The plan of ``sql`` with ``indexes`` without an EXPLAIN, when one was costed with more of
        them and used only some of these: with fewer indexes the planner has fewer plans to choose
        from, the one it chose among them, so it chooses that again."""
        for used, costed_with in self._wider.get(sql, {}).items():
            if used <= indexes:
                for wider, costed in costed_with:
                    if indexes <= wider:
                        self._cache[sql, indexes] = costed
                        return costed
        return None

    def _explain(self, sql: str, indexes: frozenset[IndexDef]) -> _Costed:
        key = (sql, indexes)
        if key in self._cache:
            return self._cache[key]
        impl = self._session()
        before = len(self._failed)
        assert self._conn is not None
        with impl.configured(indexes) as names:
            plan = run_explain(self._conn, self.server, self.target, sql, self.examples.get(sql), analyze=False)
        if len(self._failed) > before:
            new = list(self._failed.items())[before:]
            warn_user("what-if: costed without " + "; ".join(f"{ix.definition} ({why})" for ix, why in new))
        used = frozenset(names[n] for n in (node.get("Index Name") for node in plan.raw_nodes) if n in names)
        self.explains += 1
        costed = self._cache[key] = _Costed(plan, used)
        if not indexes:
            self._tables[sql] = self._read_tables(plan)
        elif used or costed.cost == self._cache[sql, frozenset()].cost:  # a plan using none of them must be today's
            self._wider.setdefault(sql, {}).setdefault(used, []).append((indexes, costed))
        return costed

    def _read_tables(self, plan: Plan) -> frozenset[tuple[str, str]]:
        """The tables ``plan`` reads, with every table they inherit from (an index there reaches them)."""
        scans = plan.nodes[["schema", "relation"]].dropna().drop_duplicates()
        found = {(str(s), str(r)) for s, r in scans.itertuples(index=False)}
        if found:
            assert self._conn is not None
            schemas, relations = zip(*found)
            cur = self._conn.execute(
                catalog.get("advisor_ancestors", self.server.version_num),
                {"schemas": list(schemas), "relations": list(relations)},
            )
            found |= {(str(s), str(r)) for s, r in cur.fetchall()}
        return frozenset(found)

    # -- sizes -----------------------------------------------------------------------

    @guarded
    def estimated_size(self, index: IndexDef) -> int:
        """Estimated bytes of ``index`` from pg_class/pg_stats and the planner's row and distinct-key
        estimates (rules in :mod:`dbworkbench.advisor._whatif_size`)."""
        if index not in self._sizes:
            self._sizes[index] = self._estimate(index)
        return self._sizes[index]

    @guarded
    def real_size(self, index: IndexDef) -> int:
        """``pg_relation_size`` of ``index`` built for real (rollback backend only; rolled back later)."""
        if self.backend != "rollback":
            raise WorkbenchError(
                "real_size builds the index, which the hypopg backend never does; use WhatIf(db, backend='rollback') "
                "on the sandbox, or with allow_real_indexes=True on a target opened with allow_writes=True"
            )
        impl = self._session()
        assert isinstance(impl, RollbackBackend)
        size = impl.size(index)
        if size is None:
            raise WorkbenchError(f"cannot build {index.definition}: {self._failed.get(index, 'unknown reason')}")
        return size

    def _estimate(self, index: IndexDef) -> int:
        self._session()
        assert self._conn is not None
        frame = pd.DataFrame(
            self._conn.execute(
                catalog.get("advisor_size_columns", self.server.version_num), {"schema": index.schema, "table": index.table}
            ).fetchall(),
            columns=["column", "type_name", "typlen", "typalign", "avg_width", "null_frac", "n_distinct", "correlation",
                     "sample_rows", "reltuples", "relpages", "block_size"],
        )
        if frame.empty:
            raise WorkbenchError(
                f"table {index.qualified_table} does not exist (any more) or is not visible to this role; "
                "refresh the candidates (dbworkbench.advisor.candidates) and try again"
            )
        columns = {str(r.column): r for r in frame.itertuples(index=False)}
        keys = _parse_keys(index)
        widths = [_key_width(expr, column, refs, columns) for expr, column, refs in keys]
        include = [_key_width(name, name, [name], columns) for name in index.include]
        undercount = {expr: _undercount(columns[column]) for expr, column, _ in keys if column in columns}
        rows, groups = self._rows_and_groups(index, [expr for expr, _, _ in keys], undercount)
        dedup = (
            self.server.version_num >= 130_000 and not index.include
            and all(column is not None for _, column, _ in keys)
            and not any(_type_name(columns[c]) in _NO_DEDUP_TYPES for _, c, _ in keys if c in columns)
            and (self.server.version_num >= _DEDUP_BPCHAR_FROM
                 or not any(_type_name(columns[c]) == "bpchar" for _, c, _ in keys if c in columns))
        )
        first = frame.iloc[0]
        return index_bytes(
            index.method, rows=rows, groups=groups, keys=widths, include=include, relpages=float(first["relpages"]),
            dedup=dedup, block_size=int(first["block_size"]),
        )

    def _rows_and_groups(self, index: IndexDef, exprs: list[str], undercount: dict[str, float]) -> tuple[float, float]:
        """The planner's estimate of rows the index holds (after its WHERE) and of distinct keys (each
        key's times its ``undercount``: see :func:`._whatif_size.sampled_distinct`)."""
        assert self._conn is not None
        base = f"SELECT 1 FROM {index.qualified_table}" + (f" WHERE {index.where}" if index.where else "")
        # the top node's rows: a Gather's are the whole table's, its Parallel Seq Scan's one worker's share
        plan = run_explain(self._conn, self.server, self.target, base, analyze=False)
        rows = float(plan.raw["Plan"]["Plan Rows"])
        if index.method in ("btree", "hash"):
            try:
                groups = [min(rows, self._groups(base, [expr]) * undercount.get(expr, 1.0)) for expr in exprs]
                # several keys: the planner damps the product of their distinct counts, which takes
                # (l_orderkey, l_shipdate), nearly unique, for four rows a key; the product, capped by the
                # rows, is the larger (never smaller) guess, and a btree it deduplicates less is larger
                return rows, min(rows, max(self._groups(base, exprs) if len(exprs) > 1 else 0.0, math.prod(groups)))
            except psycopg.Error:  # no equality operator for a key type: count rows only
                pass
        return rows, rows

    def _groups(self, base: str, exprs: list[str]) -> float:
        """The planner's estimate of the distinct values of ``exprs`` in ``base``."""
        assert self._conn is not None
        plan = run_explain(self._conn, self.server, self.target, f"{base} GROUP BY {', '.join(exprs)}", analyze=False)
        return float(plan.raw["Plan"]["Plan Rows"])


def _alive(conn: psycopg.Connection[Any]) -> bool:
    """:func:`usable`, also inside the rollback backend's open transaction: a socket with something to
    read while we wait for nothing holds the server's goodbye (``pg_terminate_backend``,
    ``idle_in_transaction_session_timeout``)."""
    if not usable(conn):
        return False
    for _ in range(4):  # the error message, then the end of the stream
        if not select.select([conn.pgconn.socket], [], [], 0)[0]:
            return True
        try:
            conn.pgconn.consume_input()
        except psycopg.OperationalError:
            return False
        if conn.pgconn.status == ConnStatus.BAD:
            return False
    return True


def _undercount(row: Any) -> float:
    """How many times more distinct values a plain key column has than ANALYZE counted (1.0 mostly)."""
    rows, stated = float(row.reltuples), row.n_distinct
    if pd.isna(stated) or pd.isna(row.correlation) or rows <= 0:
        return 1.0
    estimate = float(stated) if stated > 0 else -float(stated) * rows
    if estimate <= 0:
        return 1.0
    found = sampled_distinct(estimate, rows=rows, pages=float(row.relpages), sample_rows=float(row.sample_rows),
                             correlation=float(row.correlation))
    return found / estimate


def _type_name(row: Any) -> str:
    return str(getattr(row, "type_name", ""))


class _ColumnRefs(Visitor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_ColumnRef(self, ancestors: Any, node: Any) -> None:  # noqa: N802 (pglast's visitor naming)
        last = node.fields[-1]
        if hasattr(last, "sval"):
            self.names.append(last.sval)


def _parse_keys(index: IndexDef) -> list[tuple[str, str | None, list[str]]]:
    """Each key of ``index`` as (SQL without ordering or opclass, plain column name or None, columns it reads)."""
    stmt: Any = parse_sql(f"CREATE INDEX ON {index.qualified_table} USING {index.method} ({', '.join(index.keys)})")[0].stmt
    keys = []
    for elem in stmt.indexParams:
        if elem.name:
            keys.append((quote_ident(elem.name), elem.name, [elem.name]))
        else:
            refs = _ColumnRefs()
            refs(elem.expr)
            keys.append((f"({RawStream()(elem.expr)})", None, refs.names))
    return keys


def _key_width(expr: str, column: str | None, refs: list[str], columns: dict[str, Any]) -> KeyWidth:
    """Average stored width of one key: a plain column's pg_stats width (its type length when not
    analysed), or for an expression the widths of the columns it reads (packed, unaligned)."""
    def width(name: str) -> float:
        row = columns.get(name)
        if row is None:
            return 32.0
        if pd.notna(row.avg_width):
            return float(row.avg_width) * (1.0 - float(row.null_frac or 0.0))
        return float(row.typlen) if row.typlen > 0 else 32.0

    if column is not None and column in columns:
        row = columns[column]
        fixed = int(row.typlen) > 0
        align = {"c": 1, "s": 2, "i": 4, "d": 8}.get(str(row.typalign), 1) if fixed else 1
        return KeyWidth(width(column), align)
    return KeyWidth(sum(width(r) for r in refs) or 32.0, 1)
