"""The index advisor: candidates from the workload, what-if costing, the best set under a
storage budget, verified by execution, written as reversible migrations.

Start from :meth:`dbworkbench.Workbench.advise`, or :class:`Advisor` for advice at several
budgets from one costing of the workload; the parts are here for those who want them:
:func:`candidates` (pure: sqlglot), :class:`SchemaInfo`, ``WhatIf`` (what-if costs on a server,
:mod:`.whatif`), :func:`greedy` and :func:`optimum` (selection over any cost model),
:class:`Advice`, :class:`IndexDef`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .advice import Advice
from .candidates import candidates, condition_candidates
from .index import IndexDef
from .schema import SchemaInfo
from .select import greedy, optimum

if TYPE_CHECKING:
    from ._advise import Advisor

__all__ = ["Advice", "Advisor", "IndexDef", "SchemaInfo", "candidates", "condition_candidates", "greedy", "optimum"]


def __getattr__(name: str) -> Any:
    """``Advisor`` talks to a server: imported when first asked for, so the pure parts (an insight's
    CREATE INDEX, candidates from SQL text) load no database driver."""
    if name == "Advisor":
        from ._advise import Advisor

        return Advisor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
