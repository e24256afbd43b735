"""Write a real auto_explain log: the demo workload on a sandbox of its own, every plan logged.

Used by ``tests/plans/test_log.py`` and ``benchmarks/plans.py``. The sandbox (an
embedded PostgreSQL 18 under ``home``) is this module's own, so its server-wide
``log_line_prefix`` may change: each segment of the run logs with another prefix
and alternates ``auto_explain.log_format`` between text and json, with ANALYZE,
BUFFERS and the query parameters on.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from psycopg import sql

from dbworkbench import Sandbox
from dbworkbench.datasets import demo_is_loaded, load_demo, run_workload

# (log_line_prefix, auto_explain.log_format)
SEGMENTS: tuple[tuple[str, str], ...] = (
    ("%m [%p] ", "text"),
    ("%m [%p] ", "json"),
    ("%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ", "text"),
    ("%n %c %x ", "json"),
    ("", "text"),
    ("%m %q[%p] %u@%d %e ", "json"),
)


def write_demo_log(home: Path, iterations: int = 60, *, seed: int = 0) -> str:
    """Run ``iterations`` workload picks per segment with every plan logged; return what the log gained."""
    sb = Sandbox(home).start()
    log = sb.pgdata / "autolog" / "postgresql.log"
    if not log.exists():  # the server's stderr goes nowhere after the sandbox's restart: use the collector
        with psycopg.connect(sb.conninfo(), autocommit=True) as admin:
            for name, value in (("logging_collector", "on"), ("log_directory", "autolog"),
                                ("log_filename", "postgresql.log"), ("log_file_mode", "0644")):
                admin.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        sb.stop()
        sb.start()
        for _ in range(50):
            if log.exists():
                break
            time.sleep(0.1)
    with psycopg.connect(sb.conninfo(), autocommit=True) as admin:
        if not demo_is_loaded(admin):
            load_demo(admin, "tiny", progress=False)
        start = log.stat().st_size
        try:
            for k, (prefix, fmt) in enumerate(SEGMENTS):
                admin.execute(sql.SQL("ALTER SYSTEM SET log_line_prefix = {}").format(sql.Literal(prefix)))
                admin.execute("SELECT pg_reload_conf()")
                time.sleep(0.3)  # the postmaster rereads the file after the signal
                with psycopg.connect(sb.conninfo(), autocommit=True) as conn:
                    for name, value in (("auto_explain.log_min_duration", "0"), ("auto_explain.log_analyze", "on"),
                                        ("auto_explain.log_buffers", "on"), ("auto_explain.log_format", fmt)):
                        conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(*name.split(".")), sql.Literal(value)))
                    run_workload(conn, iterations=iterations, seed=seed + k, progress=False)
        finally:
            admin.execute("ALTER SYSTEM RESET log_line_prefix")
            admin.execute("SELECT pg_reload_conf()")
    time.sleep(0.2)
    with open(log, encoding="utf-8", errors="replace") as fh:
        fh.seek(start)
        return fh.read()
