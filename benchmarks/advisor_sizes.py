"""Index size estimates against real builds, on the demo database; prints a table.

    python benchmarks/advisor_sizes.py                  # the sandbox (PostgreSQL 18), demo at small scale
    python benchmarks/advisor_sizes.py --scale tiny
    python benchmarks/advisor_sizes.py --dsn postgresql://postgres@/postgres?host=/tmp --port 5415

The demo is loaded into a new database ``dwb_bench_sizes`` (dropped afterwards). Each candidate
is estimated with ``WhatIf.estimated_size`` (pg_stats and the planner's row and distinct-key
estimates) and built for real with ``WhatIf.real_size`` (rollback backend: built inside a
transaction that is rolled back). With ``--dsn`` (a superuser on a server where HypoPG is
available) HypoPG's own estimate (``hypopg_relation_size``) is printed beside ours.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

import psycopg
from psycopg import sql

import dbworkbench as wb
from dbworkbench.advisor import IndexDef
from dbworkbench.advisor._whatif_backends import HypoBackend
from dbworkbench.advisor.whatif import WhatIf
from dbworkbench.datasets import SCALES, load_demo
from dbworkbench.target import resolve_target
from dbworkbench.workbench import Workbench

DATABASE = "dwb_bench_sizes"
CANDIDATES = [
    IndexDef("public", "users", ("lower(email)",)),
    IndexDef.on_columns("public", "users", ["username"]),
    IndexDef.on_columns("public", "users", ["created_at"]),
    IndexDef.on_columns("public", "users", ["role", "created_at"]),
    IndexDef.on_columns("public", "comments", ["user_id"]),
    IndexDef.on_columns("public", "comments", ["post_id", ("created_at", "DESC")]),
    IndexDef.on_columns("public", "posts", ["status"]),
    IndexDef.on_columns("public", "posts", ["user_id"], include=["title"]),
    IndexDef.on_columns("public", "posts", ["published_at"], where="status = 'published'"),
    IndexDef.on_columns("public", "posts", ["view_count"]),
    IndexDef.on_columns("public", "users", ["email"], method="hash"),
    IndexDef.on_columns("public", "comments", ["created_at"], method="brin"),
    IndexDef("public", "posts", ("to_tsvector('english', content)",), method="gin"),
]


def _fresh_database(admin_conninfo: str, scale: str) -> str:
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    conninfo = psycopg.conninfo.make_conninfo(admin_conninfo, dbname=DATABASE)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        load_demo(conn, scale, progress=True)
    return conninfo


def _drop_database(admin_conninfo: str) -> None:
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))


def measure(db: Workbench, hypopg_conninfo: str | None) -> list[dict[str, Any]]:
    """One row per candidate: estimated, real and (when given a HypoPG database) HypoPG's bytes."""
    rows = []
    hypo_conn = psycopg.connect(hypopg_conninfo, autocommit=True) if hypopg_conninfo else None
    hypo = HypoBackend(hypo_conn, "public") if hypo_conn else None
    try:
        with WhatIf(db, backend="rollback", allow_real_indexes=True) as w:
            for ix in CANDIDATES:
                started = time.perf_counter()
                est = w.estimated_size(ix)
                est_ms = (time.perf_counter() - started) * 1000
                real = w.real_size(ix)
                rows.append({"index": ix.name, "method": ix.method, "estimated": est, "real": real,
                             "ratio": est / real, "estimate_ms": est_ms,
                             "hypopg": hypo.size(ix) if hypo else None})
    finally:
        if hypo is not None:
            hypo.close()
        if hypo_conn is not None:
            hypo_conn.close()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a fixed-width text table, with the spread of the ratio per method."""
    hypo = any(r["hypopg"] is not None for r in rows)
    head = f"{'index':<42}{'method':<7}{'estimated':>11}{'real':>11}{'est/real':>9}{'ms':>6}"
    head += f"{'hypopg':>11}{'hypo/real':>10}" if hypo else ""
    lines = [head, "-" * len(head)]
    for r in rows:
        line = f"{r['index']:<42}{r['method']:<7}{r['estimated']:>11,}{r['real']:>11,}{r['ratio']:>9.2f}{r['estimate_ms']:>6.0f}"
        if hypo:
            line += (f"{r['hypopg']:>11,}{r['hypopg'] / r['real']:>10.2f}" if r["hypopg"] else f"{'n/a':>11}{'':>10}")
        lines.append(line)
    ratios = [r["ratio"] for r in rows]
    lines.append(f"est/real: min {min(ratios):.2f}, max {max(ratios):.2f}, "
                 f"within 2x: {sum(0.5 <= x <= 2 for x in ratios)}/{len(ratios)}")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, load the demo, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="a superuser connection to another server (default: the sandbox)")
    parser.add_argument("--scale", default="small", choices=list(SCALES))
    parser.add_argument("--keep", action="store_true", help=f"keep the {DATABASE} database")
    args = parser.parse_args()
    if args.dsn:
        admin = args.dsn
        conninfo = _fresh_database(admin, args.scale)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone()
            if available:
                conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        db = wb.connect(conninfo, allow_writes=True)
        hypopg = conninfo if available else None
    else:
        sandbox = wb.Sandbox().start()
        admin = sandbox.conninfo()
        conninfo = _fresh_database(admin, args.scale)
        target = resolve_target(sandbox)
        db = Workbench(dataclasses.replace(target, params={**target.params, "dbname": DATABASE}))
        hypopg = None
    try:
        with db:
            rows = measure(db, hypopg)
            print(f"\nindex sizes on the demo ({args.scale}), {db.server.version.split(' ')[0]}, "
                  f"{'sandbox' if db.target.is_sandbox else 'allow_writes'}")
        print(table(rows))
    finally:
        if not args.keep:
            _drop_database(admin)


if __name__ == "__main__":
    main()
