"""Every notebook, top to bottom under nbval, against PostgreSQL 15 (where the machine has it).

The suite's own nbval run (``notebooks/`` in testpaths) runs them against the sandbox; here
they run in a pytest of their own whose kernels find the PostgreSQL 15 demo database through
``DBWORKBENCH_DSN`` (the notebooks' ``dsn = None`` resolves to it). The database is a read-only
target for the workbench, as a user's server is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from dbworkbench.datasets import load_demo, run_workload

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def pg15_demo(pg15_server) -> str:
    conninfo = pg15_server.create_database("t_notebooks_pg15")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        load_demo(conn, "tiny", progress=False)
        for extension in ("pg_stat_statements", "hypopg"):
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        conn.execute("SELECT pg_stat_statements_reset()")
        run_workload(conn, iterations=300, seed=2, progress=False)
    yield conninfo
    pg15_server.drop_database("t_notebooks_pg15")


def test_every_notebook_runs_under_nbval_against_postgresql_15(pg15_demo: str) -> None:
    env = dict(os.environ, DBWORKBENCH_DSN=pg15_demo)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "--durations=0", "--tb=short",
         *map(str, NOTEBOOKS)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    print(run.stdout[-4000:])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout
