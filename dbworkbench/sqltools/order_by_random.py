"""order-by-random: ``ORDER BY random()`` reads and sorts every row to keep a few."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query

CODE = "order-by-random"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'ORDER BY random() sorts every qualifying row to return a few: TABLESAMPLE or a random key.'


def order_by_random(q: Query) -> Iterator[Finding]:
    """An ORDER BY on ``random()``: every row that passes the WHERE is read, given a random
    number and sorted, however small the LIMIT."""
    for order in q.tree.find_all(exp.Order):
        for item in order.expressions:
            key = item.this if isinstance(item, exp.Ordered) else item
            if isinstance(key, exp.Rand):
                yield q.finding(
                    CODE,
                    "warning",
                    item,
                    "ORDER BY random() reads and sorts every qualifying row to return a few.",
                    "For a sample of a large table use TABLESAMPLE SYSTEM (percent) or bernoulli; for one random "
                    "row pick a random key (WHERE id >= <random value> ORDER BY id LIMIT 1) that an index serves.",
                )
