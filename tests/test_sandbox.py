"""The sandbox: idempotent, concurrent starts, stop/start, clear failures, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import dbworkbench as wb
from dbworkbench.cli import main


@pytest.fixture
def fresh_home():
    home = Path(tempfile.mkdtemp(prefix="dwbs-", dir="/tmp"))
    home.chmod(0o755)
    yield home
    sb = wb.Sandbox(home)
    if sb.status().running:
        sb.stop()
    subprocess.run(["rm", "-rf", str(home)], check=False)


def test_concurrent_starts_share_one_server(fresh_home) -> None:
    code = "import dbworkbench as wb; print(wb.Sandbox().start().status().pid)"
    env = {**os.environ, "DBWORKBENCH_HOME": str(fresh_home)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    pids = {o[0].strip().splitlines()[-1] for o in outs}
    assert len(pids) == 1
    sb = wb.Sandbox(fresh_home)
    assert str(sb.status().pid) in pids
    with __import__("psycopg").connect(sb.conninfo("postgres")) as conn:
        libs = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        assert [lib.strip() for lib in libs.split(",")] == ["pg_stat_statements", "auto_explain"]
        assert conn.execute("SHOW compute_query_id").fetchone()[0] == "on"
        assert conn.execute("SHOW track_io_timing").fetchone()[0] == "on"
        # the first start configures and restarts: the restarted server still writes its log where
        # the error messages and auto_explain look (it wrote to a closed pipe before)
        conn.execute("DO $$ BEGIN RAISE LOG 'dbworkbench log probe'; END $$")
    assert "dbworkbench log probe" in (sb.pgdata / "log").read_text(errors="replace")


def test_stop_then_start_again_in_one_process(fresh_home) -> None:
    sb = wb.Sandbox(fresh_home).start()
    first = sb.status().pid
    assert sb.stop() is True
    assert not sb.status().running and sb.stop() is False
    with pytest.raises(wb.SandboxError, match="not running"):
        sb.url()
    assert sb.start().status().running and sb.status().pid != first


def test_a_failed_start_shows_the_server_log(fresh_home) -> None:
    sb = wb.Sandbox(fresh_home).start()
    sb.stop()
    with open(sb.pgdata / "postgresql.auto.conf", "a") as conf:
        conf.write("\nshared_buffers = 'lots'\n")
    with pytest.raises(wb.SandboxError) as err:
        sb.start()
    assert "last lines of the server log" in str(err.value)
    assert "shared_buffers" in str(err.value)


def test_cli_sandbox_commands(sandbox) -> None:
    runner = CliRunner()
    url = runner.invoke(main, ["sandbox", "url"])
    assert url.exit_code == 0, url.output
    assert url.output.strip().splitlines()[-1] == sandbox.url()
    status = runner.invoke(main, ["sandbox", "status"])
    assert status.exit_code == 0 and status.output.startswith("running")
