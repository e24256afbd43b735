"""Synthetic cost models for selection's tests and benchmark: no server, known interaction.

Statement ``s`` costs ``base[s] * prod_t (1 - r_t)``, where ``r_t`` is the largest reduction
``reduction[s, i]`` among the given indexes on table ``t``: two indexes on one table serve the
statement once (the better wins), indexes on different tables compound (a join).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TableCostModel:
    """A :class:`~dbworkbench.advisor.select.CostModel`; ``asked`` records every cost request."""

    base: list[float]
    table: list[int]
    sizes: list[int]
    reduction: dict[tuple[int, int], float]
    asked: list[tuple[int, frozenset[int]]] = field(default_factory=list)

    def cost(self, statement: int, indexes: frozenset[int]) -> float:
        self.asked.append((statement, indexes))
        best: dict[int, float] = {}
        for i in indexes:
            r = self.reduction.get((statement, i), 0.0)
            best[self.table[i]] = max(best.get(self.table[i], 0.0), r)
        cost = self.base[statement]
        for r in best.values():
            cost *= 1.0 - r
        return cost

    def size(self, index: int) -> int:
        return self.sizes[index]
