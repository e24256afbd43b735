"""Plan insights: advice that names the problem, the fix, and what the fix could save.

``plan.insights()`` runs every rule in :data:`RULES` on the plan and returns one row
per finding, most valuable first (``est_saving_ms`` descending, then severity):

============== ======= ====================================================================
column         dtype   meaning
============== ======= ====================================================================
code           string  what was found: one of the codes below (stable)
severity       string  critical, warning or info (see below)
node_id        Int64   the node (``plan.nodes.node_id``); <NA> for the plan as a whole
message        string  the problem, with the plan's own numbers
suggestion     string  the fix: runnable SQL where there is one (CREATE INDEX, SET work_mem,
                       VACUUM, ANALYZE, CREATE STATISTICS, ...) and a word on when it applies
est_saving_ms  float64 time a fix could save, estimated from the plan (NaN without timings)
============== ======= ====================================================================

Codes (each is one rule, one module of this package; thresholds are module constants):

======================== ====================================================================
code                     finding
======================== ====================================================================
seq-scan-selective       a Seq Scan whose Filter keeps <= 10% of the rows it reads (>= 1,000
                         removed): the index advisor's ``CREATE INDEX`` for the Filter
index-filter-inefficient an index scan whose Filter throws away >= 80% of what the index
                         found: an index that also covers the filtered columns
misestimate              rows off the estimate by >= 10x where the error starts, when a plan
                         above depended on it: ``ANALYZE``, ``CREATE STATISTICS``, function ROWS
sort-spill               a Sort that ran on disk: ``SET work_mem`` to 2x its disk space (work_mem
                         values are powers of two in MB; past 1GB, shrinking the input comes first)
hash-spill               a Hash with several batches: ``SET work_mem`` for one batch
lossy-bitmap             a Bitmap Heap Scan with lossy blocks: ``SET work_mem`` for an exact bitmap
heap-fetches             an Index Only Scan visiting the table for >= 10% of its rows: ``VACUUM``
loop-amplification       a SubPlan, or a Nested Loop inner side of >= 0.05 ms a loop, run
                         >= 1,000 times per parent run: rewrite as one join / aggregate
workers-not-launched     a Gather that launched fewer workers than planned
jit-overhead             JIT compile time >= 10% of the execution: ``jit_above_cost`` / ``jit``
planning-time            planning >= 30% of the statement and >= 1 ms (info below 5 ms):
                         prepared statements
cte-scan-filter          a materialized CTE computed in full, then filtered: ``NOT MATERIALIZED``
slow-trigger             a trigger >= 10 ms or 10% of the execution; for a foreign key's action
                         trigger, the index on the referencing column
rows-discarded           a Join Filter (or a Filter above the scans, not HAVING) removing >= 80%
                         of the rows produced: the index that lets the join look rows up
read-heavy               a node reading >= 1,000 blocks, most of what it touched, from outside
                         shared buffers
temp-io                  a HashAggregate, Materialize, CTE, WindowAgg, ... that wrote temporary
                         files: ``SET work_mem``
offset-pagination        a Limit that skipped >= 1,000 rows (>= 80% of what it read) under an
                         OFFSET: the rows discarded, and the keyset form that reads one page
not-in-subquery          a Filter with NOT IN (SELECT ...), a SubPlan rather than an anti-join:
                         NOT EXISTS (info when hashed: the NULL trap, not the time)
top-n-sort               a Limit over a Sort of >= 10,000 rows of one table keeping <= 1%: the
                         index on the sort keys that stops the scan after the LIMIT
count-whole-table        count(*) of every row of a table of >= 100,000 rows: the planner's
                         estimate (pg_class.reltuples) or a counter table
======================== ====================================================================

Severity follows ``est_saving_ms``, not the node type: *warning* when the saving is at least
10% of the statement's time (planning + execution) and at least 1 ms, *critical* when at
least 50% and 100 ms, else *info* (``_base.WARNING_SHARE`` and friends). A healthy plan gets
no warning. The savings are estimates from the plan's own numbers (each rule's docstring
says how), meant to rank findings, not to promise a timing: measure the fix.

Each rule is one function ``rule(plan) -> Iterable[Finding]`` in its own module, registered
in :data:`RULES`. Adding a rule means adding a file and a line.

>>> from dbworkbench.plans import parse_plan
>>> plan = parse_plan('''
...  Seq Scan on comments  (cost=0.00..9193.50 rows=15 width=181) (actual time=0.02..41.5 rows=12 loops=1)
...    Filter: (user_id = 'f00d'::uuid)
...    Rows Removed by Filter: 299988
...  Execution Time: 41.6 ms
... ''')
>>> found = plan.insights()
>>> found.loc[0, ["code", "severity"]].tolist()
['seq-scan-selective', 'warning']
>>> found.loc[0, "suggestion"].split(": ")[-1]
'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_user_id ON comments USING btree (user_id);'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._base import SEVERITIES, Finding, grade, view
from ._sql import quote_ident
from .cte_scan_filter import cte_scan_filter
from .hash_spill import hash_spill
from .heap_fetches import heap_fetches
from .index_filter_inefficient import index_filter_inefficient
from .jit_overhead import jit_overhead
from .lossy_bitmap import lossy_bitmap
from .loop_amplification import loop_amplification
from .count_whole_table import count_whole_table
from .misestimate import misestimate
from .not_in_subquery import not_in_subquery
from .offset_pagination import offset_pagination
from .planning_time import planning_time
from .read_heavy import read_heavy
from .rows_discarded import rows_discarded
from .seq_scan_selective import seq_scan_selective
from .slow_trigger import slow_trigger
from .sort_spill import sort_spill
from .temp_io import temp_io
from .top_n_sort import top_n_sort
from .workers_not_launched import workers_not_launched

if TYPE_CHECKING:
    from .._plan import Plan

Rule = Callable[["Plan"], Iterable[Finding]]

#: The rules, in the order their findings are listed when savings tie.
RULES: tuple[Rule, ...] = (
    seq_scan_selective,
    index_filter_inefficient,
    misestimate,
    sort_spill,
    hash_spill,
    lossy_bitmap,
    heap_fetches,
    loop_amplification,
    workers_not_launched,
    jit_overhead,
    planning_time,
    cte_scan_filter,
    slow_trigger,
    rows_discarded,
    read_heavy,
    temp_io,
    offset_pagination,
    not_in_subquery,
    top_n_sort,
    count_whole_table,
)

#: Every code, in :data:`RULES` order.
CODES: tuple[str, ...] = tuple(rule.__name__.replace("_", "-") for rule in RULES)

#: Columns of :func:`run`'s DataFrame and their dtypes.
COLUMNS: dict[str, str] = {
    "code": "string",
    "severity": "string",
    "node_id": "Int64",
    "message": "string",
    "suggestion": "string",
    "est_saving_ms": "float64",
}


def run(plan: Plan, rules: Iterable[Rule] | None = None) -> pd.DataFrame:
    """Run ``rules`` (default: :data:`RULES`) on ``plan``; one row per finding, most valuable first.

    Columns and dtypes: :data:`COLUMNS`.
    """
    selected = list(RULES if rules is None else rules)
    order = {rule.__name__.replace("_", "-"): k for k, rule in enumerate(selected)}
    total = view(plan).total_ms
    rows = []
    for rule in selected:
        for f in rule(plan):
            saving = float(f.est_saving_ms) if f.est_saving_ms is not None else math.nan
            if total is not None and saving > total:
                saving = total  # no fix saves more than the statement takes
            severity = grade(saving, total)
            if f.severity is not None and SEVERITIES.index(f.severity) > SEVERITIES.index(severity):
                severity = f.severity  # a rule may cap its finding's severity, never raise it
            rows.append((f.code, severity, f.node_id, f.message, f.suggestion, round(saving, 3) if saving == saving else saving))
    rows.sort(
        key=lambda r: (
            -r[5] if r[5] == r[5] else math.inf,
            SEVERITIES.index(r[1]),
            order.get(r[0], len(order)),
            -1 if r[2] is None else r[2],
        )
    )
    columns: dict[str, Any] = {}
    for k, (name, dtype) in enumerate(COLUMNS.items()):
        values: list[Any] = [r[k] for r in rows]
        columns[name] = pd.array(values, dtype=dtype)  # type: ignore[call-overload]
    return pd.DataFrame(columns)


__all__ = ["CODES", "COLUMNS", "RULES", "Finding", "Rule", "quote_ident", "run"]
