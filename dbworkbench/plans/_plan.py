"""The Plan object: a node table, plan-level facts, JSON and text renderings."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
from pandas.arrays import BooleanArray, FloatingArray, IntegerArray, StringArray

from .._escape import html_text, math_off
from . import _keys as K
from ._timing import Tree, attribute, exclusive, flatten, process_divisors

if TYPE_CHECKING:
    from pandas._libs.missing import NAType

# name, dtype -- the order of ``Plan.nodes``; described in the Plan docstring.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("node_id", "Int64"),
    ("parent_id", "Int64"),
    ("depth", "Int64"),
    ("node_type", "string"),
    ("parent_relationship", "string"),
    ("subplan_name", "string"),
    ("cte_name", "string"),
    ("relation", "string"),
    ("schema", "string"),
    ("alias", "string"),
    ("index_name", "string"),
    ("join_type", "string"),
    ("strategy", "string"),
    ("startup_cost", "Float64"),
    ("total_cost", "Float64"),
    ("plan_rows", "Float64"),
    ("plan_width", "Int64"),
    ("actual_startup_ms", "Float64"),
    ("actual_total_ms", "Float64"),
    ("actual_rows", "Float64"),
    ("actual_loops", "Int64"),
    ("never_executed", "boolean"),
    ("workers_planned", "Int64"),
    ("workers_launched", "Int64"),
    ("inclusive_ms", "Float64"),
    ("exclusive_ms", "Float64"),
    ("exclusive_pct", "Float64"),
    ("misestimate", "Float64"),
    ("misestimate_direction", "string"),
    ("rows_removed_by_filter", "Float64"),
    ("rows_removed_by_index_recheck", "Float64"),
    ("rows_removed_by_join_filter", "Float64"),
    ("heap_fetches", "Float64"),
    ("exact_heap_blocks", "Int64"),
    ("lossy_heap_blocks", "Int64"),
    ("filter", "string"),
    ("index_cond", "string"),
    ("recheck_cond", "string"),
    ("join_filter", "string"),
    ("hash_cond", "string"),
    ("merge_cond", "string"),
    ("sort_key", "string"),
    ("sort_method", "string"),
    ("sort_space_kb", "Int64"),
    ("sort_space_type", "string"),
    ("hash_buckets", "Int64"),
    ("hash_batches", "Int64"),
    ("hash_batches_original", "Int64"),
    ("peak_memory_kb", "Int64"),
    ("shared_hit", "Int64"),
    ("shared_read", "Int64"),
    ("shared_dirtied", "Int64"),
    ("shared_written", "Int64"),
    ("temp_read", "Int64"),
    ("temp_written", "Int64"),
    ("io_read_ms", "Float64"),
    ("io_write_ms", "Float64"),
    ("shared_hit_excl", "Int64"),
    ("shared_read_excl", "Int64"),
    ("shared_dirtied_excl", "Int64"),
    ("shared_written_excl", "Int64"),
    ("temp_read_excl", "Int64"),
    ("temp_written_excl", "Int64"),
)

_STRING_COLS = {
    "node_type": "Node Type",
    "parent_relationship": "Parent Relationship",
    "subplan_name": "Subplan Name",
    "cte_name": "CTE Name",
    "relation": "Relation Name",
    "schema": "Schema",
    "alias": "Alias",
    "index_name": "Index Name",
    "join_type": "Join Type",
    "strategy": "Strategy",
    "filter": "Filter",
    "index_cond": "Index Cond",
    "recheck_cond": "Recheck Cond",
    "join_filter": "Join Filter",
    "hash_cond": "Hash Cond",
    "merge_cond": "Merge Cond",
    "sort_key": "Sort Key",
    "sort_method": "Sort Method",
    "sort_space_type": "Sort Space Type",
}
_FLOAT_COLS = {
    "startup_cost": "Startup Cost",
    "total_cost": "Total Cost",
    "plan_rows": "Plan Rows",
    "actual_startup_ms": "Actual Startup Time",
    "actual_total_ms": "Actual Total Time",
    "actual_rows": "Actual Rows",
    "rows_removed_by_filter": "Rows Removed by Filter",
    "rows_removed_by_index_recheck": "Rows Removed by Index Recheck",
    "rows_removed_by_join_filter": "Rows Removed by Join Filter",
    "heap_fetches": "Heap Fetches",
}
_INT_COLS = {
    "plan_width": "Plan Width",
    "actual_loops": "Actual Loops",
    "workers_planned": "Workers Planned",
    "workers_launched": "Workers Launched",
    "exact_heap_blocks": "Exact Heap Blocks",
    "lossy_heap_blocks": "Lossy Heap Blocks",
    "sort_space_kb": "Sort Space Used",
    "hash_buckets": "Hash Buckets",
    "hash_batches_original": "Original Hash Batches",
    "peak_memory_kb": "Peak Memory Usage",
}
_BUFFER_COLS = {
    "shared_hit": "Shared Hit Blocks",
    "shared_read": "Shared Read Blocks",
    "shared_dirtied": "Shared Dirtied Blocks",
    "shared_written": "Shared Written Blocks",
    "temp_read": "Temp Read Blocks",
    "temp_written": "Temp Written Blocks",
}
_TOP_LEVEL_FIRST = ("Plan", "Query Text", "Planning", "Planning Time", "Triggers", "JIT", "Settings", "Serialization")


# --------------------------------------------------------------------------- value coercion


def _num(v: Any) -> float | None:
    """A finite float, or None (bools, text, NaN and infinities are not numbers here)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        f = float(v) if not isinstance(v, int) or abs(v) < 2**1023 else math.inf
        return f if math.isfinite(f) else None
    if isinstance(v, str):
        try:
            f = float(v.strip().removesuffix("kB").strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def _int(v: Any) -> int | None:
    f = _num(v)
    if f is None or abs(f) >= 2**63 - 1024:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return int(round(f))


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


# --------------------------------------------------------------------------- Plan


class Plan:
    """One parsed EXPLAIN plan: a node table plus what the plan says as a whole.

    Build it with :func:`dbworkbench.parse_plan`. Nothing here needs a server.

    >>> from dbworkbench.plans import parse_plan
    >>> plan = parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual time=0.01..0.20 rows=2550 loops=1)")
    >>> row = plan.nodes.loc[0]
    >>> row["node_type"], row["relation"], float(row["actual_rows"]), float(row["exclusive_ms"])
    ('Seq Scan', 't', 2550.0, 0.2)

    ``plan.nodes`` has one row per node in pre-order (a parent before its children,
    children in plan order), these columns and dtypes (missing values are ``<NA>``):

    ============================= ======== ==========================================================
    column                        dtype    meaning
    ============================= ======== ==========================================================
    node_id                       Int64    0 for the root, then pre-order position
    parent_id                     Int64    node_id of the parent; <NA> for the root
    depth                         Int64    0 for the root
    node_type                     string   "Seq Scan", "Hash Join", "Aggregate", "ModifyTable", ...
    parent_relationship           string   Outer, Inner, Member, Subquery, InitPlan, SubPlan
    subplan_name                  string   "InitPlan 1 (returns $0)", "SubPlan 2", "CTE name"
    cte_name                      string   CTE read by a CTE Scan / WorkTable Scan
    relation                      string   table (or view, foreign table) scanned or modified
    schema                        string   its schema (VERBOSE plans, JSON plans)
    alias                         string   alias in the query
    index_name                    string   index used
    join_type                     string   Inner, Left, Right, Full, Semi, Anti, Right Semi, Right Anti
    strategy                      string   Aggregate / SetOp strategy: Plain, Sorted, Hashed, Mixed
    startup_cost                  Float64  planner's cost before the first row
    total_cost                    Float64  planner's cost for all rows
    plan_rows                     Float64  planner's rows per loop
    plan_width                    Int64    planner's average row width in bytes
    actual_startup_ms             Float64  ms to the first row, average per loop
    actual_total_ms               Float64  ms to the last row, average per loop
    actual_rows                   Float64  rows per loop (fractional on PostgreSQL 18)
    actual_loops                  Int64    times the node ran (summed over parallel processes)
    never_executed                boolean  true when loops = 0; <NA> without ANALYZE
    workers_planned               Int64    Gather / Gather Merge: workers planned
    workers_launched              Int64    Gather / Gather Merge: workers started
    inclusive_ms                  Float64  time in the node and below: total x loops / processes
    exclusive_ms                  Float64  time in the node itself (see below); never negative
    exclusive_pct                 Float64  exclusive_ms as % of the sum of exclusive_ms
    misestimate                   Float64  how many times off the row estimate was (>= 1)
    misestimate_direction         string   under (more rows than planned) or over (fewer)
    rows_removed_by_filter        Float64  per loop
    rows_removed_by_index_recheck Float64  per loop
    rows_removed_by_join_filter   Float64  per loop
    heap_fetches                  Float64  Index Only Scan heap visits
    exact_heap_blocks             Int64    Bitmap Heap Scan exact blocks
    lossy_heap_blocks             Int64    Bitmap Heap Scan lossy blocks
    filter                        string   Filter expression
    index_cond                    string   Index Cond
    recheck_cond                  string   Recheck Cond
    join_filter                   string   Join Filter
    hash_cond                     string   Hash Cond
    merge_cond                    string   Merge Cond
    sort_key                      string   sort keys, comma separated
    sort_method                   string   quicksort, top-N heapsort, external merge, ...
    sort_space_kb                 Int64    memory or disk used by the sort
    sort_space_type               string   Memory or Disk
    hash_buckets                  Int64    Hash: buckets used
    hash_batches                  Int64    Hash: batches (HashAggregate: its batches)
    hash_batches_original         Int64    Hash: batches planned
    peak_memory_kb                Int64    Hash, HashAggregate, Memoize peak memory
    shared_hit                    Int64    shared buffers found in cache (node and below)
    shared_read                   Int64    shared buffers read (node and below)
    shared_dirtied                Int64    shared buffers dirtied (node and below)
    shared_written                Int64    shared buffers written (node and below)
    temp_read                     Int64    temporary blocks read (node and below)
    temp_written                  Int64    temporary blocks written (node and below)
    io_read_ms                    Float64  I/O read time, all kinds (track_io_timing)
    io_write_ms                   Float64  I/O write time, all kinds (track_io_timing)
    shared_hit_excl               Int64    shared_hit of the node itself
    shared_read_excl              Int64    shared_read of the node itself
    shared_dirtied_excl           Int64    shared_dirtied of the node itself
    shared_written_excl           Int64    shared_written of the node itself
    temp_read_excl                Int64    temp_read of the node itself
    temp_written_excl             Int64    temp_written of the node itself
    ============================= ======== ==========================================================

    Exclusive time: inclusive time minus what ran inside the node (children,
    SubPlans, InitPlans); an InitPlan is charged to the node below that uses
    its parameter, a CTE to the CTE Scans that read it; under a Gather, times
    are divided by the processes that ran them. For a serial plan the
    exclusive times add up to the root's inclusive time. Details in
    ``dbworkbench/plans/_timing.py``.

    Other attributes: ``planning_ms``, ``execution_ms``, ``jit`` (dict with
    functions, generation, inlining, optimization, emission, total, deform,
    options), ``triggers`` (DataFrame: name, relation, constraint, time_ms,
    calls), ``settings`` (dict), ``query``, ``planning_buffers`` and
    ``serialization`` (dicts or None), ``source_format`` (json, text, yaml,
    xml), ``raw`` (the FORMAT JSON top-level dict) and ``raw_nodes`` (each
    node's dict, without ``Plans``, in node_id order) for properties without a
    column.
    """

    def __init__(self, top: dict[str, Any], source_format: str) -> None:
        self.raw: dict[str, Any] = top
        self.source_format: str = source_format
        root = top["Plan"]
        self._tree: Tree = flatten(root)
        self.settings: dict[str, Any] = dict(top["Settings"]) if isinstance(top.get("Settings"), dict) else {}
        q = top.get("Query Text")
        self.query: str | None = q if isinstance(q, str) else None
        #: what running the statement did that its rollback could not undo (set by ``Workbench.explain``)
        self.cannot_undo: tuple[str, ...] = ()
        self.planning_ms: float | None = _num(top.get("Planning Time"))
        ex = top.get("Execution Time")
        self.execution_ms: float | None = _num(ex if ex is not None else top.get("Total Runtime"))
        self.jit: dict[str, Any] | None = _jit(top.get("JIT"))
        self.planning_buffers: dict[str, Any] | None = _buffers_dict(top.get("Planning"))
        self.serialization: dict[str, Any] | None = _serialization(top.get("Serialization"))

    # The tables are built when first asked for: most of a small plan's parse was building them.

    @cached_property
    def nodes(self) -> pd.DataFrame:
        """One row per node (columns in the class docstring)."""
        return self._node_table()

    @cached_property
    def triggers(self) -> pd.DataFrame:
        """One row per trigger: name, relation, constraint, time_ms, calls."""
        return _triggers(self.raw.get("Triggers"))

    # ----------------------------------------------------------------- table

    @property
    def raw_nodes(self) -> list[dict[str, Any]]:
        """Each node's properties as PostgreSQL names them (``Plans`` left out), by node_id."""
        return [{k: v for k, v in n.items() if k != "Plans"} for n in self._tree.nodes]

    def _node_table(self) -> pd.DataFrame:
        return pd.DataFrame(node_columns([self._tree], [self.settings]), copy=False)  # every array is new here

    # ----------------------------------------------------------------- insights hook

    def insights(self) -> pd.DataFrame:
        """Findings of the registered insight rules (see ``dbworkbench.plans.insights``)."""
        from .insights import run

        return run(self)

    # ----------------------------------------------------------------- pictures and diff

    def figure(self, metric: str = "exclusive_ms") -> Any:
        """A plotly picture of the tree, boxes coloured and sized by ``metric``, insight nodes framed.

        Metrics: see ``dbworkbench.plans.figure.METRICS``.
        """
        from .figure import plan_figure

        return plan_figure(self, metric)

    def flame(self, metric: str = "exclusive_ms") -> Any:
        """An icicle (flame) picture of where the time goes, each node sized by its own share."""
        from .figure import plan_flame

        return plan_flame(self, metric)

    def diff(self, other: Plan) -> Any:
        """Match this plan's nodes with ``other``'s: a :class:`~dbworkbench.plans.diff.PlanDiff`."""
        from .diff import diff_plans

        return diff_plans(self, other)

    # ----------------------------------------------------------------- JSON

    def to_json(self, indent: int = 2) -> str:
        """The plan in PostgreSQL's FORMAT JSON shape, ``[{"Plan": {...}, ...}]``.

        Opens in other plan tools; ``parse_plan(plan.to_json())`` gives the same
        node table. Written without recursion, so any depth works.
        """
        pad = " " * indent
        out: list[str] = ["[", pad + "{"]
        keys = [k for k in _TOP_LEVEL_FIRST if k in self.raw] + [k for k in self.raw if k not in _TOP_LEVEL_FIRST]
        items: list[str] = []
        for k in keys:
            if k == "Plan":
                items.append("\n".join(_node_json(self.raw["Plan"], 2, pad, '"Plan": ')))
            else:
                items.append(pad * 2 + json.dumps(k) + ": " + _dumps(self.raw[k]))
        out.append(",\n".join(items))
        out.append(pad + "}")
        out.append("]")
        return "\n".join(out)

    # ----------------------------------------------------------------- text

    def text(self, width: int = 60) -> str:
        """An indented tree: node, relation/index, rows actual vs planned, time, loops.

        >>> from dbworkbench.plans import parse_plan
        >>> print(parse_plan("Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.002..0.003 rows=1 loops=1)").text())
        Result  rows 1 of 1 planned  0.003 ms (self 0.003 ms)  loops 1
        """
        df = self.nodes
        tree = self._tree
        kids: list[list[int]] = [[] for _ in tree.nodes]
        for i, p in enumerate(tree.parent):
            if p >= 0:
                kids[p].append(i)
        labels: list[str] = []
        order: list[int] = []
        stack: list[tuple[int, str, bool, bool]] = [(0, "", True, True)]
        while stack:
            i, lead, last, is_root = stack.pop()
            branch = "" if is_root else ("└─ " if last else "├─ ")
            label = _label(tree.nodes[i])
            labels.append(lead + branch + label)
            order.append(i)
            child_lead = lead if is_root else lead + ("   " if last else "│  ")
            ch = kids[i]
            for j, c in reversed(list(enumerate(ch))):
                stack.append((c, child_lead, j == len(ch) - 1, False))
        w = min(max(len(s) for s in labels), max(width, 20))
        cols = _number_columns(df)
        lines = []
        for s, i in zip(labels, order, strict=True):
            shown = s if len(s) <= w else s[: w - 1] + "…"
            lines.append((shown.ljust(w) + "  " + _numbers(cols, i)).rstrip())
        return "\n".join(lines)

    # ----------------------------------------------------------------- summaries

    def _top(self, k: int = 5) -> pd.DataFrame:
        df = self.nodes
        if df["exclusive_ms"].notna().any():
            return df.sort_values("exclusive_ms", ascending=False, na_position="last").head(k)
        return df.sort_values("total_cost", ascending=False, na_position="last").head(k)

    def _summary(self) -> str:
        parts = [f"{len(self.nodes)} nodes", f"from {self.source_format}"]
        if self.planning_ms is not None:
            parts.append(f"planning {self.planning_ms:.3f} ms")
        if self.execution_ms is not None:
            parts.append(f"execution {self.execution_ms:.3f} ms")
        elif pd.notna(root_cost := cast("float | NAType", self.nodes.loc[0, "total_cost"])):
            parts.append(f"cost {float(root_cost):.2f}")
        if self.jit and self.jit.get("total") is not None:
            parts.append(f"JIT {self.jit['total']:.3f} ms")
        if len(self.triggers):
            parts.append(f"{len(self.triggers)} triggers")
        return ", ".join(parts)

    def __repr__(self) -> str:
        lines = [f"<Plan: {self._summary()}>"]
        top = self._top()
        timed = self.nodes["exclusive_ms"].notna().any()
        lines.append("Top nodes by " + ("exclusive time:" if timed else "total cost:"))
        for i, row in top.iterrows():
            val = f"{row['exclusive_ms']:.3f} ms ({row['exclusive_pct']:.1f}%)" if timed else f"cost {row['total_cost']}"
            lines.append(f"  [{i}] {_label(self._tree.nodes[int(cast(int, i))])}  {val}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html_text  # plan text from a server or a user: escaped, and out of MathJax's reach (math_off)
        top = self._top()
        timed = self.nodes["exclusive_ms"].notna().any()
        head = "<tr><th>node</th><th>operation</th><th>rows (actual / planned)</th>" + (
            "<th>exclusive ms</th><th>%</th>" if timed else "<th>total cost</th>"
        ) + "</tr>"
        rows = []
        for i, row in top.iterrows():
            actual = "" if pd.isna(row["actual_rows"]) else f"{row['actual_rows']:g}"
            planned = "" if pd.isna(row["plan_rows"]) else f"{row['plan_rows']:g}"
            pos = int(cast(int, i))
            cells = [str(pos), esc(_label(self._tree.nodes[pos])), esc(f"{actual} / {planned}")]
            if timed:
                cells += [f"{row['exclusive_ms']:.3f}", f"{row['exclusive_pct']:.1f}"]
            else:
                cells.append("" if pd.isna(row["total_cost"]) else f"{row['total_cost']:.2f}")
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        title = esc(self._summary())
        query = f"<pre>{esc(self.query[:500])}</pre>" if self.query else ""
        return math_off(f"<b>Plan</b>: {title}{query}<table>{head}{''.join(rows)}</table>{self._insights_html()}")

    def _insights_html(self, k: int = 5) -> str:
        found = self.insights().head(k)
        if found.empty:
            return "<p>No insights: nothing in this plan stands out.</p>"
        items = "".join(
            f"<li><b>{html_text(r.severity)}</b> {html_text(r.code)}"
            f"{'' if pd.isna(nid := cast('int | NAType', r.node_id)) else f' (node {int(nid)})'}: {html_text(r.message)}"
            f"<br><code>{html_text(r.suggestion)}</code></li>"
            for r in found.itertuples()
        )
        return f"<p><b>Insights</b></p><ul>{items}</ul>"


# --------------------------------------------------------------------------- helpers


# the node properties the table reads: the columns of ``_gather``'s array, numbers last
_NUMBER_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys([*_FLOAT_COLS.values(), *_INT_COLS.values(), *_BUFFER_COLS.values(), "Hash Batches", "HashAgg Batches",
                   *K.IO_READ_KEYS, *K.IO_WRITE_KEYS])
)
_KEYS: tuple[str, ...] = (*_STRING_COLS.values(), *_NUMBER_KEYS)
_COL = {key: j for j, key in enumerate(_KEYS)}
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "empty"})

def forest(trees: Sequence[Tree]) -> tuple[Tree, np.ndarray]:
    """Several flattened plans as one tree of many roots, and where each plan starts in it."""
    if len(trees) == 1:
        return trees[0], np.zeros(1, dtype=np.int64)
    counts = np.array([len(t.nodes) for t in trees], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    nodes: list[dict[str, Any]] = []
    parent: list[int] = []
    depth: list[int] = []
    size: list[int] = []
    for t, at in zip(trees, starts.tolist()):
        nodes += t.nodes
        parent += [p + at if p >= 0 else -1 for p in t.parent]
        depth += t.depth
        size += t.size
    return Tree(nodes, parent, depth, size), starts


def _divisors(trees: Sequence[Tree], settings: Sequence[dict[str, Any]], whole: Tree, node_types: np.ndarray) -> np.ndarray:
    """``process_divisors`` of every plan: in one call when the plans agree on the leader's part."""
    leaders = {str(s.get("parallel_leader_participation", "on")).lower() for s in settings}
    if len(leaders) <= 1:
        return process_divisors(whole, settings[0] if settings else None, node_types)
    parts, at = [], 0
    for t, s in zip(trees, settings):
        parts.append(process_divisors(t, s, node_types[at : at + len(t.nodes)]))
        at += len(t.nodes)
    return np.concatenate(parts)


def node_columns(trees: Sequence[Tree], settings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The columns of ``Plan.nodes`` (``COLUMNS``, in order) for one or many plans, stacked.

    Many plans (an auto_explain log) are read as one tree of many roots: each
    step runs once for all their nodes; ``node_id``, ``parent_id`` and
    ``exclusive_pct`` stay per plan.
    """
    tree, starts = forest(trees)
    n = len(tree.nodes)
    counts = np.array([len(t.nodes) for t in trees], dtype=np.int64)
    start_of = np.repeat(starts, counts)
    table = _gather(tree.nodes)
    cols: dict[str, Any] = {}
    strings = _strings(table[:, [_COL[k] for k in _STRING_COLS.values()]])
    for col, arr in zip(_STRING_COLS, strings):
        cols[col] = arr
    values, missing = _number_block(table[:, [_COL[k] for k in _NUMBER_KEYS]])
    num = {key: (values[:, j], missing[:, j]) for j, key in enumerate(_NUMBER_KEYS)}
    floats = {col: num[key] for col, key in _FLOAT_COLS.items()}
    for col, (a, m) in floats.items():
        cols[col] = FloatingArray(a, m)
    ints = {col: num[key] for col, key in _INT_COLS.items()}
    (hb, hbm), (ab, abm) = num["Hash Batches"], num["HashAgg Batches"]
    ints["hash_batches"] = (np.where(hbm, ab, hb), hbm & abm)
    bufs = {col: num[key] for col, key in _BUFFER_COLS.items()}
    ints.update(bufs)
    for col, (a, m) in ints.items():
        cols[col] = _to_int(a, m)
    cols["io_read_ms"] = FloatingArray(*_sum_cols([num[k] for k in K.IO_READ_KEYS]))
    cols["io_write_ms"] = FloatingArray(*_sum_cols([num[k] for k in K.IO_WRITE_KEYS]))
    cols["node_id"] = IntegerArray(np.arange(n, dtype=np.int64) - start_of, np.zeros(n, dtype=bool))
    parent = np.array(tree.parent, dtype=np.int64)
    cols["parent_id"] = IntegerArray(np.where(parent < 0, 0, parent - start_of), parent < 0)
    cols["depth"] = IntegerArray(np.array(tree.depth, dtype=np.int64), np.zeros(n, dtype=bool))

    loops, loops_na = ints["actual_loops"]
    total, total_na = floats["actual_total_ms"]
    div = _divisors(trees, settings, tree, table[:, _COL["Node Type"]])
    with np.errstate(all="ignore"):
        incl = np.where(loops_na, np.nan, np.where(loops == 0, 0.0, total * loops / np.minimum(div, np.maximum(loops, 1))))
        incl[~loops_na & (loops != 0) & total_na] = np.nan
        incl[~np.isfinite(incl)] = np.nan
    attr = attribute(tree, table[:, _COL["Parent Relationship"]])
    excl = exclusive(incl, attr)
    denom = np.repeat(np.add.reduceat(np.nan_to_num(excl), starts) if n else np.zeros(0), counts)  # per plan
    with np.errstate(all="ignore"):
        pct = np.where(denom > 0, excl * 100.0 / np.where(denom > 0, denom, 1.0), np.where(np.isnan(excl), np.nan, 0.0))
    cols["inclusive_ms"] = _float_array(incl)
    cols["exclusive_ms"] = _float_array(excl)
    cols["exclusive_pct"] = _float_array(pct)
    cols["never_executed"] = BooleanArray(loops == 0, loops_na.copy())
    a, a_na = floats["actual_rows"]
    p, p_na = floats["plan_rows"]
    unknown = a_na | p_na | loops_na | (loops == 0)
    with np.errstate(all="ignore"):
        ratio = np.maximum(np.maximum(a, p) / np.maximum(np.minimum(a, p), 1.0), 1.0)
    ratio[unknown] = np.nan
    cols["misestimate"] = _float_array(ratio)
    direction = np.full(n, pd.NA, dtype=object)
    direction[~unknown & (ratio > 1.0) & (a > p)] = "under"
    direction[~unknown & (ratio > 1.0) & (a < p)] = "over"
    cols["misestimate_direction"] = StringArray(direction)
    for col, (v, m) in bufs.items():
        ex = exclusive(np.where(m, np.nan, v), attr)
        cols[col + "_excl"] = _to_int(np.nan_to_num(ex), np.isnan(ex))
    return {name: cols[name] for name, _ in COLUMNS}


def _gather(nodes: list[dict[str, Any]]) -> np.ndarray:
    """The ``_KEYS`` properties of every node: an object array, a row per node, NaN where a node lacks one.

    Read node by node, each dict visited once (the dicts lie scattered in
    memory; a pass over all nodes per key took twice as long on a 10,000-node
    plan), into one flat list that ``np.fromiter`` takes as is (lists stay
    values, not nested rows). pandas' list-of-dicts constructor is a little
    faster on big plans but costs about 1 ms more per small plan.
    """
    keys = _KEYS
    nan = math.nan
    flat = [get(k, nan) for get in [n.get for n in nodes] for k in keys]
    return np.fromiter(flat, dtype=object, count=len(flat)).reshape(len(nodes), len(keys))


def _number_block(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, missing) of an object block: anything that is not a finite number is missing (as ``_num``).

    A block of ints, floats and NaN (the usual) converts in one C call;
    anything else (bools, numbers as text, huge ints) value by value.
    """
    arr: np.ndarray | None = None
    if pd.api.types.infer_dtype(block.ravel(), skipna=True) in _NUMBER_KINDS:
        try:
            arr = block.astype(np.float64)
        except (OverflowError, ValueError, TypeError):
            arr = None
    if arr is None:
        nums = [_num(v) for v in block.ravel()]
        arr = np.array([np.nan if v is None else v for v in nums], dtype=np.float64).reshape(block.shape)
    missing = ~np.isfinite(arr)
    return np.where(missing, 0.0, arr), missing


def _to_int(a: np.ndarray, m: np.ndarray) -> IntegerArray:
    m = m | ~np.isfinite(a) | (np.abs(a) >= 9.2e18)
    return IntegerArray(np.rint(np.where(m, 0.0, a)).astype(np.int64), m)


def _float_array(a: np.ndarray) -> FloatingArray:
    m = np.isnan(a)
    return FloatingArray(np.where(m, 0.0, a), m)


def _strings(block: np.ndarray) -> list[StringArray]:
    """A StringArray per column of an object block: text as is, lists joined (as ``_text``), None and NaN missing."""
    columns = block.T.copy()  # a column per row: contiguous
    missing = pd.isna(columns)
    out = []
    for col, m in zip(columns, missing):
        if pd.api.types.infer_dtype(col[~m], skipna=False) not in ("string", "empty"):
            for i in np.flatnonzero(~m):
                col[i] = _text(col[i])
        col[m] = pd.NA
        out.append(StringArray(col))
    return out


def _sum_cols(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The sum of (values, missing) columns; missing where all are."""
    total = np.zeros_like(parts[0][0])
    missing = np.ones_like(parts[0][1])
    for a, m in parts:
        total += np.where(m, 0.0, a)
        missing &= m
    return np.where(missing, 0.0, total), missing


def _sum_keys(node: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    total = None
    for k in keys:
        v = _num(node.get(k))
        if v is not None:
            total = v if total is None else total + v
    return total


def _jit(j: Any) -> dict[str, Any] | None:
    if not isinstance(j, dict):
        return None
    timing: dict[str, Any] = cast("dict[str, Any]", j.get("Timing")) if isinstance(j.get("Timing"), dict) else {}
    gen = timing.get("Generation")
    deform = None
    if isinstance(gen, dict):
        deform = _num(gen.get("Deform"))
        gen = gen.get("Total")
    return {
        "functions": _int(j.get("Functions")),
        "generation": _num(gen),
        "inlining": _num(timing.get("Inlining")),
        "optimization": _num(timing.get("Optimization")),
        "emission": _num(timing.get("Emission")),
        "total": _num(timing.get("Total")),
        "deform": deform,
        "options": dict(j["Options"]) if isinstance(j.get("Options"), dict) else {},
    }


def _triggers(t: Any) -> pd.DataFrame:
    rows: list[tuple[Any, ...]] = []
    if isinstance(t, list):
        for tr in t:
            if isinstance(tr, dict):
                rows.append(
                    (
                        _text(tr.get("Trigger Name")),
                        _text(tr.get("Relation")),
                        _text(tr.get("Constraint Name")),
                        _num(tr.get("Time")),
                        _num(tr.get("Calls")),
                    )
                )
    names = ("name", "relation", "constraint", "time_ms", "calls")
    dtypes: tuple[Literal["string", "Float64"], ...] = ("string", "string", "string", "Float64", "Float64")
    return pd.DataFrame({n: pd.array([r[k] for r in rows], dtype=d) for k, (n, d) in enumerate(zip(names, dtypes, strict=True))})


_BUF_NAMES = {
    "Shared Hit Blocks": "shared_hit", "Shared Read Blocks": "shared_read",
    "Shared Dirtied Blocks": "shared_dirtied", "Shared Written Blocks": "shared_written",
    "Local Hit Blocks": "local_hit", "Local Read Blocks": "local_read",
    "Local Dirtied Blocks": "local_dirtied", "Local Written Blocks": "local_written",
    "Temp Read Blocks": "temp_read", "Temp Written Blocks": "temp_written",
}


def _buffers_dict(p: Any) -> dict[str, Any] | None:
    if not isinstance(p, dict):
        return None
    out: dict[str, Any] = {}
    for k, name in _BUF_NAMES.items():
        if k in p:
            out[name] = _int(p[k])
    r, w = _sum_keys(p, K.IO_READ_KEYS), _sum_keys(p, K.IO_WRITE_KEYS)
    if r is not None:
        out["io_read_ms"] = r
    if w is not None:
        out["io_write_ms"] = w
    return out or None


def _serialization(s: Any) -> dict[str, Any] | None:
    if not isinstance(s, dict):
        return None
    out: dict[str, Any] = {
        "time_ms": _num(s.get("Time")),
        "output_kb": _num(s.get("Output Volume")),
        "format": _text(s.get("Format")),
    }
    out.update(_buffers_dict(s) or {})
    return out


def _dumps(v: Any) -> str:
    try:
        return json.dumps(v, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # odd keys from a hand-made YAML or dict
        return json.dumps(_jsonable(v), ensure_ascii=False, default=str)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _node_json(root: dict[str, Any], level: int, pad: str, lead: str) -> Iterator[str]:
    """Lines of one node and its subtree, PostgreSQL style, without recursion."""
    # Work items: ("open", node, level, lead, last) or ("close", level, suffix) or ("text", line)
    stack: list[tuple[Any, ...]] = [("open", root, level, lead, True)]
    while stack:
        item = stack.pop()
        if item[0] == "text":
            yield item[1]
            continue
        _, node, lvl, ld, last = item
        ind = pad * min(lvl, 100)  # no deeper indentation: a very deep plan would grow quadratically
        yield ind + ld + "{"
        props = [(k, v) for k, v in node.items() if k != "Plans"]
        kids = node.get("Plans") or []
        inner = pad * min(lvl + 1, 100)
        lines = [inner + json.dumps(k) + ": " + _dumps(v) for k, v in props]
        tail = ind + "}" + ("" if last else ",")
        if not kids:
            if lines:
                yield ",\n".join(lines)
            yield tail
            continue
        lines.append(inner + '"Plans": [')
        yield ",\n".join(lines)
        stack.append(("text", tail))
        stack.append(("text", inner + "]"))
        for j in range(len(kids) - 1, -1, -1):
            stack.append(("open", kids[j], lvl + 2, "", j == len(kids) - 1))


def _label(node: dict[str, Any]) -> str:
    nt = str(node.get("Node Type", "?"))
    name = nt
    if nt == "ModifyTable" and node.get("Operation"):
        name = str(node["Operation"])
    elif nt == "Aggregate" and node.get("Strategy") in ("Sorted", "Hashed", "Mixed"):
        name = {"Sorted": "GroupAggregate", "Hashed": "HashAggregate", "Mixed": "MixedAggregate"}[node["Strategy"]]
    elif nt in ("Nested Loop", "Hash Join", "Merge Join") and node.get("Join Type") not in (None, "Inner"):
        name = f"{nt} ({node['Join Type']})"
    if node.get("Parallel Aware") is True:
        name = "Parallel " + name
    if node.get("Partial Mode") in ("Partial", "Finalize"):
        name = f"{node['Partial Mode']} {name}"
    idx = node.get("Index Name")
    if idx:
        name += f" on {idx}" if nt == "Bitmap Index Scan" else f" using {idx}"
    target = node.get("Relation Name") or node.get("CTE Name") or node.get("Function Name")
    if target:
        if node.get("Schema"):
            target = f"{node['Schema']}.{target}"
        name += f" on {target}"
        alias = node.get("Alias")
        if alias and alias != node.get("Relation Name") and alias != node.get("CTE Name") and alias != node.get("Function Name"):
            name += f" {alias}"
    elif node.get("Alias") and nt in ("Subquery Scan", "Values Scan"):
        name += f" on {node['Alias']}"
    sub = node.get("Subplan Name")
    if sub:
        name = f"[{sub}] {name}"
    return name


def _fmt(v: Any) -> str:
    """Rows as people read them: 1,234,567 or 0.25."""
    f = float(v)
    if f.is_integer() and abs(f) < 1e18:
        return f"{int(f):,}"
    return f"{f:,.2f}"


_NUMBER_COLS = ("actual_rows", "plan_rows", "never_executed", "inclusive_ms", "exclusive_ms", "total_cost", "actual_loops")


def _number_columns(df: pd.DataFrame) -> dict[str, list[Any]]:
    """The columns ``_numbers`` reads, as Python lists with None for missing (row access is slow)."""
    return {c: [None if pd.isna(v) else v for v in df[c].tolist()] for c in _NUMBER_COLS}


def _numbers(cols: dict[str, list[Any]], i: int) -> str:
    actual, planned = cols["actual_rows"][i], cols["plan_rows"][i]
    never, incl, excl = cols["never_executed"][i], cols["inclusive_ms"][i], cols["exclusive_ms"][i]
    cost, loops = cols["total_cost"][i], cols["actual_loops"][i]
    parts = []
    if actual is not None:
        parts.append(f"rows {_fmt(actual)} of {'?' if planned is None else _fmt(planned)} planned")
    elif planned is not None:
        parts.append(f"rows {_fmt(planned)} planned")
    if never:
        parts.append("never executed")
    elif incl is not None:
        parts.append(f"{incl:.3f} ms (self {0.0 if excl is None else excl:.3f} ms)")
    elif cost is not None:
        parts.append(f"cost {cost:.2f}")
    if loops is not None and not never:
        parts.append(f"loops {int(loops)}")
    return "  ".join(parts)
