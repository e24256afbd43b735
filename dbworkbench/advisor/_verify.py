"""Advice checked by running it: the chosen indexes built for real on the sandbox, each helped
statement timed without and with them, interleaved, then the indexes dropped again."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from psycopg import sql
from tqdm.auto import tqdm

from ..errors import UnsafeStatement, WorkbenchError
from ._examples import example_params

if TYPE_CHECKING:
    from ..workbench import Workbench
    from .advice import Advice

FASTER = 1.1  # measured at least this much faster counts as "faster"


def _run(db: Workbench, query: str, values: Sequence[Any], hidden: list[tuple[str, str]]) -> float:
    """Execution time (ms) of one EXPLAIN ANALYZE; ``hidden`` indexes dropped in a rolled-back transaction."""
    if not hidden:
        return float(db.explain(query, list(values) or None).execution_ms or 0.0)
    with db.conn.transaction(force_rollback=True):
        for schema, name in hidden:
            db.conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))
        return float(db.explain(query, list(values) or None).execution_ms or 0.0)


def verify(advice: Advice, db: Workbench, *, runs: int, max_seconds: float,
           params: dict[int, Sequence[Any]], progress: bool) -> pd.DataFrame:
    from .advice import verify_frame

    if not db.target.is_sandbox:
        raise UnsafeStatement(
            f"verify() builds the advised indexes for real, so it runs only on the sandbox, not on {db.target.display}; "
            "load a copy of your schema and data into the sandbox (wb.connect()) and advise there"
        )
    helped = advice.per_statement[advice.per_statement["benefit_pct"].fillna(0) > 0]
    created: list[tuple[str, str]] = []
    rows: list[list[Any]] = []
    started = time.perf_counter()
    try:
        for ix in advice.indexes:
            found = db.conn.execute("SELECT to_regclass(%s)", [sql.Identifier(ix.schema, ix.name).as_string(db.conn)])
            if (found.fetchone() or [None])[0] is not None:
                continue  # not ours: never dropped
            db.conn.execute(ix.create_sql(concurrently=False, if_not_exists=False))
            created.append((ix.schema, ix.name))
        db.conn.execute("ANALYZE")  # expression indexes bring statistics of their own
        for r in tqdm(helped.itertuples(index=False), total=len(helped), desc="verify", disable=not progress):
            sid, query, benefit = int(r.statement_id), str(r.query), float(r.benefit_pct)
            values = params.get(sid)
            if values is None:
                values = example_params(db.conn, query)
            if values is None:
                rows.append([sid, query, 0, None, None, None, benefit,
                             "not measured: no example values for its $n parameters (pass params={id: [...]})"])
                continue
            before: list[float] = []
            after: list[float] = []
            try:
                for run in range(runs):
                    if time.perf_counter() - started > max_seconds:
                        break
                    pair = [(before, created), (after, [])]
                    for times, hidden in pair if run % 2 == 0 else reversed(pair):
                        times.append(_run(db, query, values, hidden))
            except WorkbenchError as err:
                rows.append([sid, query, len(after), None, None, None, benefit, f"not measured: {err}"])
                continue
            if not before or not after:
                rows.append([sid, query, 0, None, None, None, benefit, "not measured: the time budget ran out"])
                continue
            b, a = statistics.median(before), statistics.median(after)
            speedup = b / a if a else float("inf")
            rows.append([sid, query, min(len(before), len(after)), b, a, speedup, benefit,
                         "faster" if speedup >= FASTER else "not faster"])
    finally:
        for schema, name in created:
            db.conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(schema, name)))
    return verify_frame(rows)
