"""Pictures of one plan: the tree (a box per node) and an icicle of where the time goes.

Both are built from ``plan.nodes`` and ``plan.insights()`` only, with whole-column
numpy and pandas operations (no plotly call per node), so a 10,000-node plan draws
in well under a second. plotly renders a few tags (``<b>``, ``<a href>``, ``<span
style>``, ...) in labels and hover text, even in values a hovertemplate inserts, and
typesets ``$...$`` when MathJax is loaded: so every piece of plan text (node types,
relation, index, filter and alias names, insight messages) passes through
:func:`dbworkbench._escape.html_texts` after it is cut to length and before it meets
the figure's own markup.

>>> from dbworkbench.plans import parse_plan
>>> plan = parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual time=0.01..0.20 rows=2550 loops=1)")
>>> plan_figure(plan).data[-1].name
'nodes'
>>> plan_flame(plan, "shared_read").data[0].type
'icicle'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._escape import html_series, html_texts

if TYPE_CHECKING:
    from ._plan import Plan

__all__ = ["FLAME_METRICS", "METRICS", "node_labels", "plan_figure", "plan_flame"]

# metric -> what it shows (axis and colour-bar text). Columns of ``Plan.nodes`` except ``buffers``.
METRICS: dict[str, str] = {
    "exclusive_ms": "time in the node itself (ms)",
    "inclusive_ms": "time in the node and below (ms)",
    "exclusive_pct": "share of all time, node itself (%)",
    "actual_rows": "rows per loop",
    "plan_rows": "planned rows per loop",
    "misestimate": "row estimate off by (x)",
    "total_cost": "planner's total cost",
    "startup_cost": "planner's startup cost",
    "shared_read": "shared blocks read, node and below",
    "shared_hit": "shared blocks hit, node and below",
    "shared_read_excl": "shared blocks read by the node itself",
    "shared_hit_excl": "shared blocks hit by the node itself",
    "buffers": "shared blocks hit + read by the node itself",
    "temp_written": "temporary blocks written, node and below",
}

# For the icicle a parent's box holds its children, so each node contributes what
# it did itself: metric -> (amount per node, what the box size shows).
FLAME_METRICS: dict[str, tuple[str, str]] = {
    "exclusive_ms": ("exclusive_ms", "time (ms)"),
    "inclusive_ms": ("exclusive_ms", "time (ms)"),
    "exclusive_pct": ("exclusive_pct", "share of all time (%)"),
    "actual_rows": ("rows_all_loops", "rows produced, all loops"),
    "plan_rows": ("plan_rows", "planned rows"),
    "total_cost": ("exclusive_cost", "planner's cost"),
    "startup_cost": ("exclusive_cost", "planner's cost"),
    "shared_read": ("shared_read_excl", "shared blocks read"),
    "shared_read_excl": ("shared_read_excl", "shared blocks read"),
    "shared_hit": ("shared_hit_excl", "shared blocks hit"),
    "shared_hit_excl": ("shared_hit_excl", "shared blocks hit"),
    "buffers": ("buffers", "shared blocks hit + read"),
    "temp_written": ("temp_written_excl", "temporary blocks written"),
}

_SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}
_SEVERITY_COLOUR = {1: "#1f77b4", 2: "#ff7f0e", 3: "#d62728"}
_SEVERITY_NAME = {1: "info", 2: "warning", 3: "critical"}
_JOINS = ("Nested Loop", "Hash Join", "Merge Join")
_AGG_NAMES = {"Sorted": "GroupAggregate", "Hashed": "HashAggregate", "Mixed": "MixedAggregate"}
_TEXT_WIDTH = 160  # hover text of a filter or condition is cut after this many characters
_LABELS_UP_TO = 150  # nodes; bigger plans show their labels on hover only


# --------------------------------------------------------------------------- column helpers


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    """A column as float64 with NaN for missing (all NaN when the column is absent)."""
    if col not in df:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _txt(df: pd.DataFrame, col: str, width: int | None = None) -> np.ndarray:
    """A text column as an object array of str, '' for missing; white space flattened, cut at ``width``."""
    if col not in df or df[col].isna().all():
        return np.full(len(df), "", dtype=object)
    s = df[col].astype("string").fillna("")
    if width is not None:
        s = s.str.replace(r"\s+", " ", regex=True)
        s = s.where(s.str.len() <= width, s.str.slice(0, width - 1) + "…")
    return s.to_numpy(dtype=object)


def _fmt(values: np.ndarray, spec: str) -> np.ndarray:
    """Each number formatted with ``spec``; '' where it is NaN."""
    out = np.full(len(values), "", dtype=object)
    ok = ~np.isnan(values)
    out[ok] = [format(v, spec) for v in values[ok].tolist()]
    return out


def _when(mask: np.ndarray, text: np.ndarray | str) -> np.ndarray:
    out = np.full(len(mask), "", dtype=object)
    out[mask] = text[mask] if isinstance(text, np.ndarray) else text
    return out


def _join_lines(lines: list[np.ndarray]) -> np.ndarray:
    """Per row, the non-empty pieces joined with line breaks."""
    out = np.full(len(lines[0]), "", dtype=object)
    for line in lines:
        has = line != ""
        sep = np.where(out != "", "<br>", "")
        out = np.where(has, out + sep + line, out)
    return out


def node_labels(nodes: pd.DataFrame, *, with_target: bool = True) -> np.ndarray:
    """A short name per node: "Seq Scan on users", "Index Scan using idx on posts p", "Hash Join (Left)".

    Vectorised over the node table; an object array of str in the table's order.
    ``with_target=False`` leaves out the relation (or CTE) and alias: "Index Scan using idx".
    The names are the plan's text as it is: escape them (``dbworkbench._escape.html_texts``) before plotly shows them.
    """
    nt = _txt(nodes, "node_type")
    nt[nt == ""] = "?"
    strat, jt = _txt(nodes, "strategy"), _txt(nodes, "join_type")
    name = nt.copy()
    agg = (nt == "Aggregate") & np.isin(strat, list(_AGG_NAMES))
    name[agg] = [_AGG_NAMES[s] for s in strat[agg]]
    join = np.isin(nt, _JOINS) & (jt != "") & (jt != "Inner")
    name[join] = name[join] + " (" + jt[join] + ")"
    idx = _txt(nodes, "index_name")
    has_idx = idx != ""
    bitmap = nt == "Bitmap Index Scan"
    name[has_idx & bitmap] = name[has_idx & bitmap] + " on " + idx[has_idx & bitmap]
    name[has_idx & ~bitmap] = name[has_idx & ~bitmap] + " using " + idx[has_idx & ~bitmap]
    rel, cte = _txt(nodes, "relation"), _txt(nodes, "cte_name")
    if not with_target:
        rel, cte = np.full(len(nt), "", dtype=object), np.full(len(nt), "", dtype=object)
    target = np.where(rel != "", rel, cte)
    has_t = target != ""
    name[has_t] = name[has_t] + " on " + target[has_t]
    alias = _txt(nodes, "alias") if with_target else np.full(len(nt), "", dtype=object)
    aliased = (alias != "") & (alias != rel) & (alias != cte) & (has_t | np.isin(nt, ("Subquery Scan", "Values Scan")))
    name[aliased & has_t] = name[aliased & has_t] + " " + alias[aliased & has_t]
    name[aliased & ~has_t] = name[aliased & ~has_t] + " on " + alias[aliased & ~has_t]
    sub = _txt(nodes, "subplan_name")
    has_sub = sub != ""
    name[has_sub] = "[" + sub[has_sub] + "] " + name[has_sub]
    return name


def _short(labels: np.ndarray, width: int = 28) -> np.ndarray:
    s = pd.Series(labels, dtype="string")
    return s.where(s.str.len() <= width, s.str.slice(0, width - 1) + "…").to_numpy(dtype=object)


def _parents(nodes: pd.DataFrame) -> np.ndarray:
    """Row position of each node's parent, -1 for the root (node_id need not equal the position)."""
    ids = pd.Index(nodes["node_id"].astype("Int64").to_numpy(dtype="float64", na_value=np.nan))
    pid = nodes["parent_id"].astype("Int64").to_numpy(dtype="float64", na_value=np.nan)
    pos = ids.get_indexer(pid)  # type: ignore[arg-type]  # pandas-stubs wants an Index; pandas takes array-likes
    return np.asarray(pos, dtype=np.int64)


def _exclusive_cost(nodes: pd.DataFrame, parent: np.ndarray) -> np.ndarray:
    """Total cost minus the children's total cost (never below zero): the planner's cost of the node itself."""
    total = _num(nodes, "total_cost")
    if np.isnan(total).all():
        return total
    t0 = np.nan_to_num(total)
    kids = np.zeros(len(total))
    child = parent >= 0
    np.add.at(kids, parent[child], t0[child])
    return np.where(np.isnan(total), np.nan, np.maximum(t0 - kids, 0.0))


def _values(nodes: pd.DataFrame, name: str, parent: np.ndarray) -> np.ndarray:
    """The per-node values of a metric of METRICS or of FLAME_METRICS' amounts."""
    if name == "buffers":
        hit, read = _num(nodes, "shared_hit_excl"), _num(nodes, "shared_read_excl")
        both = np.isnan(hit) & np.isnan(read)
        return np.where(both, np.nan, np.nan_to_num(hit) + np.nan_to_num(read))
    if name == "rows_all_loops":
        rows, loops = _num(nodes, "actual_rows"), _num(nodes, "actual_loops")
        return rows * loops
    if name == "exclusive_cost":
        return _exclusive_cost(nodes, parent)
    return _num(nodes, name)


def _check_metric(metric: str, choices: dict[str, Any], what: str) -> None:
    if metric not in choices:
        raise ValueError(f"{what} has no metric {metric!r}; choose one of: {', '.join(choices)}")


# --------------------------------------------------------------------------- insights


def _insights(plan: Plan) -> pd.DataFrame:
    """``plan.insights()`` reduced to node_id (Int64), severity, message, suggestion; empty when none or it fails."""
    empty = pd.DataFrame({"node_id": pd.array([], dtype="Int64"), "severity": pd.array([], dtype="string"),
                          "message": pd.array([], dtype="string"), "suggestion": pd.array([], dtype="string")})
    try:
        found = plan.insights()
    except Exception:  # noqa: BLE001 - a broken rule must not cost the reader the picture
        return empty
    if not isinstance(found, pd.DataFrame) or found.empty or "node_id" not in found:
        return empty
    out = pd.DataFrame({
        "node_id": pd.to_numeric(found["node_id"], errors="coerce").astype("Int64"),
        "severity": found["severity"].astype("string") if "severity" in found else pd.NA,
        "message": found["message"].astype("string") if "message" in found else pd.NA,
        "suggestion": found["suggestion"].astype("string") if "suggestion" in found else pd.NA,
    })
    out["severity"] = out["severity"].astype("string").fillna("info").str.lower()
    out["message"] = out["message"].astype("string").fillna("")
    out["suggestion"] = out["suggestion"].astype("string").fillna("")
    return out.reset_index(drop=True)


def _insight_marks(plan: Plan, nodes: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Per node with findings: row position, worst severity rank, hover lines; and the plan-level count."""
    found = _insights(plan)
    plan_level = int(found["node_id"].isna().sum())
    found = found[found["node_id"].notna()]
    ids = pd.Index(nodes["node_id"].astype("Int64").to_numpy(dtype="float64", na_value=np.nan))
    pos = ids.get_indexer(found["node_id"].to_numpy(dtype="float64", na_value=np.nan))  # type: ignore[arg-type]  # as in _parents
    found = found.assign(pos=pos)[pos >= 0]
    if found.empty:
        return pd.DataFrame({"pos": [], "rank": [], "text": []}), plan_level
    rank = found["severity"].map(_SEVERITY_RANK).fillna(1).astype(int)
    def cut(text: pd.Series) -> pd.Series:
        flat = text.str.replace(r"\s+", " ", regex=True)
        return flat.where(flat.str.len() <= 300, flat.str.slice(0, 299) + "…")

    msg, fix = html_series(cut(found["message"])), html_series(cut(found["suggestion"]))
    line = html_series(found["severity"]) + ": " + msg + fix.where(fix == "", "<br>→ " + fix)
    found = found.assign(rank=rank, line=line)
    grouped = found.groupby("pos", sort=True).agg(rank=("rank", "max"), text=("line", "<br>".join)).reset_index()
    return grouped, plan_level


# --------------------------------------------------------------------------- hover text


def _hover(nodes: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """One hover text per node: what it is, rows, time, cost, buffers and its conditions (plan text escaped)."""
    n = len(nodes)
    ids = _fmt(_num(nodes, "node_id"), ".0f")
    title = "<b>#" + ids + " " + html_texts(labels) + "</b>"

    actual, planned, loops = _num(nodes, "actual_rows"), _num(nodes, "plan_rows"), _num(nodes, "actual_loops")
    never = (loops == 0)
    a_txt, p_txt, l_txt = _fmt(actual, ",.6g"), _fmt(planned, ",.6g"), _fmt(loops, ",.0f")
    analysed = ~np.isnan(actual) & ~never
    rows = np.full(n, "", dtype=object)
    rows[analysed] = "rows " + a_txt[analysed] + " of " + np.where(p_txt[analysed] == "", "?", p_txt[analysed]) + " planned"
    only_plan = np.isnan(actual) & ~np.isnan(planned) & ~never
    rows[only_plan] = "rows " + p_txt[only_plan] + " planned"
    rows[never] = "never executed"
    has_loops = analysed & (l_txt != "")
    rows[has_loops] = rows[has_loops] + ", loops " + l_txt[has_loops]
    mis = _num(nodes, "misestimate")
    direction = html_texts(_txt(nodes, "misestimate_direction"))
    off = ~np.isnan(mis) & (mis >= 2)
    rows[off] = rows[off] + " (estimate off x" + _fmt(mis, ",.1f")[off] + np.where(direction[off] != "", " " + direction[off], "") + ")"

    incl, excl, pct = _num(nodes, "inclusive_ms"), _num(nodes, "exclusive_ms"), _num(nodes, "exclusive_pct")
    timed = ~np.isnan(incl) & ~never
    time = _when(timed, "time " + _fmt(incl, ",.3f") + " ms, self " + _fmt(np.nan_to_num(excl), ",.3f") + " ms ("
                 + _fmt(np.nan_to_num(pct), ".1f") + " %)")

    start, total = _num(nodes, "startup_cost"), _num(nodes, "total_cost")
    cost = _when(~np.isnan(total), "cost " + _fmt(np.nan_to_num(start), ",.2f") + ".." + _fmt(total, ",.2f"))

    hit, read = _num(nodes, "shared_hit"), _num(nodes, "shared_read")
    hit_x, read_x = _num(nodes, "shared_hit_excl"), _num(nodes, "shared_read_excl")
    has_buf = ~np.isnan(hit) | ~np.isnan(read)
    buf = _when(has_buf, "shared hit " + _fmt(np.nan_to_num(hit), ",.0f") + ", read " + _fmt(np.nan_to_num(read), ",.0f")
                + " (self: hit " + _fmt(np.nan_to_num(hit_x), ",.0f") + ", read " + _fmt(np.nan_to_num(read_x), ",.0f") + ")")
    t_read, t_written = np.nan_to_num(_num(nodes, "temp_read")), np.nan_to_num(_num(nodes, "temp_written"))
    temp = _when((t_read > 0) | (t_written > 0), "temp read " + _fmt(t_read, ",.0f") + ", written " + _fmt(t_written, ",.0f"))

    lines = [title, rows, time, cost, buf, temp]
    for col, name in (("index_cond", "index cond"), ("recheck_cond", "recheck"), ("filter", "filter"),
                      ("join_filter", "join filter"), ("hash_cond", "hash cond"), ("merge_cond", "merge cond"),
                      ("sort_key", "sort key")):
        t = html_texts(_txt(nodes, col, _TEXT_WIDTH))
        lines.append(_when(t != "", name + ": " + t))
    removed = _num(nodes, "rows_removed_by_filter")
    lines.append(_when(~np.isnan(removed) & (removed > 0), "removed by filter " + _fmt(removed, ",.6g") + " per loop"))
    method = html_texts(_txt(nodes, "sort_method"))
    lines.append(_when(method != "", "sort method: " + method))
    return _join_lines(lines)


# --------------------------------------------------------------------------- layout


def _layout(nodes: pd.DataFrame, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """x (depth) and y (leaf slots, a parent midway between its first and last child) per node, and the leaf count."""
    n = len(nodes)
    depth = nodes["depth"].astype("Int64").to_numpy(dtype="float64", na_value=0).astype(np.int64)
    has_child = np.zeros(n, dtype=bool)
    has_child[parent[parent >= 0]] = True
    leaf = ~has_child
    y = np.full(n, np.nan)
    y[leaf] = np.arange(int(leaf.sum()), dtype=float)  # leaves in plan (pre-)order
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
    # bottom-up, one depth level at a time: whole-array operations per level, no per-node loop
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(depth.max() + 2))
    for d in range(int(depth.max()), 0, -1):
        kids = order[bounds[d]:bounds[d + 1]]
        kids = kids[parent[kids] >= 0]
        if not len(kids):
            continue
        np.minimum.at(lo, parent[kids], y[kids])
        np.maximum.at(hi, parent[kids], y[kids])
        at = np.unique(parent[kids])
        y[at] = (lo[at] + hi[at]) / 2
    y[np.isnan(y)] = 0.0
    return depth.astype(float), y, int(leaf.sum())


def _edges(x: np.ndarray, y: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elbow connectors parent -> child as one NaN-separated polyline."""
    child = np.flatnonzero(parent >= 0)
    p = parent[child]
    mid = x[p] + 0.5
    gap = np.full(len(child), np.nan)
    ex = np.column_stack([x[p], mid, mid, x[child], gap]).ravel()
    ey = np.column_stack([y[p], y[p], y[child], y[child], gap]).ravel()
    return ex, ey


# --------------------------------------------------------------------------- the figures


def _title_facts(plan: Plan) -> str:
    parts = [f"{len(plan.nodes):,} nodes"]
    ex = getattr(plan, "execution_ms", None)
    if ex is not None:
        parts.append(f"execution {ex:,.3f} ms")
    pl = getattr(plan, "planning_ms", None)
    if pl is not None:
        parts.append(f"planning {pl:,.3f} ms")
    return ", ".join(parts)


def plan_figure(plan: Plan, metric: str = "exclusive_ms") -> go.Figure:
    """The plan as a tree, root on the left: a box per node, coloured and sized by ``metric``.

    ``metric``: a key of :data:`METRICS` (``exclusive_ms``, ``inclusive_ms``,
    ``exclusive_pct``, ``actual_rows``, ``plan_rows``, ``misestimate`` (coloured on a
    log scale), ``total_cost``, ``startup_cost``, ``shared_read``, ``shared_hit``, their
    ``_excl`` forms, ``buffers`` (blocks hit + read by the node itself), ``temp_written``).
    A plan without that measurement (no ANALYZE, no BUFFERS) is drawn by total cost, and the
    title says so. Nodes with insights get a frame in the colour of their worst severity
    (info blue, warning orange, critical red); hover a node for what it is, its rows
    planned and actual, loops, times, cost, buffers and conditions; hover a frame for the
    insights. Plans of more than 150 nodes show labels on hover only.

    >>> from dbworkbench.plans import parse_plan
    >>> fig = plan_figure(parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)"))
    >>> "total cost" in fig.layout.title.text
    True
    """
    _check_metric(metric, METRICS, "plan_figure")
    nodes = plan.nodes
    parent = _parents(nodes)
    used, note = metric, ""
    values = _values(nodes, metric, parent)
    if np.isnan(values).all() and metric not in ("total_cost", "startup_cost"):
        used = "total_cost"
        values = _values(nodes, used, parent)
        note = f"the plan has no {metric} (run EXPLAIN with ANALYZE, BUFFERS): drawn by total cost"
    x, y, leaves = _layout(nodes, parent)
    labels = node_labels(nodes)
    hover = _hover(nodes, labels)

    finite = values[~np.isnan(values)]
    top = float(finite.max()) if len(finite) else 0.0
    shown = np.nan_to_num(values)
    size = 14 + 26 * np.sqrt(np.clip(shown, 0, None) / top) if top > 0 else np.full(len(values), 18.0)
    colour = np.log10(np.clip(shown, 1, None)) if used == "misestimate" else shown
    bar_title = METRICS[used] + (" (log10)" if used == "misestimate" else "")

    fig = go.Figure()
    ex, ey = _edges(x, y, parent)
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line={"color": "#9a9a9a", "width": 1},
                             hoverinfo="skip", showlegend=False, name="edges"))
    marks, plan_level = _insight_marks(plan, nodes)
    for rank in sorted(set(marks["rank"].tolist())):
        sel = marks[marks["rank"] == rank]
        pos = sel["pos"].to_numpy(dtype=np.int64)
        fig.add_trace(go.Scatter(
            x=x[pos], y=y[pos], mode="markers", name=f"{_SEVERITY_NAME[rank]} insight",
            marker={"symbol": "square-open", "size": size[pos] + 10, "color": _SEVERITY_COLOUR[rank],
                    "line": {"width": 3, "color": _SEVERITY_COLOUR[rank]}},
            customdata=np.column_stack([html_texts(labels[pos]), sel["text"].to_numpy(dtype=object)]),
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
        ))
    with_labels = len(nodes) <= _LABELS_UP_TO
    fig.add_trace(go.Scatter(
        x=x, y=y, mode="markers+text" if with_labels else "markers", name="nodes",
        text=html_texts(_short(labels)) if with_labels else None, textfont={"size": 10},
        # labels above and below the boxes by turns, so neighbours in a chain don't overlap
        textposition=np.where(x % 2 == 0, "top center", "bottom center") if with_labels else None,
        marker={"symbol": "square", "size": size, "color": colour, "colorscale": "YlOrRd", "showscale": top > 0,
                "opacity": 1.0,
                "cmin": 0, "colorbar": {"title": {"text": bar_title}, "thickness": 12},
                "line": {"width": 1, "color": "#555"}},
        customdata=hover, hovertemplate="%{customdata}<extra></extra>", showlegend=False,
    ))
    facts = _title_facts(plan)
    if plan_level:
        facts += f"; {plan_level} plan-wide insight{'s' if plan_level > 1 else ''} (see plan.insights())"
    if note:
        facts += f"; {note}"
    title = f"Plan tree: box colour and size = {METRICS[used]}<br><sup>{facts}</sup>"
    depth_max = float(x.max()) if len(x) else 0.0
    fig.update_xaxes(visible=False, range=[-0.6, depth_max + 1.4])
    fig.update_yaxes(visible=False, range=[leaves - 0.4, -0.9])  # reversed: the first child on top, as in the text plan
    fig.update_layout(title={"text": title}, height=int(min(max(150 + 56 * leaves, 320), 1600)),
                      plot_bgcolor="white", hovermode="closest", margin={"l": 20, "r": 20, "t": 70, "b": 20},
                      legend={"orientation": "h", "y": -0.02})
    return fig


def plan_flame(plan: Plan, metric: str = "exclusive_ms", *, maxdepth: int | None = None) -> go.Figure:
    """An icicle of where the time goes: the root on top, each node's box as wide as it and its children.

    Each node contributes what it did itself (``branchvalues="remainder"``): exclusive time
    for ``exclusive_ms`` and ``inclusive_ms`` (the box then spans the inclusive time),
    blocks of the node itself for ``shared_read``/``shared_hit``/``buffers``, rows x loops
    for ``actual_rows``, the node's own share of the cost (its total cost minus its
    children's) for ``total_cost``. Colour: the node's own amount, so the hot spots stand
    out. A plan without the measurement falls back to cost, and the title says so.
    ``maxdepth`` limits the levels drawn at once (click a box to zoom in).
    ``misestimate`` is a ratio, not an amount that adds up: use :func:`plan_figure` for it.

    >>> from dbworkbench.plans import parse_plan
    >>> fig = plan_flame(parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)"))
    >>> fig.data[0].type, fig.data[0].branchvalues
    ('icicle', 'remainder')
    """
    if metric == "misestimate":
        raise ValueError("plan_flame needs an amount that adds up over the tree; misestimate is a ratio: "
                         "use plan_figure(plan, 'misestimate'), or one of: " + ", ".join(FLAME_METRICS))
    _check_metric(metric, FLAME_METRICS, "plan_flame")
    nodes = plan.nodes
    parent = _parents(nodes)
    amount, shows = FLAME_METRICS[metric]
    values = _values(nodes, amount, parent)
    note = ""
    if np.isnan(values).all() or np.nansum(values) <= 0:
        cost = _values(nodes, "exclusive_cost", parent)
        if amount != "exclusive_cost" and not np.isnan(cost).all() and np.nansum(cost) > 0:
            values, shows = cost, "planner's cost"
            note = f"the plan has no {metric} (run EXPLAIN with ANALYZE, BUFFERS): sized by the planner's cost"
        else:
            values, shows = np.ones(len(nodes)), "nodes"
            note = f"nothing to measure by {metric}: every node counts one"
    own = np.clip(np.nan_to_num(values), 0, None)
    labels = node_labels(nodes)
    ids = nodes["node_id"].astype("Int64").astype("string").fillna("?").to_numpy(dtype=object)
    parents = np.where(parent >= 0, ids[np.clip(parent, 0, None)], "")
    hover = _hover(nodes, labels)
    fig = go.Figure(go.Icicle(
        ids=ids, parents=parents, labels=html_texts(_short(labels, 40)), values=own, branchvalues="remainder",
        customdata=np.column_stack([hover, _fmt(own, ",.6g")]),
        hovertemplate=("%{customdata[0]}<br><b>" + shows + "</b>: own %{customdata[1]}, "
                       "with children %{value:,.6g} (%{percentRoot:.1%} of the plan)<extra></extra>"),
        marker={"colors": own, "colorscale": "YlOrRd", "showscale": True,
                "colorbar": {"title": {"text": "own " + shows}, "thickness": 12}},
        tiling={"orientation": "v"}, maxdepth=maxdepth if maxdepth is not None else -1,
        textinfo="label",
    ))
    facts = _title_facts(plan) + (f"; {note}" if note else "")
    title = f"Where it goes: {shows} per node, children inside their parent's box<br><sup>{facts}</sup>"
    fig.update_layout(title={"text": title}, margin={"l": 10, "r": 10, "t": 70, "b": 10},
                      height=int(min(max(220 + 40 * float(nodes["depth"].max() or 0), 380), 900)))
    return fig
