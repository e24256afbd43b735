"""Do two statements return the same rows? Complete results compared, streamed, with hashes.

How: inside one REPEATABLE READ, READ ONLY transaction (both statements see the same
data) each statement's rows are turned into text by the server (``ROW(r.*)::text``, so
NULL and ``''`` differ, and a row's columns are compared in order), hashed (64-bit
``hashtextextended``: a chance collision among a billion distinct rows is about 3 %) and
sorted by hash on the server; the two sorted streams are read through server-side cursors
a batch at a time and merged (numpy, batch by batch), copies of a row counted as they pass.
The client holds one batch per side whatever the result's size; the server sorts (in
``work_mem``, spilling to disk for big results). The comparison is of multisets: lost
duplicates and dropped NULL rows count. When both statements have a top-level ORDER BY
(read from the SQL with sqlglot), the order is compared as well, in a second pass that
streams the row hashes in the statements' own order.

A difference is shown in ``first_differences``: up to ``max_differences`` differing rows
(fetched again by their hash), with ``side`` ("A" or "B": the side that has them more
often, or, for an order difference, whose row is at that ``position``) and ``copies``.
Writing statements (a target with writes allowed) run in transactions that are rolled
back; their RETURNING rows are compared (in memory), or without RETURNING their row counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from ..guard import Admitted, send
from ._exec import admit_pair

__all__ = ["BATCH_ROWS", "SameResults", "has_order_by", "same_results"]

BATCH_ROWS = 10_000  # row hashes fetched per round trip and side
_names = itertools.count()
_ALIAS = sql.Identifier("dbworkbench_rows")
_HASH = sql.SQL("hashtextextended(ROW({}.*)::text, 0)").format(_ALIAS)


@dataclass
class SameResults:
    """The verdict of :func:`same_results`; true when the results are the same.

    ``reason``: one sentence; ``rows_a``/``rows_b``: row counts; ``ordered``: the order was
    compared too; ``first_differences``: DataFrame of differing rows: ``side`` (string, "A"
    or "B"), ``copies`` (Int64: how many more times that side has the row), ``position``
    (Int64, 0-based row number for an order difference, else NA), then the rows' own columns
    (as the driver returns them, object dtype). Empty when the results are the same.
    """

    same: bool
    reason: str
    rows_a: int
    rows_b: int
    ordered: bool
    first_differences: pd.DataFrame = field(repr=False)

    def __bool__(self) -> bool:
        return self.same

    def __repr__(self) -> str:
        return f"<SameResults {self.same}: {self.reason}>"


def has_order_by(text: str) -> bool:
    """True when the statement orders its output (a top-level ORDER BY), read with sqlglot.

    >>> has_order_by("SELECT id FROM posts ORDER BY id"), has_order_by("SELECT * FROM (SELECT 1 ORDER BY 1) s")
    (True, False)
    """
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.ParseError:
        return False
    return isinstance(tree, exp.Query) and tree.args.get("order") is not None


def same_results(
    conn: psycopg.Connection[Any], sql_a: str, sql_b: str, params: Sequence[Any] | None = None, *,
    params_b: Sequence[Any] | None = None, read_only: bool = True, ordered: bool | None = None,
    max_differences: int = 10, admitted: tuple[Admitted, Admitted] | None = None, timeout_ms: int | None = None,
) -> SameResults:
    """Compare the complete results of ``sql_a`` and ``sql_b`` (module doc); ``ordered=None`` decides
    from the SQL (both have a top-level ORDER BY), True/False forces it. ``timeout_ms``: the
    statement_timeout of each statement the check sends (default: the session's)."""
    values = (params, params if params_b is None else params_b)
    a, b = admitted or admit_pair(conn, (sql_a, sql_b), values, read_only=read_only, action="db.same_results")
    if ordered is None:
        ordered = has_order_by(a.text) and has_order_by(b.text)
    if a.statement.writes or b.statement.writes:
        return _writes(conn, (a, b), values, ordered, max_differences, timeout_ms)
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _limit(conn, timeout_ms)
        streams = [_declare(conn, _sorted_hashes(x), v) for x, v in zip((a, b), values, strict=True)]
        merged = _merge(conn, streams[0], streams[1], max_differences)
        rows_a, rows_b, diffs, missing, extra = merged
        if diffs:
            frame = _rows_by_hash(conn, (a, b), values, diffs)
            return SameResults(False, _content_reason(rows_a, rows_b, missing, extra, len(frame)), rows_a, rows_b,
                               ordered, frame)
        if ordered:
            position = _first_order_difference(conn, (a, b), values)
            if position is not None:
                frame = _rows_at(conn, (a, b), values, position, max_differences)
                return SameResults(False, f"the same {rows_a:,} rows, but in a different order from row {position:,} "
                                          "(0-based; both statements have ORDER BY, so the order counts; ties in the "
                                          "sort key can cause this)", rows_a, rows_b, True, frame)
    how = "in the same order" if ordered else "compared as multisets (order not compared: " + (
        "ordered=False)" if ordered is False else "not both statements have a top-level ORDER BY)")
    return SameResults(True, f"the same {rows_a:,} rows, {how}", rows_a, rows_b, ordered, _frame([]))


def _limit(conn: psycopg.Connection[Any], timeout_ms: int | None) -> None:
    if timeout_ms is not None:
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(max(1, int(timeout_ms)))))


# -- streams ------------------------------------------------------------------------------------


def _sorted_hashes(x: Admitted) -> sql.Composable:
    """Each row's hash, sorted on the server (copies of a row come together; the client counts them)."""
    return sql.SQL("SELECT {} AS h FROM ({}) AS {} ORDER BY 1").format(_HASH, x.composable, _ALIAS)


def _declare(conn: psycopg.Connection[Any], query: sql.Composable, values: Sequence[Any] | None) -> sql.Identifier:
    name = sql.Identifier(f"dbworkbench_same_{next(_names)}")
    send(conn, sql.SQL("DECLARE {} NO SCROLL CURSOR FOR ").format(name) + query, values).close()
    return name


def _batches(conn: psycopg.Connection[Any], cursor: sql.Identifier) -> Iterator[np.ndarray]:
    """The cursor's hashes as int64 arrays, ``BATCH_ROWS`` per round trip; the cursor is closed at the end."""
    fetch = sql.SQL("FETCH FORWARD {} FROM {}").format(sql.Literal(BATCH_ROWS), cursor)
    while True:
        rows = send(conn, fetch).fetchall()
        yield np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if len(rows) < BATCH_ROWS:
            send(conn, sql.SQL("CLOSE {}").format(cursor))
            return


class _Side:
    """One side's sorted hashes: what was fetched and not yet merged."""

    def __init__(self, batches: Iterator[np.ndarray]) -> None:
        self.batches, self.buf, self.done = batches, np.empty(0, dtype=np.int64), False

    def ready(self) -> None:
        """Fetch until the buffer holds a hash below its last one (whose copies may go on) or the stream ends."""
        while not self.done and (len(self.buf) == 0 or self.buf[0] == self.buf[-1]):
            batch = next(self.batches, None)
            if batch is None:
                self.done = True
            else:
                self.buf = np.concatenate([self.buf, batch])

    def take(self, bound: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The distinct hashes below ``bound`` (all when None) with their copies, removed from the buffer."""
        cut = len(self.buf) if bound is None else int(np.searchsorted(self.buf, bound, side="left"))
        part, self.buf = self.buf[:cut], self.buf[cut:]
        return np.unique(part, return_counts=True)


def _merge(conn: psycopg.Connection[Any], ca: sql.Identifier, cb: sql.Identifier,
           limit: int) -> tuple[int, int, list[tuple[int, int, int]], int, int]:
    """Merge the two sorted hash streams a batch at a time (numpy), copies counted as they pass: row
    counts, the first ``limit`` differing hashes with their copies on each side, rows of A missing
    from B, rows of B not in A. Memory: a batch or two per side (more only for one row with more
    copies than a batch holds)."""
    sides = (_Side(_batches(conn, ca)), _Side(_batches(conn, cb)))
    rows_a = rows_b = missing = extra = 0
    diffs: list[tuple[int, int, int]] = []
    while True:
        for side in sides:
            side.ready()
        if all(side.done and len(side.buf) == 0 for side in sides):
            return rows_a, rows_b, diffs, missing, extra
        open_ends = [int(side.buf[-1]) for side in sides if not side.done]
        bound = min(open_ends) if open_ends else None  # below it every copy of every hash is in
        (ha, na), (hb, nb) = (side.take(bound) for side in sides)
        hashes = np.union1d(ha, hb)
        a, b = np.zeros(len(hashes), dtype=np.int64), np.zeros(len(hashes), dtype=np.int64)
        a[np.searchsorted(hashes, ha)], b[np.searchsorted(hashes, hb)] = na, nb
        rows_a, rows_b = rows_a + int(na.sum()), rows_b + int(nb.sum())
        delta = a - b
        missing, extra = missing + int(delta[delta > 0].sum()), extra - int(delta[delta < 0].sum())
        for i in np.flatnonzero(delta)[: max(0, limit - len(diffs))]:
            diffs.append((int(hashes[i]), int(a[i]), int(b[i])))


def _first_order_difference(conn: psycopg.Connection[Any], pair: tuple[Admitted, Admitted],
                            values: tuple[Sequence[Any] | None, Sequence[Any] | None]) -> int | None:
    """The first 0-based position where the two ordered results (of equal length) differ (None: nowhere)."""
    streams = [_declare(conn, sql.SQL("SELECT {} FROM ({}) AS {}").format(_HASH, x.composable, _ALIAS), v)
               for x, v in zip(pair, values, strict=True)]
    offset = 0
    for ba, bb in zip(_batches(conn, streams[0]), _batches(conn, streams[1]), strict=False):
        differ = np.flatnonzero(ba != bb) if len(ba) == len(bb) else np.array([min(len(ba), len(bb))])
        if len(differ):
            return offset + int(differ[0])  # the open cursors close with the transaction's rollback
        offset += len(ba)
    return None


def _rows_by_hash(conn: psycopg.Connection[Any], pair: tuple[Admitted, Admitted],
                  values: tuple[Sequence[Any] | None, Sequence[Any] | None],
                  diffs: list[tuple[int, int, int]]) -> pd.DataFrame:
    """The differing rows themselves, read again by their hashes (a few rows per side)."""
    found: dict[int, dict[str, Any]] = {}
    for x, v in zip(pair, values, strict=True):
        n = x.statement.parameters + 1
        query = sql.SQL("SELECT {} AS dbworkbench_row_hash, {}.* FROM ({}) AS {} WHERE {} = ANY({}::int8[])").format(
            _HASH, _ALIAS, x.composable, _ALIAS, _HASH, sql.SQL(f"${n}"))
        cur = send(conn, query, [*(v or []), [h for h, _, _ in diffs]])
        names = [d.name for d in cur.description or []][1:]
        for row in cur.fetchall():
            found.setdefault(row[0], dict(zip(names, row[1:], strict=True)))
    records = []
    for h, na, nb in diffs:
        side, copies = ("A", na - nb) if na > nb else ("B", nb - na)
        records.append({"side": side, "copies": copies, "position": None, **found.get(h, {})})
    return _frame(records)


def _rows_at(conn: psycopg.Connection[Any], pair: tuple[Admitted, Admitted],
             values: tuple[Sequence[Any] | None, Sequence[Any] | None], position: int, limit: int) -> pd.DataFrame:
    records = []
    for side, x, v in zip("AB", pair, values, strict=True):
        query = sql.SQL("SELECT {}.* FROM ({}) AS {} OFFSET {} LIMIT {}").format(
            _ALIAS, x.composable, _ALIAS, sql.Literal(position), sql.Literal(max(1, limit // 2)))
        cur = send(conn, query, v)
        names = [d.name for d in cur.description or []]
        records += [{"side": side, "copies": 1, "position": position + i, **dict(zip(names, row, strict=True))}
                    for i, row in enumerate(cur.fetchall())]
    return _frame(records)


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=None if records else ["side", "copies", "position"])
    frame["side"] = frame["side"].astype("string")
    frame["copies"] = frame["copies"].astype("Int64")
    frame["position"] = pd.array(frame["position"].tolist(), dtype="Int64")
    return frame


def _content_reason(rows_a: int, rows_b: int, missing: int, extra: int, shown: int) -> str:
    parts = []
    if missing:
        parts.append(f"{missing:,} row(s) of A are missing from B")
    if extra:
        parts.append(f"B returns {extra:,} row(s) that A does not")
    return (f"different results: A returns {rows_a:,} rows and B {rows_b:,}; " + " and ".join(parts)
            + f" (counting duplicates; first_differences shows {shown})")


# -- writing statements (allow_writes): rolled back, RETURNING rows compared in memory ------------


def _writes(conn: psycopg.Connection[Any], pair: tuple[Admitted, Admitted],
            values: tuple[Sequence[Any] | None, Sequence[Any] | None], ordered: bool, limit: int,
            timeout_ms: int | None) -> SameResults:
    outcomes = []
    for x, v in zip(pair, values, strict=True):
        with conn.transaction(force_rollback=True):
            _limit(conn, timeout_ms)
            cur = send(conn, x.composable, v)
            names = [d.name for d in cur.description or []]
            rows = cur.fetchall() if cur.description else None
            outcomes.append((cur.rowcount, names, rows))
    (count_a, names_a, rows_a), (count_b, names_b, rows_b) = outcomes
    if rows_a is None or rows_b is None:
        same = count_a == count_b
        return SameResults(same, f"writing statements without RETURNING: A changes {count_a:,} rows and B "
                                 f"{count_b:,} (rolled back; add RETURNING to compare the rows)", count_a, count_b,
                           False, _frame([]))
    texts_a, texts_b = (pd.Series([repr(r) for r in rows]) for rows in (rows_a, rows_b))
    if ordered and texts_a.tolist() != texts_b.tolist() and sorted(texts_a) == sorted(texts_b):
        return SameResults(False, "the same rows, in a different order (rolled back)", len(rows_a), len(rows_b),
                           True, _frame([]))
    ca, cb = texts_a.value_counts(), texts_b.value_counts()
    delta = ca.sub(cb, fill_value=0)
    delta = delta[delta != 0]
    if delta.empty:
        return SameResults(True, f"the same {len(rows_a):,} rows returned (rolled back)", len(rows_a), len(rows_b),
                           ordered, _frame([]))
    by_text = {repr(r): dict(zip(names_a, r, strict=False)) for r in rows_a}
    by_text.update({repr(r): dict(zip(names_b, r, strict=False)) for r in rows_b if repr(r) not in by_text})
    records = [{"side": "A" if d > 0 else "B", "copies": abs(int(d)), "position": None, **by_text[t]}
               for t, d in list(delta.items())[:limit]]
    missing, extra = int(delta[delta > 0].sum()), int(-delta[delta < 0].sum())
    return SameResults(False, _content_reason(len(rows_a), len(rows_b), missing, extra, len(records)) + " (rolled back)",
                       len(rows_a), len(rows_b), ordered, _frame(records))
