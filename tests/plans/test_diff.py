"""Plan diff: which node became which, named changes, totals, the figure. No server needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dbworkbench.plans import parse_plan
from dbworkbench.plans.diff import DIFF_COLUMNS, TOTALS_COLUMNS, PlanDiff, diff_plans

from ._corpus import PEV2, SKIP_REASON, plan_files, read

DATA = Path(__file__).parent / "data"

HASH_JOIN = """Hash Join  (cost=30.00..200.00 rows=1000 width=16) (actual time=1.000..9.000 rows=1000 loops=1)
  Hash Cond: (p.user_id = u.id)
  ->  Seq Scan on posts p  (cost=0.00..150.00 rows=5000 width=12) (actual time=0.010..4.000 rows=5000 loops=1)
  ->  Hash  (cost=20.00..20.00 rows=100 width=8) (actual time=0.900..0.900 rows=100 loops=1)
        ->  Seq Scan on users u  (cost=0.00..20.00 rows=100 width=8) (actual time=0.010..0.500 rows=100 loops=1)
              Filter: (role = 'admin'::user_role)
Planning Time: 0.200 ms
Execution Time: 9.500 ms"""

NESTED_LOOP = """Nested Loop  (cost=0.28..80.00 rows=1000 width=16) (actual time=0.020..2.000 rows=1000 loops=1)
  ->  Seq Scan on users u  (cost=0.00..20.00 rows=100 width=8) (actual time=0.010..0.400 rows=100 loops=1)
        Filter: (role = 'admin'::user_role)
  ->  Index Scan using idx_posts_user_id on posts p  (cost=0.28..0.50 rows=10 width=12) (actual time=0.002..0.010 rows=10 loops=100)
        Index Cond: (user_id = u.id)
Planning Time: 0.300 ms
Execution Time: 2.100 ms"""

SWAPPED = """Hash Join  (cost=30.00..200.00 rows=1000 width=16) (actual time=1.000..9.000 rows=1000 loops=1)
  Hash Cond: (p.user_id = u.id)
  ->  Seq Scan on users u  (cost=0.00..20.00 rows=100 width=8) (actual time=0.010..0.500 rows=100 loops=1)
  ->  Hash  (cost=20.00..20.00 rows=100 width=8) (actual time=0.900..0.900 rows=100 loops=1)
        ->  Seq Scan on posts p  (cost=0.00..150.00 rows=5000 width=12) (actual time=0.010..4.000 rows=5000 loops=1)
"""

SORTED = """Sort  (cost=250.00..260.00 rows=1000 width=16) (actual time=10.000..10.500 rows=1000 loops=1)
  Sort Key: p.id
  ->  Hash Join  (cost=30.00..200.00 rows=1000 width=16) (actual time=1.000..9.000 rows=1000 loops=1)
        Hash Cond: (p.user_id = u.id)
        ->  Seq Scan on posts p  (cost=0.00..150.00 rows=5000 width=12) (actual time=0.010..4.000 rows=5000 loops=1)
        ->  Hash  (cost=20.00..20.00 rows=100 width=8) (actual time=0.900..0.900 rows=100 loops=1)
              ->  Seq Scan on users u  (cost=0.00..20.00 rows=100 width=8) (actual time=0.010..0.500 rows=100 loops=1)
"""


def _rows(d: PlanDiff) -> dict[tuple[int | None, int | None], dict[str, Any]]:
    def key(v: Any) -> int | None:
        return None if pd.isna(v) else int(v)

    return {(key(r["node_id_a"]), key(r["node_id_b"])): r for r in d.nodes.to_dict("records")}


def _check_table(d: PlanDiff) -> None:
    assert [(c, str(t)) for c, t in d.nodes.dtypes.items()] == [(c, t) for c, t in DIFF_COLUMNS]
    assert [(c, str(t)) for c, t in d.totals.dtypes.items()] == [(c, t) for c, t in TOTALS_COLUMNS]
    # every node of each plan appears exactly once
    assert sorted(d.nodes["node_id_a"].dropna().astype(int)) == list(range(len(d.a.nodes)))
    assert sorted(d.nodes["node_id_b"].dropna().astype(int)) == list(range(len(d.b.nodes)))
    assert set(d.nodes["change"]) <= {"same", "changed", "added", "removed"}
    assert (d.nodes["change"] == "added").eq(d.nodes["node_id_a"].isna()).all()
    assert (d.nodes["change"] == "removed").eq(d.nodes["node_id_b"].isna()).all()
    assert ((d.nodes["change"] == "same") == (d.nodes["note"] == "")).all()


def test_same_plan_is_all_same() -> None:
    plan = parse_plan((DATA / "serial.json").read_text(encoding="utf-8"))
    d = diff_plans(plan, parse_plan((DATA / "serial.text").read_text(encoding="utf-8")))
    _check_table(d)
    assert d.method == "same shape"
    assert set(d.nodes["change"]) == {"same"} and d.changes.empty
    assert (d.nodes["node_id_a"] == d.nodes["node_id_b"]).all()
    assert d.totals.set_index("metric").loc["nodes", "ratio"] == 1.0


def test_seq_scan_to_index_scan() -> None:
    a = parse_plan("Seq Scan on users  (cost=0.00..25.00 rows=1 width=8) (actual time=0.010..1.500 rows=1 loops=1)\n"
                   "  Filter: (lower(email) = 'a@b.c'::text)\nExecution Time: 1.600 ms")
    b = parse_plan("Index Scan using users_lower_email on users  (cost=0.28..8.30 rows=1 width=8) "
                   "(actual time=0.010..0.020 rows=1 loops=1)\n  Index Cond: (lower(email) = 'a@b.c'::text)\n"
                   "Execution Time: 0.030 ms")
    d = diff_plans(a, b)
    _check_table(d)
    row = d.nodes.iloc[0]
    assert row["change"] == "changed" and row["note"] == "Seq Scan → Index Scan using users_lower_email"
    assert row["relation"] == "users" and row["index_b"] == "users_lower_email" and row["index_a"] is not None
    assert row["time_delta_ms"] == pytest.approx(0.02 - 1.5)
    assert d.speedup == pytest.approx(1.6 / 0.03)
    totals = d.totals.set_index("metric")
    assert totals.loc["execution_ms", "a"] == 1.6 and totals.loc["execution_ms", "ratio"] == pytest.approx(0.03 / 1.6)


def test_hash_join_to_nested_loop() -> None:
    d = diff_plans(parse_plan(HASH_JOIN), parse_plan(NESTED_LOOP))
    _check_table(d)
    rows = _rows(d)
    assert rows[(0, 0)]["note"] == "Hash Join → Nested Loop"
    assert rows[(2, None)]["note"] == "removed: Hash"
    posts = rows[(1, 2)]
    assert posts["note"].startswith("Seq Scan → Index Scan using idx_posts_user_id")
    assert "Outer → Inner" in posts["note"]
    assert rows[(3, 1)]["note"] == "moved: now under #0 Nested Loop"
    assert d.nodes["change"].tolist().count("changed") == 3
    # the table follows plan b, the removed Hash after its matched parent
    assert d.nodes["node_id_a"].tolist()[:2] == [0, 2] and pd.isna(d.nodes["node_id_b"].iloc[1])
    # time deltas add up to the change in total exclusive time
    total_a = d.a.nodes["exclusive_ms"].sum()
    total_b = d.b.nodes["exclusive_ms"].sum()
    assert d.nodes["time_delta_ms"].sum() == pytest.approx(total_b - total_a)
    assert "Hash Join → Nested Loop" in repr(d) and "faster" in repr(d)
    assert "Hash Join → Nested Loop" in d._repr_html_()


def test_join_order_change_is_a_move() -> None:
    d = diff_plans(parse_plan(HASH_JOIN), parse_plan(SWAPPED))
    _check_table(d)
    rows = _rows(d)
    assert rows[(0, 0)]["change"] == "same" and rows[(2, 2)]["change"] == "same"
    assert rows[(3, 1)]["note"] == "moved: now under #0 Hash Join"
    assert rows[(1, 3)]["note"] == "moved: now under #2 Hash"


def test_added_and_removed_nodes() -> None:
    d = diff_plans(parse_plan(HASH_JOIN), parse_plan(SORTED))
    _check_table(d)
    assert d.nodes.iloc[0]["change"] == "added" and d.nodes.iloc[0]["note"] == "added: Sort"
    assert d.nodes["change"].tolist()[1:] == ["same"] * 4
    back = diff_plans(parse_plan(SORTED), parse_plan(HASH_JOIN))
    _check_table(back)
    assert back.nodes.iloc[0]["note"] == "removed: Sort"  # a removed root comes first
    assert back.nodes.iloc[0]["time_delta_ms"] == pytest.approx(-1.5)


def test_plans_without_analyze() -> None:
    a = parse_plan("\n".join(line.split(" (actual")[0] for line in HASH_JOIN.splitlines()[:6]))
    b = parse_plan("\n".join(line.split(" (actual")[0] for line in NESTED_LOOP.splitlines()[:5]))
    d = diff_plans(a, b)
    _check_table(d)
    assert d.nodes["time_ms_a"].isna().all() and d.nodes["time_delta_ms"].isna().all()
    assert d.speedup is None and "cost 200.00 → 80.00" in repr(d)
    fig = d.figure()
    assert "cost (no ANALYZE)" in fig.layout.title.text


def test_figure() -> None:
    d = diff_plans(parse_plan(HASH_JOIN), parse_plan(NESTED_LOOP))
    fig = d.figure()
    assert [t.name for t in fig.data] == ["a (before)", "b (after)"]
    assert len(fig.data[0].y) == len(d.nodes)
    assert fig.data[0].y[0].startswith("#0→#0 ")
    assert len(d.figure(top=2).data[0].y) == 2
    for metric in ("rows", "shared_blocks", "cost"):
        d.figure(metric)
    with pytest.raises(ValueError, match="choose one of: time, rows"):
        d.figure("speed")


def test_rewritten_query_with_more_nodes() -> None:
    """NOT IN (hashed SubPlan) rewritten as NOT EXISTS (an anti-join): the scans are found again."""
    a = parse_plan("""Limit  (cost=10.00..20.00 rows=50 width=12) (actual time=2.000..2.100 rows=11 loops=1)
  ->  Index Scan Backward using idx_users_created_at on users u  (cost=10.00..60.00 rows=500 width=12) (actual time=2.000..2.090 rows=11 loops=1)
        Filter: (NOT (ANY (id = (hashed SubPlan 1).col1)))
        SubPlan 1
          ->  Seq Scan on posts p  (cost=0.00..9.00 rows=30 width=8) (actual time=0.010..1.900 rows=23 loops=1)
                Filter: (created_at > (now() - '30 days'::interval))
Execution Time: 2.200 ms""")
    b = parse_plan("""Limit  (cost=0.56..20.00 rows=50 width=12) (actual time=0.010..0.040 rows=11 loops=1)
  ->  Nested Loop Anti Join  (cost=0.56..60.00 rows=500 width=12) (actual time=0.010..0.038 rows=11 loops=1)
        ->  Index Scan Backward using idx_users_created_at on users u  (cost=0.28..30.00 rows=500 width=12) (actual time=0.005..0.010 rows=11 loops=1)
        ->  Index Scan using idx_posts_user_id on posts p  (cost=0.28..0.30 rows=1 width=8) (actual time=0.002..0.002 rows=0 loops=11)
              Index Cond: (user_id = u.id)
Execution Time: 0.050 ms""")
    d = diff_plans(a, b)
    _check_table(d)
    rows = _rows(d)
    assert rows[(None, 1)]["note"] == "added: Nested Loop (Anti)"
    assert rows[(1, 2)]["relation"] == "users" and "moved: now under #1 Nested Loop (Anti)" in rows[(1, 2)]["note"]
    assert rows[(2, 3)]["note"].startswith("[SubPlan 1] Seq Scan → Index Scan using idx_posts_user_id")


def _wide(n: int, swap_every: int = 0) -> list[dict[str, Any]]:
    def node(kind: str, **extra: Any) -> dict[str, Any]:
        return {"Node Type": kind, "Total Cost": 10.0, "Plan Rows": 10, "Actual Total Time": 0.01,
                "Actual Rows": 10, "Actual Loops": 1, **extra}

    members = []
    for i in range((n - 1) // 3):
        if swap_every and i % swap_every == 0:
            scan = node("Index Scan", **{"Relation Name": f"t{i}", "Index Name": f"t{i}_pkey"})
        else:
            scan = node("Seq Scan", **{"Relation Name": f"t{i}"})
        members.append(node("Hash Join", **{"Join Type": "Inner", "Plans": [
            scan, node("Seq Scan", **{"Relation Name": f"u{i}"})]}))
    return [{"Plan": node("Append", Plans=members), "Execution Time": 99.0}]


def test_big_plans() -> None:
    a = parse_plan(json.dumps(_wide(1_501)))
    b = parse_plan(json.dumps(_wide(1_501, swap_every=10)))
    d = diff_plans(a, b)
    _check_table(d)
    assert d.method == "similarity"
    changed = d.changes
    assert len(changed) == 50 and changed["note"].str.startswith("Seq Scan → Index Scan using t").all()
    assert (changed["relation"].str.slice(1).astype(int) % 10 == 0).all()

    big_a = parse_plan(json.dumps(_wide(10_000)))
    big_b = parse_plan(json.dumps(_wide(10_000, swap_every=7)))
    d = diff_plans(big_a, big_b)
    _check_table(d)
    assert d.method == "identity"
    assert len(d.nodes) >= len(big_a.nodes)
    assert diff_plans(big_a, big_a).method == "same shape"


@pytest.mark.skipif(not PEV2.is_dir(), reason=SKIP_REASON)
def test_corpus_pairs() -> None:
    """Each corpus plan against itself (all same) and against the next one (a complete table)."""
    plans = []
    for path in plan_files():
        try:
            plans.append(parse_plan(read(path)))
        except ValueError:
            continue
    assert len(plans) > 100
    for p, q in zip(plans, plans[1:] + plans[:1], strict=True):
        same = diff_plans(p, p)
        assert set(same.nodes["change"]) == {"same"}
        _check_table(diff_plans(p, q))
