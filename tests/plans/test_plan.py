"""The Plan object: the node table and its documented dtypes, plan-level facts, renderings."""

from __future__ import annotations

import ast
import doctest
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import dbworkbench.plans
from dbworkbench.plans import Plan, parse_plan
from dbworkbench.plans import _log, _parse, _plan
from dbworkbench.plans._plan import COLUMNS

from ._corpus import plan_files

DATA = Path(__file__).parent / "data"
PACKAGE = Path(dbworkbench.plans.__file__).parent


def sample(name: str) -> Plan:
    return parse_plan((DATA / name).read_text(encoding="utf-8"))


def test_columns_and_dtypes_are_the_documented_ones() -> None:
    """The docstring table lists exactly the columns of ``Plan.nodes``, with their dtypes."""
    doc = Plan.__doc__ or ""
    table = re.findall(r"^\s{4}(\w+)\s+(Int64|Float64|string|boolean)\s{2,}\S", doc, re.M)
    assert [name for name, _ in table] == [name for name, _ in COLUMNS]
    assert table == list(COLUMNS)
    df = sample("serial.json").nodes
    assert list(df.columns) == [name for name, _ in COLUMNS]
    for name, dtype in COLUMNS:
        assert str(df[name].dtype) == dtype, name
    empty_ish = parse_plan("Result  (cost=0.00..0.01 rows=1 width=4)").nodes
    assert [str(t) for t in empty_ish.dtypes] == [d for _, d in COLUMNS]


def test_node_table_values() -> None:
    df = sample("update.json").nodes
    assert df["node_type"].tolist() == ["ModifyTable", "Index Scan"]
    assert df["parent_id"].isna().tolist() == [True, False]
    assert df.loc[1, "index_name"] == "orders_pkey"
    assert df.loc[1, "relation"] == "orders" and df.loc[1, "schema"] == "public"
    assert df.loc[1, "index_cond"] == "(orders.id <= 50)"
    df = sample("serial.text").nodes
    agg = df[df["strategy"] == "Hashed"].iloc[0]
    assert agg["node_type"] == "Aggregate" and agg["peak_memory_kb"] == 2449 and agg["hash_batches"] == 1
    cte = df[df["node_type"] == "CTE Scan"].iloc[0]
    assert cte["cte_name"] == "big" and cte["alias"] == "b" and cte["rows_removed_by_filter"] == 45
    sort = df[df["sort_method"].notna()].iloc[0]
    assert sort["sort_key"] == "b.s DESC" and sort["sort_space_kb"] == 27 and sort["sort_space_type"] == "Memory"
    hashes = df[df["node_type"] == "Hash"].iloc[0]
    assert hashes["hash_buckets"] == 1024 and hashes["hash_batches_original"] == 1
    bhs = df[df["node_type"] == "Bitmap Heap Scan"].iloc[0]
    assert bhs["exact_heap_blocks"] == 1200 and bhs["io_read_ms"] == pytest.approx(0.306)
    gathers = df[df["node_type"] == "Gather"]
    assert (gathers["workers_planned"] == 2).all() and (gathers["workers_launched"] == 2).all()


def test_plan_level_facts() -> None:
    plan = sample("update.text")
    assert plan.planning_ms == pytest.approx(0.120) and plan.execution_ms == pytest.approx(2.772)
    assert plan.settings["jit"] == "off"
    assert list(plan.triggers.columns) == ["name", "relation", "constraint", "time_ms", "calls"]
    assert plan.triggers.loc[0, "name"] == "orders_audit" and plan.triggers.loc[0, "calls"] == 50
    assert plan.planning_buffers == {**plan.planning_buffers, "shared_hit": 4, "shared_read": 0}
    assert plan.serialization is not None and plan.serialization["format"] == "text"
    assert plan.raw["Query Identifier"] == 6454559938511188558
    assert plan.query is None and plan.source_format == "text"
    plan.query = "UPDATE orders SET amount = amount + 1 WHERE id <= 50"  # settable (explain.py does)
    assert plan.query.startswith("UPDATE")


def test_jit() -> None:
    plan = parse_plan(
        """
Aggregate  (cost=17.94..17.95 rows=1 width=8) (actual time=2.250..2.250 rows=1 loops=1)
Planning Time: 0.052 ms
JIT:
  Functions: 3
  Options: Inlining false, Optimization false, Expressions true, Deforming true
  Timing: Generation 0.340 ms (Deform 0.100 ms), Inlining 0.000 ms, Optimization 0.168 ms, Emission 1.907 ms, Total 2.414 ms
Execution Time: 2.625 ms
"""
    )
    assert plan.jit == {
        "functions": 3, "generation": 0.34, "inlining": 0.0, "optimization": 0.168, "emission": 1.907,
        "total": 2.414, "deform": 0.1,
        "options": {"Inlining": False, "Optimization": False, "Expressions": True, "Deforming": True},
    }
    again = parse_plan(plan.to_json())
    assert again.jit == plan.jit
    assert sample("serial.json").jit is None


def test_raw_nodes_keep_every_property() -> None:
    plan = sample("memoize.json")
    raw = plan.raw_nodes
    assert len(raw) == len(plan.nodes) and all("Plans" not in r for r in raw)
    inc = next(r for r in raw if r["Node Type"] == "Incremental Sort")
    assert inc["Presorted Key"] and "Full-sort Groups" in inc
    assert raw[0] is not plan.raw["Plan"], "raw_nodes are copies without Plans"


MEMOIZE = """\
Nested Loop  (cost=0.30..125.50 rows=1000 width=12) (actual time=0.031..2.140 rows=1000 loops=1)
  ->  Seq Scan on orders o  (cost=0.00..15.00 rows=1000 width=8) (actual time=0.010..0.210 rows=1000 loops=1)
  ->  Memoize  (cost=0.30..0.40 rows=1 width=4) (actual time=0.001..0.001 rows=1 loops=1000)
        Cache Key: o.customer_id
        Cache Mode: logical
        Hits: 900  Misses: 100  Evictions: 0  Overflows: 0  Memory Usage: 12kB
        ->  Index Only Scan using customers_pkey on customers c  (cost=0.29..0.39 rows=1 width=4) (actual time=0.004..0.004 rows=1 loops=100)
              Index Cond: (id = o.customer_id)
              Heap Fetches: 0
Planning Time: 0.150 ms
Execution Time: 2.300 ms"""


def test_memoize_node_keeps_its_cache_counters() -> None:
    plan = parse_plan(MEMOIZE)
    [memo] = [r for r in plan.raw_nodes if r["Node Type"] == "Memoize"]  # exactly one: fails when the node is lost
    assert (memo["Cache Key"], memo["Cache Mode"]) == ("o.customer_id", "logical")
    assert (memo["Cache Hits"], memo["Cache Misses"], memo["Cache Evictions"], memo["Cache Overflows"]) == (900, 100, 0, 0)
    row = plan.nodes.set_index("node_type").loc["Memoize"]
    assert int(row["peak_memory_kb"]) == 12 and int(row["actual_loops"]) == 1000
    assert plan.nodes["node_type"].tolist() == ["Nested Loop", "Seq Scan", "Memoize", "Index Only Scan"]


def test_to_json_is_postgres_shape() -> None:
    plan = sample("serial.text")
    doc = json.loads(plan.to_json())
    assert isinstance(doc, list) and len(doc) == 1
    top = doc[0]
    assert list(top)[0] == "Plan" and "Planning Time" in top and "Execution Time" in top
    assert top["Plan"]["Node Type"] == "Limit" and isinstance(top["Plan"]["Plans"], list)
    assert top["Plan"]["Plans"][0]["Subplan Name"] == "CTE big"
    assert json.loads(plan.to_json(indent=0)) == doc


def test_text_rendering() -> None:
    plan = sample("serial.text")
    out = plan.text()
    lines = out.splitlines()
    assert len(lines) == len(plan.nodes)
    assert lines[0].startswith("Limit") and "rows 20 of 20 planned" in lines[0] and "loops 1" in lines[0]
    assert any("[CTE big] Finalize HashAggregate" in ln for ln in lines)
    assert any("└─ " in ln for ln in lines) and any("├─ " in ln for ln in lines)
    assert any("Index Scan using orders_pkey on public.orders orders_2" in ln for ln in lines)
    never = parse_plan(
        "Hash  (cost=6.12..6.12 rows=212 width=1346) (never executed)"
    ).text()
    assert "never executed" in never
    estimated = parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)").text()
    assert estimated == "Seq Scan on t  rows 2,550 planned  cost 35.50"


def test_repr_and_html_escape_server_text() -> None:
    evil = 'Seq Scan on "<script>alert(1)</script>"  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..0.2 rows=1 loops=1)'
    plan = parse_plan(evil)
    assert plan.nodes.loc[0, "relation"] == "<script>alert(1)</script>"
    html = plan._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    plan.query = "<b>select</b>"
    assert "<b>select" not in plan._repr_html_()
    r = repr(sample("serial.text"))
    assert r.startswith("<Plan: 21 nodes, from text") and r.count("\n  [") == 5


def test_insights_hook() -> None:
    """``plan.insights()`` hands the plan to the rules of ``dbworkbench.plans.insights``."""
    found = sample("serial.json").insights()
    assert isinstance(found, pd.DataFrame) and "node_id" in found.columns


def test_no_database_driver_imported() -> None:
    """A pasted plan is analysed offline: nothing under dbworkbench/plans imports a driver."""
    banned = {"psycopg", "psycopg2", "sqlalchemy", "asyncpg", "pg8000"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.level >= 2:
                names = [f"dbworkbench.{node.module or ''}"]
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"
                assert not name.startswith(("dbworkbench.explain", "dbworkbench.target", "dbworkbench.sandbox")), f"{path.name} imports {name}"


@pytest.mark.parametrize("module", [dbworkbench.plans, _parse, _plan, _log])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert result.failed == 0 and result.attempted > 0


def test_public_names() -> None:
    assert dbworkbench.plans.__all__ == ["Plan", "PlanLog", "parse_plan", "read_auto_explain"]
    assert isinstance(parse_plan("Result  (cost=0.00..0.01 rows=1 width=4)"), Plan)
    assert isinstance(sample("serial.yaml").nodes, pd.DataFrame)


def test_notebook_summary_shows_insights_escaped() -> None:
    planted = Path(__file__).parent / "planted"
    html_text = parse_plan((planted / "seq-scan-selective.json").read_text())._repr_html_()
    assert "seq-scan-selective" in html_text and "CREATE INDEX CONCURRENTLY" in html_text
    assert "&#x27;" in html_text  # the filter's quoted uuid, escaped
    healthy = parse_plan((planted / "healthy-pk-lookup.json").read_text())._repr_html_()
    assert "No insights" in healthy


def test_node_table_of_many_plans_stacks_each_plans_table() -> None:
    """One node table for many plans (an auto_explain log) is each plan's own table, stacked, row for row."""
    paths = [*sorted(p for p in DATA.glob("*.*") if p.suffix != ".py"), *plan_files()[:60]]
    plans = [parse_plan(path.read_text(encoding="utf-8", errors="replace")) for path in paths]
    assert len(plans) > 20
    # a node with odd values: text numbers, bools, lists, huge ints, nested objects
    odd = {"Plan": {"Node Type": "Seq Scan", "Plan Rows": "12", "Actual Loops": True, "Sort Key": ["a", "b"],
                    "Total Cost": 10**400, "Relation Name": {"x": 1}, "Plans": [{"Node Type": "Result", "Hash Buckets": "7kB"}]}}
    plans.append(parse_plan([odd]))
    stacked = pd.DataFrame(_plan.node_columns([p._tree for p in plans], [p.settings for p in plans]))
    one_by_one = pd.concat([p.nodes for p in plans], ignore_index=True)
    pd.testing.assert_frame_equal(stacked, one_by_one)
    assert (stacked["node_id"] == 0).sum() == len(plans)  # node_id and parent_id restart with each plan
    odd_table = plans[-1].nodes
    assert str(odd_table.loc[0, "sort_key"]) == "a, b"
    assert pd.isna(odd_table.loc[0, "actual_loops"])  # a bool is not a number
    assert int(odd_table.loc[0, "plan_rows"]) == 12
    assert int(odd_table.loc[1, "hash_buckets"]) == 7
