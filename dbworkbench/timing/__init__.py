"""Timing: repeated, interleaved runs of two statements, their statistics, result equivalence,
and N+1 detection from the statement statistics.

- :func:`compare` / ``db.compare(sql_a, sql_b)`` → :class:`Comparison` (:mod:`.comparison`)
- :func:`same_results` / ``db.same_results(sql_a, sql_b)`` → :class:`SameResults` (:mod:`.results`)
- :func:`n_plus_one` / ``db.n_plus_one()``: N+1 loops from pg_stat_statements (:mod:`.n_plus_one`)
- :mod:`.stats`: the statistics, pure
"""

from __future__ import annotations

from .comparison import TIMINGS_COLUMNS, Comparison, WrongResults, compare
from .n_plus_one import N_PLUS_ONE_COLUMNS, n_plus_one
from .results import SameResults, has_order_by, same_results
from .stats import SUMMARY_COLUMNS, summarize

__all__ = [
    "N_PLUS_ONE_COLUMNS", "SUMMARY_COLUMNS", "TIMINGS_COLUMNS", "Comparison", "SameResults", "WrongResults", "compare", "has_order_by",
    "n_plus_one", "same_results", "summarize",
]
