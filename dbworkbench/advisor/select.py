"""Choose the set of indexes that minimises a workload's estimated cost within a storage budget.

Pure: no server. A *cost model* answers two questions: the estimated cost of statement ``s``
when the indexes ``X`` exist (``cost(s, X)``, e.g. the what-if planner's total cost) and the
size of index ``i`` in bytes. Statements are ``0..len(weights)-1``; indexes are the integers in
``candidates``. The objective is

    sum_s weights[s] * cost(s, X)  +  sum_{i in X} write_cost[i]

under ``sum_{i in X} size(i) <= budget_bytes`` and ``len(X) <= max_indexes``.

Two ways to choose:

- :func:`greedy` (the default): adds the index with the best gain per byte until nothing fits
  or helps (lazily: a gain found earlier bounds the gain now, since gains shrink as indexes
  join), does the same by plain gain, keeps the better, then improves it by local moves
  until none lowers the objective: drop one index; swap one for another that serves one of the
  same statements; bring in one that did not fit. Where a newcomer does not fit, the chosen
  indexes that together lose least once it is in, among those that free enough room, make room (a
  small knapsack cover, solved exactly by branch and bound). Each round ranks the moves as they stand and
  refills the freed budget of the best few (``refills``) only: refilling asks the most new costs.
- :func:`optimum`: an integer program solved by HiGHS (``scipy.optimize.milp``), CoPhy-style:
  each statement picks one *configuration* among {}, each single candidate that helps it, and
  combinations (pairs, triples: up to ``max_width`` indexes) of helpful candidates that together
  beat each of their parts, grown only from combinations that were kept; a configuration may be used only when all of its indexes are chosen. It is exact over
  those configurations: a statement whose best plan needs more than ``max_width`` of the
  chosen indexes at once is costed by its best configuration of ``max_width`` (an upper
  bound), and ``max_configs`` caps how many combinations are tried per statement
  (:attr:`Selection.notes` says when the cap was reached).

Both first ask the cost of every statement with each single candidate. An index that does not
lower a statement's cost on its own is taken not to lower it in company either (as Extend and
DB2Advis assume), so ``cost(s, X)`` is asked for ``X`` cut down to the indexes that help ``s``;
answers are remembered, and :attr:`Selection.requests` counts the questions put to the model.

>>> class Model:
...     def cost(self, statement, indexes):
...         return 100.0 - (60.0 if 0 in indexes else 0.0) - (30.0 if 1 in indexes else 0.0)
...     def size(self, index):
...         return 10
>>> pick = greedy(Model(), weights=[1.0], candidates=[0, 1], budget_bytes=10)
>>> pick.indexes, pick.cost, pick.relative_cost
((0,), 40.0, 0.4)
>>> optimum(Model(), weights=[1.0], candidates=[0, 1], budget_bytes=20).indexes
(0, 1)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tqdm.auto import tqdm

__all__ = ["CostModel", "Selection", "greedy", "optimum"]


class CostModel(Protocol):
    """What selection needs to know: a statement's cost with a set of indexes, and an index's size."""

    def cost(self, statement: int, indexes: frozenset[int]) -> float: ...

    def size(self, index: int) -> int: ...


@dataclass(frozen=True)
class Selection:
    """A chosen set of indexes and what it costs.

    ``cost``: the objective with ``indexes`` (weighted statement costs plus their write costs);
    ``base_cost``: the weighted statement costs with no new index; ``requests``: cost requests
    put to the model (answers are remembered, so each (statement, index set) is asked once);
    ``seconds``: wall time; ``method``: ``"greedy"`` or ``"optimum"``; ``notes``: what the
    caller should know (nothing fits the budget, a cap or time limit was reached).
    """

    indexes: tuple[int, ...]
    cost: float
    base_cost: float
    requests: int
    seconds: float
    method: str
    notes: tuple[str, ...] = ()

    @property
    def relative_cost(self) -> float:
        """``cost / base_cost`` (1.0 when the workload costs nothing to begin with)."""
        return self.cost / self.base_cost if self.base_cost > 0 else 1.0


# --------------------------------------------------------------------------- shared evaluation


class _Workload:
    """The cost model seen through one selection problem: remembered answers, helpful sets, budget."""

    def __init__(
        self,
        model: CostModel,
        weights: Sequence[float],
        candidates: Sequence[int],
        budget_bytes: int,
        max_indexes: int | None,
        write_cost: Mapping[int, float] | None,
        relevant: Mapping[int, Collection[int]] | None,
        progress: bool,
        desc: str,
    ) -> None:
        if budget_bytes < 0:
            raise ValueError(f"budget_bytes must be 0 or more, not {budget_bytes}")
        if max_indexes is not None and max_indexes < 0:
            raise ValueError(f"max_indexes must be 0 or more (or None for no limit), not {max_indexes}")
        if any(w < 0 for w in weights):
            raise ValueError("weights must be 0 or more (a statement's calls or share of time)")
        if len(set(candidates)) != len(candidates):
            raise ValueError("candidates must not repeat an index")
        self.model, self.weights = model, [float(w) for w in weights]
        self.budget, self.max_indexes = int(budget_bytes), max_indexes
        self.write = {i: float((write_cost or {}).get(i, 0.0)) for i in candidates}
        self.size = {i: int(model.size(i)) for i in candidates}
        self.notes: list[str] = []
        self.requests = 0
        self._memo: dict[tuple[int, frozenset[int]], float] = {}
        self._bar = tqdm(desc=desc, unit="request", disable=not progress, leave=False)
        self.statements = [s for s, w in enumerate(self.weights) if w > 0]
        self.base = {s: self.cost(s, frozenset()) for s in self.statements}
        fitting = [i for i in candidates if self.size[i] <= self.budget]
        if candidates and not fitting:
            smallest = min(self.size.values())
            self.notes.append(f"no candidate fits the budget of {self.budget:,} bytes; the smallest takes {smallest:,} "
                              "bytes: raise budget_bytes to choose any")
        if self.max_indexes == 0:
            fitting = []
        # which candidates help which statement on their own
        self.single: dict[tuple[int, int], float] = {}
        self.helps: dict[int, frozenset[int]] = {}
        for s in self.statements:
            wanted = None if relevant is None else frozenset(relevant.get(s, ()))
            allowed = fitting if wanted is None else [i for i in fitting if i in wanted]
            helpful = []
            for i in allowed:
                c = self.cost(s, frozenset((i,)))
                if c < self.base[s] - _eps(self.base[s]):
                    self.single[s, i] = c
                    helpful.append(i)
            self.helps[s] = frozenset(helpful)
        self.serves: dict[int, list[int]] = {i: [] for i in candidates}
        for s in self.statements:
            for i in self.helps[s]:
                self.serves[i].append(s)
        # an index whose gains alone never pay its write cost cannot pay it in company (gains only shrink)
        self.useful = [i for i in fitting
                       if sum(self.weights[s] * (self.base[s] - self.single[s, i]) for s in self.serves[i]) > self.write[i]]

    def close(self) -> None:
        self._bar.close()

    def cost(self, s: int, indexes: frozenset[int]) -> float:
        """Cost of statement ``s`` with ``indexes`` (cut down to those that help it), asked once."""
        key = (s, indexes)
        found = self._memo.get(key)
        if found is None:
            found = float(self.model.cost(s, indexes))
            self._memo[key] = found
            self.requests += 1
            self._bar.update(1)
        return found

    def stmt_cost(self, s: int, chosen: frozenset[int]) -> float:
        return self.cost(s, chosen & self.helps[s])

    def objective(self, chosen: frozenset[int]) -> float:
        return (sum(self.weights[s] * self.stmt_cost(s, chosen) for s in self.statements)
                + sum(self.write[i] for i in chosen))

    @property
    def base_cost(self) -> float:
        return sum(self.weights[s] * self.base[s] for s in self.statements)

    def fits(self, chosen: Collection[int], extra: int) -> bool:
        if self.max_indexes is not None and len(chosen) + 1 > self.max_indexes:
            return False
        return sum(self.size[i] for i in chosen) + self.size[extra] <= self.budget

    def change(self, chosen: frozenset[int], add: Iterable[int] = (), drop: Iterable[int] = ()) -> float:
        """How much the objective falls when ``add`` joins and ``drop`` leaves ``chosen``."""
        add, drop = frozenset(add), frozenset(drop)
        after = (chosen - drop) | add
        touched = {s for i in add | drop for s in self.serves[i]}
        gain = sum(self.weights[s] * (self.stmt_cost(s, chosen) - self.stmt_cost(s, after)) for s in touched)
        return gain - sum(self.write[i] for i in add) + sum(self.write[i] for i in drop)

    def selection(self, chosen: Iterable[int], started: float, method: str, notes: Iterable[str] = ()) -> Selection:
        picked = frozenset(chosen)
        return Selection(tuple(sorted(picked)), self.objective(picked), self.base_cost, self.requests,
                         time.perf_counter() - started, method, tuple(self.notes) + tuple(notes))


def _eps(value: float) -> float:
    return 1e-9 * max(1.0, abs(value))


# --------------------------------------------------------------------------- greedy


def _by_ratio(w: _Workload, gain: float, i: int) -> float:
    return gain / max(w.size[i], 1)


def _by_gain(w: _Workload, gain: float, i: int) -> float:
    return gain


_Rank = Callable[[_Workload, float, int], float]


def _fill(w: _Workload, rank: _Rank, chosen: frozenset[int], banned: Collection[int] = ()) -> frozenset[int]:
    """Add the best-ranked index that fits and lowers the objective, until none does.

    Lazily: an index's last score bounds its next from above (it helps less once others serve
    the same statements), so each step asks again only for the indexes whose bound could still
    beat the best score found in that step, best bound first."""
    bound: dict[int, float] = {}
    while True:
        pool = [i for i in w.useful
                if i not in chosen and i not in banned and bound.get(i, math.inf) > 0 and w.fits(chosen, i)]
        pool.sort(key=lambda i: -bound.get(i, math.inf))  # stable: among equal bounds, the candidates' order
        best, best_score = None, 0.0
        for i in pool:
            if best is not None and bound.get(i, math.inf) <= best_score:
                break
            gain = w.change(chosen, add=(i,))
            bound[i] = score = rank(w, gain, i) if gain > _eps(w.base_cost) else 0.0
            if score > 0 and (best is None or score > best_score):
                best, best_score = i, score
        if best is None:
            return chosen
        chosen = chosen | {best}


def _best_fill(w: _Workload, chosen: frozenset[int], banned: Collection[int] = ()) -> frozenset[int]:
    """Fill by gain per byte and by plain gain; keep the one with the lower objective."""
    options = [_fill(w, rank, chosen, banned) for rank in (_by_ratio, _by_gain)]
    return min(options, key=lambda x: (w.objective(x), sorted(x)))


def _moves(w: _Workload, chosen: frozenset[int]) -> Iterator[tuple[frozenset[int], frozenset[int]]]:
    """The neighbours local search tries from ``chosen``, not yet refilled, each with the indexes it
    took out (kept out of its refill): drop one; swap one for another that serves one of the same
    statements; bring in one that does not fit. Where the newcomer does not fit, the chosen indexes
    that together lose least with it in, among those that free enough room, leave."""
    def room(rest: frozenset[int], j: int) -> frozenset[int]:
        """``rest`` less the indexes whose summed loss once ``j`` is in (each on its own) is least
        among those that free room enough for ``j``."""
        if w.fits(rest, j):
            return rest
        loss = {i: -w.change(rest | {j}, drop=(i,)) for i in rest}
        return rest - _cover(w, loss, j)

    for i in sorted(chosen):
        yield chosen - {i}, frozenset((i,))
        partners = {j for s in w.serves[i] for j in w.helps[s]} - chosen
        for j in sorted(partners):
            if j in w.useful and w.fits((), j):
                rest = room(chosen - {i}, j)
                yield rest | {j}, chosen - rest
    for j in w.useful:
        if j not in chosen and not w.fits(chosen, j) and w.fits((), j):
            rest = room(chosen, j)
            yield rest | {j}, chosen - rest


def _cover(w: _Workload, loss: Mapping[int, float], j: int) -> frozenset[int]:
    """The indexes of ``loss`` to take out so that ``j`` fits, with the least summed loss (a loss
    below zero, an index that costs more than it saves, counts as none): a small knapsack cover
    solved exactly by branch and bound, cheapest per byte first, each branch cut by the bound of
    its fractional completion. (HiGHS, through ``milp``, prints debug lines to stdout on some of
    these.) All of them when no cover exists."""
    need = sum(w.size[i] for i in loss) + w.size[j] - w.budget
    count = 0 if w.max_indexes is None else len(loss) + 1 - w.max_indexes
    order = sorted(loss, key=lambda i: (max(loss[i], 0.0) / max(w.size[i], 1), w.size[i], i))
    cost = [max(loss[i], 0.0) for i in order]
    size = [max(w.size[i], 1) for i in order]
    best: list[Any] = [math.inf, frozenset(order)]

    def bound(pos: int, freed: int, spent: float) -> float:
        for k in range(pos, len(order)):
            if freed >= need:
                break
            spent += cost[k] * min(1.0, (need - freed) / size[k])
            freed += size[k]
        return spent if freed >= need else math.inf

    def search(pos: int, freed: int, taken: int, spent: float, out: tuple[int, ...]) -> None:
        if freed >= need and taken >= count:
            if spent < best[0]:
                best[:] = [spent, frozenset(out)]
            return
        if pos == len(order) or bound(pos, freed, spent) >= best[0]:
            return
        search(pos + 1, freed + size[pos], taken + 1, spent + cost[pos], (*out, order[pos]))
        search(pos + 1, freed, taken, spent, out)

    search(0, 0, 0, 0.0, ())
    return best[1]


def _improve(w: _Workload, chosen: frozenset[int], max_rounds: int, refills: int) -> frozenset[int]:
    """Local search over :func:`_moves`: each round ranks the neighbours by their objective as they are,
    refills the ``refills`` best (refilling is what costs new requests), and takes the best refilled one
    as long as the objective falls."""
    current = w.objective(chosen)
    for _ in range(max_rounds):
        ranked = sorted(((w.objective(move), sorted(move), move, out) for move, out in _moves(w, chosen)),
                        key=lambda m: (m[0], m[1]))
        best, best_value = None, current - _eps(w.base_cost)
        for _value, _order, move, out in ranked[:refills]:
            filled = _fill(w, _by_ratio, move, banned=out)
            value = w.objective(filled)
            if value < best_value:
                best, best_value = filled, value
        if best is None:
            return chosen
        chosen = _best_fill(w, best)
        current = w.objective(chosen)
    return chosen


def greedy(
    model: CostModel,
    *,
    weights: Sequence[float],
    candidates: Sequence[int],
    budget_bytes: int,
    max_indexes: int | None = None,
    write_cost: Mapping[int, float] | None = None,
    swaps: bool = True,
    progress: bool = False,
    relevant: Mapping[int, Collection[int]] | None = None,
    max_rounds: int = 50,
    refills: int = 8,
) -> Selection:
    """The indexes a greedy pass with swap improvements chooses (see the module's docstring).

    ``relevant`` (optional): for each statement, the candidates that may change its cost (for
    example those on the tables it reads); the others are never asked about (a statement missing
    from it gets none). ``max_rounds`` bounds the improvement moves; ``refills``: how many of each
    round's neighbours, the best as they stand, are refilled and compared (each refill asks new costs).
    ``progress`` shows a tqdm counter of cost requests.

    >>> class Model:
    ...     def cost(self, statement, indexes):
    ...         return 10.0 - 6.0 * (0 in indexes) - 5.0 * (1 in indexes) - 5.0 * (2 in indexes)
    ...     def size(self, index):
    ...         return (6, 5, 5)[index]
    >>> greedy(Model(), weights=[1.0], candidates=[0, 1, 2], budget_bytes=10).indexes
    (1, 2)
    """
    started = time.perf_counter()
    w = _Workload(model, weights, candidates, budget_bytes, max_indexes, write_cost, relevant, progress, "greedy")
    try:
        chosen = _best_fill(w, frozenset())
        if swaps:
            chosen = _improve(w, chosen, max_rounds, refills)
        return w.selection(chosen, started, "greedy")
    finally:
        w.close()


# --------------------------------------------------------------------------- optimum


def _configurations(w: _Workload, s: int, max_width: int, max_configs: int) -> tuple[dict[frozenset[int], float], bool]:
    """Statement ``s``'s configurations and their costs: {}, each helpful single, and combinations up to
    ``max_width`` that beat every configuration one smaller inside them; ``True`` when the cap cut them."""
    configs: dict[frozenset[int], float] = {frozenset(): w.base[s]}
    configs.update({frozenset((i,)): w.single[s, i] for i in w.helps[s] if i in w.useful})
    helpful = sorted((i for i in w.helps[s] if i in w.useful), key=lambda i: w.single[s, i])
    layer = [frozenset((i,)) for i in helpful]
    budget, capped = max_configs, False
    for _width in range(2, max_width + 1):
        # only combinations whose every part one smaller was kept (two indexes that do not compound,
        # such as two on one table, make no wider configuration either); most promising first
        grown = {c | {i} for c in layer for i in helpful if i not in c}
        grown = {c for c in grown if sum(w.size[i] for i in c) <= w.budget
                 and (w.max_indexes is None or len(c) <= w.max_indexes)
                 and all(c - {i} in configs for i in c)}
        order = sorted(grown, key=lambda c: (_independent(w, s, c), sorted(c)))
        if len(order) > budget:
            order, capped = order[:budget], True
        budget -= len(order)
        layer = []
        for c in order:
            value = w.cost(s, c)
            parts = [configs.get(c - {i}, w.base[s]) for i in c]
            if value < min(parts) - _eps(w.base[s]):
                configs[c] = value
                layer.append(c)
        if not layer or budget <= 0:
            break
    return configs, capped


def _prune(w: _Workload, chosen: frozenset[int]) -> frozenset[int]:
    """Leave out chosen indexes the objective does not need (the program is indifferent to them)."""
    for i in sorted(chosen, key=lambda i: (-w.size[i], i)):
        if w.change(chosen, drop=(i,)) >= -_eps(w.base_cost):
            chosen = chosen - {i}
    return chosen


def _independent(w: _Workload, s: int, config: frozenset[int]) -> float:
    rel = 1.0
    for i in config:
        rel *= w.single[s, i] / w.base[s] if w.base[s] > 0 else 1.0
    return rel


def optimum(
    model: CostModel,
    *,
    weights: Sequence[float],
    candidates: Sequence[int],
    budget_bytes: int,
    max_indexes: int | None = None,
    write_cost: Mapping[int, float] | None = None,
    progress: bool = False,
    relevant: Mapping[int, Collection[int]] | None = None,
    max_width: int = 3,
    max_configs: int = 500,
    time_limit: float | None = None,
) -> Selection:
    """The best set over the same candidates by an integer program (``scipy.optimize.milp``).

    Exact over per-statement configurations of up to ``max_width`` indexes (at most
    ``max_configs`` combinations tried per statement); see the module's docstring. The cost
    reported is the model's cost of the chosen set, not the program's bound. ``time_limit``
    (seconds) stops the solver early with its best set so far (noted). Other arguments as
    :func:`greedy`.

    >>> class Model:
    ...     def cost(self, statement, indexes):
    ...         return 10.0 - 6.0 * (0 in indexes) - 5.0 * (1 in indexes) - 5.0 * (2 in indexes)
    ...     def size(self, index):
    ...         return (6, 5, 5)[index]
    >>> optimum(Model(), weights=[1.0], candidates=[0, 1, 2], budget_bytes=10).indexes
    (1, 2)
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    if max_width < 1:
        raise ValueError(f"max_width must be 1 or more, not {max_width}")
    started = time.perf_counter()
    w = _Workload(model, weights, candidates, budget_bytes, max_indexes, write_cost, relevant, progress, "optimum")
    try:
        xs = list(w.useful)
        if not xs:
            return w.selection((), started, "optimum")
        column = {i: k for k, i in enumerate(xs)}
        objective: list[float] = [w.write[i] for i in xs]
        rows: list[tuple[list[int], list[float], float, float]] = []  # (columns, coefficients, lower, upper)
        capped = 0
        for s in w.statements:
            configs, cut = _configurations(w, s, max_width, max_configs)
            capped += cut
            ys = []
            for config, value in configs.items():
                y = len(objective)
                objective.append(w.weights[s] * value)
                ys.append(y)
                rows += [([y, column[i]], [1.0, -1.0], -np.inf, 0.0) for i in config]
            rows.append((ys, [1.0] * len(ys), 1.0, 1.0))
        n = len(objective)
        rows.append(([column[i] for i in xs], [float(w.size[i]) for i in xs], -np.inf, float(w.budget)))
        if w.max_indexes is not None:
            rows.append(([column[i] for i in xs], [1.0] * len(xs), -np.inf, float(w.max_indexes)))
        r = [k for k, (cols, _, _, _) in enumerate(rows) for _ in cols]
        c = [col for cols, _, _, _ in rows for col in cols]
        v = [x for _, coefs, _, _ in rows for x in coefs]
        matrix = coo_array((v, (r, c)), shape=(len(rows), n)).tocsr()
        constraint = LinearConstraint(matrix, [lo for *_, lo, _ in rows], [hi for *_, hi in rows])
        integrality = np.zeros(n)
        integrality[: len(xs)] = 1  # the y's need not be: given x, the cheapest allowed configuration is integral
        options: dict[str, Any] = {"mip_rel_gap": 1e-9}
        if time_limit is not None:
            options["time_limit"] = time_limit
        result = milp(np.asarray(objective), constraints=constraint, integrality=integrality,
                      bounds=Bounds(0.0, 1.0), options=options)
        notes = []
        if capped:
            notes.append(f"{capped} statement(s) had more index combinations than max_configs={max_configs}; "
                         "the optimum is exact over the ones tried")
        if result.x is None:
            why = (f"reached time_limit={time_limit} s before it found a set" if result.status == 1
                   else f"found no set ({result.message})")
            notes.append(f"the solver {why}; nothing chosen: raise time_limit or use greedy()")
            return w.selection((), started, "optimum", notes)
        if result.status != 0:
            notes.append(f"the solver stopped at time_limit={time_limit} s with its best set so far, within "
                         f"{100 * (getattr(result, 'mip_gap', None) or 0.0):.2f} % of its bound: raise time_limit for the optimum")
        chosen = _prune(w, frozenset(i for i in xs if result.x[column[i]] > 0.5))
        return w.selection(chosen, started, "optimum", notes)
    finally:
        w.close()
