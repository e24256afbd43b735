"""Running the workload: weighted random picks, their followers, and a summary."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg
from psycopg.pq import TransactionStatus
from tqdm.auto import tqdm

from ...errors import WorkbenchError
from ._values import GENERATORS, Pools, sample_pools
from ._file import WorkloadError, WorkloadStatement, load_workload


SUMMARY_COLUMNS = ["statement", "kind", "calls", "errors", "total_ms", "mean_ms", "rows"]


@dataclass
class _Tally:
    kind: str
    calls: int = 0
    errors: int = 0
    total_ms: float = 0.0
    rows: int = 0


def run_workload(
    conn: psycopg.Connection[Any],
    *,
    iterations: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    progress: bool = True,
    statements: Sequence[WorkloadStatement] | None = None,
) -> pd.DataFrame:
    """Run weighted random picks of the workload on the demo database; return a summary.

    One iteration is one pick (an N+1 driver's followers run with it). It stops after
    ``iterations`` picks or ``seconds`` seconds, whichever comes first (default 200
    picks). ``seed`` makes the run repeatable on the same data: the same picks with the
    same parameters. Parameters are sent server-side, so pg_stat_statements shows one
    entry per statement. Writes happen: each statement is its own transaction
    (autocommit, or BEGIN/COMMIT on a connection that is not). A failing statement (a
    CHECK violation, a statement timeout, ...) is counted, not raised; a run where every
    execution fails raises :class:`WorkbenchError`.

    Columns of the result, one row per statement that ran, by ``total_ms`` descending:

    - ``statement`` (string): the statement's name in the workload file
    - ``kind`` (string): ``read`` or ``write``
    - ``calls`` (int64): executions, failed ones included
    - ``errors`` (int64): executions that raised
    - ``total_ms``, ``mean_ms`` (float64): client-side wall time, all executions
    - ``rows`` (int64): rows returned (reads) or affected (writes) by successful executions

    ``df.attrs`` holds ``seed``, ``iterations`` (picks made), ``seconds`` (elapsed) and
    ``error_messages`` (statement name -> first error message).

    >>> summary = run_workload(conn, iterations=100, seed=1)   # doctest: +SKIP
    >>> summary.head(3)                                        # doctest: +SKIP
    """
    if iterations is None and seconds is None:
        iterations = 200
    stmts = list(statements) if statements is not None else load_workload()
    pickable = [s for s in stmts if s.for_each is None and s.weight > 0]
    if not pickable:
        raise WorkbenchError("the workload has no statement with a weight above 0 to pick")
    if not conn.autocommit and conn.info.transaction_status != TransactionStatus.IDLE:
        raise WorkbenchError("the connection has a transaction open: commit or roll back before run_workload")
    followers: dict[str, list[WorkloadStatement]] = {}
    for s in stmts:
        if s.for_each is not None:
            followers.setdefault(s.for_each.statement, []).append(s)
    pools = sample_pools(conn, seed)
    rng = random.Random(seed)
    tallies: dict[str, _Tally] = {}
    messages: dict[str, str] = {}
    weights = [s.weight for s in pickable]
    started = time.perf_counter()
    done = 0
    bar = tqdm(total=iterations, desc="workload", unit="pick", disable=not progress)
    try:
        while (iterations is None or done < iterations) and (
            seconds is None or time.perf_counter() - started < seconds
        ):
            pick = rng.choices(pickable, weights)[0]
            result = _run_one(conn, pick, _draw(pick, rng, pools, {}), tallies, messages)
            for follower in followers.get(pick.name, []):
                _run_followers(conn, follower, result, rng, pools, tallies, messages)
            done += 1
            bar.update(1)
    finally:
        bar.close()
    frame = _summary(tallies)
    frame.attrs.update(seed=seed, iterations=done, seconds=time.perf_counter() - started,
                       error_messages=messages)
    calls, errors = int(frame["calls"].sum()), int(frame["errors"].sum())
    if calls and calls == errors:
        first = next(iter(messages.items()))
        raise WorkbenchError(f"every statement of the workload failed ({calls} executions); "
                             f"first error, in {first[0]}: {first[1]}")
    return frame


def _draw(stmt: WorkloadStatement, rng: random.Random, pools: Pools, fixed: dict[str, Any]) -> dict[str, Any]:
    values = dict(fixed)
    for p in stmt.params:
        values[p.name] = GENERATORS[p.generator].draw(pools, rng, *p.args)
    return values


@dataclass
class _Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _run_one(conn: psycopg.Connection[Any], stmt: WorkloadStatement, params: dict[str, Any],
             tallies: dict[str, _Tally], messages: dict[str, str]) -> _Result | None:
    """Execute one statement, tally it; the result rows, or None when it failed."""
    tally = tallies.setdefault(stmt.name, _Tally(stmt.kind))
    t0 = time.perf_counter()
    result: _Result | None = None
    try:
        with conn.transaction() if not conn.autocommit else nullcontext(), conn.cursor() as cur:
            cur.execute(stmt.sql, params)
            if cur.description is not None:
                result = _Result([c.name for c in cur.description], cur.fetchall())
                count = len(result.rows)
            else:
                result, count = _Result([], []), max(cur.rowcount, 0)
    except psycopg.Error as err:
        if conn.closed or conn.broken:
            raise WorkbenchError(f"the connection was lost running {stmt.name}: {err}") from err
        tally.errors += 1
        messages.setdefault(stmt.name, str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
        result, count = None, 0
    tally.calls += 1
    tally.total_ms += (time.perf_counter() - t0) * 1000.0
    tally.rows += count
    return result


def _run_followers(conn: psycopg.Connection[Any], follower: WorkloadStatement, result: _Result | None,
                   rng: random.Random, pools: Pools, tallies: dict[str, _Tally],
                   messages: dict[str, str]) -> None:
    """The N+1 pattern: ``follower`` once per row of its driver's ``result``."""
    if result is None:
        return
    assert follower.for_each is not None
    fe = follower.for_each
    if fe.column not in result.columns:
        raise WorkloadError(f"for_each of {follower.name!r} binds column {fe.column!r}, but "
                            f"{fe.statement} returns {', '.join(result.columns) or 'no columns'}",
                            path=follower.path, line=follower.line, expected="a column of the driver's result")
    col = result.columns.index(fe.column)
    for row in result.rows:
        _run_one(conn, follower, _draw(follower, rng, pools, {fe.param: row[col]}), tallies, messages)


def _summary(tallies: dict[str, _Tally]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(name, t.kind, t.calls, t.errors, t.total_ms, t.total_ms / t.calls if t.calls else float("nan"), t.rows)
         for name, t in tallies.items()],
        columns=SUMMARY_COLUMNS,
    )
    frame = frame.astype({"statement": "string", "kind": "string", "calls": "int64", "errors": "int64",
                          "total_ms": "float64", "mean_ms": "float64", "rows": "int64"})
    return frame.sort_values("total_ms", ascending=False, ignore_index=True)
