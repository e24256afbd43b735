"""Compare two plans of the same query (or of a rewrite): which node became which, and what it costs now.

:func:`diff_plans` matches the nodes of plan ``a`` (before) to those of plan ``b``
(after) and returns a :class:`PlanDiff`. Nothing here needs a server.

How nodes are matched:

1. Same shape (same parents, node types, relations and indexes in the same order,
   as when one query is run twice): node i of ``a`` is node i of ``b``.
2. Otherwise a similarity score for every pair of nodes, from what the node is and
   where it sits: same node type (or the same family: scans, joins, sorts,
   aggregates, ...), same relation (a different relation counts against), index,
   alias, join type, strategy, SubPlan and CTE name, the relations below the node
   (how much the two subtrees' tables overlap: this is what pairs a Hash Join with
   the Nested Loop that replaced it), a small penalty for a different depth and a
   different position in the plan. Pairs are taken greedily, mutual best matches
   first (each node's best partner is the other's best too); then twice more with
   bonuses for pairs whose parents, and whose children, were matched to each
   other. Pairs scoring under :data:`MIN_SCORE` stay unmatched: the node was
   removed, or added.
3. Plans too big for the score matrix (more than :data:`MAX_PAIRS` node pairs) are
   matched by identity only: same node type, relation, index and alias, in plan order.

>>> from dbworkbench.plans import parse_plan
>>> a = parse_plan("Seq Scan on users  (cost=0.00..25.00 rows=1 width=8) (actual time=0.010..1.500 rows=1 loops=1)\\n"
...                "  Filter: (lower(email) = 'a@b.c'::text)")
>>> b = parse_plan("Index Scan using users_lower_email on users  (cost=0.28..8.30 rows=1 width=8) "
...                "(actual time=0.010..0.020 rows=1 loops=1)")
>>> d = diff_plans(a, b)
>>> d.nodes.loc[0, ["change", "note"]].tolist()
['changed', 'Seq Scan → Index Scan using users_lower_email']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._escape import html_text, html_texts, math_off
from .figure import _num, _parents, _txt, node_labels

if TYPE_CHECKING:
    from pandas.api.extensions import ExtensionArray

    from ._plan import Plan

__all__ = ["DIFF_COLUMNS", "MAX_PAIRS", "MIN_SCORE", "TOTALS_COLUMNS", "PlanDiff", "diff_plans"]

MIN_SCORE = 2.5  # a pair must score at least this to be a match (same node type alone scores 3)
MAX_PAIRS = 4_000_000  # node pairs up to which the similarity matrix is built (2,000 x 2,000)

DIFF_COLUMNS: tuple[tuple[str, str], ...] = (
    ("node_id_a", "Int64"), ("node_id_b", "Int64"), ("change", "string"),
    ("node_type_a", "string"), ("node_type_b", "string"), ("relation", "string"),
    ("index_a", "string"), ("index_b", "string"), ("join_type_a", "string"), ("join_type_b", "string"),
    ("strategy_a", "string"), ("strategy_b", "string"), ("label_a", "string"), ("label_b", "string"),
    ("depth_a", "Int64"), ("depth_b", "Int64"),
    ("time_ms_a", "Float64"), ("time_ms_b", "Float64"), ("time_delta_ms", "Float64"),
    ("rows_a", "Float64"), ("rows_b", "Float64"), ("plan_rows_a", "Float64"), ("plan_rows_b", "Float64"),
    ("loops_a", "Int64"), ("loops_b", "Int64"), ("shared_blocks_a", "Int64"), ("shared_blocks_b", "Int64"),
    ("cost_a", "Float64"), ("cost_b", "Float64"), ("similarity", "Float64"), ("note", "string"),
)
TOTALS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("metric", "string"), ("a", "Float64"), ("b", "Float64"), ("delta", "Float64"), ("ratio", "Float64"),
)

_FAMILY = {
    "Seq Scan": "scan", "Index Scan": "scan", "Index Only Scan": "scan", "Bitmap Heap Scan": "scan",
    "Tid Scan": "scan", "Tid Range Scan": "scan", "Sample Scan": "scan", "Foreign Scan": "scan",
    "Custom Scan": "scan", "Bitmap Index Scan": "bitmap", "BitmapAnd": "bitmap", "BitmapOr": "bitmap",
    "Nested Loop": "join", "Hash Join": "join", "Merge Join": "join",
    "Sort": "sort", "Incremental Sort": "sort", "Aggregate": "agg", "Group": "agg", "Unique": "agg",
    "Gather": "gather", "Gather Merge": "gather", "Materialize": "cache", "Memoize": "cache",
    "Append": "append", "Merge Append": "append", "Subquery Scan": "subquery", "CTE Scan": "subquery",
    "Limit": "limit", "Result": "result", "ProjectSet": "result",
}


# --------------------------------------------------------------------------- the result


class PlanDiff:
    """Two plans side by side, node by node. Build it with :func:`diff_plans`.

    ``nodes``: one row per pair of matched nodes, and per node only in one plan, in the
    order of plan ``b`` (a removed node follows the nearest of its ancestors that has a
    match, or comes first when none has). Columns and dtypes (missing values are ``<NA>``):

    ================ ======== ===================================================================
    column           dtype    meaning
    ================ ======== ===================================================================
    node_id_a        Int64    node_id in plan a; <NA> for a node only in b
    node_id_b        Int64    node_id in plan b; <NA> for a node only in a
    change           string   same | changed | added | removed
    node_type_a      string   node type in a ("Seq Scan", "Hash Join", ...)
    node_type_b      string   node type in b
    relation         string   relation scanned (a's, else b's)
    index_a          string   index used in a
    index_b          string   index used in b
    join_type_a      string   Inner, Left, Semi, Anti, ... in a
    join_type_b      string   the same in b
    strategy_a       string   Aggregate / SetOp strategy in a: Plain, Sorted, Hashed, Mixed
    strategy_b       string   the same in b
    label_a          string   short name in a: "Index Scan using idx on posts p"
    label_b          string   short name in b
    depth_a          Int64    depth in a (root 0)
    depth_b          Int64    depth in b
    time_ms_a        Float64  exclusive time in a (the node itself), ms; <NA> without ANALYZE
    time_ms_b        Float64  exclusive time in b, ms
    time_delta_ms    Float64  time_ms_b - time_ms_a, a missing side counting 0 (they add up
                              to the change in the plans' total exclusive time)
    rows_a           Float64  actual rows per loop in a
    rows_b           Float64  actual rows per loop in b
    plan_rows_a      Float64  planned rows per loop in a
    plan_rows_b      Float64  planned rows per loop in b
    loops_a          Int64    actual loops in a
    loops_b          Int64    actual loops in b
    shared_blocks_a  Int64    shared blocks hit + read by the node itself in a (BUFFERS)
    shared_blocks_b  Int64    the same in b
    cost_a           Float64  planner's total cost in a
    cost_b           Float64  planner's total cost in b
    similarity       Float64  match score of the pair (higher is surer); <NA> when unmatched
                              or when matched by shape or identity (``method``)
    note             string   the structural change in words: "Seq Scan → Index Scan using
                              idx_x", "Hash Join → Nested Loop", "moved: now under #3 Hash",
                              "Outer → Inner", "added: Hash", "removed: Sort"; "" when same
    ================ ======== ===================================================================

    ``totals``: the plans as a whole, one row per metric: execution_ms, planning_ms,
    total_ms (planning + execution), total_cost (the root's), rows (the root's actual
    rows), shared_hit, shared_read, temp_blocks (read + written) and nodes, with columns
    metric (string), a, b, delta (b - a) and ratio (b / a; below 1 means b is smaller,
    i.e. faster), all Float64.

    Other attributes: ``a`` and ``b`` (the plans), ``method`` (how nodes were matched:
    "same shape", "similarity" or "identity"), ``speedup`` (a's execution time over b's),
    ``changes`` (the rows whose change is not "same"), :meth:`figure`.
    """

    def __init__(self, a: Plan, b: Plan, nodes: pd.DataFrame, totals: pd.DataFrame, method: str) -> None:
        self.a, self.b = a, b
        self.nodes = nodes
        self.totals = totals
        self.method = method

    @property
    def changes(self) -> pd.DataFrame:
        """The rows that are not "same": changed, added and removed nodes."""
        return self.nodes[self.nodes["change"] != "same"]

    @property
    def speedup(self) -> float | None:
        """Execution time of a divided by that of b (2.0: b runs twice as fast); None without both times."""
        ea, eb = getattr(self.a, "execution_ms", None), getattr(self.b, "execution_ms", None)
        if ea is None or eb is None or eb <= 0:
            return None
        return float(ea) / float(eb)

    def _counts(self) -> str:
        counts = self.nodes["change"].value_counts()
        return ", ".join(f"{int(counts.get(c, 0))} {c}" for c in ("same", "changed", "added", "removed"))

    def _headline(self) -> str:
        parts = [self._counts()]
        ea, eb = getattr(self.a, "execution_ms", None), getattr(self.b, "execution_ms", None)
        if ea is not None and eb is not None:
            parts.append(f"execution {ea:,.3f} → {eb:,.3f} ms" + (f" ({self.speedup:,.2f}x faster)"
                                                                  if self.speedup and self.speedup >= 1
                                                                  else f" ({1 / self.speedup:,.2f}x slower)"
                                                                  if self.speedup else ""))
        else:
            ca, cb = _root(self.a, "total_cost"), _root(self.b, "total_cost")
            if ca is not None and cb is not None:
                parts.append(f"cost {ca:,.2f} → {cb:,.2f}")
        return "; ".join(parts)

    def __repr__(self) -> str:
        lines = [f"<PlanDiff: {self._headline()}>"]
        notes = self.changes["note"].dropna()
        lines += [f"  {n}" for n in notes.head(10)]
        if len(notes) > 10:
            lines.append(f"  … and {len(notes) - 10} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html_text(n)}</li>" for n in self.changes["note"].dropna().head(20))
        return math_off(f"<b>PlanDiff</b>: {html_text(self._headline())}<ul>{items}</ul>")

    def figure(self, metric: str = "time", top: int = 25) -> go.Figure:
        """Paired bars per node, before (a) and after (b): the ``top`` nodes with the most ``metric``.

        ``metric``: ``time`` (exclusive ms; the planner's cost when neither plan was
        analysed), ``rows``, ``shared_blocks`` or ``cost``. Bars are labelled
        "#a→#b name"; hover shows the change. Plan text is escaped (see :mod:`dbworkbench._escape`).
        """
        cols = {"time": ("time_ms", "own time (ms)"), "rows": ("rows", "actual rows per loop"),
                "shared_blocks": ("shared_blocks", "own shared blocks hit + read"), "cost": ("cost", "total cost")}
        if metric not in cols:
            raise ValueError(f"PlanDiff.figure has no metric {metric!r}; choose one of: {', '.join(cols)}")
        col, shown = cols[metric]
        df = self.nodes
        if metric == "time" and df["time_ms_a"].isna().all() and df["time_ms_b"].isna().all():
            col, shown = "cost", "total cost (no ANALYZE)"
        va = df[col + "_a"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        vb = df[col + "_b"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        key = np.fmax(np.nan_to_num(va, nan=-1.0), np.nan_to_num(vb, nan=-1.0))
        pick = np.argsort(-key, kind="stable")[:top]
        pick = np.sort(pick)  # back to plan order
        sel = df.iloc[pick]
        ida = sel["node_id_a"].astype("string").fillna("–").to_numpy(dtype=object)
        idb = sel["node_id_b"].astype("string").fillna("–").to_numpy(dtype=object)
        la, lb = sel["label_a"].fillna(""), sel["label_b"].fillna("")
        name = lb.where(lb != "", la).where((la == lb) | (la == "") | (lb == ""), la + " → " + lb)
        short = name.astype("string")
        short_text = html_texts(short.where(short.str.len() <= 64, short.str.slice(0, 63) + "…"))
        ylab = "#" + ida + "→#" + idb + " " + short_text
        info = np.column_stack([html_texts(sel["change"]), html_texts(sel["note"])])
        fig = go.Figure()
        for side, vals, colour in (("a (before)", va[pick], "#9ecae1"), ("b (after)", vb[pick], "#3182bd")):
            fig.add_trace(go.Bar(
                y=ylab, x=vals, name=side, orientation="h", marker_color=colour, customdata=info,
                hovertemplate="%{y}<br>" + side + ": %{x:,.6g}<br>%{customdata[0]} %{customdata[1]}<extra></extra>",
            ))
        fig.update_yaxes(autorange="reversed", type="category")
        drawn = np.concatenate([va[pick], vb[pick]])
        drawn = drawn[np.isfinite(drawn) & (drawn > 0)]
        if drawn.size > 1 and drawn.max() >= 100 * drawn.min():  # a 400x faster "after" bar stays visible
            fig.update_xaxes(type="log")
            shown += " (log scale)"
        fig.update_layout(barmode="group", title={"text": f"Plan diff: {shown} per node<br><sup>{self._headline()}</sup>"},
                          xaxis_title=shown, height=int(min(max(160 + 34 * len(sel), 320), 1400)),
                          legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"})
        return fig


# --------------------------------------------------------------------------- matching


class _Side:
    """What matching needs of one plan, as numpy arrays in node-table order."""

    def __init__(self, nodes: pd.DataFrame) -> None:
        self.nodes = nodes
        self.n = len(nodes)
        self.parent = _parents(nodes)
        self.depth = _num(nodes, "depth")
        self.type = _txt(nodes, "node_type")
        self.family = np.array([_FAMILY.get(t, t) for t in self.type.tolist()], dtype=object)
        self.relation = _txt(nodes, "relation")
        self.index = _txt(nodes, "index_name")
        self.alias = _txt(nodes, "alias")
        self.join = _txt(nodes, "join_type")
        self.strategy = _txt(nodes, "strategy")
        self.subplan = _txt(nodes, "subplan_name")
        self.cte = _txt(nodes, "cte_name")
        self.relationship = _txt(nodes, "parent_relationship")
        self.position = np.arange(self.n) / max(self.n - 1, 1)
        self.n_children = np.bincount(self.parent[self.parent >= 0], minlength=self.n)


def _codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shared integer codes for two string arrays; '' gets -1."""
    codes, uniques = pd.factorize(np.concatenate([a, b]))
    empty = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
    if len(empty):
        codes = np.where(codes == empty[0], -1, codes)
    return codes[: len(a)], codes[len(a):]


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ca, cb = _codes(a, b)
    return (ca[:, None] == cb[None, :]) & (ca[:, None] >= 0)


def _subtree_relations(side: _Side, codes: np.ndarray, k: int) -> np.ndarray:
    """(n, k) 0/1: which relations appear in each node's subtree (itself included)."""
    out = np.zeros((side.n, k), dtype=np.float32)
    has = codes >= 0
    out[np.flatnonzero(has), codes[has]] = 1.0
    # push up one depth level at a time, deepest first
    depth = np.nan_to_num(side.depth).astype(np.int64)
    for d in range(int(depth.max(initial=0)), 0, -1):
        kids = np.flatnonzero((depth == d) & (side.parent >= 0))
        if len(kids):
            np.maximum.at(out, side.parent[kids], out[kids])
    return out


def _base_scores(a: _Side, b: _Side) -> np.ndarray:
    """Similarity of every pair (a node, b node) from identity and place, float32 (na, nb)."""
    same_type = _same(a.type, b.type)
    s = 3.0 * same_type + 1.5 * (~same_type & _same(a.family, b.family))
    ra, rb = _codes(a.relation, b.relation)
    both_rel = (ra[:, None] >= 0) & (rb[None, :] >= 0)
    same_rel = both_rel & (ra[:, None] == rb[None, :])
    s += 4.0 * same_rel - 2.0 * (both_rel & ~same_rel)
    s += 1.5 * _same(a.index, b.index) + 1.0 * _same(a.alias, b.alias)
    s += 0.5 * _same(a.join, b.join) + 0.5 * _same(a.strategy, b.strategy)
    s += 1.0 * _same(a.subplan, b.subplan) + 1.5 * _same(a.cte, b.cte)
    s -= 0.25 * np.minimum(np.abs(a.depth[:, None] - b.depth[None, :]), 8.0)
    s -= 1.0 * np.abs(a.position[:, None] - b.position[None, :])
    # the tables below a node: what a join or an aggregate is about
    k = int(max(ra.max(initial=-1), rb.max(initial=-1))) + 1
    if k:
        ta, tb = _subtree_relations(a, ra, k), _subtree_relations(b, rb, k)
        inter = ta @ tb.T
        union = ta.sum(1)[:, None] + tb.sum(1)[None, :] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            jac = np.where(union > 0, inter / union, 0.0)
        inner = (a.n_children[:, None] > 0) & (b.n_children[None, :] > 0)
        s += 3.0 * jac * inner
    return s.astype(np.float32)


def _assign(score: np.ndarray) -> np.ndarray:
    """Greedy matching, mutual best pairs first; for each a node its b node or -1."""
    s = np.where(score >= MIN_SCORE, score, -np.inf).astype(np.float32)
    na, nb = s.shape
    match = np.full(na, -1, dtype=np.int64)
    rows = np.arange(na)
    for _ in range(200):
        bj = s.argmax(axis=1)
        best = s[rows, bj]
        live = np.isfinite(best)
        if not live.any():
            return match
        bi = s.argmax(axis=0)
        mutual = np.flatnonzero(live & (bi[bj] == rows))
        match[mutual] = bj[mutual]
        s[mutual, :] = -np.inf
        s[:, bj[mutual]] = -np.inf
    # what is left after many rounds (long chains of near-ties): plain greedy, best first
    ii, jj = np.nonzero(np.isfinite(s))
    order = np.argsort(-s[ii, jj], kind="stable")
    used_b = np.zeros(nb, dtype=bool)
    for i, j in zip(ii[order].tolist(), jj[order].tolist(), strict=True):
        if match[i] < 0 and not used_b[j]:
            match[i] = j
            used_b[j] = True
    return match


def _structure_bonus(a: _Side, b: _Side, match: np.ndarray) -> np.ndarray:
    """Bonus for pairs whose parents are matched to each other, and whose children are."""
    bonus = np.zeros((a.n, b.n), dtype=np.float32)
    pa_matched = np.where(a.parent >= 0, match[np.clip(a.parent, 0, None)], -2)
    bonus += 2.0 * (pa_matched[:, None] == b.parent[None, :])
    if a.n and b.n:
        bonus[0, 0] += 2.0  # the roots
    kids = np.flatnonzero((match >= 0) & (a.parent >= 0))
    kb = match[kids]
    ok = b.parent[kb] >= 0
    shared = np.zeros((a.n, b.n), dtype=np.float32)
    np.add.at(shared, (a.parent[kids[ok]], b.parent[kb[ok]]), 1.0)
    most = np.maximum(a.n_children[:, None], b.n_children[None, :]).astype(np.float32)
    bonus += 2.0 * np.divide(shared, most, out=np.zeros_like(shared), where=most > 0)
    return bonus


def _by_identity(a: _Side, b: _Side) -> np.ndarray:
    """For large plans: pair nodes of the same type, relation, index and alias in plan order."""
    match = np.full(a.n, -1, dtype=np.int64)

    def keys(s: _Side, family: bool) -> pd.Series:
        t = s.family if family else s.type
        return pd.Series(t + "\x1f" + s.relation + "\x1f" + (s.index if not family else "") + "\x1f" + s.alias)

    for family in (False, True):
        free_a = np.flatnonzero(match < 0)
        used_b = np.zeros(b.n, dtype=bool)
        used_b[match[match >= 0]] = True
        free_b = np.flatnonzero(~used_b)
        ka = pd.DataFrame({"k": keys(a, family).to_numpy()[free_a], "i": free_a})
        kb = pd.DataFrame({"k": keys(b, family).to_numpy()[free_b], "j": free_b})
        ka["r"] = ka.groupby("k").cumcount()
        kb["r"] = kb.groupby("k").cumcount()
        m = ka.merge(kb, on=["k", "r"])
        match[m["i"].to_numpy()] = m["j"].to_numpy()
    return match


def _match(a: _Side, b: _Side) -> tuple[np.ndarray, np.ndarray, str]:
    """(b node per a node or -1, score per a node or NaN, method)."""
    if (a.n == b.n and np.array_equal(a.parent, b.parent) and np.array_equal(a.type, b.type)
            and np.array_equal(a.relation, b.relation) and np.array_equal(a.index, b.index)):
        return np.arange(a.n), np.full(a.n, np.nan), "same shape"
    if a.n * b.n > MAX_PAIRS:
        return _by_identity(a, b), np.full(a.n, np.nan), "identity"
    base = _base_scores(a, b)
    match = _assign(base)
    score = base
    for _ in range(2):
        score = base + _structure_bonus(a, b, match)
        match = _assign(score)
    got = match >= 0
    sim = np.full(a.n, np.nan)
    sim[got] = score[np.flatnonzero(got), match[got]]
    return match, sim, "similarity"


# --------------------------------------------------------------------------- the pair table


def _pick(values: np.ndarray, idx: np.ndarray, fill: object = None) -> np.ndarray:
    """values[idx] where idx >= 0, else ``fill`` (None: NaN in a float64 array; else an object array)."""
    out = np.full(len(idx), np.nan) if fill is None else np.full(len(idx), fill, dtype=object)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _blocks(nodes: pd.DataFrame) -> np.ndarray:
    hit, read = _num(nodes, "shared_hit_excl"), _num(nodes, "shared_read_excl")
    return np.where(np.isnan(hit) & np.isnan(read), np.nan, np.nan_to_num(hit) + np.nan_to_num(read))


def _pairs(a: _Side, b: _Side, match: np.ndarray, sim: np.ndarray) -> pd.DataFrame:
    na_, nb_ = a.nodes, b.nodes
    matched_a = np.flatnonzero(match >= 0)
    b_of_a = match
    a_of_b = np.full(b.n, -1, dtype=np.int64)
    a_of_b[match[matched_a]] = matched_a
    # rows: every b node in order (with its a partner or none), then removed a nodes placed after
    # the b row of their nearest matched ancestor
    removed = np.flatnonzero(match < 0)
    anchor = np.full(len(removed), -1.0)  # no matched ancestor (a removed root): first
    cur = removed.copy()
    pending = np.ones(len(removed), dtype=bool)
    while pending.any():  # climb ancestors; at most the depth of the plan, whole arrays per step
        cur = np.where(pending, a.parent[cur], cur)
        top = pending & (cur < 0)
        pending &= ~top
        hit = pending & (b_of_a[np.clip(cur, 0, None)] >= 0)
        anchor[hit] = b_of_a[cur[hit]]
        pending &= ~hit
    ia = np.concatenate([a_of_b, removed])
    ib = np.concatenate([np.arange(b.n), np.full(len(removed), -1)])
    order_key = np.concatenate([np.arange(b.n, dtype=float), anchor + 0.5 + removed / (10.0 * max(a.n, 1))])
    order = np.argsort(order_key, kind="stable")
    ia, ib = ia[order], ib[order]
    sim_rows = _pick(sim, ia)

    labels_a, labels_b = node_labels(na_), node_labels(nb_)
    ops_a, ops_b = node_labels(na_, with_target=False), node_labels(nb_, with_target=False)
    ids_a, ids_b = _num(na_, "node_id"), _num(nb_, "node_id")
    both = (ia >= 0) & (ib >= 0)
    only_b = (ia < 0) & (ib >= 0)
    only_a = (ia >= 0) & (ib < 0)

    def col(side: _Side, idx: np.ndarray, name: str) -> np.ndarray:
        return _pick(getattr(side, name), idx, "")

    rel_a, rel_b = col(a, ia, "relation"), col(b, ib, "relation")
    alias_a, alias_b = col(a, ia, "alias"), col(b, ib, "alias")
    op_a, op_b = _pick(ops_a, ia, ""), _pick(ops_b, ib, "")
    lab_a, lab_b = _pick(labels_a, ia, ""), _pick(labels_b, ib, "")
    target_same = (rel_a == rel_b) & (alias_a == alias_b) & (col(a, ia, "cte") == col(b, ib, "cte"))
    renamed = both & ((op_a != op_b) | ~target_same)
    what = np.where(target_same, op_a + " → " + op_b, lab_a + " → " + lab_b)
    # moved: the a parent's partner is not the b parent
    pa = _pick(a.parent, ia, -1).astype(np.int64)
    pb = _pick(b.parent, ib, -1).astype(np.int64)
    pa_partner = np.where(pa >= 0, b_of_a[np.clip(pa, 0, None)], -1)
    moved = both & (pa >= 0) & (pb >= 0) & (pa_partner != pb)
    side_a, side_b = col(a, ia, "relationship"), col(b, ib, "relationship")
    flipped = both & ~moved & (side_a != side_b) & (side_a != "") & (side_b != "")
    notes = []
    notes.append(np.where(renamed, what, ""))
    parent_name = np.where(pb >= 0, _pick(labels_b, pb, ""), "")
    parent_id = np.where(pb >= 0, np.nan_to_num(_pick(ids_b, pb)), 0).astype(np.int64).astype(str)
    notes.append(np.where(moved, "moved: now under #" + parent_id.astype(object) + " " + parent_name, ""))
    notes.append(np.where(flipped, side_a + " → " + side_b, ""))
    note = np.full(len(ia), "", dtype=object)
    for part in notes:
        note = np.where(part != "", np.where(note != "", note + "; " + part, part), note)
    note = np.where(only_b, "added: " + lab_b, note)
    note = np.where(only_a, "removed: " + lab_a, note)
    change = np.where(only_b, "added", np.where(only_a, "removed", np.where(note != "", "changed", "same")))

    def num(nodes: pd.DataFrame, idx: np.ndarray, name: str) -> np.ndarray:
        return _pick(_num(nodes, name), idx)

    t_a, t_b = num(na_, ia, "exclusive_ms"), num(nb_, ib, "exclusive_ms")
    delta = np.where(np.isnan(t_a) & np.isnan(t_b), np.nan, np.nan_to_num(t_b) - np.nan_to_num(t_a))
    rel = np.where(rel_a != "", rel_a, rel_b)

    def s(v: np.ndarray) -> ExtensionArray:
        out = v.astype(object)
        out[v == ""] = None
        return pd.array(out, dtype="string")

    data: dict[str, np.ndarray | ExtensionArray] = {
        "node_id_a": _pick(ids_a, ia), "node_id_b": _pick(ids_b, ib), "change": change,
        "node_type_a": s(col(a, ia, "type")), "node_type_b": s(col(b, ib, "type")), "relation": s(rel),
        "index_a": s(col(a, ia, "index")), "index_b": s(col(b, ib, "index")),
        "join_type_a": s(col(a, ia, "join")), "join_type_b": s(col(b, ib, "join")),
        "strategy_a": s(col(a, ia, "strategy")), "strategy_b": s(col(b, ib, "strategy")),
        "label_a": s(lab_a), "label_b": s(lab_b),
        "depth_a": _pick(a.depth, ia), "depth_b": _pick(b.depth, ib),
        "time_ms_a": t_a, "time_ms_b": t_b, "time_delta_ms": delta,
        "rows_a": num(na_, ia, "actual_rows"), "rows_b": num(nb_, ib, "actual_rows"),
        "plan_rows_a": num(na_, ia, "plan_rows"), "plan_rows_b": num(nb_, ib, "plan_rows"),
        "loops_a": num(na_, ia, "actual_loops"), "loops_b": num(nb_, ib, "actual_loops"),
        "shared_blocks_a": _pick(_blocks(na_), ia), "shared_blocks_b": _pick(_blocks(nb_), ib),
        "cost_a": num(na_, ia, "total_cost"), "cost_b": num(nb_, ib, "total_cost"),
        "similarity": sim_rows, "note": note,
    }
    out = {}
    for name, dtype in DIFF_COLUMNS:
        v = data[name]
        if dtype == "Float64":
            v = pd.array(np.asarray(v, dtype="float64"), dtype="Float64")
        elif dtype == "Int64":
            v = pd.array(np.rint(np.asarray(v, dtype="float64")), dtype="Float64").astype("Int64")
        # pandas-stubs only has overloads for literal dtype names, not a dtype str chosen at run time
        out[name] = pd.array(v, dtype=dtype)  # type: ignore[call-overload]
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- totals


def _root(plan: Plan, col: str) -> float | None:
    v = _num(plan.nodes, col)
    return None if not len(v) or np.isnan(v[0]) else float(v[0])


def _totals(a: Plan, b: Plan) -> pd.DataFrame:
    def facts(p: Plan) -> dict[str, float | None]:
        ex, pl = getattr(p, "execution_ms", None), getattr(p, "planning_ms", None)
        tr, tw = _root(p, "temp_read"), _root(p, "temp_written")
        return {
            "execution_ms": ex, "planning_ms": pl,
            "total_ms": None if ex is None or pl is None else ex + pl,
            "total_cost": _root(p, "total_cost"), "rows": _root(p, "actual_rows"),
            "shared_hit": _root(p, "shared_hit"), "shared_read": _root(p, "shared_read"),
            "temp_blocks": None if tr is None and tw is None else (tr or 0.0) + (tw or 0.0),
            "nodes": float(len(p.nodes)),
        }

    fa, fb = facts(a), facts(b)
    names = list(fa)
    va = np.array([np.nan if fa[k] is None else fa[k] for k in names], dtype=float)
    vb = np.array([np.nan if fb[k] is None else fb[k] for k in names], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(va > 0, vb / va, np.nan)
    return pd.DataFrame({
        "metric": pd.array(names, dtype="string"),
        "a": pd.array(va, dtype="Float64"), "b": pd.array(vb, dtype="Float64"),
        "delta": pd.array(vb - va, dtype="Float64"), "ratio": pd.array(ratio, dtype="Float64"),
    })


def diff_plans(a: Plan, b: Plan) -> PlanDiff:
    """Match the nodes of plan ``a`` (before) to those of plan ``b`` (after); see :class:`PlanDiff`.

    Works for re-runs of one query (same shape: node by node), for plans that changed
    (another index, another join method, another join order) and for rewritten queries.
    """
    sa, sb = _Side(a.nodes), _Side(b.nodes)
    match, sim, method = _match(sa, sb)
    return PlanDiff(a, b, _pairs(sa, sb, match, sim), _totals(a, b), method)
