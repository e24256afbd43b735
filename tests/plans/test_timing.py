"""Inclusive and exclusive time: loops, parallel workers, InitPlans, SubPlans, CTEs."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from dbworkbench.plans import Plan, parse_plan

from ._corpus import PEV2, SKIP_REASON, plan_files, read

DATA = Path(__file__).parent / "data"
needs_corpus = pytest.mark.skipif(not PEV2.is_dir(), reason=SKIP_REASON)


def excl(plan: Plan) -> list[float]:
    return [round(float(x), 3) for x in plan.nodes["exclusive_ms"]]


def _serial_analyzed(plan: Plan) -> bool:
    df = plan.nodes
    return bool(df["inclusive_ms"].notna().all()) and not df["node_type"].isin(["Gather", "Gather Merge"]).any()


# Plans whose pieces do not add up for reasons in the data, not in the arithmetic:
NOT_ADDING_UP = {
    # a fragment starting at "->": per-loop times printed with 3 decimals make the
    # SubPlans (0.018 ms x 5,570 loops) look longer than their parent (0.003 ms x 19,499)
    "18-plan",
}


def _unread_cte_ms(plan: Plan) -> float:
    """Time of writing CTEs no CTE Scan reads: PostgreSQL runs them after the plan proper."""
    df = plan.nodes
    total = 0.0
    for i, row in df[df["subplan_name"].fillna("").str.startswith("CTE ")].iterrows():
        name = row["subplan_name"][4:]
        if not ((df["node_type"] == "CTE Scan") & (df["cte_name"] == name)).any():
            total += float(row["inclusive_ms"])
        else:  # read, but maybe not to the end (LIMIT above a writing CTE)
            scans = df[(df["node_type"] == "CTE Scan") & (df["cte_name"] == name)]
            total += max(0.0, float(row["inclusive_ms"]) - float(scans["inclusive_ms"].sum()))
    return total


@needs_corpus
def test_serial_plans_add_up_to_the_root() -> None:
    """For every serial analysed plan: sum of exclusive = root inclusive (+ CTEs run after it), within 5 %."""
    checked = 0
    for path in plan_files():
        plan = parse_plan(read(path))
        if not _serial_analyzed(plan) or path.name in NOT_ADDING_UP:
            continue
        df = plan.nodes
        want = float(df.loc[0, "inclusive_ms"]) + _unread_cte_ms(plan)
        got = float(df["exclusive_ms"].sum())
        assert math.isclose(got, want, rel_tol=0.05, abs_tol=0.002), f"{path.name}: {got} vs {want}"
        checked += 1
    assert checked >= 80


@needs_corpus
@pytest.mark.parametrize(
    "rel",
    [
        "cte-exclusive-time/01.plan", "cte-exclusive-time/02.plan", "cte-exclusive-time/05.plan", "from-text/14-plan", "from-text/19-plan", "from-text/23-plan",
        "from-text/41-planning-buffers-plan", "from-text/43-index-name-parsing-plan", "from-text/46-buckets-plan",
        "21-io-timings/11-text.plan", "21-io-timings/read-and-write.plan", "example-samples/04-aggregate-with-four-joins.json",
        "example-samples/07-a-single-cte.txt", "example-samples/10-delete-with-triggers.txt",
        "example-samples/11-with-many-options.txt", "spec-inline/03-actual-duration-cte.txt",
        "spec-inline/14-wal.1.txt", "spec-inline/14-wal.2.txt", "spec-inline/16-quote-last-line.1.txt",
        "11-psql-frames/text-0-aligned-ascii-double-double-double.plan", "11-psql-frames/json-0-aligned-ascii-double-double-double.plan",
    ],
)
def test_serial_plans_add_up_to_execution_time(rel: str) -> None:
    """Where the executor spent little outside the nodes, exclusive times + triggers = Execution Time (5 %).

    (In small plans, start-up and shut-down are a large share of Execution Time and
    belong to no node: there the sum is compared with the root in the test above.)
    """
    plan = parse_plan(read(PEV2 / rel))
    assert plan.execution_ms is not None
    got = float(plan.nodes["exclusive_ms"].sum()) + float(plan.triggers["time_ms"].fillna(0).sum())
    assert math.isclose(got, plan.execution_ms, rel_tol=0.05), f"{got} vs {plan.execution_ms}"


def test_loops_multiply() -> None:
    plan = parse_plan(
        """
 Nested Loop  (cost=0.00..611.27 rows=13400 width=8) (actual time=0.025..10.198 rows=34956 loops=1)
   ->  Seq Scan on t1  (cost=0.00..6.02 rows=402 width=4) (actual time=0.013..0.058 rows=402 loops=1)
   ->  Materialize  (cost=0.00..2.50 rows=100 width=4) (actual time=0.000..0.008 rows=100 loops=402)
         ->  Seq Scan on t2  (cost=0.00..2.00 rows=100 width=4) (actual time=0.005..0.015 rows=100 loops=1)
"""
    )
    assert [round(float(x), 3) for x in plan.nodes["inclusive_ms"]] == [10.198, 0.058, 3.216, 0.015]
    assert excl(plan) == [6.924, 0.058, 3.201, 0.015]
    assert plan.nodes["exclusive_ms"].sum() == pytest.approx(10.198)


@needs_corpus
def test_cte_time_is_taken_from_the_scan_that_ran_it() -> None:
    """02: CTE x runs inside the first CTE Scan; the Append it hangs from did almost nothing."""
    plan = parse_plan(read(PEV2 / "cte-exclusive-time" / "02.plan"))
    df = plan.nodes
    assert df["node_type"].tolist() == ["Append", "Function Scan", "CTE Scan", "CTE Scan"]
    assert excl(plan) == [0.01, 504.88, 0.057, 0.007]


@needs_corpus
def test_cte_hanging_from_its_own_scan() -> None:
    """01: the CTE is attached to the CTE Scan that reads it (4,379 loops)."""
    plan = parse_plan(read(PEV2 / "cte-exclusive-time" / "01.plan"))
    df = plan.nodes.set_index("node_id")
    assert df.loc[6, "node_type"] == "CTE Scan" and df.loc[7, "subplan_name"] == "CTE acl_row"
    assert round(float(df.loc[6, "inclusive_ms"]), 3) == 2846.35
    assert round(float(df.loc[6, "exclusive_ms"]), 3) == 188.297
    assert round(float(df.loc[0, "exclusive_ms"]), 3) == 4.867


@needs_corpus
def test_initplan_charged_to_the_node_using_its_parameter() -> None:
    """04: InitPlan 1 returns $0, used by the Index Scan three levels down."""
    plan = parse_plan(read(PEV2 / "cte-exclusive-time" / "04.plan"))
    df = plan.nodes
    assert df["node_type"].tolist() == ["Limit", "Limit", "Index Scan", "Sort", "Index Scan"]
    assert excl(plan) == [0.002, 0.0, 0.06, 0.015, 0.003]
    assert df["exclusive_ms"].sum() == pytest.approx(0.080)


@needs_corpus
def test_nested_initplans() -> None:
    """05: InitPlan 2 ($1, used by the Index Scan) holds InitPlan 1 ($0, used by nobody shown)."""
    plan = parse_plan(read(PEV2 / "cte-exclusive-time" / "05.plan"))
    assert excl(plan) == [7.146, 9.101, 1656.313, 71.005, 194.727]


def test_initplan_of_postgres_17() -> None:
    """PostgreSQL 17 names InitPlan outputs (InitPlan 1).col1 instead of $0."""
    plan = parse_plan(
        """
Limit  (cost=1.00..2.00 rows=1 width=4) (actual time=0.000..10.000 rows=1 loops=1)
  InitPlan 1
    ->  Result  (cost=0.00..0.01 rows=1 width=4) (actual time=4.000..4.000 rows=1 loops=1)
  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) (actual time=0.100..9.000 rows=1 loops=1)
        Filter: (a = (InitPlan 1).col1)
"""
    )
    assert excl(plan) == [1.0, 4.0, 5.0]


def test_subplan_time_taken_from_its_node() -> None:
    plan = parse_plan(
        """
Seq Scan on pg_class c  (cost=0.00..1490.37 rows=226 width=200) (actual time=0.092..11.416 rows=226 loops=1)
  SubPlan 1
    ->  Seq Scan on pg_class c2  (cost=0.00..6.57 rows=1 width=4) (actual time=0.022..0.043 rows=1 loops=226)
          Filter: (relname = c.relname)
"""
    )
    assert excl(plan) == [1.698, 9.718]
    assert plan.nodes.loc[1, "parent_relationship"] == "SubPlan"


def test_parallel_times_are_per_process() -> None:
    """Loops of nodes under a Gather are spread over the leader and the workers."""
    plan = parse_plan((DATA / "parallel.text").read_text())
    df = plan.nodes
    gm = df.index[df["node_type"] == "Gather Merge"][0]
    below = df[df["depth"] > df.loc[gm, "depth"]]
    for _, row in below.iterrows():
        procs = min(3, int(row["actual_loops"]))  # 2 workers + the leader
        assert row["inclusive_ms"] == pytest.approx(row["actual_total_ms"] * row["actual_loops"] / procs)
    assert (df["exclusive_ms"] >= 0).all()


def test_leader_participation_off() -> None:
    plan = parse_plan(
        """
Gather  (cost=0.00..1.00 rows=1 width=4) (actual time=0.100..20.000 rows=10 loops=1)
  Workers Planned: 2
  Workers Launched: 2
  ->  Parallel Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) (actual time=0.050..18.000 rows=5 loops=2)
Settings: parallel_leader_participation = 'off'
"""
    )
    assert excl(plan) == [2.0, 18.0]


def test_never_executed_and_no_analyze() -> None:
    plan = parse_plan(
        """
Hash Join  (cost=6.65..104.10 rows=1600 width=1363) (actual time=0.002..0.002 rows=0 loops=1)
  Hash Cond: (a.id = b.id)
  ->  Seq Scan on a  (cost=0.00..26.00 rows=1600 width=17) (actual time=0.001..0.001 rows=0 loops=1)
  ->  Hash  (cost=6.12..6.12 rows=212 width=1346) (never executed)
        ->  Seq Scan on b  (cost=0.00..6.12 rows=212 width=1346) (never executed)
"""
    )
    df = plan.nodes
    assert df["never_executed"].tolist() == [False, False, True, True]
    assert excl(plan) == [0.001, 0.001, 0.0, 0.0]
    assert df["misestimate"].isna().tolist() == [False, False, True, True]
    estimated = parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)").nodes
    assert estimated[["inclusive_ms", "exclusive_ms", "never_executed", "misestimate"]].isna().all().all()


def test_misestimate() -> None:
    plan = parse_plan(
        """
Nested Loop  (cost=0.00..1.00 rows=10 width=4) (actual time=0.1..1.0 rows=1000 loops=1)
  ->  Seq Scan on a  (cost=0.00..1.00 rows=500 width=4) (actual time=0.1..0.2 rows=5 loops=1)
  ->  Index Scan using i on b  (cost=0.00..1.00 rows=1 width=4) (actual time=0.001..0.002 rows=0.50 loops=5)
"""
    )
    df = plan.nodes
    assert df["misestimate"].tolist() == [100.0, 100.0, 1.0]
    assert df["misestimate_direction"].tolist()[:2] == ["under", "over"]
    assert pd.isna(df.loc[2, "misestimate_direction"])


def test_buffers_exclusive() -> None:
    plan = parse_plan(
        """
Hash Join  (cost=1.00..2.00 rows=1 width=4) (actual time=0.1..1.0 rows=1 loops=1)
  Buffers: shared hit=100 read=50, temp read=7 written=9
  ->  Seq Scan on a  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..0.2 rows=1 loops=1)
        Buffers: shared hit=60 read=50
  ->  Hash  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..0.2 rows=1 loops=1)
        Buffers: shared hit=40
        ->  Seq Scan on b  (cost=0.00..1.00 rows=1 width=4) (actual time=0.1..0.2 rows=1 loops=1)
              Buffers: shared hit=40
"""
    )
    df = plan.nodes
    assert df["shared_hit"].tolist() == [100, 60, 40, 40]
    assert df["shared_hit_excl"].tolist() == [0, 60, 0, 40]
    assert df["shared_read_excl"].tolist() == [0, 50, 0, 0]
    assert df["temp_read_excl"].tolist() == [7, 0, 0, 0]
    assert df["temp_written"].tolist() == [9, 0, 0, 0]


def test_exclusive_pct_sums_to_100() -> None:
    plan = parse_plan((DATA / "serial.text").read_text())
    assert plan.nodes["exclusive_pct"].sum() == pytest.approx(100.0)
