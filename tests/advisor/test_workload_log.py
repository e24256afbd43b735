"""The advisor's workload from an auto_explain log: the demo workload logged by a sandbox of its own."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

import dbworkbench as wb
from dbworkbench.advisor.workload import WORKLOAD_COLUMNS, from_log
from dbworkbench.cli import main
from dbworkbench.plans import PlanLog, read_auto_explain

from ..plans.demo_log import write_demo_log
from .test_advise import _db


@pytest.fixture(scope="module")
def log_file() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="dwbwl-", dir="/tmp"))
    try:
        path = home / "postgresql.log"
        path.write_text(write_demo_log(home, iterations=40, seed=3))
        yield path
    finally:
        wb.Sandbox(home).stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def log(log_file: Path) -> PlanLog:
    return read_auto_explain(log_file)


@pytest.fixture(scope="module")
def target(demo_db: str, server) -> str:
    if server.name == "pg15":
        with psycopg.connect(demo_db, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    return demo_db


def test_each_logged_query_is_one_statement_with_its_entries_as_calls(log: PlanLog) -> None:
    work = from_log(log, top=1000, min_calls=1)
    assert list(work.columns) == list(WORKLOAD_COLUMNS)
    assert dict(work.dtypes.astype(str)) == WORKLOAD_COLUMNS
    assert set(work["source"]) == {"auto_explain"}
    logged = log.plans.dropna(subset=["query"])
    counts = logged.groupby("query").size()
    for row in work.itertuples():
        assert row.calls == counts[row.query]
        assert row.total_ms == pytest.approx(logged.loc[logged["query"] == row.query, "duration_ms"].sum())
    # every read and write the log holds is there (other statements, such as SET, are not advised on)
    assert set(work["query"]) <= set(counts.index)
    assert {"read", "write"} <= set(work["kind"])
    assert work["total_ms"].is_monotonic_decreasing


def test_advice_for_a_logged_workload(log: PlanLog, target: str, server) -> None:
    with _db(target, server) as db:
        advice = db.advise(200, workload=log, min_calls=1, allow_real_indexes=server.name == "pg18", progress=False)
    assert set(advice.workload["source"]) == {"auto_explain"}
    assert "lower(email)" in "\n".join(advice.selected["index_sql"]).lower()
    assert 0 < advice.relative_cost < 1


def test_cli_advise_reads_a_log(log_file: Path, target: str, server) -> None:
    run = CliRunner().invoke(main, ["advise", "--dsn", target, "--budget-mb", "200", "--min-calls", "1",
                                    "--log", str(log_file), "--format", "json"])
    if server.name == "pg18":  # not the sandbox and no HypoPG: a clear refusal that says what to do
        assert run.exit_code == 1 and "CREATE EXTENSION hypopg" in run.output and "Traceback" not in run.output
    else:
        assert run.exit_code == 0, run.output
        assert "lower(email)" in run.output.lower()
