"""The offline plan engine: parse any EXPLAIN output into a :class:`Plan` of DataFrames,
and every plan of an auto_explain log into a :class:`PlanLog` (:func:`read_auto_explain`).

No database driver is imported here: a pasted plan is analysed offline.

>>> from dbworkbench.plans import parse_plan
>>> parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)").nodes.loc[0, "relation"]
't'
"""

from __future__ import annotations

from ._log import PlanLog, read_auto_explain
from ._parse import parse_plan
from ._plan import Plan

__all__ = ["Plan", "PlanLog", "parse_plan", "read_auto_explain"]
