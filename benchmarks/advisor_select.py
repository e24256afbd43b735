"""Index selection on random synthetic workloads: the greedy (with and without swaps) against the
exact optimum over the same candidates, at several budgets. No server.

    python benchmarks/advisor_select.py [--statements 20] [--candidates 60] [--tables 8]
                                        [--instances 10] [--seed 1] [--width 3] [--writes]

Each instance: ``--tables`` tables of log-normal sizes; ``--statements`` statements, each reading
1 to 4 tables (weighted to the big ones) with a log-normal base cost and call count;
``--candidates`` indexes, each on one table, of a size that grows with its table, helping some of
the statements that read it (reductions mostly modest, a few near 100 %). A statement's cost is
its base times, per table it reads, (1 - the best reduction among the chosen indexes on that
table): indexes on one table serve it once, indexes on different tables compound. ``--writes``
gives each index a write cost in proportion to its size. Budgets are fractions of the total size
of the candidates.

Printed per budget (mean over instances, worst in brackets): relative cost (workload cost with
the set ÷ without) of the greedy without swaps, the greedy, the optimum (``scipy.optimize.milp``,
configurations of up to ``--width`` indexes per statement), the greedy's gap in percentage
points, cost requests and seconds of each. A negative gap means a statement needed more than
``--width`` indexes at once, where the program is only an upper bound (try ``--width 4``).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from typing import Any

from dbworkbench.advisor._synthetic import TableCostModel
from dbworkbench.advisor.select import greedy, optimum

BUDGETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def _instance(rng: random.Random, n_statements: int, n_candidates: int, n_tables: int,
              writes: bool) -> tuple[TableCostModel, list[float], dict[int, float]]:
    rows = [math.exp(rng.gauss(13, 2)) for _ in range(n_tables)]  # ~ 450k rows, from thousands to tens of millions
    reads = [rng.choices(range(n_tables), weights=[math.log(r) for r in rows], k=rng.randint(1, 4))
             for _ in range(n_statements)]
    readers = {t: [s for s in range(n_statements) if t in reads[s]] for t in range(n_tables)}
    read_tables = [t for t in range(n_tables) if readers[t]]
    table = [rng.choice(read_tables) for _ in range(n_candidates)]
    sizes = [int(rows[t] * rng.choice((16, 24, 32, 48)) * rng.uniform(0.8, 1.3)) for t in table]
    reduction = {}
    for i, t in enumerate(table):
        served = [s for s in readers[t] if rng.random() < 0.5] or [rng.choice(readers[t])]
        for s in served:
            reduction[s, i] = min(0.999, rng.betavariate(0.6, 1.2))
    base = [math.exp(rng.gauss(9, 2)) for _ in range(n_statements)]
    weights = [float(int(math.exp(rng.gauss(4, 2))) + 1) for _ in range(n_statements)]
    write = {i: sizes[i] * rng.uniform(0, 2e-6) * statistics.fmean(base) for i in range(n_candidates)} if writes else {}
    return TableCostModel(base, table, sizes, reduction), weights, write


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=20)
    parser.add_argument("--candidates", type=int, default=60)
    parser.add_argument("--tables", type=int, default=8)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--width", type=int, default=3)
    parser.add_argument("--writes", action="store_true")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    instances = [_instance(rng, args.statements, args.candidates, args.tables, args.writes) for _ in range(args.instances)]
    print(f"{args.instances} instances of {args.statements} statements × {args.candidates} candidates on {args.tables} tables"
          f"{', with write costs' if args.writes else ''}; optimum over configurations of up to {args.width} indexes")
    header = (f"{'budget':>7} {'no swaps':>9} {'greedy':>9} {'optimum':>9} {'gap pp':>14} "
              f"{'req greedy':>11} {'req opt':>8} {'s greedy':>9} {'s opt':>7}")
    print(header)
    print("-" * len(header))
    all_gaps = []
    for fraction in BUDGETS:
        rows = []
        for model, weights, write in instances:
            budget = int(fraction * sum(model.sizes))
            kwargs: dict[str, Any] = dict(weights=weights, candidates=range(len(model.sizes)), budget_bytes=budget, write_cost=write)
            plain = greedy(model, swaps=False, **kwargs)
            pick = greedy(model, **kwargs)
            best = optimum(model, max_width=args.width, **kwargs)
            rows.append((plain, pick, best, 100 * (pick.relative_cost - best.relative_cost)))
        gaps = [r[3] for r in rows]
        all_gaps += gaps
        mean = statistics.fmean
        print(f"{fraction:>7.1%} {mean(r[0].relative_cost for r in rows):>9.4f} {mean(r[1].relative_cost for r in rows):>9.4f} "
              f"{mean(r[2].relative_cost for r in rows):>9.4f} {mean(gaps):>6.3f} [{max(gaps):>5.2f}] "
              f"{mean(r[1].requests for r in rows):>11.0f} {mean(r[2].requests for r in rows):>8.0f} "
              f"{mean(r[1].seconds for r in rows):>9.3f} {mean(r[2].seconds for r in rows):>7.3f}")
    print(f"greedy within 1 pp of the optimum in {sum(g <= 1 for g in all_gaps)} of {len(all_gaps)} runs; "
          f"worst gap {max(all_gaps):.3f} pp; greedy better than the program's set in {sum(g < -1e-9 for g in all_gaps)}")


if __name__ == "__main__":
    main()
