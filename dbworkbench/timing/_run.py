"""Repeated, interleaved runs of two admitted statements (what :func:`dbworkbench.timing.compare` does)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from tqdm.auto import tqdm

from ..guard import Admitted, send

if TYPE_CHECKING:
    from ..plans import Plan
    from ..workbench import Workbench

Stop = Any  # a threading.Event, or a callable returning bool


@dataclass
class Measured:
    """What the runs gave: one record per timed run, the last sampled plan per variant, why it ended early."""

    records: list[dict[str, Any]] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)
    stopped: str | None = None
    elapsed_s: float = 0.0


def stop_requested(stop: Stop) -> bool:
    if stop is None:
        return False
    is_set = getattr(stop, "is_set", None)
    return bool(is_set() if callable(is_set) else stop())


def budget_ms(started: float, max_seconds: float, session_ms: int) -> int:
    """The statement_timeout (ms) for the next statement: what is left of the budget, at most the session's."""
    left_ms = int((max_seconds - (time.perf_counter() - started)) * 1000)
    return min(left_ms, session_ms) if session_ms else left_ms


def order(run: int) -> tuple[str, str]:
    """ABBA...: run pairs alternate which variant goes first, so drift and caching hit both alike.

    >>> [order(i) for i in range(4)]
    [('A', 'B'), ('B', 'A'), ('A', 'B'), ('B', 'A')]
    """
    return ("A", "B") if run % 2 == 0 else ("B", "A")


def _timed(conn: psycopg.Connection[Any], stmt: Admitted, values: Sequence[Any] | None, timeout_ms: int) -> float:
    """One run in its own transaction (READ ONLY unless the statement writes), always rolled back;
    ms from sending the statement to its whole result received (rows are not converted)."""
    with conn.transaction(force_rollback=True):
        mode = "" if stmt.statement.writes else "SET TRANSACTION READ ONLY; "
        conn.execute(sql.SQL(mode + "SET LOCAL statement_timeout = {}").format(sql.Literal(timeout_ms)))
        started = time.perf_counter()
        cur = send(conn, stmt.composable, values)
        ms = (time.perf_counter() - started) * 1000.0
        cur.close()
    return ms


def run(
    db: Workbench, pair: dict[str, Admitted], values: dict[str, Sequence[Any] | None], *, runs: int, warmup: int,
    max_seconds: float, started: float, progress: bool, stop: Stop, on_run: Callable[[dict[str, Any]], None] | None,
    buffers_every: int, allow_side_effects: bool,
) -> Measured:
    """Warm-ups, then ``runs`` timed runs of each variant, interleaved; every ``buffers_every``-th run
    of each variant is followed by an EXPLAIN (ANALYZE, BUFFERS) through :meth:`Workbench.explain`
    for its buffer counts (and plan). Ends early on ``stop``, the time budget (``max_seconds`` from
    ``started``, a ``time.perf_counter()``) or a timeout."""
    from ..explain import run_explain

    out = Measured()
    conn = db.conn
    session_ms = db.target.guards.statement_timeout_ms or 0
    total = 2 * (warmup + runs)
    bar = tqdm(total=total, desc="compare", unit="run", disable=not progress, leave=False)
    done = 0
    try:
        for i in range(warmup + runs):
            for variant in order(i if i < warmup else i - warmup):
                if stop_requested(stop):
                    out.stopped = f"stopped on request after {len(out.records)} timed runs"
                    return out
                timeout_ms = budget_ms(started, max_seconds, session_ms)
                if timeout_ms < 1:
                    out.stopped = f"the time budget (max_seconds={max_seconds:g}) ran out after {len(out.records)} timed runs"
                    return out
                try:
                    ms = _timed(conn, pair[variant], values[variant], timeout_ms)
                except psycopg.errors.QueryCanceled:
                    if timeout_ms < session_ms or not session_ms:
                        out.stopped = (f"the time budget (max_seconds={max_seconds:g}) ran out during a run of "
                                       f"{variant}, after {len(out.records)} timed runs")
                        return out
                    raise
                done += 1
                bar.update()
                if i < warmup:
                    continue
                number = i - warmup
                record: dict[str, Any] = {"variant": variant, "run": number, "ms": ms,
                                          "shared_hit": None, "shared_read": None}
                if buffers_every and number % buffers_every == 0:
                    plan = run_explain(conn, db.server, db.target, pair[variant].text, values[variant],
                                       allow_side_effects=allow_side_effects)
                    out.plans[variant] = plan
                    root = plan.nodes.iloc[0] if len(plan.nodes) else None
                    if root is not None:
                        record["shared_hit"], record["shared_read"] = root["shared_hit"], root["shared_read"]
                out.records.append(record)
                if on_run is not None:
                    on_run({**record, "done": done, "total": total})
    finally:
        bar.close()
        out.elapsed_s = time.perf_counter() - started
    return out
