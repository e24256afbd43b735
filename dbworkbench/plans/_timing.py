"""Inclusive and exclusive time (and buffers) per node.

PostgreSQL reports, per node, the *average* time of one loop, counted from the
node's first call to its last row, including everything below it. To get what
a node itself cost:

- inclusive = actual total time x loops, divided, for nodes under a Gather or
  Gather Merge, by the number of processes that ran them (workers launched,
  plus the leader unless ``parallel_leader_participation`` is off or the Gather
  is ``Single Copy``): PostgreSQL averages loops across processes, and the
  processes run side by side;
- exclusive = inclusive minus the inclusive time of what ran inside the node:
  its children, its SubPlans, and InitPlans, except that
  * an InitPlan runs where its parameter is first needed: when a node below
    the one it hangs from uses the parameter (``$0``, ``(InitPlan 1).col1``),
    the InitPlan's time is taken from that node (the deepest one on the first
    branch that uses it) instead of from the node it hangs from;
  * a CTE runs inside the CTE Scans that read it, so its time is taken from
    those scans (in plan order, never more than a scan has left) and not from
    the node the CTE hangs from; time no scan accounts for (a writing CTE that
    PostgreSQL finishes after the plan) is taken from nobody.
- never below zero (clock granularity can make a child look longer than its
  parent).

For a serial plan the exclusive times then add up to the root's inclusive
time, which is the execution time less executor start-up, triggers and
(in auto_explain) what the client did not read.

Buffers follow the same rules without the division (PostgreSQL reports them
as totals over loops and processes).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_PARAM = re.compile(r"\$\d+|\(InitPlan \d+\)")
_INITPLAN = re.compile(r"^InitPlan (\d+)")
_EXPR_KEYS = (
    "Filter", "Index Cond", "Recheck Cond", "Join Filter", "Hash Cond", "Merge Cond", "One-Time Filter",
    "TID Cond", "Order By", "Output", "Sort Key", "Group Key", "Presorted Key", "Run Condition",
    "Function Call", "Table Function Call", "Cache Key", "Conflict Filter", "Params Evaluated",
    "Sampling Parameters", "Repeatable Seed", "Hash Key",
)


@dataclass
class Tree:
    """The plan flattened in pre-order."""

    nodes: list[dict[str, Any]]
    parent: list[int]
    depth: list[int]
    size: list[int]  # nodes in the subtree, itself included: subtree of i is range(i, i + size[i])


def flatten(root: dict[str, Any]) -> Tree:
    nodes: list[dict[str, Any]] = []
    parent: list[int] = []
    depth: list[int] = []
    stack: list[tuple[dict[str, Any], int, int]] = [(root, -1, 0)]
    while stack:
        node, p, d = stack.pop()
        nodes.append(node)
        parent.append(p)
        depth.append(d)
        kids = node.get("Plans")
        if kids:
            me = len(nodes) - 1
            for child in reversed(kids):
                stack.append((child, me, d + 1))
    size = [1] * len(nodes)
    for i in range(len(nodes) - 1, 0, -1):
        size[parent[i]] += size[i]
    return Tree(nodes, parent, depth, size)


@dataclass
class Attribution:
    """Where each node's inclusive cost is charged: ``charge[i]`` is the node whose
    exclusive value loses node i's inclusive value (-1 for none), and ``ctes`` lists
    (CTE subplan root, CTE Scans that read it) for the CTE rule."""

    charge: np.ndarray
    ctes: list[tuple[int, list[int]]]


def attribute(tree: Tree, relationships: np.ndarray) -> Attribution:
    """Where each node's inclusive cost goes; ``relationships`` holds each node's Parent Relationship."""
    nodes, parent, size = tree.nodes, tree.parent, tree.size
    charge = list(parent)
    ctes: list[tuple[int, list[int]]] = []
    refs_of: dict[int, dict[str, list[int]]] = {}  # per plan (a tree may hold many plans: an auto_explain log)
    for i in np.flatnonzero(relationships == "InitPlan").tolist():
        if i == 0:
            continue
        node = nodes[i]
        name = node.get("Subplan Name")
        name = name if isinstance(name, str) else ""
        a = parent[i]
        own = range(i, i + size[i])
        if name.startswith("CTE "):
            cte = _unquote(name[4:].strip())
            scans = [
                j
                for j in range(a, a + size[a])
                if j not in own and nodes[j].get("Node Type") == "CTE Scan" and nodes[j].get("CTE Name") == cte
            ]
            charge[i] = -1
            ctes.append((i, scans))
            continue
        params = _initplan_params(name)
        if not params:
            continue
        root = a
        while parent[root] >= 0:
            root = parent[root]
        refs = refs_of.get(root)
        if refs is None:
            refs = refs_of[root] = _references(nodes, root, root + size[root])
        if any(a in refs.get(p, ()) for p in params):
            continue  # the node it hangs from uses it: charge that node (the default)
        target = _first_user(refs, params, a, size, own)
        if target is not None:
            charge[i] = target
    return Attribution(np.array(charge, dtype=np.int64), ctes)


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1].replace('""', '"')
    return s


def _initplan_params(name: str) -> list[str]:
    m = _INITPLAN.match(name)
    if m is None:
        return []
    out = [f"(InitPlan {m.group(1)})"]
    k = name.find("returns ")
    if k >= 0:
        out += re.findall(r"\$\d+", name[k:])
    return out


def _references(nodes: Sequence[dict[str, Any]], start: int, stop: int) -> dict[str, list[int]]:
    """Parameter -> nodes (pre-order, of ``nodes[start:stop]``) whose expressions use it."""
    refs: dict[str, list[int]] = {}
    for i in range(start, stop):
        node = nodes[i]
        found: set[str] = set()
        for key in _EXPR_KEYS:
            v = node.get(key)
            if isinstance(v, str):
                found.update(_PARAM.findall(v))
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, str):
                        found.update(_PARAM.findall(x))
        for p in found:
            refs.setdefault(p, []).append(i)
    return refs


def _first_user(refs: dict[str, list[int]], params: list[str], a: int, size: list[int], own: range) -> int | None:
    users: set[int] = set()
    for p in params:
        lst = refs.get(p, [])
        lo = bisect.bisect_right(lst, a)
        hi = bisect.bisect_left(lst, a + size[a])
        users.update(j for j in lst[lo:hi] if j not in own)
    if not users:
        return None
    ordered = sorted(users)
    r = ordered[0]
    for j in ordered[1:]:  # go down to the deepest user on the first branch
        if r < j < r + size[r]:
            r = j
    return r


def exclusive(values: np.ndarray, attr: Attribution) -> np.ndarray:
    """Exclusive values from inclusive ones (NaN for unknown stays NaN; never below zero)."""
    excl = values.copy()
    charge = attr.charge
    ok = (charge >= 0) & ~np.isnan(values)
    np.subtract.at(excl, charge[ok], values[ok])
    for root, scans in attr.ctes:
        remaining = 0.0 if np.isnan(values[root]) else float(values[root])
        for s in scans:
            if remaining <= 0:
                break
            e = excl[s]
            if np.isnan(e):
                continue
            take = min(remaining, max(float(e), 0.0))
            excl[s] = e - take
            remaining -= take
    return np.maximum(excl, 0.0)  # NaN stays NaN


def process_divisors(tree: Tree, settings: dict[str, Any] | None, node_types: np.ndarray) -> np.ndarray:
    """How many processes may have run each node side by side (1 outside Gather / Gather Merge).

    ``node_types`` holds each node's Node Type.
    The caller caps this at the node's loops: a node with fewer loops than
    processes ran in that many processes only (say, only the leader).
    """
    leader = True
    if isinstance(settings, dict) and str(settings.get("parallel_leader_participation", "on")).lower() in ("off", "false", "0"):
        leader = False
    nodes, parent = tree.nodes, tree.parent
    if not ((node_types == "Gather") | (node_types == "Gather Merge")).any():
        return np.ones(len(nodes))
    div = [1.0] * len(nodes)
    inner = [1.0] * len(nodes)  # divisor for the children of node i
    for i, node in enumerate(nodes):
        p = parent[i]
        div[i] = inner[p] if p >= 0 else 1.0
        inner[i] = div[i]
        if node.get("Node Type") in ("Gather", "Gather Merge"):
            launched = _count(node.get("Workers Launched"))
            if launched is None:
                launched = _count(node.get("Workers Planned"))
            if launched is not None:
                single = node.get("Single Copy") is True
                procs = launched + (1 if leader and not single else 0)
                inner[i] = float(max(procs, 1))
    return np.array(div, dtype=np.float64)


def _count(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if v != v or v < 0 or v > 1_000_000:
        return None
    return int(v)
