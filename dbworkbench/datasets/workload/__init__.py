"""The demo workload: a blog application's statements, parsed from ``data/demo/workload.sql``.

Three modules: the file format (``_file``), the parameter values (``_values``), the runner
(``_runner``). Statements are split by the guard's splitter (``dbworkbench.guard.split_statements``).

:func:`load_workload` parses the annotated file (its header format is documented at
the top of the file) into :class:`WorkloadStatement` objects; :func:`run_workload`
runs weighted random picks of them against the demo database and returns a summary.

>>> stmts = load_workload()
>>> len(stmts) >= 25
True
>>> next(s for s in stmts if s.name == "user_by_lower_email").kind
'read'
"""

from __future__ import annotations

from ._file import (
    ForEach,
    Param,
    WorkloadError,
    WorkloadStatement,
    auto_explain_log_path,
    load_workload,
    parse_workload,
    workload_path,
)
from ._runner import SUMMARY_COLUMNS, run_workload
from ._values import GENERATORS, Pools, check_args, sample_pools

__all__ = [
    "GENERATORS",
    "SUMMARY_COLUMNS",
    "ForEach",
    "Param",
    "Pools",
    "WorkloadError",
    "WorkloadStatement",
    "auto_explain_log_path",
    "check_args",
    "load_workload",
    "parse_workload",
    "run_workload",
    "sample_pools",
    "workload_path",
]
