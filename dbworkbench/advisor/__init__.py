"""The index advisor: candidates from the workload, what-if costing, the best set under a
storage budget, verified by execution, written as reversible migrations."""

from .index import IndexDef

__all__ = ["IndexDef"]
