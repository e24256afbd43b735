"""`dbworkbench explain`: a plan from a file or stdin, or a statement run through EXPLAIN."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from dbworkbench.cli import main
from dbworkbench.plans import parse_plan

from .plans._corpus import PEV2, SKIP_REASON

SAMPLES = PEV2 / "example-samples"
needs_corpus = pytest.mark.skipif(not SAMPLES.is_dir(), reason=SKIP_REASON)


@needs_corpus
def test_text_plan_from_a_file() -> None:
    path = SAMPLES / "01-simple-join-text-format.txt"
    result = CliRunner().invoke(main, ["explain", str(path)])
    assert result.exit_code == 0, result.output
    plan = parse_plan(path.read_text(encoding="utf-8"))
    assert result.output.startswith(plan.text().splitlines()[0])
    assert "Top 5 nodes by exclusive time:" in result.output or f"Top {len(plan.nodes)} nodes" in result.output
    assert "Insights:" in result.output
    top = plan.nodes.sort_values("exclusive_ms", ascending=False).iloc[0]
    table = result.output.split("nodes by exclusive time:")[1]
    assert f"{top['exclusive_ms']:,.3f}" in table.splitlines()[2]  # the first row under the header


@needs_corpus
def test_json_plan_from_stdin() -> None:
    source = (SAMPLES / "04-aggregate-with-four-joins.json").read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", "-", "--top", "3"], input=source)
    assert result.exit_code == 0, result.output
    assert "Top 3 nodes by exclusive time:" in result.output
    assert "HashAggregate" in result.output.split("Top 3")[1]


@needs_corpus
def test_format_json() -> None:
    path = SAMPLES / "06-with-buffers.txt"
    result = CliRunner().invoke(main, ["explain", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.output
    out = json.loads(result.output)
    assert set(out) == {"nodes", "insights"}
    plan = parse_plan(path.read_text(encoding="utf-8"))
    assert len(out["nodes"]) == len(plan.nodes)
    assert list(out["nodes"][0]) == list(plan.nodes.columns)
    assert out["nodes"][0]["parent_id"] is None  # missing values are null
    assert isinstance(out["insights"], list)


def test_a_plan_without_analyze_ranks_by_cost(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("Hash Join  (cost=30.00..200.00 rows=1000 width=16)\n"
                    "  Hash Cond: (p.user_id = u.id)\n"
                    "  ->  Seq Scan on posts p  (cost=0.00..150.00 rows=5000 width=12)\n"
                    "  ->  Hash  (cost=20.00..20.00 rows=100 width=8)\n"
                    "        ->  Seq Scan on users u  (cost=0.00..20.00 rows=100 width=8)\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(path)])
    assert result.exit_code == 0, result.output
    assert "Top 4 nodes by total cost (no ANALYZE):" in result.output


def test_not_a_plan_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\nthis is not a plan\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: line 1: ")
    assert "Traceback" not in result.output


def test_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["explain"]).exit_code == 2
    path = tmp_path / "p.txt"
    path.write_text("Result  (cost=0.00..0.01 rows=1 width=4)\n", encoding="utf-8")
    both = runner.invoke(main, ["explain", str(path), "--sql", "SELECT 1"])
    assert both.exit_code == 2 and "--sql" in both.output
    assert runner.invoke(main, ["explain", str(path), "--no-analyze"]).exit_code == 2
    assert runner.invoke(main, ["explain", str(tmp_path / "missing.txt")]).exit_code == 2


def test_sql_on_the_demo(server, demo_db) -> None:
    runner = CliRunner()
    sql = "SELECT u.username, count(*) FROM posts p JOIN users u ON u.id = p.user_id GROUP BY u.username"
    result = runner.invoke(main, ["explain", "--sql", sql, "--dsn", demo_db])
    assert result.exit_code == 0, result.output
    assert "posts" in result.output and "users" in result.output
    assert "by exclusive time" in result.output and "execution" in result.output
    estimate = runner.invoke(main, ["explain", "--sql", sql, "--dsn", demo_db, "--no-analyze", "--format", "json"])
    assert estimate.exit_code == 0, estimate.output
    nodes = json.loads(estimate.output)["nodes"]
    assert all(n["actual_rows"] is None for n in nodes) and nodes[0]["total_cost"] > 0
    refused = runner.invoke(main, ["explain", "--sql", "DELETE FROM comments", "--dsn", demo_db])
    assert refused.exit_code == 1 and refused.output.startswith("Error: ")


@needs_corpus
def test_insights_are_printed() -> None:
    path = SAMPLES / "03-three-joins-missing-an-index.json"
    result = CliRunner().invoke(main, ["explain", str(path)])
    assert result.exit_code == 0, result.output
    found = parse_plan(path.read_text(encoding="utf-8")).insights()
    section = result.output.split("Insights:")[1]
    if found.empty:
        assert section.strip() == "none"
    for r in found.to_dict("records"):
        assert r["message"] in section


def test_explain_sql_refusals_name_the_command_line_flags(demo_db) -> None:
    from click.testing import CliRunner

    from dbworkbench.cli import main

    runner = CliRunner()
    refused = runner.invoke(main, ["explain", "--sql", "SELECT pg_advisory_lock(7)", "--dsn", demo_db])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "pg_advisory_lock() reaches outside the transaction" in refused.output and "--allow-side-effects" in refused.output
    write = runner.invoke(main, ["explain", "--sql", "DELETE FROM comments", "--dsn", demo_db])
    assert write.exit_code == 1 and "read-only" in write.output and "--allow-writes" in write.output
    allowed = runner.invoke(main, ["explain", "--sql", "DELETE FROM comments", "--dsn", demo_db, "--allow-writes"])
    assert allowed.exit_code == 0, allowed.output
    assert "ModifyTable" in allowed.output or "Delete" in allowed.output
    with psycopg.connect(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM comments").fetchone()[0] > 0  # rolled back
