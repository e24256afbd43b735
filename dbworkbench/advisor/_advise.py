"""From a workload to :class:`~dbworkbench.advisor.advice.Advice`: candidates, what-if costs,
the best set under the budget, and what each chosen index buys."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg
from tqdm.auto import tqdm

from ..errors import WorkbenchError
from ._examples import example_params
from .advice import Advice, per_statement_frame, selected_frame
from .index import IndexDef

if TYPE_CHECKING:
    from ..workbench import Workbench

#: estimated cost (in the planner's units, where reading one page in sequence is 1) of keeping one
#: index up to date for one written row: a btree descends and writes a leaf, a GIN index more
MAINTENANCE_COST = {"btree": 2.0, "hash": 2.0, "gin": 6.0, "gist": 4.0, "brin": 0.1, "spgist": 4.0}
#: a candidate is costed further only if it lowers some statement's cost by at least this share
MIN_GAIN = 0.01


class _Model:
    """The selection's cost model over what-if costs: statements and candidates by position."""

    def __init__(self, whatif: Any, queries: Sequence[str], indexes: Sequence[IndexDef], sizes: Sequence[int]) -> None:
        self.whatif, self.queries, self.indexes, self.sizes = whatif, queries, indexes, sizes

    def cost(self, statement: int, indexes: frozenset[int]) -> float:
        return float(self.whatif.cost(self.queries[statement], [self.indexes[i] for i in sorted(indexes)]))

    def size(self, index: int) -> int:
        return int(self.sizes[index])


def _workload(db: Workbench, workload: Any, top: int, min_calls: int) -> pd.DataFrame:
    from .workload import from_sql, from_statements

    if workload is None:
        return db.workload(top=top, min_calls=min_calls)
    if isinstance(workload, pd.DataFrame):
        return from_statements(workload, top=top, min_calls=min_calls) if "total_exec_ms" in workload else workload
    if isinstance(workload, str):
        raise TypeError("workload: give a list of SQL strings, a workload or statements DataFrame, or None")
    return from_sql(list(workload))


def _write_cost(work: pd.DataFrame, index: IndexDef, weight: float) -> float:
    """What keeping ``index`` up costs the workload's writes on its table."""
    names = {index.table, f"{index.schema}.{index.table}"}
    writes = work[(work["kind"] == "write") & work["tables"].map(lambda ts: bool(names & set(ts)))]
    rows = writes["rows"].fillna(writes["calls"]).fillna(0).sum()
    return weight * float(rows) * MAINTENANCE_COST.get(index.method, 2.0)


def advise(
    db: Workbench,
    *,
    budget_mb: float = 500.0,
    workload: Any = None,
    top: int = 20,
    min_calls: int = 2,
    max_indexes: int | None = None,
    write_weight: float = 1.0,
    method: str = "greedy",
    allow_real_indexes: bool = False,
    progress: bool = True,
) -> Advice:
    """See :meth:`dbworkbench.Workbench.advise`."""
    from .candidates import candidates
    from .schema import SchemaInfo
    from .select import greedy, optimum
    from .whatif import WhatIf

    if method not in ("greedy", "optimum"):
        raise ValueError(f"method {method!r}: 'greedy' (the default) or 'optimum' (exact, for small sets)")
    started = time.perf_counter()
    budget = int(budget_mb * 2**20)
    work = _workload(db, workload, top, min_calls)
    messages: list[str] = []
    reads = work[work["kind"].isin(["read", "write"])].reset_index(drop=True)
    if (work["kind"] == "unparsed").any():
        messages.append(f"{int((work['kind'] == 'unparsed').sum())} statement(s) could not be parsed and were left out "
                        "(see advice.workload, kind == 'unparsed')")
    cands = candidates(list(reads["query"]), schema=SchemaInfo.read(db))
    unparsed = cands.attrs.get("unparsed")
    if unparsed is not None and len(unparsed):
        messages.append(f"{len(unparsed)} statement(s) gave no candidates: sqlglot could not parse them")
    weights = reads["calls"].fillna(1).astype(float).tolist()
    with WhatIf(db, allow_real_indexes=allow_real_indexes) as whatif:
        for query in reads["query"]:  # costed for realistic values where they can be found, else generically
            values = example_params(db.conn, query)
            if values:
                whatif.examples[query] = values
        base: dict[int, float] = {}
        notes: dict[int, str] = {}
        for s, query in enumerate(tqdm(reads["query"], desc="cost today", disable=not progress)):
            try:
                base[s] = float(whatif.cost(query))
            except (WorkbenchError, psycopg.Error) as err:
                notes[s] = f"not costed: {str(err).splitlines()[0]}"
        indexes = _unique_names(db, list(cands["index"]))
        sizes = [int(whatif.estimated_size(ix)) for ix in indexes]
        model = _Model(whatif, list(reads["query"]), indexes, sizes)
        alone: list[float] = []
        for i, row in enumerate(tqdm(list(cands.itertuples(index=False)), desc="cost candidates", disable=not progress)):
            gain = 0.0
            for s in row.source_queries:
                if s in base:
                    after = model.cost(s, frozenset([i]))
                    if after < base[s] * (1 - MIN_GAIN):
                        gain += weights[s] * (base[s] - after)
            alone.append(gain)
        useful = [i for i, gain in enumerate(alone) if gain > 0]
        total = sum(weights[s] * c for s, c in base.items())
        write_cost = {i: _write_cost(work, indexes[i], write_weight) for i in useful}
        live = [weights[s] if s in base else 0.0 for s in range(len(reads))]
        choose = greedy if method == "greedy" else optimum
        if not useful:
            messages.append("no candidate lowers any statement's estimated cost")
            chosen: tuple[int, ...] = ()
        elif budget < min(sizes[i] for i in useful):
            messages.append(f"the budget ({budget_mb:,.1f} MB) is smaller than any useful index "
                            f"(the smallest takes {min(sizes[i] for i in useful) / 2**20:,.1f} MB)")
            chosen = ()
        else:
            chosen = tuple(choose(model, weights=live, candidates=useful, budget_bytes=budget, max_indexes=max_indexes,
                                  write_cost=write_cost, progress=progress).indexes)
        final = {s: model.cost(s, frozenset(chosen)) for s in base}
        cost = sum(weights[s] * c for s, c in final.items())
        per_rows, helped_by = _per_statement(whatif, reads, base, final, notes, [indexes[i] for i in chosen])
        selected_rows = []
        for i in chosen:
            without = sum(weights[s] * model.cost(s, frozenset(chosen) - {i}) for s in base)
            helped = helped_by.get(indexes[i].name, [])
            row = cands.iloc[i]
            columns = list(row["columns"]) or [str(row["expression"])]
            selected_rows.append([
                indexes[i].create_sql(), row["table"], columns, sizes[i], without - cost,
                (without - cost) / total if total else 0.0, len(helped), int(reads.loc[helped, "calls"].fillna(0).sum()),
                float(reads.loc[helped, "total_ms"].fillna(0).sum()), indexes[i].name, indexes[i],
            ])
        requests, explains = whatif.requests, whatif.explains
        if whatif.failed:
            messages.append("costed as absent, since this backend cannot build them: " + "; ".join(
                f"{ix.definition} ({why})" for ix, why in whatif.failed.items())
                + (" (HypoPG simulates btree, brin and hash; on the sandbox real indexes are costed)"
                   if whatif.backend == "hypopg" else ""))
    cands = cands.assign(bytes=pd.array(sizes, dtype="Int64"), benefit_pct=[g / total if total else 0.0 for g in alone],
                         name=pd.array([ix.name for ix in indexes], dtype="string"))
    return Advice(
        selected=selected_frame(selected_rows), per_statement=per_rows, candidates=cands, drops=_drops(db),
        workload=work, budget_bytes=budget, base_cost=total, cost=cost, method=method, requests=requests,
        explains=explains, seconds=time.perf_counter() - started, messages=messages,
    )


def _per_statement(whatif: Any, reads: pd.DataFrame, base: dict[int, float], final: dict[int, float],
                   notes: dict[int, str], chosen: list[IndexDef]) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    rows: list[list[Any]] = []
    helped_by: dict[str, list[int]] = {}
    for s, r in enumerate(reads.itertuples(index=False)):
        used = sorted(ix.name for ix in whatif.used(r.query, chosen)) if s in base and chosen else []
        for name in used:
            helped_by.setdefault(name, []).append(s)
        before, after = base.get(s), final.get(s)
        gain = (before - after) / before if before and after is not None else None
        rows.append([s, r.query, r.kind, r.calls, before, after, gain, used, notes.get(s)])
    return per_statement_frame(rows), helped_by


def _unique_names(db: Workbench, indexes: list[IndexDef]) -> list[IndexDef]:
    """The candidates under names no relation of their schema has (CREATE INDEX IF NOT EXISTS
    would otherwise skip one silently), nor another candidate."""
    rows = db.conn.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = ANY(%s)", [sorted({ix.schema for ix in indexes})]).fetchall()
    taken: dict[str, set[str]] = {}
    for schema, name in rows:
        taken.setdefault(schema, set()).add(name)
    named = []
    for ix in indexes:
        ix = ix.named(taken.setdefault(ix.schema, set()))
        taken[ix.schema].add(ix.name)
        named.append(ix)
    return named


def _drops(db: Workbench) -> pd.DataFrame:
    """Existing indexes the health checklist calls duplicate or unused: candidates to drop."""
    found = db.health(checks=["duplicate_index", "unused_index"])
    return found[found["status"].isin(["fail", "warn"])].reset_index(drop=True)
