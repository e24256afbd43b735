"""dbworkbench: PostgreSQL query performance work in pandas and JupyterLab.

>>> import dbworkbench as wb
>>> db = wb.connect()          # the sandbox with the demo database  # doctest: +SKIP
>>> db.statements().head()     # doctest: +SKIP
"""

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
from ._escape import safe_tables
from .plans import Plan, parse_plan
from .sandbox import Sandbox
from .snapshot import Snapshot, SnapshotDelta
from .workbench import Workbench, connect

__version__ = "0.1.0"

__all__ = [
    "ConnectionFailed",
    "ExtensionMissing",
    "Plan",
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
    "connect",
    "parse_plan",
    "safe_tables",
]
