"""What every insight rule shares: :class:`Finding`, the severity scale, a cached view of a plan.

Severity is never a property of a node type: it follows the time a fix could save
(``est_saving_ms``), as a share of the statement's time and with absolute floors, so a
0.1 ms sequential scan is never a warning however it looks.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .._plan import Plan

SEVERITIES = ("critical", "warning", "info")

#: A finding is a *warning* when the time it could save is at least this share of the
#: statement's time (planning + execution) ...
WARNING_SHARE = 0.10
#: ... and at least this many milliseconds (below a millisecond nothing is worth a warning).
WARNING_MIN_MS = 1.0
#: It is *critical* when the saving is at least half the statement's time ...
CRITICAL_SHARE = 0.50
#: ... and at least this many milliseconds.
CRITICAL_MIN_MS = 100.0

#: PostgreSQL's default block size (``BLCKSZ``); plans count buffers in blocks.
BLOCK_KB = 8


@dataclass(frozen=True)
class Finding:
    """One thing a rule noticed.

    ``node_id`` is None for the plan as a whole. ``est_saving_ms`` is what fixing it
    could save (NaN when the plan has no timings). ``severity`` is normally left None:
    :func:`grade` sets it from ``est_saving_ms``; a rule may cap it by giving one.
    """

    code: str
    node_id: int | None
    message: str
    suggestion: str
    est_saving_ms: float = math.nan
    severity: str | None = None

    def __post_init__(self) -> None:
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")


def grade(saving_ms: float, total_ms: float | None) -> str:
    """The severity of a saving of ``saving_ms`` in a statement of ``total_ms``.

    >>> grade(0.1, 0.2), grade(30.0, 100.0), grade(150.0, 200.0)
    ('info', 'warning', 'critical')
    """
    if saving_ms is None or not math.isfinite(saving_ms) or saving_ms <= 0:
        return "info"
    share = saving_ms / total_ms if total_ms and total_ms > 0 else 0.0
    if saving_ms >= CRITICAL_MIN_MS and share >= CRITICAL_SHARE:
        return "critical"
    if saving_ms >= WARNING_MIN_MS and share >= WARNING_SHARE:
        return "warning"
    return "info"


# --------------------------------------------------------------------------- plan view


@dataclass
class PlanView:
    """The plan as rules read it: node rows as dicts (None for missing), raw node dicts,
    children, and the statement's times. Built once per plan by :func:`view`."""

    plan: Plan
    rows: list[dict[str, Any]]
    raw: list[dict[str, Any]]
    children: list[list[int]] = field(default_factory=list)
    execution_ms: float | None = None
    total_ms: float | None = None

    @property
    def analyzed(self) -> bool:
        """Whether the plan has actual timings (EXPLAIN ANALYZE)."""
        return any(r["actual_loops"] is not None for r in self.rows)

    def parent(self, i: int) -> int | None:
        p = self.rows[i]["parent_id"]
        return None if p is None else int(p)

    def ancestors(self, i: int) -> Iterator[int]:
        p = self.parent(i)
        while p is not None:
            yield p
            p = self.parent(p)

    def subtree(self, i: int) -> Iterator[int]:
        stack = [i]
        while stack:
            j = stack.pop()
            yield j
            stack.extend(reversed(self.children[j]))

    def num(self, i: int, col: str, default: float = 0.0) -> float:
        """A numeric column of node i as a float (``default`` when missing)."""
        v = self.rows[i][col]
        return default if v is None else float(v)

    def total_rows(self, i: int, col: str = "actual_rows") -> float:
        """A per-loop row count times the node's loops (0 when missing)."""
        return self.num(i, col) * max(self.num(i, "actual_loops"), 0.0)

    def raw_excl(self, i: int, keys: Sequence[str]) -> float:
        """Sum of raw properties ``keys`` of node i minus its children's (I/O times are cumulative)."""
        own = _raw_sum(self.raw[i], keys)
        kids = sum(_raw_sum(self.raw[c], keys) for c in self.children[i])
        return max(own - kids, 0.0)

    def setting(self, name: str) -> str | None:
        """A setting the plan reports (EXPLAIN SETTINGS lists those that differ from the default)."""
        v = self.plan.settings.get(name)
        return None if v is None else str(v)

    def label(self, i: int) -> str:
        """'Parallel Seq Scan on public.comments c' and the like, for messages."""
        r, raw = self.rows[i], self.raw[i]
        name = str(r["node_type"])
        if name == "Aggregate" and r["strategy"] in ("Hashed", "Sorted", "Mixed"):
            name = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}[r["strategy"]]
        if name == "ModifyTable" and isinstance(raw.get("Operation"), str):
            name = raw["Operation"]
        if raw.get("Parallel Aware") is True:
            name = "Parallel " + name
        if r["index_name"]:
            name += f" using {r['index_name']}"
        target = r["relation"] or r["cte_name"]
        if target:
            name += f" on {r['schema']}.{target}" if r["schema"] else f" on {target}"
            if r["alias"] and r["alias"] != target:
                name += f" {r['alias']}"
        return name


def _raw_sum(node: dict[str, Any], keys: Iterable[str]) -> float:
    total = 0.0
    for k in keys:
        v = node.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            total += float(v)
    return total


_VIEWS: weakref.WeakKeyDictionary[Any, PlanView] = weakref.WeakKeyDictionary()


def view(plan: Plan) -> PlanView:
    """The (cached) :class:`PlanView` of ``plan``."""
    try:
        return _VIEWS[plan]
    except (KeyError, TypeError):
        pass
    frame = plan.nodes
    rows: list[dict[str, Any]] = [
        {str(k): (None if v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v) for k, v in rec.items()}
        for rec in frame.to_dict("records")
    ]
    for r in rows:  # plain Python ints for ids
        for k in ("node_id", "parent_id", "depth"):
            val = r[k]
            if val is not None:
                r[k] = int(val)
    children: list[list[int]] = [[] for _ in rows]
    for r in rows:
        if r["parent_id"] is not None:
            children[r["parent_id"]].append(r["node_id"])
    execution = plan.execution_ms
    if execution is None and rows and rows[0]["inclusive_ms"] is not None:
        execution = float(rows[0]["inclusive_ms"])
    total = None if execution is None else execution + (plan.planning_ms or 0.0)
    v = PlanView(plan, rows, plan.raw_nodes, children, execution, total)
    try:
        _VIEWS[plan] = v
    except TypeError:
        pass
    return v


# --------------------------------------------------------------------------- formatting


def fmt_ms(ms: float) -> str:
    """'0.042 ms', '12.3 ms', '1.52 s'."""
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 0.1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


def fmt_rows(n: float) -> str:
    """Row counts as people read them: '1,234' (fractions from PostgreSQL 18 rounded)."""
    return f"{round(n):,}"


def fmt_pct(share: float) -> str:
    pct = share * 100
    if pct == 0 or pct >= 10:
        return f"{pct:.0f}%"
    if pct >= 1:
        return f"{pct:.1f}%"
    return f"{pct:.2g}%"


def fmt_kb(kb: float) -> str:
    if kb >= 1024 * 1024:
        return f"{kb / 1024 / 1024:.1f} GB"
    if kb >= 1024:
        return f"{kb / 1024:.1f} MB"
    return f"{kb:.0f} kB"


def share_of(v: PlanView, ms: float) -> str:
    """' (23% of the execution)' when the execution time is known, else ''."""
    if v.execution_ms and v.execution_ms > 0:
        return f" ({fmt_pct(min(ms / v.execution_ms, 1.0))} of the execution)"
    return ""


# --------------------------------------------------------------------------- memory settings

_UNITS_KB = {"kb": 1.0, "mb": 1024.0, "gb": 1024.0**2, "tb": 1024.0**3, "b": 1 / 1024}


def setting_kb(value: str | None) -> float | None:
    """A memory setting as EXPLAIN SETTINGS shows it ('64kB', '1MB', '4096') in kB."""
    if value is None:
        return None
    s = value.strip().lower().replace(" ", "")
    for unit in ("kb", "mb", "gb", "tb", "b"):
        if s.endswith(unit):
            try:
                return float(s[: -len(unit)]) * _UNITS_KB[unit]
            except ValueError:
                return None
    try:
        return float(s)  # a bare number: work_mem's unit is kB
    except ValueError:
        return None


#: work_mem when the plan does not list it (PostgreSQL's default, 4MB).
DEFAULT_WORK_MEM_KB = 4096.0
#: hash_mem_multiplier when the plan does not list it (the default since PostgreSQL 15).
DEFAULT_HASH_MEM_MULTIPLIER = 2.0


def work_mem_kb(v: PlanView) -> float:
    return setting_kb(v.setting("work_mem")) or DEFAULT_WORK_MEM_KB


def hash_mem_multiplier(v: PlanView) -> float:
    try:
        return float(v.setting("hash_mem_multiplier") or DEFAULT_HASH_MEM_MULTIPLIER)
    except ValueError:
        return DEFAULT_HASH_MEM_MULTIPLIER


def work_mem_value(needed_kb: float, current_kb: float | None = None) -> str:
    """``needed_kb`` rounded up to a power-of-two number of MB ('8MB', '2GB'), above ``current_kb``.

    >>> work_mem_value(7112 * 1.5), work_mem_value(100), work_mem_value(3 * 1024**2)
    ('16MB', '1MB', '4GB')
    """
    need = max(needed_kb, (current_kb or 0.0) * 1.01, 1.0)
    mb = 1
    while mb * 1024 < need:
        mb *= 2
    return f"{mb // 1024}GB" if mb >= 1024 else f"{mb}MB"


#: The largest work_mem the suggestions set outright (1GB): past it, making the input smaller
#: comes first, and the SET is offered for a one-off session only.
MAX_WORK_MEM_KB = 1024.0 * 1024


def set_work_mem(v: PlanView, needed_kb: float) -> str:
    """The suggestion text: SET work_mem, with the current value and a word on scope."""
    current = work_mem_kb(v)
    value = work_mem_value(needed_kb, current)
    listed = v.setting("work_mem")
    now = f"work_mem is {listed} in this plan" if listed else "work_mem is at its default (4MB) here"
    if needed_kb > MAX_WORK_MEM_KB:
        return (
            f"that is more than one sort or hash should get ({now}). Make the input smaller first: "
            f"filter or aggregate earlier, fix the row estimate, use an index that delivers the order; "
            f"for a one-off query on a machine with the RAM to spare, SET work_mem = '{value}'; in its session only."
        )
    return (
        f"SET work_mem = '{value}'; ({now}). Set it for this session or transaction "
        f"(SET LOCAL), or for the role that runs the query, not server-wide: each sort or hash "
        f"node of every query may use that much."
    )


def spill_saving(v: PlanView, nodes: Iterable[int], share: float) -> float:
    """What keeping ``nodes`` in memory could save: their temp I/O time, or ``share`` of their own
    time when larger, never more than their own time."""
    ids = list(nodes)
    io = sum(v.raw_excl(i, TEMP_IO_KEYS) for i in ids)
    own = sum(v.num(i, "exclusive_ms") for i in ids)
    return min(max(io, share * own), own)  # the I/O wait is part of the nodes' own time


TEMP_IO_KEYS = ("Temp I/O Read Time", "Temp I/O Write Time")
SHARED_READ_KEYS = ("Shared I/O Read Time", "I/O Read Time")
