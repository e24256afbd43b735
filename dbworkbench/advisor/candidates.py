"""Index candidates from a workload: what each statement could use, ranked by pg_stats.

Pure: the statements are parsed with sqlglot (``$n`` and psycopg's ``%(name)s`` kept as
parameters); the database is known only through a :class:`~dbworkbench.advisor.schema.SchemaInfo`.

Per table a statement reads, the candidates are: each equality (``=``, ``IN``, ``= ANY``,
``IS NULL``, join, boolean), range (``<``, ``BETWEEN``) and ``LIKE 'prefix%'`` key alone
(``text_pattern_ops``); the equality keys together, most selective first; equality then one
range key; equality then the ORDER BY keys (with their directions); the ORDER BY keys alone;
the GROUP BY keys; expression keys for functions of columns (``lower(email)``); a partial
index (``WHERE status = 'published'``) holding a statement's constant predicates when together they
match at most :data:`PARTIAL_MAX_SHARE` of the rows (by pg_stats; taken on trust without them); an INCLUDE
variant for an index-only scan when the statement reads at most :data:`MAX_INCLUDE` more
narrow columns; GIN for full-text search (``to_tsvector('english', content)``), for JSONB and
array containment, and trigram GIN for ``LIKE '%word%'`` where pg_trgm is installed. Keys are
at most ``max_width`` wide. An OR's branches give one-key candidates (a BitmapOr of two).

Pruned (and listed in ``frame.attrs["pruned"]``): a candidate an existing valid index already
serves (the same method, the candidate's keys leading it with the same expressions and
operator classes, directions where the candidate sorts, the same predicate, INCLUDE columns
held); one with all the keys of a unique index among its equality keys; one with a key column the table does not
have (an output alias such as a CTE's ``l_suppkey AS supplier_no`` in its GROUP BY); and, where pg_stats knows every key, one whose
keys together still match at least :data:`PRUNE_SHARE` of the rows and that serves no sort.

``score`` = Σ weights of its statements × log10(10 + rows) × (1 − s), where s is the share of
rows the index's leading keys (and predicate) select by pg_stats (PostgreSQL's defaults where
there are none: 0.005 for equality, 1/3 for a range; a sort or grouping served counts as 0.5),
× 0.1 when it also delivers the ORDER BY of a statement with LIMIT. Weights: the ``calls`` column of a workload frame, else 1 each.

>>> frame = candidates(["SELECT * FROM users WHERE lower(email) = lower($1)"])
>>> frame.loc[0, ["table", "expression", "method"]].tolist()
['public.users', 'lower(email)', 'btree']
>>> frame.loc[0, "create_sql"]
'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_lower_email ON public.users USING btree (lower(email));'
"""

from __future__ import annotations

import logging
import re
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlglot
from sqlglot import exp

from ..plans.insights._sql import qualified, quote_ident
from ._access import Access, Const, Key, accesses
from .._pyformat import from_pyformat, typed_parameters
from ._expr import IndexShape, KeySpec
from .index import IndexDef
from .schema import SchemaInfo

#: A partial index is proposed for constant predicates matching at most this share of the rows.
PARTIAL_MAX_SHARE = 0.25
#: Without a sort to serve, a candidate whose keys match at least this share is pruned.
PRUNE_SHARE = 0.5
#: At most this many INCLUDE columns, each of pg_stats avg_width at most :data:`MAX_INCLUDE_WIDTH`.
MAX_INCLUDE = 3
MAX_INCLUDE_WIDTH = 64
#: Rows assumed for a table ``tables`` does not list.
DEFAULT_ROWS = 1000.0
#: PostgreSQL's default selectivities (selfuncs.h), for keys without pg_stats.
DEFAULT_SEL = {"eq": 0.005, "join": 0.005, "in": 0.015, "or": 0.005, "null": 0.005, "bool": 0.5, "range": 1 / 3,
               "prefix": 0.05, "fts": 0.01, "trgm": 0.05, "contain": 0.01, "sort": 0.5, "group": 0.5}
_EQ_ROLES = frozenset({"eq", "join", "in", "null", "bool", "or"})

#: Columns and dtypes of the frame :func:`candidates` returns.
CANDIDATE_COLUMNS: dict[str, str] = {
    "table": "string",
    "columns": "object",
    "include": "object",
    "where": "string",
    "expression": "string",
    "method": "string",
    "source_queries": "object",
    "reason": "string",
    "index": "object",
    "create_sql": "string",
    "score": "float64",
}
UNPARSED_COLUMNS: dict[str, str] = {"statement_id": "Int64", "query": "string", "error": "string"}
PRUNED_COLUMNS: dict[str, str] = {"table": "string", "index": "string", "reason": "string"}

_log = logging.getLogger("sqlglot")


@dataclass
class _Cand:
    schema: str
    table: str
    keys: tuple[Key, ...]
    method: str = "btree"
    where: tuple[Const, ...] = ()
    include: tuple[str, ...] = ()
    reasons: list[str] = field(default_factory=list)
    sources: dict[int, float] = field(default_factory=dict)
    sel: float = 1.0
    known: bool = False  # pg_stats knew every key
    ordered_limit: bool = False

    @property
    def where_sql(self) -> str | None:
        return " AND ".join(c.sql for c in self.where) if self.where else None

    @property
    def where_cmp(self) -> str | None:
        return " AND ".join(c.cmp for c in self.where) if self.where else None

    def specs(self) -> tuple[KeySpec, ...]:
        """The keys in compare form; directions only on sort keys, the first of them ascending
        (a B-tree reads backwards as well as forwards)."""
        return _canonical(self.keys)

    def identity(self) -> tuple[Any, ...]:
        return (self.schema, self.table, self.method, self.specs(), frozenset(self.include), self.where_cmp)

    def index(self) -> IndexDef:
        items = []
        for k in self.keys:
            text = k.sql + (f" {k.opclass}" if k.opclass else "")
            if k.desc:
                text += " DESC" + ("" if k.nulls_first else " NULLS LAST")
            elif k.nulls_first:
                text += " NULLS FIRST"
            items.append(text)
        columns = tuple(k.column for k in self.keys if k.column is not None)
        return IndexDef(self.schema, self.table, tuple(items), self.method, self.include, self.where_sql, columns)


def _canonical(keys: Sequence[Key]) -> tuple[KeySpec, ...]:
    specs = [KeySpec(k.cmp, k.opclass, k.desc, k.nulls_first) if k.role == "sort" else KeySpec(k.cmp, k.opclass)
             for k in keys]
    first = next((i for i, k in enumerate(keys) if k.role == "sort"), None)
    if first is not None and specs[first].desc:
        specs = [s.flipped() if k.role == "sort" else s for s, k in zip(specs, keys)]
    return tuple(specs)


# --------------------------------------------------------------------------- selectivity


def _stat(info: SchemaInfo, c: _Cand, column: str | None) -> dict[str, Any] | None:
    return None if column is None else info.stats(c.schema, c.table, column)


def _num(v: Any, default: float = 0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(f) else f


def _key_sel(info: SchemaInfo, schema: str, table: str, key: Key) -> tuple[float, bool]:
    """(selectivity, whether pg_stats gave it) of one key's condition."""
    st = info.stats(schema, table, key.column) if key.column else None
    if st is None or key.role not in _EQ_ROLES:
        return DEFAULT_SEL.get(key.role, 0.005), key.role in ("sort", "group")
    if key.value is not None:
        return _value_share(st, key.value), True
    null_frac = _num(st.get("null_frac"))
    if key.role == "null":
        return max(null_frac, 1e-6), True
    distinct = max(_num(st.get("estimated_distinct"), 1.0), 1.0)
    sel = (1 - null_frac) / distinct * (3 if key.role == "in" else 1)
    return min(sel, 1.0), True


def _const_sel(info: SchemaInfo, schema: str, table: str, const: Const) -> float | None:
    """Share of rows a constant predicate matches, from the most common values (None without pg_stats)."""
    st = info.stats(schema, table, const.column)
    return None if st is None else _value_share(st, const.value)


def _value_share(st: dict[str, Any], value: str) -> float:
    """Share of rows equal to ``value``: its most-common frequency, else an even share of the rest."""
    values, freqs = st.get("most_common_vals"), st.get("most_common_freqs")
    values = list(values) if isinstance(values, (list, tuple)) else []
    freqs = [_num(f) for f in freqs] if isinstance(freqs, (list, tuple)) else []
    if value in values and len(freqs) == len(values):
        return freqs[values.index(value)]
    rest = max(1.0 - sum(freqs) - _num(st.get("null_frac")), 0.0)
    others = max(_num(st.get("estimated_distinct"), 1.0) - len(values), 1.0)
    return rest / others


def _selectivity(info: SchemaInfo, c: _Cand) -> tuple[float, bool]:
    """Share of rows the leading equality keys and one more key (and the predicate) select."""
    sel, known = 1.0, True
    for k in c.keys:
        s, k_known = _key_sel(info, c.schema, c.table, k)
        sel *= s
        known = known and k_known
        if k.role not in _EQ_ROLES:
            break
    for const in c.where:
        s2 = _const_sel(info, c.schema, c.table, const)
        known = known and s2 is not None
        sel *= 0.5 if s2 is None else s2
    return sel, known


# --------------------------------------------------------------------------- generation


def _reason(keys: Sequence[Key]) -> str:
    words = {"eq": "equality on", "in": "IN on", "null": "IS NULL on", "bool": "boolean", "join": "join on",
             "or": "OR branch on", "range": "range on", "prefix": "LIKE prefix on", "group": "GROUP BY"}
    parts: list[str] = []
    for k in keys:
        if k.role == "sort":
            parts.append(f"ORDER BY {k.sql}{' DESC' if k.desc else ''}")
        elif k.role == "fts":
            parts.append(f"full-text search (@@) on {k.sql}")
        elif k.role == "trgm":
            parts.append(f"{k.note} on {k.sql} (pg_trgm)")
        elif k.role == "contain":
            parts.append(f"containment (@>, <@, ?, &&) on {k.sql}")
        else:
            parts.append(f"{words.get(k.role, k.role)} {k.sql}")
    notes = [k.note for k in keys if k.note and k.role != "trgm"]
    return ", then ".join(parts) + "".join(f" ({n})" for n in notes)


def _from_access(acc: Access, info: SchemaInfo, max_width: int) -> list[_Cand]:
    out: list[_Cand] = []
    seen: set[tuple[str, ...]] = set()

    def add(keys: Sequence[Key], *, method: str = "btree", where: Sequence[Const] = (), include: Sequence[str] = (),
            extra: str = "") -> _Cand | None:
        keys = tuple(keys)
        if not keys or len(keys) > max_width:
            return None
        mark = tuple(k.cmp + (k.opclass or "") for k in keys) + (method,) + tuple(c.cmp for c in where) + tuple(include)
        if mark in seen:
            return None
        seen.add(mark)
        cand = _Cand(acc.schema, acc.table, keys, method, tuple(where), tuple(include))
        cand.reasons.append(_reason(keys) + extra)
        cand.ordered_limit = acc.limit and any(k.role == "sort" for k in keys)
        out.append(cand)
        return cand

    def sel_of(k: Key) -> float:
        return _key_sel(info, acc.schema, acc.table, k)[0]

    eq = sorted(acc.eq, key=sel_of)
    rng, sort = acc.rng, acc.sort
    for k in [*eq, *rng, *acc.singles]:
        add([k])
    composites: list[list[Key]] = []
    if len(eq) >= 2:
        composites.append(eq[:max_width])
    if eq and rng:
        composites.insert(0, [*eq[: max_width - 1], rng[0]])
    if sort:
        sorted_cols = {k.cmp for k in sort}
        lead = [k for k in eq if k.cmp not in sorted_cols]
        if lead and (not rng or rng[0].cmp == sort[0].cmp) and len(lead) + len(sort) <= max_width:
            composites.insert(0, [*lead, *sort])
        if not eq or acc.limit:
            composites.append(list(sort))
    if acc.group:
        composites.append(list(acc.group))
    for keys in composites:
        add(keys)
    for key, method in acc.special:
        if key.role == "trgm" and info.knows_tables and "pg_trgm" not in info.extensions:
            continue
        add([key], method=method)
    primary = next((k for k in composites if len(k) <= max_width), None) or ([eq[0]] if eq else [rng[0]] if rng else None)
    if primary is None:
        return out
    _partial(acc, info, primary, add)
    _include(acc, info, primary, add)
    return out


def _partial(acc: Access, info: SchemaInfo, primary: list[Key], add: Any) -> None:
    usable = list({c.cmp: c for c in acc.consts}.values())
    shares = [_const_sel(info, acc.schema, acc.table, c) for c in usable]
    known = [s for s in shares if s is not None]
    if known and math.prod(known) > PARTIAL_MAX_SHARE:
        return
    fixed = {c.column for c in usable}
    keys = [k for k in primary if k.column not in fixed]
    if usable and keys:
        add(keys, where=usable, extra=f"; partial: WHERE {' AND '.join(c.sql for c in usable)}")


def _include(acc: Access, info: SchemaInfo, primary: list[Key], add: Any) -> None:
    if acc.star or not acc.referenced:
        return
    rest = sorted(acc.referenced - {k.column for k in primary if k.column})
    known = info.table_columns(acc.schema, acc.table)
    if known:
        rest = [c for c in rest if c in known]
    widths = [_num((info.stats(acc.schema, acc.table, c) or {}).get("avg_width"), 0.0) for c in rest]
    if 1 <= len(rest) <= MAX_INCLUDE and all(w <= MAX_INCLUDE_WIDTH for w in widths):
        add(primary, include=rest, extra=f"; INCLUDE {', '.join(map(quote_ident, rest))} for an index-only scan")


# --------------------------------------------------------------------------- pruning


def _same_keys(keys: Sequence[Key], existing: tuple[KeySpec, ...]) -> bool:
    """Whether ``existing`` leads with ``keys``: the same expressions and operator classes, and
    for the sort keys the same directions, or all of them reversed."""

    def norm(op: str | None) -> str | None:
        return "text_pattern_ops" if op in ("varchar_pattern_ops", "bpchar_pattern_ops") else op

    if len(existing) < len(keys):
        return False
    head = existing[: len(keys)]
    if not all(k.cmp == e.expr and norm(k.opclass) == norm(e.opclass) for k, e in zip(keys, head)):
        return False
    sorts = [(KeySpec(k.cmp, k.opclass, k.desc, k.nulls_first), e) for k, e in zip(keys, head) if k.role == "sort"]
    return all(a.desc == b.desc and a.nulls_first == b.nulls_first for a, b in sorts) or all(
        a.flipped().desc == b.desc and a.flipped().nulls_first == b.nulls_first for a, b in sorts
    )


def _pruned_by(c: _Cand, shapes: list[IndexShape]) -> str | None:
    eq_keys = {k.cmp for k in c.keys if k.role in _EQ_ROLES}
    for e in shapes:
        if e.method != c.method:
            continue
        held = {k.expr for k in e.keys} | {quote_ident(i) for i in e.include}
        if e.where == c.where_cmp and _same_keys(c.keys, e.keys) and {quote_ident(i) for i in c.include} <= held:
            return "an existing index serves it"
        if e.unique and e.where is None and e.method == "btree" and {k.expr for k in e.keys} <= eq_keys:
            return "a unique index on some of its equality keys already finds the one row"
    return None


def _not_columns(c: _Cand, info: SchemaInfo) -> str | None:
    """Why a candidate names a key the table does not have (an output alias read as a column,
    such as a CTE's ``l_suppkey AS supplier_no`` in its GROUP BY), or None; unknown tables pass."""
    known = info.table_columns(c.schema, c.table)
    missing = [k.column for k in c.keys if k.column is not None and k.column not in known]
    if not known or not missing:
        return None
    return f"{qualified(c.schema, c.table)} has no column {', '.join(map(quote_ident, missing))} (an output alias?)"


# --------------------------------------------------------------------------- the frame


def _statements(statements: Sequence[str] | pd.DataFrame) -> tuple[list[Any], list[float]]:
    if isinstance(statements, pd.DataFrame):
        if "query" not in statements.columns:
            raise ValueError("a workload frame needs a 'query' column (and may have 'calls' for weights)")
        texts = list(statements["query"])
        calls = statements["calls"] if "calls" in statements.columns else pd.Series([1.0] * len(texts))
        return texts, [max(_num(v, 1.0), 0.0) for v in calls]
    if isinstance(statements, str):
        statements = [statements]
    texts = list(statements)
    return texts, [1.0] * len(texts)


_COPY = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*COPY\b", re.IGNORECASE | re.DOTALL)


def _parse(text: Any) -> list[exp.Expr] | str:
    """The statements of ``text`` (none for COPY, which looks nothing up), or the reason they cannot be read."""
    if not isinstance(text, str) or not text.strip():
        return "not SQL text"
    if _COPY.match(text):
        return []
    level = _log.level
    _log.setLevel(logging.ERROR)  # sqlglot warns when it falls back to a Command
    try:
        trees = [t for t in sqlglot.parse(typed_parameters(from_pyformat(text)), read="postgres") if t is not None]
    except sqlglot.errors.SqlglotError as err:
        return " ".join(str(err).split())[:300]
    finally:
        _log.setLevel(level)
    if any(isinstance(t, exp.Command) for t in trees):
        return "sqlglot reads it only as an opaque command (syntax it does not know)"
    return trees


def candidates(
    statements: Sequence[str] | pd.DataFrame, *, schema: SchemaInfo | None = None, max_width: int = 3
) -> pd.DataFrame:
    """Index candidates for ``statements`` (SQL strings, or a workload frame with a ``query``
    column and optionally ``calls``), most promising first.

    Columns: table (schema-qualified), columns (plain key columns), include, where (partial
    predicate or NA), expression (the key list as SQL when a key is an expression, else NA),
    method, source_queries (positions in ``statements``), reason, index (the
    :class:`~dbworkbench.advisor.IndexDef`), create_sql, score. ``frame.attrs["unparsed"]``:
    the statements sqlglot could not read (statement_id, query, error);
    ``frame.attrs["pruned"]``: candidates dropped and why; ``frame.attrs["unknown_tables"]``:
    tables the statements name that ``schema`` does not have.

    >>> candidates(["SELECT id FROM comments WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20"]).loc[0, "columns"]
    ['user_id', 'created_at']
    """
    if max_width < 1:
        raise ValueError("max_width must be at least 1")
    info = schema if schema is not None else SchemaInfo()
    texts, weights = _statements(statements)
    merged: dict[tuple[Any, ...], _Cand] = {}
    unparsed: list[tuple[int, Any, str]] = []
    unknown: set[str] = set()
    for i, text in enumerate(texts):
        trees = _parse(text)
        if isinstance(trees, str):
            unparsed.append((i, text, trees))
            continue
        for tree in trees:
            try:
                found, missing = accesses(tree, info)
            except (sqlglot.errors.SqlglotError, RecursionError) as err:
                unparsed.append((i, text, f"{type(err).__name__}: {err}"))
                continue
            unknown.update(missing)
            for acc in found:
                for cand in _from_access(acc, info, max_width):
                    kept = merged.setdefault(cand.identity(), cand)
                    kept.sources[i] = weights[i]
                    kept.ordered_limit = kept.ordered_limit or cand.ordered_limit
                    for r in cand.reasons:
                        if r not in kept.reasons:
                            kept.reasons.append(r)
    rows, pruned = [], []
    for cand in merged.values():
        cand.sel, cand.known = _selectivity(info, cand)
        why = _not_columns(cand, info) or _pruned_by(cand, info.index_shapes(cand.schema, cand.table))
        if why is None and cand.known and not cand.where and cand.sel >= PRUNE_SHARE and not any(
            k.role in ("sort", "group") for k in cand.keys
        ):
            why = f"pg_stats: its keys match {cand.sel:.0%} of the rows"
        ix = cand.index()
        if why is not None:
            pruned.append((qualified(cand.schema, cand.table), ix.definition, why))
            continue
        rows.append(_row(cand, ix, info))
    frame = pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))
    frame = frame.astype({k: v for k, v in CANDIDATE_COLUMNS.items() if v != "object"})
    if len(frame):
        frame = frame.sort_values(["score", "table"], ascending=[False, True], kind="stable").reset_index(drop=True)
    frame.attrs["unparsed"] = pd.DataFrame(unparsed, columns=list(UNPARSED_COLUMNS)).astype(UNPARSED_COLUMNS)
    frame.attrs["pruned"] = pd.DataFrame(pruned, columns=list(PRUNED_COLUMNS)).astype(PRUNED_COLUMNS)
    frame.attrs["unknown_tables"] = sorted(unknown)
    return frame


def _row(c: _Cand, ix: IndexDef, info: SchemaInfo) -> dict[str, Any]:
    rows = info.rows(c.schema, c.table)
    effective = c.sel * (0.1 if c.ordered_limit else 1.0)
    score = sum(c.sources.values()) * math.log10(10 + (DEFAULT_ROWS if rows is None else rows)) * (1 - min(effective, 1.0))
    has_expr = any(k.column is None for k in c.keys)
    return {
        "table": qualified(c.schema, c.table) if c.schema else c.table,
        "columns": [k.column for k in c.keys if k.column is not None],
        "include": list(c.include),
        "where": c.where_sql,
        "expression": ", ".join(ix.keys) if has_expr else None,
        "method": c.method,
        "source_queries": sorted(c.sources),
        "reason": "; ".join(c.reasons[:3]) + (f" (and {len(c.reasons) - 3} more)" if len(c.reasons) > 3 else ""),
        "index": ix,
        "create_sql": ix.create_sql(),
        "score": float(score),
    }


def condition_candidates(
    table: str,
    condition: str,
    *,
    schema: str | None = None,
    alias: str | None = None,
    info: SchemaInfo | None = None,
    max_width: int = 3,
) -> list[IndexDef]:
    """Candidate indexes for one table and one condition (a WHERE clause, or a plan node's
    Filter as PostgreSQL prints it), best first; [] when none applies or sqlglot cannot read it.
    ``schema=None`` leaves the table unqualified. The statement path and the plan insights share it.

    >>> [ix.create_sql() for ix in condition_candidates(
    ...     "posts", "(to_tsvector('english'::regconfig, content) @@ plainto_tsquery('english'::regconfig, 'a'::text))")]
    ["CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_to_tsvector_content_gin ON posts USING gin (to_tsvector('english', content));"]
    """
    if info is None:
        info = SchemaInfo(search_path=(schema or "",))
    source = qualified(schema, table) + (f" AS {quote_ident(alias)}" if alias and alias != table else "")
    frame = candidates([f"SELECT * FROM {source} WHERE {condition}"], schema=info, max_width=max_width)
    return list(frame["index"])
