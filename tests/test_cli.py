"""The command line: collectors, and the write guard for the workload."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dbworkbench.cli import main


def test_show_prints_a_collector(server, demo_db) -> None:
    result = CliRunner().invoke(main, ["show", "tables", "--dsn", demo_db, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {"users", "posts", "comments"} <= {r["table"] for r in rows}


def test_workload_refuses_a_server_that_is_not_the_sandbox(server, demo_db) -> None:
    result = CliRunner().invoke(main, ["workload", "run", "--iterations", "5", "--dsn", demo_db])
    assert result.exit_code == 1
    assert "--allow-writes" in result.output


def test_errors_are_clean_messages(server, empty_db) -> None:
    result = CliRunner().invoke(main, ["show", "statements", "--dsn", empty_db])
    assert result.exit_code == 1
    assert result.output.startswith("Error: pg_stat_statements is not installed")
    assert "Traceback" not in result.output
