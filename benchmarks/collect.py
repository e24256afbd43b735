"""How long ``statements()`` takes with 5,000 distinct statements in pg_stat_statements,
beside a plain psycopg fetch of the same view. Target: within 1.5x of the plain fetch.

    python benchmarks/collect.py [--statements 5000] [--repeat 25]

Runs against the sandbox in a database of its own (``bench_collect``), which it
creates from scratch each time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
from psycopg import sql
from tqdm import tqdm

import dbworkbench as wb

TABLES, COLUMNS = 100, 50  # 100 tables x 50 columns = 5,000 distinct SELECTs


def prepare(sandbox: wb.Sandbox, n_statements: int) -> str:
    with psycopg.connect(sandbox.conninfo("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_collect WITH (FORCE)")
        admin.execute("CREATE DATABASE bench_collect")
    conninfo = sandbox.conninfo("bench_collect")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        cols = sql.SQL(", ").join(sql.SQL("{} int").format(sql.Identifier(f"c{j}")) for j in range(COLUMNS))
        for i in range(TABLES):
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(f"t{i}"), cols))
        conn.execute("SELECT pg_stat_statements_reset()")
        pairs = [(i, j) for j in range(COLUMNS) for i in range(TABLES)][:n_statements]
        for i, j in tqdm(pairs, desc="distinct statements", unit="stmt"):
            conn.execute(
                sql.SQL("SELECT {c} FROM {t} WHERE {c} > 0").format(
                    c=sql.Identifier(f"c{j}"), t=sql.Identifier(f"t{i}")
                )
            )
    return conninfo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()

    sandbox = wb.Sandbox().start()
    conninfo = prepare(sandbox, args.statements)
    db = wb.connect(conninfo)
    plain_conn = psycopg.connect(conninfo, autocommit=True)

    def plain() -> int:
        return len(plain_conn.execute("SELECT * FROM pg_stat_statements").fetchall())

    def ours() -> int:
        return len(db.statements())

    rows = {"statements()": ours(), "plain fetch": plain()}  # warm both up
    times: dict[str, list[float]] = {"statements()": [], "plain fetch": []}
    for _ in tqdm(range(args.repeat), desc="timing", unit="round"):
        for name, fn in (("statements()", ours), ("plain fetch", plain)):  # interleaved
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)

    base = statistics.median(times["plain fetch"])
    print(f"\npg_stat_statements entries: {rows['plain fetch']} (statements() returns {rows['statements()']} "
          "of this database, without dbworkbench's own queries)")
    print(f"{'what':<16}{'median ms':>12}{'p10 ms':>10}{'p90 ms':>10}{'x plain':>10}")
    for name, values in times.items():
        q = statistics.quantiles(values, n=10)
        print(f"{name:<16}{statistics.median(values):>12.1f}{q[0]:>10.1f}{q[-1]:>10.1f}"
              f"{statistics.median(values) / base:>10.2f}")
    print("target: statements() within 1.5x of the plain fetch")
    db.close()
    plain_conn.close()


if __name__ == "__main__":
    main()
