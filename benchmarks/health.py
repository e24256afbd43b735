"""How long ``health()`` takes on a database of 1,000 tables and 3,000 indexes. Target: under 5 s.

    python benchmarks/health.py [--tables 1000] [--repeat 5]

Runs against the sandbox in a database of its own (``bench_health``), created from
scratch each time: every table has a primary key and two more indexes, a foreign key to
the table before it (unindexed: 999 findings), a few rows and planner statistics.
Prints the median, the spread, and the slowest checks.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
from psycopg import sql

import dbworkbench as wb

CREATE = """
DO $$
BEGIN
  FOR i IN 0..{n} - 1 LOOP
    EXECUTE format('CREATE TABLE bench_%s (id serial PRIMARY KEY, a int, b text, created_at timestamptz DEFAULT now(),
                    parent_id int %s)', i, CASE WHEN i > 0 THEN format('REFERENCES bench_%s', i - 1) ELSE '' END);
    EXECUTE format('CREATE INDEX bench_%s_a ON bench_%s (a)', i, i);
    EXECUTE format('CREATE INDEX bench_%s_b_a ON bench_%s (b, a)', i, i);
    EXECUTE format('INSERT INTO bench_%s (a, b) SELECT g, md5(g::text) FROM generate_series(1, 20) g', i);
  END LOOP;
END $$
"""


def prepare(sandbox: wb.Sandbox, n_tables: int) -> str:
    with psycopg.connect(sandbox.conninfo("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_health WITH (FORCE)")
        admin.execute("CREATE DATABASE bench_health")
    conninfo = sandbox.conninfo("bench_health")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 0")
        conn.execute(sql.SQL(CREATE).format(n=sql.Literal(n_tables)))
        conn.execute("ANALYZE")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM pg_stat_user_tables), (SELECT count(*) FROM pg_stat_user_indexes)"
        ).fetchone()
    print(f"bench_health: {counts[0]:,} tables, {counts[1]:,} indexes")  # type: ignore[index]
    return conninfo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    sandbox = wb.Sandbox().start()
    started = time.perf_counter()
    conninfo = prepare(sandbox, args.tables)
    print(f"prepared in {time.perf_counter() - started:.1f} s")

    db = wb.connect(conninfo)  # read-only, as against a real server
    db.health()  # warm up: connection, catalog caches
    times: list[float] = []
    per_check: dict[str, list[float]] = {}
    report = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = db.health()
        times.append(time.perf_counter() - start)
        for name, seconds in report.attrs["seconds"].items():
            per_check.setdefault(name, []).append(seconds)
    assert report is not None
    median = statistics.median(times)
    print(f"\nhealth() on {args.tables:,} tables: {len(report):,} rows, "
          f"{(report['status'] == 'fail').sum():,} fail, {(report['status'] == 'warn').sum():,} warn")
    print(f"{'what':<28}{'median s':>10}{'min s':>9}{'max s':>9}")
    print(f"{'health() total':<28}{median:>10.3f}{min(times):>9.3f}{max(times):>9.3f}")
    slowest = sorted(per_check.items(), key=lambda kv: -statistics.median(kv[1]))[:8]
    for name, values in slowest:
        print(f"  {name:<26}{statistics.median(values):>10.3f}{min(values):>9.3f}{max(values):>9.3f}")
    print(f"target: under 5 s -> {'met' if median < 5 else 'MISSED'}")
    db.close()


if __name__ == "__main__":
    main()
