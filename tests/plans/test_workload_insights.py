"""The plan side of the demo workload's anti-patterns: offset-pagination (a Limit that throws away
the rows an OFFSET skips), not-in-subquery, top-n-sort and count-whole-table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from dbworkbench.plans import parse_plan

FOLDER = Path(__file__).resolve().parent / "planted"
PLANTED = FOLDER / "offset-pagination.json"


def _plan(limit_rows: int, child_rows: int, child: dict[str, Any], query: str | None = None) -> pd.DataFrame:
    doc: dict[str, Any] = {
        "Plan": {
            "Node Type": "Limit", "Startup Cost": 0, "Total Cost": 100, "Plan Rows": limit_rows, "Plan Width": 8,
            "Actual Startup Time": 0.1, "Actual Total Time": 40.0, "Actual Rows": limit_rows, "Actual Loops": 1,
            "Plans": [{
                "Parent Relationship": "Outer", "Startup Cost": 0, "Total Cost": 100, "Plan Rows": child_rows,
                "Plan Width": 8, "Actual Startup Time": 0.1, "Actual Total Time": 39.0, "Actual Rows": child_rows,
                "Actual Loops": 1, **child,
            }],
        },
        "Execution Time": 40.5,
    }
    if query:
        doc["Query Text"] = query
    return parse_plan(json.dumps([doc])).insights()


SORT = {"Node Type": "Sort", "Sort Key": ["p.view_count DESC", "p.id DESC"], "Sort Method": "top-N heapsort",
        "Sort Space Used": 30, "Sort Space Type": "Memory",
        "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "posts", "Alias": "p",
                   "Startup Cost": 0, "Total Cost": 90, "Plan Rows": 5000, "Plan Width": 8, "Actual Startup Time": 0.01,
                   "Actual Total Time": 20.0, "Actual Rows": 5000, "Actual Loops": 1}]}


def test_planted_plan_names_the_rows_and_the_keyset_statement() -> None:
    found = parse_plan(PLANTED.read_text()).insights()
    row = found.iloc[0]
    assert row["code"] == "offset-pagination" and row["severity"] in ("warning", "critical") and row["node_id"] == 0
    assert "threw away 40,000 of the 40,020 rows" in row["message"] and "to return 20" in row["message"]
    assert ("SELECT p.id, p.title, p.slug, p.published_at FROM posts AS p WHERE p.status = 'published' AND "
            "p.published_at < $1 ORDER BY p.published_at DESC LIMIT 20") in row["suggestion"]
    assert row["est_saving_ms"] > 0.5 * parse_plan(PLANTED.read_text()).execution_ms


def test_sort_keys_give_the_row_comparison() -> None:
    found = _plan(20, 4020, SORT)
    assert found["code"].tolist() == ["offset-pagination"]
    assert "(p.view_count, p.id) < ($last_1, $last_2)" in found.loc[0, "suggestion"]
    assert "threw away 4,000 of the 4,020 rows (100%) that Sort produced" in found.loc[0, "message"]


def test_mixed_directions_give_the_expanded_condition() -> None:
    mixed = {**SORT, "Sort Key": ["p.view_count DESC", "p.id"]}
    text = _plan(20, 4020, mixed).loc[0, "suggestion"]
    assert "((p.view_count < $last_1) OR (p.view_count = $last_1 AND p.id > $last_2))" in text


def test_a_plain_limit_or_a_shallow_offset_is_left_alone() -> None:
    assert _plan(20, 20, SORT).empty  # LIMIT without OFFSET: the input stops at 20
    assert _plan(20, 520, SORT).empty  # OFFSET 500: below 1,000 rows skipped
    assert _plan(5000, 6000, SORT).empty  # most of what was read is returned


def test_a_sorted_offset_is_offset_pagination_not_top_n_sort() -> None:
    assert _plan(20, 4020, SORT)["code"].tolist() == ["offset-pagination"]


def test_top_n_sort_names_the_index_that_stops_the_scan() -> None:
    row = parse_plan((FOLDER / "top-n-sort.json").read_text()).insights().iloc[0]
    assert row["code"] == "top-n-sort" and "read and sorted 85,187 rows to return 10" in row["message"]
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_view_count_desc ON public.posts USING btree (view_count DESC);" in row["suggestion"]
    small = {**SORT, "Plans": [{**SORT["Plans"][0], "Actual Rows": 5000}]}
    assert _plan(20, 20, small).empty  # 5,000 rows sorted: below the threshold


def test_not_in_subquery_per_row_and_hashed() -> None:
    row = parse_plan((FOLDER / "not-in-subquery.json").read_text()).insights().iloc[0]
    assert row["code"] == "not-in-subquery" and row["severity"] in ("warning", "critical")
    assert "run once per row (50 times" in row["message"] and "NOT EXISTS" in row["suggestion"]
    hashed = {"Node Type": "Seq Scan", "Relation Name": "users", "Alias": "u",
              "Filter": "(NOT (ANY (u.id = (hashed SubPlan 1).col1)))",
              "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "SubPlan", "Subplan Name": "SubPlan 1",
                         "Relation Name": "posts", "Alias": "p", "Startup Cost": 0, "Total Cost": 10, "Plan Rows": 100,
                         "Plan Width": 16, "Actual Startup Time": 0.01, "Actual Total Time": 5.0, "Actual Rows": 5000,
                         "Actual Loops": 1}]}
    found = _plan(20, 3000, hashed)
    row = found.set_index("code").loc["not-in-subquery"]
    assert row["severity"] == "info" and "hashed" in row["message"]


def test_count_whole_table_once_for_a_parallel_count() -> None:
    found = parse_plan((FOLDER / "count-whole-table.json").read_text()).insights()
    assert found["code"].tolist() == ["count-whole-table"]
    assert "read every row of public.comments (300,000 rows" in found.loc[0, "message"]
    assert "reltuples" in found.loc[0, "suggestion"]
    filtered = parse_plan((FOLDER / "workers-not-launched.json").read_text()).insights()
    assert "count-whole-table" not in set(filtered["code"])  # a WHERE: not the whole table


def test_not_in_subquery_as_postgresql_before_17_prints_it() -> None:
    """Before 17 the Filter reads "NOT (hashed SubPlan 1)" or "NOT (SubPlan 1)"."""
    sub = {"Node Type": "Seq Scan", "Parent Relationship": "SubPlan", "Relation Name": "posts", "Alias": "p",
           "Startup Cost": 0, "Total Cost": 10, "Plan Rows": 100, "Plan Width": 16, "Actual Startup Time": 0.01,
           "Actual Total Time": 5.0, "Actual Rows": 5000, "Actual Loops": 1}
    for text, name, severity in (("(NOT (hashed SubPlan 1))", "hashed SubPlan 1", "info"),
                                 ("(NOT (SubPlan 1))", "SubPlan 1", None)):
        scan = {"Node Type": "Seq Scan", "Relation Name": "users", "Alias": "u", "Filter": text,
                "Plans": [{**sub, "Subplan Name": name}]}
        row = _plan(20, 3000, scan).set_index("code").loc["not-in-subquery"]
        assert ("hashed" in row["message"]) == (severity == "info")
        if severity:
            assert row["severity"] == severity
    assert _plan(20, 3000, {"Node Type": "Seq Scan", "Relation Name": "users", "Filter": "(NOT (EXISTS(SubPlan 1)))",
                            "Plans": [{**sub, "Subplan Name": "SubPlan 1"}]}).query("code == 'not-in-subquery'").empty
