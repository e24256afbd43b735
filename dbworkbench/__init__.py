"""dbworkbench: PostgreSQL query performance work in pandas and JupyterLab.

>>> import dbworkbench as wb
>>> db = wb.connect()          # the sandbox with the demo database  # doctest: +SKIP
>>> db.statements().head()     # doctest: +SKIP

Top-level names load lazily (module ``__getattr__``), so ``import dbworkbench.plans``
brings in no database driver. To add a public name, add one line to ``_LAZY``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ConnectionFailed,
    ExtensionMissing,
    PlanParseError,
    QueryTimeout,
    SandboxError,
    SessionLost,
    UnsafeStatement,
    WorkbenchError,
)

if TYPE_CHECKING:
    from ._escape import safe_tables
    from .plans import Plan, PlanLog, parse_plan, read_auto_explain
    from .report import build_report, setup_notebook
    from .sandbox import Sandbox
    from .snapshot import Snapshot, SnapshotDelta
    from .sqltools import lint
    from .workbench import Workbench, connect

__version__ = "0.1.0"

# public name -> the module that defines it; loaded on first attribute access
_LAZY: dict[str, str] = {
    "Plan": ".plans",
    "PlanLog": ".plans",
    "read_auto_explain": ".plans",
    "parse_plan": ".plans",
    "safe_tables": "._escape",
    "build_report": ".report",
    "setup_notebook": ".report",
    "Sandbox": ".sandbox",
    "Snapshot": ".snapshot",
    "SnapshotDelta": ".snapshot",
    "Workbench": ".workbench",
    "connect": ".workbench",
    "lint": ".sqltools",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dbworkbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext dbworkbench``: the cell magics %%explain, %%lint and %%lab (dbworkbench.widgets.magics)."""
    from .widgets.magics import load_ipython_extension as load

    load(ipython)


__all__ = [
    "ConnectionFailed",
    "ExtensionMissing",
    "Plan",
    "PlanLog",
    "PlanParseError",
    "QueryTimeout",
    "Sandbox",
    "SandboxError",
    "SessionLost",
    "Snapshot",
    "SnapshotDelta",
    "UnsafeStatement",
    "Workbench",
    "WorkbenchError",
    "__version__",
    "build_report",
    "connect",
    "lint",
    "parse_plan",
    "read_auto_explain",
    "safe_tables",
    "setup_notebook",
]
