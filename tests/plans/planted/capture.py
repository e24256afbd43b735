"""Capture the planted plans in this folder from a private sandbox (and PostgreSQL 15 for JIT).

Each case plants one problem in the demo database (scale "small": 20,000 users, 100,000
posts, 300,000 comments) and saves ``EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL,
SERIALIZE, MEMORY, FORMAT JSON)`` as ``<name>.json``: ``<code>.json`` for a planted problem
whose top insight must be that code, ``healthy-<what>.json`` for plans that must get no
warning. The statement is added to each file as "Query Text" (as auto_explain writes it).

    .venv/bin/python tests/plans/planted/capture.py            # every case
    .venv/bin/python tests/plans/planted/capture.py sort-spill # some cases
    .venv/bin/python tests/plans/planted/capture.py --keep     # leave the servers running

The read-heavy case restarts the sandbox and drops the comments table's files from the OS
page cache (``posix_fadvise(DONTNEED)`` on those files only) to read it cold.

The servers live in ``--home`` (default ``/tmp/dwb-planted``), never in the user's own
sandbox; they are stopped and the folder removed at the end unless ``--keep``. The JIT
case needs a PostgreSQL built with LLVM: the embedded PostgreSQL 18 has none, so it runs
on the machine's PostgreSQL 15 (``/usr/lib/postgresql/15/bin``), and is skipped, with a
message, where that is missing. Timings differ from run to run; the script prints each
plan's top insight so a capture where another finding came out on top can be redone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
PG15_BIN = Path(os.environ.get("DBWORKBENCH_PG15_BIN", "/usr/lib/postgresql/15/bin"))
PG15_PORT = 5416
DATABASE = "planted"

# Fixed ids from the demo data (its rows are the same on every load of a scale).
PROLIFIC_USER = "72e03d91-5b28-f499-969a-9a345cac131a"  # 6,289 posts
POPULAR_POST = "beb4b3b9-5b8f-e65d-1fba-f901b4f0b27d"  # 16,985 comments
QUIET_USER = "0001d845-27bb-f22c-1a6d-a96b55c6bc08"  # 11 comments, no posts
TYPICAL_USER = "00325573-b095-fb8a-7405-d7d1f94a368c"  # 5 posts
NO_PARALLEL = "SET max_parallel_workers_per_gather = 0"


@dataclass
class Case:
    name: str
    sql: str
    sets: list[str] = field(default_factory=list)
    before: list[str] = field(default_factory=list)  # committed before the EXPLAIN
    after: list[str] = field(default_factory=list)  # committed after it
    server: str = "pg18"
    cold: list[str] = field(default_factory=list)  # tables to read cold: restart, evict from the OS cache
    sql_from: Callable[[psycopg.Connection[Any]], str] | None = None  # the statement, from the data


def _trigger_victim(conn: psycopg.Connection[Any]) -> str:
    """DELETE of a user with two comments and no posts: the cascade to comments.user_id
    (no index) is a sequential scan of comments inside the foreign key's trigger."""
    row = conn.execute(
        "SELECT u.id FROM users u WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.user_id = u.id) "
        "AND (SELECT count(*) FROM comments c WHERE c.user_id = u.id) = 2 ORDER BY u.id LIMIT 1"
    ).fetchone()
    assert row is not None
    return f"DELETE FROM users WHERE id = '{row[0]}'"


CASES: list[Case] = [
    # ---------------------------------------------------------------- healthy plans
    Case("healthy-pk-lookup", f"SELECT id, username, email FROM users WHERE id = '{TYPICAL_USER}'"),
    Case(
        "healthy-latest-comments",
        f"SELECT id, content, created_at FROM comments WHERE post_id = '{POPULAR_POST}' "
        "ORDER BY created_at DESC LIMIT 20",
    ),
    Case(
        "healthy-user-posts",
        "SELECT p.id, p.title, count(c.id) AS comments FROM posts p LEFT JOIN comments c ON c.post_id = p.id "
        f"WHERE p.user_id = '{TYPICAL_USER}' GROUP BY p.id ORDER BY p.id",
    ),
    Case("healthy-status-counts", "SELECT status, count(*) FROM posts GROUP BY status"),
    Case(
        "healthy-post-page",
        "SELECT p.title, p.content, u.username, (SELECT count(*) FROM comments c WHERE c.post_id = p.id) AS comments "
        "FROM posts p JOIN users u ON u.id = p.user_id WHERE p.slug = (SELECT slug FROM posts ORDER BY id LIMIT 1)",
    ),
    # ---------------------------------------------------------------- planted problems
    Case("seq-scan-selective", f"SELECT * FROM comments WHERE user_id = '{QUIET_USER}'"),
    Case(
        "index-filter-inefficient",
        f"SELECT id, title FROM posts WHERE user_id = '{PROLIFIC_USER}' AND view_count > 5000",
    ),
    Case(
        "sort-spill",
        "SELECT id, title, created_at FROM posts ORDER BY created_at DESC, title",
        ["SET work_mem = '1MB'", NO_PARALLEL],
    ),
    Case(
        "hash-spill",
        "SELECT p.title, c.created_at FROM comments c JOIN posts p ON p.id = c.post_id WHERE c.created_at > '2024-06-01'",
        ["SET work_mem = '1MB'", NO_PARALLEL, "SET enable_mergejoin = off", "SET enable_nestloop = off"],
    ),
    Case(
        "lossy-bitmap",
        "SELECT id, title FROM posts WHERE status = 'archived'",
        ["SET work_mem = '64kB'", NO_PARALLEL, "SET enable_seqscan = off", "SET enable_indexscan = off",
         "SET enable_indexonlyscan = off"],
    ),
    Case(
        "temp-io",
        "SELECT user_id, count(*) FROM comments GROUP BY user_id",
        ["SET work_mem = '256kB'", NO_PARALLEL, "SET enable_sort = off"],
    ),
    # (not a bare count(*): count-whole-table would come first)
    Case("workers-not-launched", "SELECT count(*) FROM comments WHERE NOT is_deleted", ["SET max_parallel_workers = 0"]),
    Case(
        "cte-scan-filter",
        "WITH recent AS MATERIALIZED (SELECT id, title, user_id FROM posts) "
        f"SELECT * FROM recent WHERE user_id = '{QUIET_USER}'",
        ["SET work_mem = '32MB'"],
    ),
    Case(
        "loop-amplification",
        "SELECT p.id, (SELECT max(c.created_at) FROM comments c WHERE c.post_id = p.id) AS last_comment "
        "FROM posts p WHERE p.status = 'published'",
    ),
    Case(
        "rows-discarded",
        "SELECT u.username, count(*) AS comments_in_first_hour FROM users u "
        "JOIN comments c ON c.created_at BETWEEN u.created_at AND u.created_at + interval '1 hour' "
        "WHERE u.created_at >= '2025-05-31' GROUP BY u.username",
        # the planted problem: no usable index on comments.created_at
        ["SET enable_indexscan = off", "SET enable_indexonlyscan = off", "SET enable_bitmapscan = off",
         NO_PARALLEL, "SET work_mem = '32MB'"],
    ),
    Case(
        "planning-time",
        # a comment thread page: 13 relations, join order searched exhaustively
        "SELECT u.username, p.title, c.content, cu.username AS commenter, parent.content AS replied_to, "
        "pu.username AS replied_to_user, pp.title AS parent_post, ppu.username AS parent_post_author, "
        "cp.slug, cpu.email, gp.content AS thread_start, gpu.username AS thread_author, gpp.title AS thread_post "
        "FROM users u JOIN posts p ON p.user_id = u.id JOIN comments c ON c.post_id = p.id "
        "JOIN users cu ON cu.id = c.user_id JOIN comments parent ON parent.id = c.parent_id "
        "JOIN users pu ON pu.id = parent.user_id JOIN posts pp ON pp.id = parent.post_id "
        "JOIN users ppu ON ppu.id = pp.user_id JOIN posts cp ON cp.id = c.post_id "
        "JOIN users cpu ON cpu.id = cp.user_id LEFT JOIN comments gp ON gp.id = parent.parent_id "
        "LEFT JOIN users gpu ON gpu.id = gp.user_id LEFT JOIN posts gpp ON gpp.id = gp.post_id "
        f"WHERE u.id = '{QUIET_USER}'",
        ["SET join_collapse_limit = 16", "SET from_collapse_limit = 16", "SET geqo_threshold = 16"],
    ),
    Case("slow-trigger", "", sql_from=_trigger_victim),
    Case(
        "misestimate",
        "SELECT s.id, count(c.id) AS comments FROM posts_staging s JOIN comments c ON c.post_id = s.id "
        "WHERE s.status = 'published' GROUP BY s.id",
        # a freshly loaded table nobody analyzed: the planner guesses 0.5% for status = 'published'
        before=[
            "DROP TABLE IF EXISTS posts_staging",
            "CREATE TABLE posts_staging (LIKE posts INCLUDING DEFAULTS) WITH (autovacuum_enabled = false)",
            "INSERT INTO posts_staging SELECT * FROM posts",
        ],
        after=["DROP TABLE posts_staging"],
    ),
    Case(
        "heap-fetches",
        "SELECT count(*) FROM users WHERE created_at >= '2023-01-01'",
        # a burst of logins updated most users; autovacuum has not run since
        before=[
            "ALTER TABLE users SET (autovacuum_enabled = false)",
            "UPDATE users SET last_login_at = now() - interval '1 day' WHERE role = 'user'",
        ],
        after=["VACUUM (ANALYZE) users", "ALTER TABLE users RESET (autovacuum_enabled)"],
    ),
    Case("read-heavy", "SELECT sum(length(content)) FROM comments", [NO_PARALLEL], cold=["comments"]),
    Case(  # the workload's feed_deep_offset, page 2,000
        "offset-pagination",
        "SELECT p.id, p.title, p.slug, p.published_at FROM posts p WHERE p.status = 'published' "
        "ORDER BY p.published_at DESC LIMIT 20 OFFSET 40000",
    ),
    Case(  # the workload's new_users_without_posts, since a fixed time
        "not-in-subquery",
        "SELECT u.id, u.username, u.created_at FROM users u WHERE u.created_at > '2024-06-01' AND u.id NOT IN "
        "(SELECT p.user_id FROM posts p WHERE p.created_at > '2024-06-01') ORDER BY u.created_at DESC LIMIT 50",
        [NO_PARALLEL, "SET work_mem = '64kB'"],
    ),
    Case(  # the workload's top_posts_by_views: no index on view_count
        "top-n-sort",
        "SELECT id, title, slug, view_count FROM posts WHERE status = 'published' ORDER BY view_count DESC LIMIT 10",
        [NO_PARALLEL],
    ),
    Case("count-whole-table", "SELECT count(*) FROM comments"),  # the workload's count_comments
    Case(
        "jit-overhead",
        "SELECT role, count(*), max(last_login_at) FROM users GROUP BY role",
        ["SET jit = on", "SET jit_above_cost = 0", "SET jit_inline_above_cost = 0", "SET jit_optimize_above_cost = 0"],
        server="pg15",
    ),
]


# --------------------------------------------------------------------------- servers


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start_pg15(home: Path) -> str | None:
    """A PostgreSQL 15 cluster in ``home/pg15`` (socket there, port 5416); its conninfo, or None."""
    if not (PG15_BIN / "postgres").exists():
        print(f"PostgreSQL 15 not found in {PG15_BIN}: the jit-overhead case is skipped")
        return None
    root = home / "pg15"
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
        shutil.chown(root, "postgres", "postgres")

    def run(*cmd: str) -> None:
        subprocess.run([*_as_postgres(), *cmd], check=True, capture_output=True, text=True)

    if not data.exists():
        run(str(PG15_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "--encoding=utf8")
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nlisten_addresses = ''\nunix_socket_directories = '{root}'\nport = {PG15_PORT}\n"
                "track_io_timing = on\nshared_buffers = 512MB\n"
            )
    run(str(PG15_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60", "start")
    return psycopg.conninfo.make_conninfo(host=str(root), port=str(PG15_PORT), user="postgres", dbname="postgres")


def stop_pg15(home: Path) -> None:
    data = home / "pg15" / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run([*_as_postgres(), str(PG15_BIN / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"],
                       check=False, capture_output=True)


def fresh_demo(admin_conninfo: str) -> str:
    """A new database ``planted`` with the small demo loaded; its conninfo."""
    from dbworkbench.datasets import load_demo

    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    params = psycopg.conninfo.conninfo_to_dict(admin_conninfo)
    params["dbname"] = DATABASE
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        load_demo(conn, "small", progress=False)
    return conninfo


# --------------------------------------------------------------------------- capture


def _relation_files(conn: psycopg.Connection[Any], tables: list[str]) -> list[Path]:
    """The data files of ``tables`` and of their TOAST tables (every segment and fork)."""
    row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    files: list[Path] = []
    for table in tables:
        for (rel,) in conn.execute(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = %s::regclass "
            "OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = %s::regclass)",
            [table, table],
        ):
            base = Path(row[0]) / rel
            files += sorted(base.parent.glob(base.name + "*"))
    return files


def evict(files: list[Path]) -> None:
    """Drop the files' pages from the OS page cache (they are clean after a shutdown), so the
    next read goes to the disk: a cold cache for these tables only, nothing else disturbed."""
    for f in files:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def capture(case: Case, conninfo: str, restart: Callable[[list[Path]], None] | None = None) -> Path:
    import dbworkbench as wb

    with psycopg.connect(conninfo, autocommit=True) as conn:
        for stmt in case.before:
            conn.execute(stmt)  # type: ignore[arg-type]  # our own fixed SQL
        sql = case.sql_from(conn) if case.sql_from else case.sql
        files = _relation_files(conn, case.cold) if case.cold else []
    if case.cold and restart is not None:
        restart(files)
    db = wb.connect(conninfo, allow_writes=True, statement_timeout_ms=120_000)
    try:
        for stmt in case.sets:
            db.conn.execute(stmt)  # type: ignore[arg-type]
        if not case.cold:
            db.explain(sql)  # warm the cache; the second run is the one kept
        plan = db.explain(sql)
    finally:
        db.close()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for stmt in case.after:
            conn.execute(stmt)  # type: ignore[arg-type]
    top = json.loads(plan.to_json())[0]
    top = {"Query Text": sql, **top}
    path = HERE / f"{case.name}.json"
    path.write_text(json.dumps([top], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def report(path: Path, expected: str | None) -> bool:
    from dbworkbench.plans import parse_plan

    plan = parse_plan(path.read_text(encoding="utf-8"))
    found = plan.insights()
    top = found.iloc[0] if len(found) else None
    if expected is None:
        bad = found[found["severity"] != "info"]
        ok = bad.empty
        what = "no warning" if ok else f"UNEXPECTED {bad['code'].tolist()}"
    else:
        ok = top is not None and top["code"] == expected
        what = f"top {top['code'] if top is not None else None} ({top['severity'] if top is not None else '-'})"
    size = path.stat().st_size // 1024
    print(f"  {'ok ' if ok else 'BAD'} {path.name:32} {plan.execution_ms or 0:9.1f} ms  {size:4d} kB  {what}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="cases to capture (default: all)")
    ap.add_argument("--home", default="/tmp/dwb-planted", help="folder for the private servers")
    ap.add_argument("--keep", action="store_true", help="leave the servers and their folder")
    args = ap.parse_args(argv)
    unknown = set(args.names) - {c.name for c in CASES}
    if unknown:
        ap.error(f"unknown cases: {', '.join(sorted(unknown))}")
    cases = [c for c in CASES if not args.names or c.name in args.names]
    home = Path(args.home).resolve()
    os.environ["DBWORKBENCH_HOME"] = str(home)  # never the user's own sandbox
    import dbworkbench as wb

    ok = True
    sandbox = wb.Sandbox(home)
    try:
        if any(c.server == "pg18" for c in cases):
            started = time.perf_counter()
            sandbox.start()
            conninfo = fresh_demo(sandbox.conninfo("postgres"))
            print(f"PostgreSQL 18 sandbox in {home}, demo loaded in {time.perf_counter() - started:.0f} s")

            def restart(files: list[Path]) -> None:
                sandbox.stop()
                evict(files)
                sandbox.start()

            for case in (c for c in cases if c.server == "pg18"):
                ok &= report(capture(case, conninfo, restart), None if case.name.startswith("healthy") else case.name)
        if any(c.server == "pg15" for c in cases):
            admin = start_pg15(home)
            if admin is not None:
                conninfo = fresh_demo(admin)
                print("PostgreSQL 15 (JIT) started")
                for case in (c for c in cases if c.server == "pg15"):
                    ok &= report(capture(case, conninfo), case.name)
    finally:
        if not args.keep:
            if sandbox.status().running:
                sandbox.stop()
            stop_pg15(home)
            shutil.rmtree(home, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[2]))  # the project, when run as a script
    sys.exit(main())
