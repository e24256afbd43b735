"""Plan pictures: the tree (plan_figure) and the icicle (plan_flame). No server needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dbworkbench.plans import parse_plan
from dbworkbench.plans.figure import (
    FLAME_METRICS,
    METRICS,
    node_labels,
    plan_figure,
    plan_flame,
)

from ._corpus import PEV2, SKIP_REASON, plan_files, read

DATA = Path(__file__).parent / "data"
SERIAL = (DATA / "serial.json").read_text(encoding="utf-8")
ONE_NODE = "Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual time=0.010..0.200 rows=2550 loops=1)"
NO_ANALYZE = """Hash Join  (cost=30.00..200.00 rows=1000 width=16)
  Hash Cond: (p.user_id = u.id)
  ->  Seq Scan on posts p  (cost=0.00..150.00 rows=5000 width=12)
  ->  Hash  (cost=20.00..20.00 rows=100 width=8)
        ->  Seq Scan on users u  (cost=0.00..20.00 rows=100 width=8)
"""
COSTS_OFF = """Hash Join
  Hash Cond: (p.user_id = u.id)
  ->  Seq Scan on posts p
  ->  Hash
        ->  Seq Scan on users u
"""


def _nodes_trace(fig: go.Figure) -> Any:
    return next(t for t in fig.data if t.name == "nodes")


def _wide_plan(n: int) -> dict[str, Any]:
    """About ``n`` nodes: an Append of Hash Joins, each over a Seq Scan and a Hash of an Index Scan."""
    def node(kind: str, ms: float, **extra: Any) -> dict[str, Any]:
        return {"Node Type": kind, "Startup Cost": 0.0, "Total Cost": 10.0, "Plan Rows": 10, "Plan Width": 8,
                "Actual Startup Time": 0.0, "Actual Total Time": ms, "Actual Rows": 10, "Actual Loops": 1,
                "Shared Hit Blocks": 3, "Shared Read Blocks": 1, **extra}

    members = []
    for i in range((n - 1) // 4):
        scan = node("Seq Scan", 0.01, **{"Relation Name": f"t{i}", "Alias": f"t{i}", "Filter": f"(t{i}.v > {i})"})
        idx = node("Index Scan", 0.01, **{"Relation Name": f"u{i}", "Alias": f"u{i}", "Index Name": f"u{i}_pkey"})
        members.append(node("Hash Join", 0.05, **{"Join Type": "Inner", "Plans": [scan, node("Hash", 0.02, Plans=[idx])]}))
    return {"Plan": node("Append", 50.0, Plans=members), "Execution Time": 51.0, "Planning Time": 1.0}


# --------------------------------------------------------------------------- plan_figure


@pytest.mark.parametrize("metric", list(METRICS))
def test_every_metric_draws(metric: str) -> None:
    plan = parse_plan(SERIAL)
    fig = plan_figure(plan, metric)
    trace = _nodes_trace(fig)
    assert len(trace.x) == len(plan.nodes) == len(trace.customdata)
    assert METRICS[metric] in fig.layout.title.text
    assert trace.marker.colorbar.title.text.startswith(METRICS[metric])


def test_unknown_metric_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="choose one of: exclusive_ms, inclusive_ms"):
        plan_figure(parse_plan(SERIAL), "speed")


def test_layout_is_a_tree() -> None:
    """Depth on x; leaves one slot apart in plan order; a parent midway between its first and last child."""
    plan = parse_plan(NO_ANALYZE)
    trace = _nodes_trace(plan_figure(plan))
    x, y = np.array(trace.x), np.array(trace.y)
    assert x.tolist() == plan.nodes["depth"].astype(float).tolist()
    # nodes: 0 Hash Join, 1 Seq Scan posts (leaf 0), 2 Hash, 3 Seq Scan users (leaf 1)
    assert y.tolist() == [0.5, 0.0, 1.0, 1.0]
    edges = next(t for t in plan_figure(plan).data if t.name == "edges")
    assert sum(v is None or (isinstance(v, float) and np.isnan(v)) for v in edges.x) == 3  # one gap per edge


def test_size_follows_the_metric() -> None:
    plan = parse_plan(SERIAL)
    trace = _nodes_trace(plan_figure(plan, "exclusive_ms"))
    excl = plan.nodes["exclusive_ms"].to_numpy(dtype=float, na_value=0.0)
    assert np.argmax(trace.marker.size) == np.argmax(excl)
    assert np.array(trace.marker.color).tolist() == pytest.approx(excl.tolist())


def test_without_analyze_falls_back_to_cost() -> None:
    plan = parse_plan(NO_ANALYZE)
    fig = plan_figure(plan, "exclusive_ms")
    assert "no exclusive_ms" in fig.layout.title.text and "total cost" in fig.layout.title.text
    assert list(_nodes_trace(fig).marker.color) == [200.0, 150.0, 20.0, 20.0]
    hover = _nodes_trace(fig).customdata[1]
    assert "rows 5,000 planned" in hover and "cost 0.00..150.00" in hover and "time" not in hover


def test_costs_off_plan_still_draws() -> None:
    plan = parse_plan(COSTS_OFF)
    fig = plan_figure(plan)
    assert len(_nodes_trace(fig).x) == 4
    flame = plan_flame(plan)
    assert list(flame.data[0].values) == [1.0, 1.0, 1.0, 1.0]
    assert "every node counts one" in flame.layout.title.text


def test_single_node_plan() -> None:
    plan = parse_plan(ONE_NODE)
    trace = _nodes_trace(plan_figure(plan))
    assert list(trace.x) == [0.0] and list(trace.y) == [0.0]
    assert list(trace.text) == ["Seq Scan on t"]
    flame = plan_flame(plan)
    assert list(flame.data[0].ids) == ["0"] and list(flame.data[0].parents) == [""]


def test_hover_has_the_details() -> None:
    plan = parse_plan(SERIAL)
    hover = list(_nodes_trace(plan_figure(plan)).customdata)
    nodes = plan.nodes
    i = int(nodes.index[nodes["filter"].notna()][0])
    assert "filter: " in hover[i]
    j = int(nodes.index[nodes["relation"].notna()][0])
    assert nodes.loc[j, "relation"] in hover[j]
    assert all("rows " in h or "never executed" in h for h in hover)
    assert any("loops " in h for h in hover) and any("self " in h for h in hover)
    assert any("shared hit" in h for h in hover)


def test_insights_are_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = parse_plan(SERIAL)
    found = pd.DataFrame({
        "rule": pd.array(["a", "b", "c", "d"], dtype="string"),
        "node_id": pd.array([2, 2, 4, None], dtype="Int64"),
        "severity": pd.array(["info", "critical", "warning", "warning"], dtype="string"),
        "message": pd.array(["small thing", "big <b>thing</b>", "look here", "plan-wide"], dtype="string"),
        "suggestion": pd.array([None, "CREATE INDEX ON t (x);", None, None], dtype="string"),
    })
    monkeypatch.setattr(plan, "insights", lambda: found)
    fig = plan_figure(plan)
    marks = {t.name: t for t in fig.data if t.name and t.name.endswith("insight")}
    assert set(marks) == {"critical insight", "warning insight"}
    nodes = _nodes_trace(fig)
    assert (marks["critical insight"].x[0], marks["critical insight"].y[0]) == (nodes.x[2], nodes.y[2])
    text = marks["critical insight"].customdata[0][1]
    # the message's own markup is escaped: plotly shows "<b>thing</b>" as it is written (tests/test_escaping.py)
    assert "info: small thing" in text and "critical: big &lt;b&gt;thing&lt;/b&gt;<br>→ CREATE INDEX ON t (x);" in text
    assert "1 plan-wide insight" in fig.layout.title.text


@pytest.mark.skipif(not PEV2.is_dir(), reason=SKIP_REASON)
def test_real_insights_are_marked() -> None:
    """Whatever the registered rules find on a node shows as a frame around that node."""
    plan = parse_plan(read(PEV2 / "example-samples" / "03-three-joins-missing-an-index.json"))
    found = plan.insights()
    on_nodes = found[found["node_id"].notna()]
    fig = plan_figure(plan)
    marked = {(x, y) for t in fig.data if t.name and t.name.endswith("insight") for x, y in zip(t.x, t.y, strict=True)}
    nodes = _nodes_trace(fig)
    assert marked == {(nodes.x[int(i)], nodes.y[int(i)]) for i in on_nodes["node_id"]}


def test_failing_or_empty_insights_do_not_break_the_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = parse_plan(SERIAL)

    def boom() -> pd.DataFrame:
        raise RuntimeError("a rule is broken")

    monkeypatch.setattr(plan, "insights", boom)
    assert len(plan_figure(plan).data) == 2  # edges and nodes
    monkeypatch.setattr(plan, "insights", lambda: pd.DataFrame(columns=["rule", "node_id", "severity", "message"]))
    assert len(plan_figure(plan).data) == 2


def test_server_text_is_data_not_html() -> None:
    evil = "</script><script>alert(1)</script>"
    plan = parse_plan({"Plan": {"Node Type": "Seq Scan", "Relation Name": evil, "Alias": "x", "Filter": evil,
                                "Total Cost": 1.0, "Plan Rows": 1}})
    for fig in (plan_figure(plan), plan_flame(plan)):
        templates = [t.hovertemplate or "" for t in fig.data]
        assert all(evil not in t for t in templates)  # our templates only hold placeholders
        assert evil not in fig.layout.title.text
        page = fig.to_html(include_plotlyjs=False)
        assert "<script>alert(1)" not in page  # plotly escapes the data it embeds


def test_node_labels() -> None:
    plan = parse_plan(SERIAL)
    labels = node_labels(plan.nodes)
    assert len(labels) == len(plan.nodes)
    assert labels[0] == "Limit"
    assert "Finalize HashAggregate" not in labels  # labels come from the columns: node type and strategy
    assert any(lab.startswith("[CTE big]") or "HashAggregate" in lab for lab in labels)
    assert any(" using " in lab or " on " in lab for lab in labels)
    bare = node_labels(plan.nodes, with_target=False)
    assert all(" on " not in lab or lab.startswith("Bitmap Index Scan") for lab in bare if "[" not in lab)


# --------------------------------------------------------------------------- plan_flame


def test_flame_is_an_icicle_of_exclusive_time() -> None:
    plan = parse_plan(SERIAL)
    fig = plan_flame(plan)
    ice = fig.data[0]
    assert ice.type == "icicle" and ice.branchvalues == "remainder"
    ids, parents = list(ice.ids), list(ice.parents)
    assert ids == [str(i) for i in plan.nodes["node_id"]]
    assert parents[0] == "" and all(p in ids for p in parents[1:])
    excl = plan.nodes["exclusive_ms"].to_numpy(dtype=float, na_value=0.0)
    assert sum(ice.values) == pytest.approx(excl.sum())


@pytest.mark.parametrize("metric", list(FLAME_METRICS))
def test_flame_metrics(metric: str) -> None:
    fig = plan_flame(parse_plan(SERIAL), metric)
    values = np.array(fig.data[0].values)
    assert (values >= 0).all() and values.sum() > 0


def test_flame_refuses_ratios_and_unknowns() -> None:
    plan = parse_plan(SERIAL)
    with pytest.raises(ValueError, match="misestimate is a ratio"):
        plan_flame(plan, "misestimate")
    with pytest.raises(ValueError, match="choose one of: exclusive_ms"):
        plan_flame(plan, "speed")


def test_flame_without_analyze_uses_exclusive_cost() -> None:
    fig = plan_flame(parse_plan(NO_ANALYZE))
    # total costs 200, 150, 20, 20: Hash Join's own 200 - 150 - 20 = 30, Hash 20 - 20 = 0
    assert list(fig.data[0].values) == [30.0, 150.0, 0.0, 20.0]
    assert "planner's cost" in fig.layout.title.text


# --------------------------------------------------------------------------- size and corpus


def test_ten_thousand_nodes_are_fast() -> None:
    plan = parse_plan(json.dumps([_wide_plan(10_001)]))
    assert len(plan.nodes) == 10_001
    fig = plan_figure(plan)
    flame = plan_flame(plan)
    assert len(fig.data) <= 5 and len(flame.data) == 1  # whole columns per trace, not a trace per node
    assert len(_nodes_trace(fig).x) == 10_001
    assert _nodes_trace(fig).text is None  # labels on hover only for big plans


def test_deep_plan() -> None:
    lines = ["Limit  (cost=0.00..1.00 rows=1 width=4) (actual time=0.010..9.000 rows=1 loops=1)"]
    lines += [" " * (6 * d - 4) + "->  Limit  (cost=0.00..1.00 rows=1 width=4) (actual time=0.010..8.000 rows=1 loops=1)"
              for d in range(1, 2000)]
    plan = parse_plan("\n".join(lines))
    fig = plan_figure(plan)
    assert set(_nodes_trace(fig).y) == {0.0}  # a chain: everything on the one leaf's line
    plan_flame(plan)


@pytest.mark.skipif(not PEV2.is_dir(), reason=SKIP_REASON)
def test_every_corpus_plan_draws() -> None:
    drawn = 0
    for path in plan_files():
        try:
            plan = parse_plan(read(path))
        except ValueError:
            continue  # inputs that are meant not to parse
        plan_figure(plan)
        plan_flame(plan)
        drawn += 1
    assert drawn > 100
