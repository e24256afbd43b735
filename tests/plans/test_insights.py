"""plan.insights(): the planted plans (real captures, see planted/capture.py) and one case per rule.

No server: the planted plans are files captured from the demo database with one problem
planted in each (``<code>.json``) and healthy plans (``healthy-*.json``); the rule cases
are small hand-made FORMAT JSON plans.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dbworkbench.advisor.index import IndexDef
from dbworkbench.plans import parse_plan
from dbworkbench.plans.insights import CODES, COLUMNS, RULES, Finding, run
from dbworkbench.plans.insights._base import grade, work_mem_value
from dbworkbench.plans.insights._sql import conjuncts, fk_from_name, index_columns, quote_ident

PLANTED = Path(__file__).resolve().parent / "planted"
CONTRACT_CODES = (
    "seq-scan-selective index-filter-inefficient misestimate sort-spill hash-spill lossy-bitmap "
    "heap-fetches loop-amplification workers-not-launched jit-overhead planning-time cte-scan-filter "
    "slow-trigger rows-discarded read-heavy temp-io offset-pagination not-in-subquery top-n-sort count-whole-table"
).split()
PLANTED_FILES = sorted(p for p in PLANTED.glob("*.json") if not p.name.startswith("healthy-"))
HEALTHY_FILES = sorted(PLANTED.glob("healthy-*.json"))


def insights_of(name: str) -> pd.DataFrame:
    return parse_plan(PLANTED / f"{name}.json").insights()


def top(name: str) -> pd.Series:
    return insights_of(name).iloc[0]


# --------------------------------------------------------------------------- contract


def test_codes_are_the_contract() -> None:
    import sys

    assert sorted(CODES) == sorted(CONTRACT_CODES)
    assert len(RULES) == len(CODES) == len(CONTRACT_CODES)
    for rule, code in zip(RULES, CODES, strict=True):  # each rule in its own module, named after its code
        assert sys.modules[rule.__module__].CODE == code
        assert rule.__module__.endswith("." + rule.__name__) and rule.__doc__


def test_every_code_is_documented() -> None:
    import dbworkbench.plans.insights as package

    doc = package.__doc__ or ""
    for code in CODES:
        assert f"\n{code} " in doc, code
    for column in COLUMNS:
        assert f"\n{column} " in doc, column


def test_columns_and_dtypes() -> None:
    found = insights_of("slow-trigger")
    assert list(found.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in found.dtypes.items()} == COLUMNS
    assert found["node_id"].isna().all()  # triggers are plan-level
    empty = insights_of("healthy-pk-lookup")
    assert empty.empty and {c: str(t) for c, t in empty.dtypes.items()} == COLUMNS


def test_sorted_by_saving_then_severity() -> None:
    for path in PLANTED_FILES:
        found = parse_plan(path).insights()
        savings = found["est_saving_ms"].tolist()
        assert savings == sorted(savings, reverse=True), path.name
        assert set(found["severity"]) <= {"info", "warning", "critical"}


def test_every_code_has_a_planted_plan() -> None:
    assert sorted(p.stem for p in PLANTED_FILES) == sorted(CONTRACT_CODES)
    for path in [*PLANTED_FILES, *HEALTHY_FILES]:
        assert path.stat().st_size < 200_000, path.name


# --------------------------------------------------------------------------- planted plans


@pytest.mark.parametrize("path", PLANTED_FILES, ids=lambda p: p.stem)
def test_planted_problem_is_the_top_insight(path: Path) -> None:
    found = parse_plan(path).insights()
    assert len(found), "no insight"
    assert found.loc[0, "code"] == path.stem, found[["code", "severity", "est_saving_ms"]].to_string()
    assert found.loc[0, "severity"] in ("warning", "critical")
    assert found["est_saving_ms"].iloc[0] > 0
    assert found.loc[0, "message"] and found.loc[0, "suggestion"]


@pytest.mark.parametrize("path", HEALTHY_FILES, ids=lambda p: p.stem)
def test_healthy_plan_gets_no_warning(path: Path) -> None:
    found = parse_plan(path).insights()
    assert (found["severity"] == "info").all(), found.to_string()


def test_planted_seq_scan_names_table_and_column() -> None:
    row = top("seq-scan-selective")
    assert row["node_id"] == 1  # the Parallel Seq Scan under its Gather
    assert row["suggestion"].endswith("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_user_id ON public.comments USING btree (user_id);")
    assert "kept 11" in row["message"]


def test_planted_slow_trigger_names_the_unindexed_foreign_key() -> None:
    found = insights_of("slow-trigger")
    first = found.iloc[0]
    assert "comments_user_id_fkey on users" in first["message"]
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_user_id ON comments USING btree (user_id);" in first["suggestion"]
    assert "WHERE conname = 'comments_user_id_fkey'" in first["suggestion"]
    # the cascade's own trigger: comments.parent_id has no index either
    assert any("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_parent_id ON comments USING btree (parent_id);" in s for s in found["suggestion"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index-filter-inefficient", "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_user_id_view_count ON public.posts USING btree (user_id, view_count);"),
        ("sort-spill", "SET work_mem = '16MB';"),
        ("hash-spill", "SET work_mem = '8MB';"),
        ("lossy-bitmap", "SET work_mem = '1MB';"),
        ("temp-io", "SET work_mem = '4MB';"),
        ("heap-fetches", "VACUUM (ANALYZE) public.users;"),
        ("misestimate", "ANALYZE public.posts_staging;"),
        ("cte-scan-filter", "WITH recent AS NOT MATERIALIZED"),
        ("rows-discarded", "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_created_at ON public.comments USING btree (created_at);"),
        ("loop-amplification", "GROUP BY"),
        ("workers-not-launched", "max_parallel_workers"),
        ("jit-overhead", "SET jit = off"),
        ("planning-time", "PREPARE"),
        ("read-heavy", "pg_prewarm('public.comments')"),
    ],
)
def test_planted_suggestion(name: str, expected: str) -> None:
    assert expected in top(name)["suggestion"]


def test_planted_sort_spill_work_mem_would_fit() -> None:
    """The suggested work_mem is above the in-memory need measured on the demo (10,725 kB)."""
    row = top("sort-spill")
    assert "6.9 MB to disk" in row["message"] and "work_mem is 1MB in this plan" in row["suggestion"]


# --------------------------------------------------------------------------- plan builders


def nd(kind: str, ms: float = 1.0, rows: float = 1, loops: int = 1, plans: list[dict[str, Any]] | None = None,
       plan_rows: float | None = None, raw: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    """A node; ``props`` use PostgreSQL's names with underscores for spaces (Rows_Removed_by_Filter),
    ``raw`` names with other characters ("Shared I/O Read Time")."""
    node: dict[str, Any] = {
        "Node Type": kind, "Startup Cost": 0.0, "Total Cost": 100.0,
        "Plan Rows": rows if plan_rows is None else plan_rows, "Plan Width": 8,
        "Actual Startup Time": 0.0, "Actual Total Time": ms, "Actual Rows": rows, "Actual Loops": loops,
    }
    node.update({k.replace("_", " "): v for k, v in props.items()})
    node.update(raw or {})
    if plans:
        node["Plans"] = plans
    return node


def plan_of(root: dict[str, Any], execution: float | None = None, planning: float = 0.1, **top_level: Any) -> Any:
    top: dict[str, Any] = {"Plan": root, "Planning Time": planning,
                           "Execution Time": root["Actual Total Time"] if execution is None else execution}
    top.update({k.replace("_", " "): v for k, v in top_level.items()})
    return parse_plan([top])


def codes(plan: Any) -> list[str]:
    return plan.insights()["code"].tolist()


# --------------------------------------------------------------------------- severity


def test_grade_floors_and_shares() -> None:
    assert grade(0.1, 0.1) == "info"  # 100% of a 0.1 ms query is still nothing
    assert grade(5.0, 100.0) == "info"  # 5%
    assert grade(10.0, 100.0) == "warning"
    assert grade(90.0, 100.0) == "warning"  # half, but under 100 ms
    assert grade(120.0, 200.0) == "critical"
    assert grade(math.nan, 10.0) == "info"


def test_a_tiny_seq_scan_is_never_a_warning() -> None:
    tiny = nd("Seq Scan", ms=0.1, rows=1, Relation_Name="t", Filter="(id = 1)", Rows_Removed_by_Filter=5000)
    found = plan_of(tiny).insights()
    assert found["code"].tolist() == ["seq-scan-selective"]
    assert found.loc[0, "severity"] == "info"


def test_a_rule_may_cap_severity_never_raise_it() -> None:
    def loud(plan: Any) -> list[Finding]:
        return [Finding("x", None, "m", "s", 500.0, severity="info"), Finding("y", None, "m", "s", 0.01, severity="critical")]

    found = run(plan_of(nd("Result", ms=600.0)), [loud])
    assert found["severity"].tolist() == ["info", "info"]


def test_plan_without_analyze_has_no_findings() -> None:
    estimated = parse_plan([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Filter": "(a = 1)",
                                      "Plan Rows": 1, "Total Cost": 10.0}}])
    found = estimated.insights()
    assert found.empty and list(found.columns) == list(COLUMNS)


# --------------------------------------------------------------------------- SQL helpers


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("comments", "comments"), ("user_id", "user_id"), ("_x1", "_x1"), ("User", '"User"'),
        ("order", '"order"'), ("user", '"user"'), ("select", '"select"'), ("time", '"time"'),
        ("left", '"left"'), ("name", "name"), ("zone", "zone"), ("1st", '"1st"'), ("a b", '"a b"'),
        ('say"hi', '"say""hi"'), ("dollar$", '"dollar$"'), ("café", '"café"'), ("", '""'),
    ],
)
def test_quote_ident(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


@pytest.mark.parametrize(
    ("expr", "names", "expected"),
    [
        ("(comments.user_id = '0001'::uuid)", {"comments"}, ["user_id"]),
        ("((c.created_at > now()) AND (c.user_id = p.id))", {"c", "comments"}, ["user_id", "created_at"]),
        ("(lower((email)::text) = 'a@b.c'::text)", {"users"}, ["(lower((email)::text))"]),
        ("((users.email)::text = 'a@b.c'::text)", {"users"}, ["email"]),
        ("((status = 'published'::post_status) AND (published_at IS NULL))", {"posts"}, ["status", "published_at"]),
        ("(NOT c.is_deleted)", {"c"}, ["is_deleted"]),
        ("((c.post_id = ANY ('{a,b}'::uuid[])) AND c.is_approved)", {"c"}, ["post_id", "is_approved"]),
        ("((a = 1) OR (b = 2))", {"t"}, []),
        ('(("Order Id" = 5) AND (t."from" >= \'2024-01-01\'::timestamp with time zone))', {"t"}, ['"Order Id"', '"from"']),
        ("(t.x = (InitPlan 1).col1)", {"t"}, ["x"]),
        ("(t.x = $1)", {"t"}, ["x"]),
        ("(t.x <> 3)", {"t"}, []),
        ("((title)::text ~~ 'abc%'::text)", {"t"}, []),
        ("(t.a = t.b)", {"t"}, []),
        ("((t.a + t.b) = 5)", {"t"}, ["(a + b)"]),
        ("((t.d)::date = CURRENT_DATE)", {"t"}, ["((d)::date)"]),
        ("('x'::text = (t.name)::text)", {"t"}, ["name"]),
        (None, {"t"}, []),
    ],
)
def test_index_columns(expr: str | None, names: set[str], expected: list[str]) -> None:
    assert [c.element for c in index_columns(expr, names)] == expected


def test_conjuncts() -> None:
    assert conjuncts("((a = 1) AND ((b = 2) OR (c = 3)))") == ["a = 1", "(b = 2) OR (c = 3)"]
    assert conjuncts("(x = 'AND')") == ["x = 'AND'"]


@pytest.mark.parametrize(
    ("constraint", "referenced", "expected"),
    [
        ("comments_user_id_fkey", "users", ("comments", "user_id")),
        ("order_items_order_id_fkey", "orders", ("order_items", "order_id")),
        ("line_items_product_id_fkey1", "products", ("line_items", "product_id")),
        ("comments_parent_id_fkey", "comments", ("comments", "parent_id")),
        ("categories_category_id_fkey", "categories", ("categories", "category_id")),
        ("t_author_fkey", "people", None),
        ("fk_comments_users", "users", None),
    ],
)
def test_fk_from_name(constraint: str, referenced: str, expected: tuple[str, str] | None) -> None:
    assert fk_from_name(constraint, referenced) == expected


def test_work_mem_value() -> None:
    assert work_mem_value(900) == "1MB"
    assert work_mem_value(1025) == "2MB"
    assert work_mem_value(5104) == "8MB"
    assert work_mem_value(1500 * 1024) == "2GB"
    assert work_mem_value(100, current_kb=4096) == "8MB"  # always above what the plan ran with


# --------------------------------------------------------------------------- one case per rule


def test_seq_scan_selective_quotes_identifiers() -> None:
    scan = nd("Seq Scan", ms=40.0, rows=3, Relation_Name="Order Items", Schema="Shop", Alias="oi",
              Filter="(oi.\"UserId\" = 42)", Rows_Removed_by_Filter=99_000)
    row = plan_of(scan).insights().iloc[0]
    assert row["code"] == "seq-scan-selective" and row["severity"] == "warning"
    assert row["suggestion"].endswith('CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_order_items_userid ON "Shop"."Order Items" USING btree ("UserId");')
    assert row["est_saving_ms"] == pytest.approx(40.0 * 99_000 / 99_003, rel=1e-3)


def test_seq_scan_keeping_most_rows_is_not_selective() -> None:
    scan = nd("Seq Scan", ms=40.0, rows=60_000, Relation_Name="t", Filter="(a > 1)", Rows_Removed_by_Filter=40_000)
    assert codes(plan_of(scan)) == []


def test_index_filter_inefficient() -> None:
    scan = nd("Index Scan", ms=30.0, rows=5, Relation_Name="posts", Schema="public", Alias="p",
              Index_Name="posts_user_idx", Index_Cond="(p.user_id = 7)", Filter="(p.views > 100)",
              Rows_Removed_by_Filter=9_000)
    row = plan_of(scan).insights().iloc[0]
    assert row["code"] == "index-filter-inefficient"
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_user_id_views ON public.posts USING btree (user_id, views);" in row["suggestion"]


_ADVISOR_CREATE = re.compile(r"CREATE INDEX CONCURRENTLY IF NOT EXISTS (\S+) ON (\S+) USING (\w+) \((.*?)\);")


def test_every_suggested_index_is_written_by_the_advisor() -> None:
    """One source of index advice: each CREATE INDEX the rules suggest on the planted plans is,
    character for character, what the advisor's IndexDef writes for its table, keys and method."""
    statements = [stmt for path in PLANTED_FILES for text in parse_plan(path).insights()["suggestion"]
                  for stmt in re.findall(r"CREATE INDEX[^;]*;", text)]
    assert len(statements) >= 5, statements  # seq scan, index filter, join, the two foreign keys
    for stmt in statements:
        m = _ADVISOR_CREATE.fullmatch(stmt)
        assert m, stmt
        name, table, method, keys = m.groups()
        schema, _, bare = table.rpartition(".")
        ix = IndexDef(schema, bare, tuple(keys.split(", ")), method)
        assert ix.name == name and ix.create_sql() == stmt


def test_seq_scan_selective_reads_an_initplan_value() -> None:
    """PostgreSQL 17+ prints a scalar subquery's value as (InitPlan 1).col1: known before the scan, so indexable."""
    scan = nd("Seq Scan", ms=40.0, rows=1, Relation_Name="posts", Schema="public", Alias="p",
              Filter="((p.slug)::text = ((InitPlan 1).col1)::text)", Rows_Removed_by_Filter=99_000)
    row = plan_of(scan).insights().iloc[0]
    assert row["code"] == "seq-scan-selective"
    assert row["suggestion"].endswith(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_slug ON public.posts USING btree (slug);")


def test_seq_scan_selective_full_text_gets_the_gin_index() -> None:
    scan = nd("Seq Scan", ms=40.0, rows=3, Relation_Name="posts", Schema="public", Alias="posts",
              Filter="(to_tsvector('english'::regconfig, content) @@ plainto_tsquery('english'::regconfig, 'x'::text))",
              Rows_Removed_by_Filter=99_000)
    row = plan_of(scan).insights().iloc[0]
    assert row["suggestion"].endswith("ON public.posts USING gin (to_tsvector('english', content));")


def test_trigram_index_says_which_extension_it_needs() -> None:
    scan = nd("Seq Scan", ms=40.0, rows=3, Relation_Name="posts", Schema="public", Alias="p",
              Filter="((p.title)::text ~~ '%index%'::text)", Rows_Removed_by_Filter=99_000)
    row = plan_of(scan).insights().iloc[0]
    assert "ON public.posts USING gin (title gin_trgm_ops);" in row["suggestion"]
    assert row["suggestion"].endswith("CREATE EXTENSION IF NOT EXISTS pg_trgm; first if it is not installed.")


def test_index_filter_without_index_cond_gives_a_runnable_statement() -> None:
    """An index read whole for its order: the fix is a statement, not a template with a placeholder."""
    scan = nd("Index Scan", ms=30.0, rows=5, Relation_Name="posts", Schema="public", Alias="p",
              Index_Name="posts_created_at_idx", Filter="(p.user_id = 7)", Rows_Removed_by_Filter=9_000)
    row = plan_of(scan).insights().iloc[0]
    assert row["code"] == "index-filter-inefficient"
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_user_id ON public.posts USING btree (user_id);" in row[
        "suggestion"]
    assert "<" not in row["suggestion"] and "posts_created_at_idx" in row["suggestion"]


def test_index_filter_per_loop_lookups_are_not_the_index() -> None:
    inner = nd("Index Scan", ms=0.002, rows=0, loops=50_000, Relation_Name="users", Alias="u",
               Index_Name="users_pkey", Index_Cond="(u.id = c.user_id)", Filter="(u.active)", Rows_Removed_by_Filter=1,
               Parent_Relationship="Inner")
    outer = nd("Seq Scan", ms=10.0, rows=50_000, Relation_Name="comments", Alias="c", Parent_Relationship="Outer")
    assert "index-filter-inefficient" not in codes(plan_of(nd("Nested Loop", ms=120.0, rows=0, plans=[outer, inner])))


def test_misestimate_where_it_starts_and_what_it_cost() -> None:
    scan = nd("Seq Scan", ms=20.0, rows=50_000, plan_rows=50, Relation_Name="t", Schema="public", Alias="t",
              Filter="((t.a = 1) AND (t.b = 2))", Rows_Removed_by_Filter=10_000, Parent_Relationship="Outer")
    inner = nd("Index Scan", ms=0.004, rows=1, loops=50_000, Relation_Name="u", Index_Name="u_pkey",
               Index_Cond="(u.id = t.u_id)", Parent_Relationship="Inner")
    join = nd("Nested Loop", ms=420.0, rows=50_000, plan_rows=50, plans=[scan, inner])
    found = plan_of(nd("Aggregate", ms=430.0, rows=1, plans=[join])).insights()
    first = found.iloc[0]
    assert first["code"] == "misestimate" and first["node_id"] == 2  # the scan, not the join above it
    assert first["est_saving_ms"] == pytest.approx(0.5 * (420.0 - 20.0))
    assert "CREATE STATISTICS IF NOT EXISTS public.t_a_b_stat ON a, b FROM public.t;" in first["suggestion"]
    assert found["code"].tolist().count("misestimate") == 1  # the join inherits it
    assert "loop-amplification" not in found["code"].tolist()  # the misestimate explains the loops


def test_misestimate_under_a_limit_is_not_one() -> None:
    scan = nd("Index Scan", ms=0.05, rows=20, plan_rows=80_000, Relation_Name="t", Index_Name="t_idx")
    assert codes(plan_of(nd("Limit", ms=0.06, rows=20, plans=[scan]))) == []


def test_sort_spill_reads_the_largest_worker() -> None:
    sort = nd("Sort", ms=300.0, rows=100_000, Sort_Key=["t.a"], Sort_Method="external merge",
              Sort_Space_Used=2_000, Sort_Space_Type="Disk",
              Workers=[{"Worker Number": 0, "Sort Method": "external merge", "Sort Space Used": 9_000,
                        "Sort Space Type": "Disk"}])
    row = plan_of(nd("Gather Merge", ms=320.0, rows=100_000, Workers_Planned=1, Workers_Launched=1,
                     plans=[sort])).insights().iloc[0]
    assert row["code"] == "sort-spill" and "SET work_mem = '32MB';" in row["suggestion"]  # 9,000 kB x 2


def test_sort_in_memory_is_fine() -> None:
    sort = nd("Sort", ms=30.0, rows=1_000, Sort_Method="quicksort", Sort_Space_Used=200, Sort_Space_Type="Memory")
    assert codes(plan_of(sort)) == []


def test_hash_spill_respects_hash_mem_multiplier() -> None:
    hashed = nd("Hash", ms=50.0, rows=100_000, Hash_Buckets=65536, Hash_Batches=4, Original_Hash_Batches=4,
                Peak_Memory_Usage=3_000, Parent_Relationship="Inner")
    outer = nd("Seq Scan", ms=30.0, rows=200_000, Relation_Name="a", Parent_Relationship="Outer")
    join = nd("Hash Join", ms=200.0, rows=200_000, plans=[outer, hashed])
    row = plan_of(join, Settings={"hash_mem_multiplier": "1", "work_mem": "2MB"}).insights().iloc[0]
    assert row["code"] == "hash-spill" and "SET work_mem = '16MB';" in row["suggestion"]  # 12,000 kB / 1


def test_lossy_bitmap() -> None:
    heap = nd("Bitmap Heap Scan", ms=40.0, rows=5_000, Relation_Name="t", Recheck_Cond="(t.k = 1)",
              Rows_Removed_by_Index_Recheck=45_000, Exact_Heap_Blocks=1_000, Lossy_Heap_Blocks=7_000,
              plans=[nd("Bitmap Index Scan", ms=2.0, rows=5_000, Index_Name="t_k")])
    row = plan_of(heap, Settings={"work_mem": "64kB"}).insights().iloc[0]
    assert row["code"] == "lossy-bitmap" and "SET work_mem = '1MB';" in row["suggestion"]  # 8,000 x 128 B
    assert row["est_saving_ms"] == pytest.approx(38.0 * 0.9)
    row = plan_of(heap).insights().iloc[0]  # lossy at 4MB already: at least the next step up
    assert "did not fit in work_mem: SET work_mem = '8MB';" in row["suggestion"]


def test_heap_fetches_are_a_total_not_per_loop() -> None:
    ios = nd("Index Only Scan", ms=0.01, rows=2, loops=1_000, Relation_Name="t", Index_Name="t_idx", Heap_Fetches=500)
    assert codes(plan_of(ios)) == []  # 500 fetches for 2,000 rows: under both thresholds
    ios = nd("Index Only Scan", ms=0.01, rows=2, loops=1_000, Relation_Name="t", Index_Name="t_idx", Heap_Fetches=1_800)
    assert codes(plan_of(ios)) == ["heap-fetches"]


def test_loop_amplification_of_a_subplan() -> None:
    sub = nd("Aggregate", ms=0.01, rows=1, loops=20_000, Parent_Relationship="SubPlan", Subplan_Name="SubPlan 1",
             plans=[nd("Index Only Scan", ms=0.009, rows=3, loops=20_000, Relation_Name="c", Index_Name="c_idx")])
    row = plan_of(nd("Seq Scan", ms=250.0, rows=20_000, Relation_Name="p", plans=[sub])).insights().iloc[0]
    assert row["code"] == "loop-amplification" and row["node_id"] == 1
    assert "ran 20,000 times" in row["message"] and "JOIN" in row["suggestion"]


def test_workers_not_launched_partly() -> None:
    scan = nd("Seq Scan", ms=30.0, rows=100_000, loops=2, Relation_Name="t", Parallel_Aware=True)
    gather = nd("Gather", ms=60.0, rows=200_000, Workers_Planned=4, Workers_Launched=1, plans=[scan])
    row = plan_of(gather).insights().iloc[0]
    assert row["code"] == "workers-not-launched"
    assert row["est_saving_ms"] == pytest.approx(60.0 * (1 - 2 / 5))


def test_jit_overhead_only_when_it_weighs() -> None:
    jit = {"Functions": 4, "Options": {}, "Timing": {"Generation": 1.0, "Inlining": 0.0, "Optimization": 0.5,
                                                      "Emission": 2.0, "Total": 3.5}}
    assert codes(plan_of(nd("Result", ms=500.0), JIT=jit)) == []
    row = plan_of(nd("Result", ms=5.0), JIT=jit).insights().iloc[0]
    assert row["code"] == "jit-overhead" and row["node_id"] is pd.NA


def test_planning_time() -> None:
    assert codes(plan_of(nd("Result", ms=0.2), planning=0.5)) == []  # under 1 ms
    assert codes(plan_of(nd("Result", ms=50.0), planning=5.0)) == []  # 9% of the statement
    row = plan_of(nd("Result", ms=0.5), planning=30.0).insights().iloc[0]
    assert row["code"] == "planning-time" and row["severity"] == "warning"


def test_cte_scan_filter_charges_the_cte() -> None:
    cte = nd("Seq Scan", ms=40.0, rows=100_000, Relation_Name="posts", Parent_Relationship="InitPlan",
             Subplan_Name="CTE Big One")
    scan = nd("CTE Scan", ms=60.0, rows=10, CTE_Name="Big One", Alias="b", Filter="(b.k = 1)",
              Rows_Removed_by_Filter=99_990)
    row = plan_of(nd("Result", ms=61.0, rows=10, plans=[cte, scan])).insights().iloc[0]
    assert row["code"] == "cte-scan-filter"
    assert 'WITH "Big One" AS NOT MATERIALIZED' in row["suggestion"]
    assert row["est_saving_ms"] > 50


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"Trigger Name": "RI_ConstraintTrigger_a_1", "Constraint Name": "orders_customer_id_fkey",
          "Relation": "customers"}, "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_customer_id ON orders USING btree (customer_id);"),
        ({"Trigger Name": "RI_ConstraintTrigger_a_2", "Constraint Name": "fk_order_customer",
          "Relation": "customers"}, "WHERE conname = 'fk_order_customer';"),
        ({"Trigger Name": "RI_ConstraintTrigger_c_3", "Constraint Name": "orders_customer_id_fkey",
          "Relation": "orders"}, "NOT VALID"),
        ({"Trigger Name": "audit_row", "Relation": "orders"}, "auto_explain.log_nested_statements"),
    ],
)
def test_slow_trigger(trigger: dict[str, Any], expected: str) -> None:
    trig = {**trigger, "Time": 80.0, "Calls": 10}
    row = plan_of(nd("ModifyTable", ms=1.0, Operation="Delete"), execution=82.0, Triggers=[trig]).insights().iloc[0]
    assert row["code"] == "slow-trigger" and expected in row["suggestion"]
    assert row["est_saving_ms"] == 80.0


def test_fast_trigger_is_not_reported() -> None:
    trig = {"Trigger Name": "RI_ConstraintTrigger_c_3", "Constraint Name": "x_fkey", "Relation": "x", "Time": 0.2, "Calls": 1}
    assert codes(plan_of(nd("ModifyTable", ms=10.0), execution=11.0, Triggers=[trig])) == []


def test_rows_discarded_by_a_subquery_scan_filter() -> None:
    window = nd("WindowAgg", ms=80.0, rows=100_000,
                plans=[nd("Index Scan", ms=30.0, rows=100_000, Relation_Name="t", Index_Name="t_idx")])
    sub = nd("Subquery Scan", ms=90.0, rows=100, Alias="ranked", Filter="(ranked.rn <= 1)",
             Rows_Removed_by_Filter=99_900, plans=[window])
    row = plan_of(sub).insights().iloc[0]
    assert row["code"] == "rows-discarded" and row["node_id"] == 0


def test_read_heavy_needs_most_blocks_read() -> None:
    scan = nd("Seq Scan", ms=100.0, rows=1_000_000, Relation_Name="t", Schema="public",
              Shared_Hit_Blocks=100, Shared_Read_Blocks=20_000, raw={"Shared I/O Read Time": 70.0})
    row = plan_of(scan).insights().iloc[0]
    assert row["code"] == "read-heavy" and row["est_saving_ms"] == 70.0
    warm = nd("Seq Scan", ms=100.0, rows=1_000_000, Relation_Name="t", Shared_Hit_Blocks=19_000, Shared_Read_Blocks=1_000)
    assert codes(plan_of(warm)) == []


def test_temp_io_uses_the_reported_storage() -> None:
    mat = nd("Materialize", ms=90.0, rows=200_000, Storage="Disk", Maximum_Storage=20_000,
             Temp_Written_Blocks=2_500, Temp_Read_Blocks=2_500,
             plans=[nd("Seq Scan", ms=20.0, rows=200_000, Relation_Name="t")])
    row = plan_of(mat).insights().iloc[0]
    assert row["code"] == "temp-io" and "SET work_mem = '32MB';" in row["suggestion"]  # 20,000 kB


def test_sort_and_hash_temp_files_are_not_temp_io() -> None:
    sort = nd("Sort", ms=300.0, rows=100_000, Sort_Method="external merge", Sort_Space_Used=5_000,
              Sort_Space_Type="Disk", Temp_Written_Blocks=625, Temp_Read_Blocks=625)
    assert codes(plan_of(sort)) == ["sort-spill"]


def test_run_with_some_rules() -> None:
    from dbworkbench.plans.insights import seq_scan_selective

    scan = nd("Seq Scan", ms=40.0, rows=3, Relation_Name="t", Filter="(a = 1)", Rows_Removed_by_Filter=99_000,
              Shared_Read_Blocks=5_000)
    assert run(plan_of(scan), [seq_scan_selective])["code"].tolist() == ["seq-scan-selective"]


def test_huge_work_mem_is_not_set_outright() -> None:
    hashed = nd("Hash", ms=2_000.0, rows=10_000_000, Hash_Batches=2048, Original_Hash_Batches=8,
                Peak_Memory_Usage=35_000, Parent_Relationship="Inner")
    outer = nd("Seq Scan", ms=500.0, rows=10_000_000, Relation_Name="a", Parent_Relationship="Outer")
    row = plan_of(nd("Hash Join", ms=4_000.0, rows=10, plans=[outer, hashed])).insights().iloc[0]
    assert row["code"] == "hash-spill"
    assert row["suggestion"].index("Make the input smaller") < row["suggestion"].index("SET work_mem = '64GB'")


def test_no_index_suggested_on_system_catalogs() -> None:
    scan = nd("Seq Scan", ms=40.0, rows=3, Relation_Name="pg_attribute", Schema="pg_catalog", Alias="a",
              Filter="(a.attname = 'x'::name)", Rows_Removed_by_Filter=99_000)
    row = plan_of(scan).insights().iloc[0]
    assert row["code"] == "seq-scan-selective" and "CREATE INDEX" not in row["suggestion"]


def test_constraint_trigger_from_a_text_plan_follows_the_statement() -> None:
    text = """
 Delete on emailmessages  (cost=0.00..10.00 rows=1 width=6) (actual time=0.5..0.5 rows=0 loops=1)
   ->  Seq Scan on emailmessages  (cost=0.00..10.00 rows=1 width=6) (actual time=0.1..0.2 rows=5 loops=1)
 Trigger for constraint attachments_message_id_fkey: time=900.000 calls=5
 Execution Time: 901.000 ms
"""
    row = parse_plan(text).insights().iloc[0]
    assert row["code"] == "slow-trigger" and row["severity"] == "critical"
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_attachments_message_id ON attachments USING btree (message_id);" in row["suggestion"]


def test_misestimate_of_a_function_scan_sets_its_rows() -> None:
    fn = nd("Function Scan", ms=5.0, rows=50_000, plan_rows=1_000, Function_Name="expand", Schema="public",
            Alias="e", Parent_Relationship="Outer")
    inner = nd("Index Scan", ms=0.01, rows=1, loops=50_000, Relation_Name="t", Index_Name="t_pkey",
               Parent_Relationship="Inner")
    row = plan_of(nd("Nested Loop", ms=600.0, rows=50_000, plan_rows=1_000, plans=[fn, inner])).insights().iloc[0]
    assert row["code"] == "misestimate" and "ALTER FUNCTION public.expand ROWS 50000;" in row["suggestion"]


def test_a_hash_is_never_where_a_misestimate_starts() -> None:
    scan = nd("Seq Scan", ms=30.0, rows=200_000, plan_rows=200_000, Relation_Name="t")
    hashed = nd("Hash", ms=40.0, rows=2_000, plan_rows=200_000, Parent_Relationship="Inner", plans=[scan])
    outer = nd("Seq Scan", ms=10.0, rows=10, Relation_Name="o", Parent_Relationship="Outer")
    assert "misestimate" not in codes(plan_of(nd("Hash Join", ms=100.0, rows=10, plans=[outer, hashed])))


def test_nested_loop_of_cheap_index_probes_is_not_amplification() -> None:
    inner = nd("Index Scan", ms=0.005, rows=1, loops=10_000, Relation_Name="t", Index_Name="t_pkey",
               Parent_Relationship="Inner")
    outer = nd("Seq Scan", ms=5.0, rows=10_000, Relation_Name="o", Parent_Relationship="Outer")
    assert codes(plan_of(nd("Nested Loop", ms=60.0, rows=10_000, plans=[outer, inner]))) == []
    slow = dict(inner, **{"Actual Total Time": 0.2})
    assert codes(plan_of(nd("Nested Loop", ms=2_100.0, rows=10_000, plans=[outer, slow]))) == ["loop-amplification"]


def test_a_few_ms_of_planning_stay_info() -> None:
    row = plan_of(nd("Result", ms=0.2), planning=3.0).insights().iloc[0]
    assert row["code"] == "planning-time" and row["severity"] == "info"


def test_saving_never_exceeds_the_statement() -> None:
    sort = nd("Sort", ms=20.0, rows=100_000, Sort_Method="external merge", Sort_Space_Used=5_000,
              Sort_Space_Type="Disk", raw={"Temp I/O Write Time": 9_000.0})
    row = plan_of(sort, execution=25.0, planning=0.0).insights().iloc[0]
    assert row["est_saving_ms"] <= 20.0


@pytest.mark.parametrize("name", ["dbworkbench.plans.insights", "dbworkbench.plans.insights._base",
                                  "dbworkbench.plans.insights._sql", "dbworkbench.plans.insights._index"])
def test_docstring_examples(name: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
