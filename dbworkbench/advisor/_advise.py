"""From a workload to :class:`~dbworkbench.advisor.advice.Advice`: candidates, what-if costs,
the best set under the budget, and what each chosen index buys.

:class:`Advisor` does the work that does not depend on the budget once (candidates, sizes, each
statement's cost today and with each candidate alone) and keeps the what-if session and its
cache open, so advice at many budgets, greedy or exact, costs only the new combinations each
asks about. :meth:`dbworkbench.Workbench.advise` asks one Advisor once."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg
from tqdm.auto import tqdm

from .. import catalog
from ..errors import WorkbenchError
from ._examples import example_params
from .advice import Advice, per_statement_frame, selected_frame
from .index import IndexDef

if TYPE_CHECKING:
    from ..workbench import Workbench
    from .whatif import WhatIf

#: estimated cost (in the planner's units, where reading one page in sequence is 1) of keeping one
#: index up to date for one written row: a btree descends and writes a leaf, a GIN index more
MAINTENANCE_COST = {"btree": 2.0, "hash": 2.0, "gin": 6.0, "gist": 4.0, "brin": 0.1, "spgist": 4.0}
#: a candidate is costed further only if it lowers some statement's cost by at least this share
MIN_GAIN = 0.01
#: an index is advised only if it saves at least this share of the workload's estimated cost given the
#: others: with budget to spare, indexes worth 0.1 % (128 MB of lineitem (l_orderkey, l_shipdate) beside
#: lineitem (l_orderkey) on TPC-H) are not advice a person would take
MIN_BENEFIT = 0.005


class _Model:
    """The selection's cost model over what-if costs: statements and candidates by position."""

    def __init__(self, whatif: Any, queries: Sequence[str], indexes: Sequence[IndexDef], sizes: Sequence[int]) -> None:
        self.whatif, self.queries, self.indexes, self.sizes = whatif, queries, indexes, sizes

    def cost(self, statement: int, indexes: frozenset[int]) -> float:
        return float(self.whatif.cost(self.queries[statement], [self.indexes[i] for i in sorted(indexes)]))

    def size(self, index: int) -> int:
        return int(self.sizes[index])


def _workload(db: Workbench, workload: Any, top: int, min_calls: int) -> pd.DataFrame:
    from ..plans import PlanLog
    from .workload import from_log, from_sql, from_statements

    if workload is None:
        return db.workload(top=top, min_calls=min_calls)
    if isinstance(workload, PlanLog):
        return from_log(workload, top=top, min_calls=min_calls)
    if isinstance(workload, pd.DataFrame):
        return from_statements(workload, top=top, min_calls=min_calls) if "total_exec_ms" in workload else workload
    if isinstance(workload, str):
        raise TypeError("workload: give a list of SQL strings, an auto_explain log (dbworkbench.read_auto_explain), "
                        "a workload or statements DataFrame, or None")
    return from_sql(list(workload))


def _write_cost(work: pd.DataFrame, index: IndexDef, weight: float) -> float:
    """What keeping ``index`` up costs the workload's writes on its table."""
    names = {index.table, f"{index.schema}.{index.table}"}
    writes = work[(work["kind"] == "write") & work["tables"].map(lambda ts: bool(names & set(ts)))]
    rows = writes["rows"].fillna(writes["calls"]).fillna(0).sum()
    return weight * float(rows) * MAINTENANCE_COST.get(index.method, 2.0)


class Advisor:
    """Index advice for one workload at any budget, keeping the work that does not depend on it.

    Built once: the workload, its candidates (:attr:`candidates`), an open what-if session
    (HypoPG, or real indexes in a rolled-back transaction: see ``WhatIf``) with its cache, each
    statement's estimated cost today, and its cost with each candidate alone on a table it
    reads. :meth:`advise` then costs only the combinations a budget's selection asks about, and
    the cache keeps them for the next budget. Close it (or use ``with``) to drop the what-if
    indexes and end its session. :meth:`dbworkbench.Workbench.advise` makes one and asks once.

    >>> with Advisor(db, workload=queries) as advisor:                        # doctest: +SKIP
    ...     sweep = {mb: advisor.advise(mb).relative_cost for mb in (25, 100, 500)}
    """

    def __init__(
        self,
        db: Workbench,
        *,
        workload: Any = None,
        top: int = 20,
        min_calls: int = 2,
        write_weight: float = 1.0,
        allow_real_indexes: bool = False,
        progress: bool = True,
    ) -> None:
        from .candidates import candidates
        from .schema import SchemaInfo
        from .whatif import WhatIf

        started = time.perf_counter()
        self.db, self.progress = db, progress
        self.workload = work = _workload(db, workload, top, min_calls)
        self.messages: list[str] = []
        self.reads = reads = work[work["kind"].isin(["read", "write"])].reset_index(drop=True)
        if (work["kind"] == "unparsed").any():
            self.messages.append(f"{int((work['kind'] == 'unparsed').sum())} statement(s) could not be parsed and were "
                                 "left out (see advice.workload, kind == 'unparsed')")
        cands = candidates(list(reads["query"]), schema=SchemaInfo.read(db))
        unparsed = cands.attrs.get("unparsed")
        if unparsed is not None and len(unparsed):
            self.messages.append(f"{len(unparsed)} statement(s) gave no candidates: sqlglot could not parse them")
        self.weights: list[float] = reads["calls"].fillna(1).astype(float).tolist()
        whatif = WhatIf(db, allow_real_indexes=allow_real_indexes)
        self._whatif: WhatIf | None = whatif
        self._counts = (0, 0)  # requests and EXPLAINs, kept when closed
        try:
            self._prepare(whatif, cands, write_weight)
            self.drops = _drops(db)
        except BaseException:
            self.close()
            raise
        #: seconds, cost requests and EXPLAINs of the work done once (counted in the first advice)
        self.setup_seconds = time.perf_counter() - started
        self.setup_requests, self.setup_explains = whatif.requests, whatif.explains
        self._first = True

    def _prepare(self, whatif: WhatIf, cands: pd.DataFrame, write_weight: float) -> None:
        """Costs today, sizes, and each statement's cost with each candidate alone (on a table it reads)."""
        progress, weights = self.progress, self.weights
        queries = list(self.reads["query"])
        for query in queries:  # costed for realistic values where they can be found, else generically
            values = example_params(self.db.conn, query)
            if values:
                whatif.examples[query] = values
        self.base: dict[int, float] = {}
        self.notes: dict[int, str] = {}
        for s, query in enumerate(tqdm(queries, desc="cost today", disable=not progress)):
            try:
                self.base[s] = float(whatif.cost(query))
            except (WorkbenchError, psycopg.Error) as err:
                self.notes[s] = f"not costed: {str(err).splitlines()[0]}"
        self.indexes = indexes = _unique_names(self.db, list(cands["index"]))
        self.sizes = sizes = [int(whatif.estimated_size(ix)) for ix in indexes]
        self._model = _Model(whatif, queries, indexes, sizes)
        reads = {s: whatif.tables(queries[s]) for s in self.base}
        pairs = [(s, i) for s in self.base for i, ix in enumerate(indexes) if (ix.schema, ix.table) in reads[s]]
        single: dict[tuple[int, int], float] = {}
        alone = [0.0] * len(indexes)
        for s, i in tqdm(pairs, desc="cost candidates", disable=not progress):
            single[s, i] = after = self._model.cost(s, frozenset([i]))
            if after < self.base[s] * (1 - MIN_GAIN):
                alone[i] += weights[s] * (self.base[s] - after)
        #: candidates that lower some statement's cost by at least MIN_GAIN alone (the others are not considered)
        self.useful = [i for i, gain in enumerate(alone) if gain > 0]
        useful = set(self.useful)
        #: per statement, the useful candidates that lower its cost alone: in company, only these are costed
        self.helps: dict[int, frozenset[int]] = {
            s: frozenset(i for (t, i), c in single.items() if t == s and i in useful and c < b - 1e-9 * max(1.0, b))
            for s, b in self.base.items()
        }
        self.total = sum(weights[s] * c for s, c in self.base.items())
        self.write_cost = {i: _write_cost(self.workload, indexes[i], write_weight) for i in self.useful}
        self.candidates = cands.assign(
            bytes=pd.array(sizes, dtype="Int64"), benefit_pct=[g / self.total if self.total else 0.0 for g in alone],
            name=pd.array([ix.name for ix in indexes], dtype="string"),
            create_sql=pd.array([ix.create_sql() for ix in indexes], dtype="string"),  # under the names given here
            index=pd.Series(indexes, index=cands.index, dtype=object))

    def _cost(self, s: int, chosen: Iterable[int]) -> float:
        """Statement ``s``'s cost with ``chosen``, of which only the indexes that help it alone count
        (as in the selection: one that does not lower its cost alone is taken not to in company)."""
        return self._model.cost(s, frozenset(chosen) & self.helps[s])

    def advise(self, budget_mb: float = 500.0, *, method: str = "greedy", max_indexes: int | None = None,
               min_benefit: float = MIN_BENEFIT) -> Advice:
        """The advice within ``budget_mb``: ``method`` ``"greedy"`` (greedy with swaps) or ``"optimum"``
        (the integer program over the same candidates); at most ``max_indexes`` indexes (None: any); each
        index must save at least ``min_benefit`` of the workload's estimated cost given the others
        (0.005: half a percent; 0: any gain, however small, that fits). ``Advice.requests``/``explains``/
        ``seconds`` count this advice's work (the first also the setup's)."""
        from .select import greedy, optimum

        _check_method(method)
        if not 0 <= min_benefit < 1:
            raise ValueError(f"min_benefit is a share of the workload's cost, 0 or more and below 1 (0.005: half a percent), "
                             f"not {min_benefit}")
        if self._whatif is None:
            raise WorkbenchError("this Advisor is closed: make a new one (dbworkbench.advisor.Advisor(db, ...))")
        started = time.perf_counter()
        whatif, sizes, base, weights = self._whatif, self.sizes, self.base, self.weights
        requests, explains = whatif.requests, whatif.explains
        budget = int(budget_mb * 2**20)
        messages = list(self.messages)
        chosen: tuple[int, ...] = ()
        if self.reads.empty:
            messages.append("the workload holds no statement to serve (pg_stat_statements: none called min_calls times "
                            "since its last reset): run the application's workload first (the demo's: dbworkbench "
                            "workload run), or pass workload=[SQL, ...]")
        elif not self.useful:
            messages.append(f"no candidate lowers the estimated cost of any of the workload's {len(self.reads)} "
                            "statement(s) (advice.workload lists them)")
        elif budget < min(sizes[i] for i in self.useful):
            messages.append(f"the budget ({budget_mb:,.1f} MB) is smaller than any useful index "
                            f"(the smallest takes {min(sizes[i] for i in self.useful) / 2**20:,.1f} MB)")
        else:
            choose = greedy if method == "greedy" else optimum
            live = [weights[s] if s in base else 0.0 for s in range(len(self.reads))]
            # the floor as a fixed price per index: greedy and the optimum weigh it alike
            upkeep = {i: self.write_cost[i] + min_benefit * self.total for i in self.useful}
            picked = choose(self._model, weights=live, candidates=self.useful, budget_bytes=budget,
                            max_indexes=max_indexes, write_cost=upkeep, progress=self.progress, relevant=self.helps)
            chosen = picked.indexes
            messages += [n for n in picked.notes if n not in messages]
        final = {s: self._cost(s, chosen) for s in base}
        cost = sum(weights[s] * c for s, c in final.items())
        indexes = self.indexes
        per_rows, helped_by = self._per_statement(final, chosen)
        selected_rows = []
        for i in chosen:
            without = sum(weights[s] * self._cost(s, set(chosen) - {i}) for s in base)
            helped = helped_by.get(indexes[i].name, [])
            row = self.candidates.iloc[i]
            columns = list(row["columns"]) or [str(row["expression"])]
            selected_rows.append([
                indexes[i].create_sql(), row["table"], columns, sizes[i], without - cost,
                (without - cost) / self.total if self.total else 0.0, len(helped),
                int(self.reads.loc[helped, "calls"].fillna(0).sum()),
                float(self.reads.loc[helped, "total_ms"].fillna(0).sum()), indexes[i].name, indexes[i],
            ])
        if whatif.failed:
            messages.append("costed as absent, since this backend cannot build them: " + "; ".join(
                f"{ix.definition} ({why})" for ix, why in whatif.failed.items())
                + (" (HypoPG simulates btree, brin and hash; on the sandbox real indexes are costed)"
                   if whatif.backend == "hypopg" else ""))
        requests, explains = whatif.requests - requests, whatif.explains - explains
        seconds = time.perf_counter() - started
        if self._first:
            requests, explains, seconds = (requests + self.setup_requests, explains + self.setup_explains,
                                           seconds + self.setup_seconds)
            self._first = False
        return Advice(
            selected=selected_frame(selected_rows), per_statement=per_rows, candidates=self.candidates,
            drops=self.drops, workload=self.workload, budget_bytes=budget, base_cost=self.total, cost=cost,
            method=method, requests=requests, explains=explains, seconds=seconds, messages=messages,
        )

    def _per_statement(self, final: dict[int, float], chosen: tuple[int, ...]) -> tuple[pd.DataFrame, dict[str, list[int]]]:
        rows: list[list[Any]] = []
        helped_by: dict[str, list[int]] = {}
        assert self._whatif is not None
        for s, r in enumerate(self.reads.itertuples(index=False)):
            mine = [self.indexes[i] for i in sorted(set(chosen) & self.helps.get(s, frozenset()))]
            used = sorted(ix.name for ix in self._whatif.used(r.query, mine)) if s in self.base and mine else []
            for name in used:
                helped_by.setdefault(name, []).append(s)
            before, after = self.base.get(s), final.get(s)
            gain = (before - after) / before if before and after is not None else None
            rows.append([s, r.query, r.kind, r.calls, before, after, gain, used, self.notes.get(s)])
        return per_statement_frame(rows), helped_by

    @property
    def requests(self) -> int:
        """Cost requests asked so far (the setup's and every advice's), cached answers included."""
        return self._counts[0] if self._whatif is None else self._whatif.requests

    @property
    def explains(self) -> int:
        """EXPLAINs run so far; the other requests were answered from the cache."""
        return self._counts[1] if self._whatif is None else self._whatif.explains

    def close(self) -> None:
        """Drop the what-if indexes and end the what-if session (the advice given stays valid)."""
        whatif, self._whatif = getattr(self, "_whatif", None), None
        if whatif is not None:
            self._counts = (whatif.requests, whatif.explains)
            whatif.close()

    def __enter__(self) -> Advisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._whatif is None else f"{self._whatif.backend}, open"
        return (f"<Advisor {len(self.reads)} statement(s), {len(self.indexes)} candidates "
                f"({len(self.useful)} useful), {state}>")


def _check_method(method: str) -> None:
    if method not in ("greedy", "optimum"):
        raise ValueError(f"method {method!r}: 'greedy' (the default) or 'optimum' (exact, for small sets)")


def _unique_names(db: Workbench, indexes: list[IndexDef]) -> list[IndexDef]:
    """The candidates under names no relation of their schema has (CREATE INDEX IF NOT EXISTS
    would otherwise skip one silently), nor another candidate."""
    query = catalog.get("health_relation_names", db.server.version_num)  # the one health's fixes use
    taken = {schema: {name for (name,) in db.conn.execute(query, {"schema": schema}).fetchall()}
             for schema in sorted({ix.schema for ix in indexes})}
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
