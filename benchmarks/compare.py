"""How trustworthy is ``db.compare``? False alarms, detection, harness overhead, and the memory
``same_results`` needs for a million rows.

    python benchmarks/compare.py [--dsn DSN] [--repetitions 100] [--detect-repetitions 30]
                                 [--runs 30] [--warmup 3]

Against the demo database (default: the sandbox's). Printed:

- A/A false-alarm rate: ``--repetitions`` comparisons of a demo workload statement with itself
  at the default run count; a verdict other than "no detectable difference" is a false alarm
  (target <= 5 %). Done for two demo statements (a feed query and a join with counts).
- Detection rate for a real 1.3x and 2x difference: the demo's posts and comments read in full
  (every row's content hashed) against the same work over the 1.3x / 2x as many rows
  (generate_series multiplies the rows, no sleeps), ``--detect-repetitions`` comparisons each;
  the measured median ratio is printed next to the nominal one.
- The handbook's BAD → GOOD pairs on the demo data: the verdict at the default run count.
- Harness overhead per run (ms): compare()'s wall time per run minus the runs' own ms, for
  ``SELECT 1`` with and without the sampled EXPLAIN ANALYZE (every 5th run).
- same_results on 1,000,000 rows: seconds and peak Python memory (tracemalloc), streamed,
  against fetching both results into a Counter of rows (the naive way).
"""

from __future__ import annotations

import argparse
import collections
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

import dbworkbench as wb
import dbworkbench.timing  # noqa: F401  (imported before tracemalloc starts, so imports are not counted)

AA_STATEMENTS = {
    "feed (posts JOIN users, ORDER BY LIMIT)": (
        "SELECT p.id, p.title, p.slug, p.published_at, u.username FROM posts p JOIN users u ON u.id = p.user_id "
        "WHERE p.status = 'published' ORDER BY p.published_at DESC LIMIT 20"),
    "comment counts (correlated subquery)": (
        "SELECT p.id, p.title, (SELECT count(*) FROM comments c WHERE c.post_id = p.id) AS comment_count "
        "FROM posts p WHERE p.status = 'published' ORDER BY p.published_at DESC LIMIT 20"),
}
# every row's content hashed; k copies of the rows via generate_series (the same work, k times)
WORK = ("SELECT count(*), max(md5(p.content || c.content || k)) FROM generate_series(1, {k}) k, "
        "(SELECT content FROM posts ORDER BY id LIMIT {n}) p, (SELECT content FROM comments ORDER BY id LIMIT 5) c")
# the handbook's BAD → GOOD pairs on the demo data ({email}: one of the demo's e-mail addresses)
HANDBOOK = {
    "LOWER(email) = ... → email = ...": ("SELECT * FROM users WHERE LOWER(email) = LOWER('{email}')",
                                         "SELECT * FROM users WHERE email = '{email}'"),
    "comment count per post: correlated subquery → JOIN": (
        "SELECT p.id, (SELECT count(*) FROM comments c WHERE c.post_id = p.id) AS n FROM posts p",
        "SELECT p.id, count(c.id) AS n FROM posts p LEFT JOIN comments c ON c.post_id = p.id GROUP BY p.id"),
}
MILLION = "SELECT g, g % 7 AS m, md5(g::text) AS h FROM generate_series(1, 1000000) g"


def _rate(db: wb.Workbench, a: str, b: str, reps: int, runs: int, warmup: int,
          want: Callable[[str], bool]) -> tuple[float, float]:
    hits, ratios = 0, []
    for _ in range(reps):
        cmp = db.compare(a, b, runs=runs, warmup=warmup, progress=False, buffers_every=0, check_results=False)
        hits += want(cmp.verdict)
        ratios.append(cmp.ratio)
    return hits / reps, float(np.median(ratios))


def _overhead(db: wb.Workbench, runs: int, buffers_every: int) -> float:
    started = time.perf_counter()
    cmp = db.compare("SELECT 1", "SELECT 1", runs=runs, warmup=0, progress=False, buffers_every=buffers_every,
                     check_results=False)
    wall_ms = (time.perf_counter() - started) * 1000
    return (wall_ms - float(cmp.timings["ms"].sum())) / len(cmp.timings)


def _naive_peak(db: wb.Workbench) -> tuple[float, float]:
    tracemalloc.start()
    started = time.perf_counter()
    counts = [collections.Counter(db.conn.execute(MILLION).fetchall()) for _ in range(2)]
    same = counts[0] == counts[1]
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert same
    return seconds, peak


def _streamed_peak(db: wb.Workbench) -> tuple[float, float, bool]:
    tracemalloc.start()
    started = time.perf_counter()
    result = db.same_results(MILLION, MILLION.replace("generate_series(1, 1000000) g",
                                                      "generate_series(1, 1000000) g WHERE g <> 777"))
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, bool(result)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", default=None)
    ap.add_argument("--repetitions", type=int, default=100)
    ap.add_argument("--detect-repetitions", type=int, default=30)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args(argv)
    db = wb.connect(args.dsn)
    rows = db.conn.execute("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM comments)").fetchone()
    print(f"# {db!r}; demo posts {rows[0]:,}, comments {rows[1]:,}; runs={args.runs}, warmup={args.warmup}")
    print(f"{'measure':58} {'value':>10}  {'target / note'}")
    for name, query in AA_STATEMENTS.items():
        started = time.perf_counter()
        rate, ratio = _rate(db, query, query, args.repetitions, args.runs, args.warmup,
                            lambda v: v != "no detectable difference")
        print(f"{'A/A false alarms, ' + name:58} {rate:>9.1%}  <= 5 % ({args.repetitions} comparisons, "
              f"median ratio {ratio:.3f}, {time.perf_counter() - started:.0f} s)")
    n = min(int(rows[0]), 200)
    for factor, k_a, k_b in ((1.3, 10, 13), (2.0, 10, 20)):
        a, b = WORK.format(k=k_b, n=n), WORK.format(k=k_a, n=n)  # B does less: "faster" is the right verdict
        rate, ratio = _rate(db, a, b, args.detect_repetitions, args.runs, args.warmup, lambda v: v == "faster")
        print(f"{f'detection of a real {factor}x difference':58} {rate:>9.1%}  "
              f"({args.detect_repetitions} comparisons; measured median A/B {1 / ratio:.2f}x)")
    email = db.conn.execute("SELECT email FROM users WHERE email = lower(email) ORDER BY id LIMIT 1").fetchone()[0]
    for name, (bad, good) in HANDBOOK.items():
        cmp = db.compare(bad.format(email=email), good.format(email=email), runs=args.runs, warmup=args.warmup,
                         progress=False)
        same = "same rows" if cmp.checked_results else "DIFFERENT ROWS"
        print(f"{'handbook (A/B speed-up): ' + name:58} {1 / cmp.ratio:>9.2f}x  {cmp.verdict}, {same} "
              f"(B/A interval {cmp.ratio_ci[0]:.2f}-{cmp.ratio_ci[1]:.2f}, p = {cmp.p_value:.2g})")
    for every in (0, 5):
        label = "harness overhead per run, ms" + (" (EXPLAIN ANALYZE every 5th run)" if every else "")
        print(f"{label:58} {_overhead(db, 200, every):>10.3f}")
    seconds, peak, same = _streamed_peak(db)
    print(f"{'same_results, 1,000,000 rows each, streamed: peak MiB':58} {peak:>10.2f}  "
          f"({seconds:.1f} s; one row differs, found: {not same})")
    seconds, peak = _naive_peak(db)
    print(f"{'  for comparison: both fetched into a Counter: peak MiB':58} {peak:>10.2f}  ({seconds:.1f} s)")
    db.close()


if __name__ == "__main__":
    main()
