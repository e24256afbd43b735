"""The backbone's acceptance check: the small demo, `workload run --iterations 200`, then
every collector, on the sandbox (PostgreSQL 18) and on PostgreSQL 15 when installed.

    python benchmarks/collectors_small.py [--scale small] [--iterations 200]

Prints one row per server and collector: rows returned, whether the required columns
come first with their documented dtypes, and the time taken.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

import dbworkbench as wb
from dbworkbench import collectors
from dbworkbench.datasets import load_demo, run_workload

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fix_db import Server, _pg15_missing, _start_pg15  # noqa: E402

SCHEMAS = collectors.COLLECTOR_COLUMNS


def check(server: Server, scale: str, iterations: int) -> list[tuple[str, str, int, bool, float]]:
    conninfo = server.create_database("bench_small")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        load_demo(conn, scale, progress=False)
        conn.execute("SELECT pg_stat_statements_reset()")
        run_workload(conn, iterations=iterations, seed=0, progress=False)
    rows = []
    with wb.connect(conninfo) as db:
        for name, schema in SCHEMAS.items():
            start = time.perf_counter()
            frame = getattr(db, name)()
            ms = (time.perf_counter() - start) * 1000
            ok = list(frame.columns[: len(schema)]) == list(schema) and all(
                str(frame[c].dtype) == t for c, t in schema.items()
            )
            rows.append((server.name, name, len(frame), ok, ms))
    server.drop_database("bench_small")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "medium"])
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()

    st = wb.Sandbox().start().status()
    servers = [Server("pg18", str(st.socket_dir), st.port or 5432)]
    tmp = None
    if _pg15_missing() is None:
        tmp = Path(tempfile.mkdtemp(prefix="dwb15b-", dir="/tmp"))
        tmp.chmod(0o755)
        servers.append(_start_pg15(tmp))
    else:
        print(f"PostgreSQL 15 skipped: {_pg15_missing()}")
    results = []
    try:
        for server in servers:
            results += check(server, args.scale, args.iterations)
    finally:
        if tmp is not None:
            import subprocess

            subprocess.run(["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                            str(tmp / "data"), "-m", "fast", "-w", "stop"], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{args.scale} demo, workload of {args.iterations} iterations")
    print(f"{'server':<8}{'collector':<14}{'rows':>8}  {'columns+dtypes':<16}{'ms':>8}")
    for server_name, name, n, ok, ms in results:
        print(f"{server_name:<8}{name:<14}{n:>8}  {'ok' if ok else 'MISMATCH':<16}{ms:>8.1f}")


if __name__ == "__main__":
    main()
