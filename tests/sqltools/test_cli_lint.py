"""`dbworkbench lint FILE|-`: offline by default, the catalog with --dsn, exit status 2 on warnings."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dbworkbench.cli import main

BAD = "SELECT *\nFROM users WHERE lower(email) = lower($1);\n"
OR = "SELECT id FROM users WHERE username = $1 OR email = $2"


def test_file_with_findings_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "q.sql"
    path.write_text(BAD + "SELECT u.id FROM users u WHERE (SELECT count(*) FROM posts p WHERE p.user_id = u.id) > 0;\n")
    result = CliRunner().invoke(main, ["lint", str(path)], env={"DBWORKBENCH_DSN": None})
    assert result.exit_code == 2, result.output
    assert "WARNING  select-star  line 1, column 8" in result.output
    assert "WARNING  function-on-indexed-column  line 2, column 18" in result.output
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_lower_email" in result.output
    assert "rewrite:" in result.output and "EXISTS(" in result.output
    assert "0 error, 3 warning, 0 info" in result.stderr


def test_clean_sql_from_stdin_exits_0() -> None:
    result = CliRunner().invoke(main, ["lint", "-"], input="SELECT id FROM users WHERE id = $1", env={"DBWORKBENCH_DSN": None})
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_fail_on_and_parse_errors() -> None:
    runner = CliRunner()
    info_only = runner.invoke(main, ["lint", "-"], input=OR, env={"DBWORKBENCH_DSN": None})
    assert info_only.exit_code == 0 and "INFO     or-across-columns" in info_only.output
    assert runner.invoke(main, ["lint", "--fail-on", "info", "-"], input=OR, env={"DBWORKBENCH_DSN": None}).exit_code == 2
    broken = runner.invoke(main, ["lint", "-"], input="SELECT FROM WHERE (", env={"DBWORKBENCH_DSN": None})
    assert broken.exit_code == 2 and "ERROR    parse-error  line 1, column 13" in broken.output
    never = runner.invoke(main, ["lint", "--fail-on", "never", "-"], input=BAD, env={"DBWORKBENCH_DSN": None})
    assert never.exit_code == 0


def test_json_with_the_catalog(demo_db: str) -> None:
    """--dsn reads the catalog: every OR'd column is indexed there, so the info finding goes away."""
    runner = CliRunner()
    offline = json.loads(runner.invoke(main, ["lint", "--format", "json", "-"], input=OR).stdout)
    assert [r["code"] for r in offline] == ["or-across-columns"]
    result = runner.invoke(main, ["lint", "--dsn", demo_db, "--format", "json", "-"], input=OR + ";\n" + BAD)
    records = json.loads(result.stdout)
    assert [r["code"] for r in records] == ["select-star", "function-on-indexed-column"], result.output
    assert set(records[0]) == {"code", "severity", "message", "start", "end", "suggestion", "rewrite"}
    assert "id, email, username" in records[0]["suggestion"]  # the catalog's columns
    assert result.exit_code == 2
