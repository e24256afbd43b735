"""`dbworkbench compare A.sql B.sql`: the summary, the verdict, the result check, clean refusals."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dbworkbench.cli import main

SLOW = "SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY md5(g::text)) s;\n"
FAST = "SELECT count(*) FROM generate_series(1, 100000) g"


def _files(tmp_path: Path, a: str, b: str) -> list[str]:
    (tmp_path / "a.sql").write_text(a)
    (tmp_path / "b.sql").write_text(b)
    return [str(tmp_path / "a.sql"), str(tmp_path / "b.sql")]


def test_text_output(demo_db, tmp_path) -> None:
    result = CliRunner().invoke(main, ["compare", *_files(tmp_path, SLOW, FAST), "--dsn", demo_db, "--runs", "5",
                                       "--warmup", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["variant", "runs", "median_ms"] and lines[1].split()[:2] == ["A", "5"]
    assert "same results" in result.output and ("faster" in result.output or "no detectable" in result.output)


def test_json_output_and_a_wrong_rewrite_from_stdin(demo_db, tmp_path) -> None:
    (tmp_path / "a.sql").write_text("SELECT id, parent_id FROM comments")
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "a.sql"), "-", "--dsn", demo_db, "--runs", "3",
                                       "--warmup", "0", "--format", "json"],
                                input="SELECT id, parent_id FROM comments WHERE parent_id IS NOT NULL")
    assert result.exit_code == 3, result.output
    out = json.loads(result.stdout)
    assert out["verdict"] == "different results" and out["verdict_text"].startswith("WRONG REWRITE")
    assert out["same_results"]["same"] is False and out["same_results"]["rows_a"] > out["same_results"]["rows_b"]
    assert all(r["side"] == "A" and r["parent_id"] is None for r in out["same_results"]["first_differences"])
    assert [r["variant"] for r in out["summary"]] == ["A", "B"]


def test_refusals_name_the_flags(demo_db, tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["compare", *_files(tmp_path, "UPDATE posts SET view_count = 0", FAST), "--dsn", demo_db])
    assert result.exit_code == 1 and "--allow-writes" in result.output and "allow_writes=True" not in result.output
    result = runner.invoke(main, ["compare", *_files(tmp_path, "SELECT * FROM posts WHERE id = $1", FAST),
                                  "--dsn", demo_db])
    assert result.exit_code == 1 and "write the values into A.sql and B.sql" in result.output
    result = runner.invoke(main, ["compare", *_files(tmp_path, FAST, FAST), "--dsn", demo_db, "--runs", "0"])
    assert result.exit_code == 2 and "--runs" in result.output
