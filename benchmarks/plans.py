"""How fast ``parse_plan`` reads plans: a synthetic 10,000-node plan in JSON and TEXT,
and the whole pev2 sample corpus. Target: at least 50,000 nodes/s for each format.

    python benchmarks/plans.py [--nodes 10000] [--repeat 10]

Times are the best of ``--repeat`` runs of ``parse_plan(source)`` with its ``.nodes``
table (exclusive times included) built, wall clock and CPU, until the plan is
returned (freeing it afterwards is not counted); no server is needed. The
TEXT plan is read by the compiled parser when ``make speedups`` has built it,
and then once more by the pure-Python one (in a second process, with
``DBWORKBENCH_PURE_PYTHON=1``). The last line times a fixed pure-Python loop,
to compare machines.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import timeit
from pathlib import Path
from typing import Any

from dbworkbench.plans import parse_plan

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "plans" / "pev2"


# --------------------------------------------------------------------------- a synthetic plan


def _node(kind: str, rng: random.Random, loops: int, rows: int, **extra: Any) -> dict[str, Any]:
    total = round(rng.uniform(0.01, 50.0), 3)
    node: dict[str, Any] = {
        "Node Type": kind,
        "Parallel Aware": False,
        "Async Capable": False,
        "Startup Cost": round(rng.uniform(0, 100), 2),
        "Total Cost": round(rng.uniform(100, 10000), 2),
        "Plan Rows": rng.randint(1, 100000),
        "Plan Width": rng.randint(4, 200),
        "Actual Startup Time": round(total / 3, 3),
        "Actual Total Time": total,
        "Actual Rows": rows,
        "Actual Loops": loops,
    }
    node.update(extra)
    hit, read = rng.randint(0, 5000), rng.randint(0, 500)
    node.update({"Shared Hit Blocks": hit, "Shared Read Blocks": read, "Shared Dirtied Blocks": 0,
                 "Shared Written Blocks": 0, "Local Hit Blocks": 0, "Local Read Blocks": 0,
                 "Local Dirtied Blocks": 0, "Local Written Blocks": 0, "Temp Read Blocks": 0,
                 "Temp Written Blocks": 0})
    return node


def _member(rng: random.Random, i: int) -> tuple[dict[str, Any], int]:
    """A 20-node branch: joins, scans, a sort, an aggregate, a memoize."""
    t = f"t{i}"
    scan = lambda name, **kw: _node("Seq Scan", rng, 1, 1000, **{"Relation Name": name, "Schema": "public", "Alias": name,  # noqa: E731
                                                                  "Output": [f"{name}.id", f"{name}.v"], **kw})
    idx = lambda name, loops: _node("Index Scan", rng, loops, 1, **{"Scan Direction": "Forward", "Index Name": f"{name}_pkey",  # noqa: E731
                                                                   "Relation Name": name, "Schema": "public", "Alias": name,
                                                                   "Output": [f"{name}.id"], "Index Cond": f"({name}.id = {t}.id)",
                                                                   "Rows Removed by Index Recheck": 0})
    memo = _node("Memoize", rng, 1000, 1, **{"Cache Key": f"{t}.id", "Cache Mode": "logical", "Cache Hits": 900,
                                            "Cache Misses": 100, "Cache Evictions": 0, "Cache Overflows": 0,
                                            "Peak Memory Usage": 12, "Plans": [idx(f"{t}c", 100)]})
    nl = _node("Nested Loop", rng, 1, 1000, **{"Join Type": "Inner", "Plans": [scan(f"{t}b", Filter=f"({t}b.v > 10)",
                                                                                     **{"Rows Removed by Filter": 5}), memo]})
    hsh = _node("Hash", rng, 1, 1000, **{"Hash Buckets": 1024, "Original Hash Buckets": 1024, "Hash Batches": 1,
                                        "Original Hash Batches": 1, "Peak Memory Usage": 64, "Plans": [nl]})
    hj = _node("Hash Join", rng, 1, 1000, **{"Join Type": "Left", "Hash Cond": f"({t}.id = {t}b.id)",
                                            "Plans": [scan(t), hsh]})
    srt = _node("Sort", rng, 1, 1000, **{"Sort Key": [f"{t}.v", f"{t}.id DESC"], "Sort Method": "quicksort",
                                        "Sort Space Used": 75, "Sort Space Type": "Memory", "Plans": [hj]})
    agg = _node("Aggregate", rng, 1, 10, **{"Strategy": "Sorted", "Partial Mode": "Simple", "Group Key": [f"{t}.v"],
                                           "Plans": [srt]})
    bm = _node("Bitmap Heap Scan", rng, 1, 50, **{"Relation Name": f"{t}d", "Schema": "public", "Alias": f"{t}d",
                                                 "Recheck Cond": f"({t}d.k = 1)", "Rows Removed by Index Recheck": 0,
                                                 "Exact Heap Blocks": 40,
                                                 "Lossy Heap Blocks": 0,
                                                 "Plans": [_node("Bitmap Index Scan", rng, 1, 50,
                                                                 **{"Index Name": f"{t}d_k", "Index Cond": f"({t}d.k = 1)"})]})
    mj = _node("Merge Join", rng, 1, 10, **{"Join Type": "Inner", "Merge Cond": f"({t}.v = {t}d.v)",
                                           "Plans": [agg, _node("Sort", rng, 1, 50, **{"Sort Key": [f"{t}d.v"],
                                                                                       "Sort Method": "quicksort",
                                                                                       "Sort Space Used": 25,
                                                                                       "Sort Space Type": "Memory",
                                                                                       "Plans": [bm]})]})
    sub = _node("Subquery Scan", rng, 1, 10, **{"Alias": f"s{i}", "Filter": f"(s{i}.v IS NOT NULL)",
                                                "Rows Removed by Filter": 0, "Plans": [mj]})
    lim = _node("Limit", rng, 1, 10, **{"Plans": [_node("Materialize", rng, 1, 10, Plans=[sub])]})
    res = _node("Result", rng, 1, 10, **{"One-Time Filter": "true", "Plans": [lim]})
    uniq = _node("Unique", rng, 1, 10, Plans=[res])
    ins = _node("Incremental Sort", rng, 1, 10, **{"Sort Key": [f"{t}.v", f"{t}.w"], "Presorted Key": [f"{t}.v"], "Plans": [uniq]})
    proj = _node("ProjectSet", rng, 1, 10, Plans=[ins])
    return proj, 20


def synthetic_plan(n_nodes: int = 10_000, seed: int = 7) -> list[dict[str, Any]]:
    """A FORMAT JSON plan of about ``n_nodes`` nodes: Limit > Sort > Append of 20-node branches."""
    rng = random.Random(seed)
    members = [_member(rng, i)[0] for i in range(max(1, (n_nodes - 3) // 20))]
    append = _node("Append", rng, 1, 10 * len(members), Plans=members)
    sort = _node("Sort", rng, 1, 100, **{"Sort Key": ["v"], "Sort Method": "top-N heapsort", "Sort Space Used": 30,
                                        "Sort Space Type": "Memory", "Plans": [append]})
    root = _node("Limit", rng, 1, 100, Plans=[sort])
    _relationships(root)
    return [{"Plan": root, "Planning Time": 12.5, "Triggers": [], "Execution Time": 4567.8}]


def _relationships(root: dict[str, Any]) -> None:
    """Parent Relationship as PostgreSQL sets it, placed right after Node Type."""
    stack = [root]
    while stack:
        node = stack.pop()
        kids = node.get("Plans", [])
        for j, kid in enumerate(kids):
            rel = {"Append": "Member", "Subquery Scan": "Subquery"}.get(node["Node Type"], "Outer" if j == 0 else "Inner")
            items = list(kid.items())
            kid.clear()
            kid.update([items[0], ("Parent Relationship", rel), *items[1:]])
            stack.append(kid)


def render_text(plan: list[dict[str, Any]]) -> str:
    """The synthetic plan as psql prints EXPLAIN (ANALYZE, BUFFERS, VERBOSE) TEXT."""
    out: list[str] = []
    stack: list[tuple[dict[str, Any], int, bool]] = [(plan[0]["Plan"], 0, True)]
    while stack:
        node, depth, root = stack.pop()
        pad = "" if root else " " * (6 * depth - 4) + "->  "
        prop = " " * (6 * depth + 2)
        out.append(pad + _text_name(node) + f"  (cost={node['Startup Cost']:.2f}..{node['Total Cost']:.2f} "
                   f"rows={node['Plan Rows']} width={node['Plan Width']}) (actual time={node['Actual Startup Time']:.3f}.."
                   f"{node['Actual Total Time']:.3f} rows={node['Actual Rows']} loops={node['Actual Loops']})")
        for key in ("Output", "Sort Key", "Presorted Key", "Group Key"):
            if key in node:
                out.append(f"{prop}{key}: {', '.join(node[key])}")
        for key in ("Cache Key", "Cache Mode", "Hash Cond", "Merge Cond", "Index Cond", "Recheck Cond", "Filter", "One-Time Filter"):
            if key in node:
                out.append(f"{prop}{key}: {node[key]}")
        if "Rows Removed by Filter" in node:
            out.append(f"{prop}Rows Removed by Filter: {node['Rows Removed by Filter']}")
        if "Cache Hits" in node:
            out.append(f"{prop}Hits: {node['Cache Hits']}  Misses: {node['Cache Misses']}  Evictions: 0  Overflows: 0  "
                       f"Memory Usage: {node['Peak Memory Usage']}kB")
        if "Sort Method" in node:
            out.append(f"{prop}Sort Method: {node['Sort Method']}  Memory: {node['Sort Space Used']}kB")
        if "Hash Buckets" in node:
            out.append(f"{prop}Buckets: 1024  Batches: 1  Memory Usage: {node['Peak Memory Usage']}kB")
        if "Exact Heap Blocks" in node:
            out.append(f"{prop}Heap Blocks: exact={node['Exact Heap Blocks']}")
        out.append(f"{prop}Buffers: shared hit={node['Shared Hit Blocks']} read={node['Shared Read Blocks']}")
        for child in reversed(node.get("Plans", [])):
            stack.append((child, depth + 1, False))
    out.append(f"Planning Time: {plan[0]['Planning Time']:.3f} ms")
    out.append(f"Execution Time: {plan[0]['Execution Time']:.3f} ms")
    return "\n".join(out)


def _text_name(node: dict[str, Any]) -> str:
    nt = node["Node Type"]
    if nt in ("Hash Join", "Merge Join") and node.get("Join Type") not in (None, "Inner"):
        nt = nt.replace(" Join", f" {node['Join Type']} Join")
    if nt == "Aggregate":
        nt = {"Sorted": "GroupAggregate", "Hashed": "HashAggregate"}.get(node.get("Strategy"), "Aggregate")
    if nt in ("Index Scan",):
        return f"Index Scan using {node['Index Name']} on {node['Schema']}.{node['Relation Name']}"
    if nt == "Bitmap Index Scan":
        return f"Bitmap Index Scan on {node['Index Name']}"
    if "Relation Name" in node:
        return f"{nt} on {node['Schema']}.{node['Relation Name']}"
    if nt == "Subquery Scan":
        return f"Subquery Scan on {node['Alias']}"
    return nt


# --------------------------------------------------------------------------- measuring


def best_of(fn: Any, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds over ``repeat`` runs (CPU time is steadier on a shared machine).

    The clock stops when ``fn`` returns; freeing what it returned is not
    counted (``plan = parse_plan(text)`` does not wait for that either).
    """
    wall = cpu = float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
        del result
    return wall, cpu


def run(n_nodes: int = 10_000, repeat: int = 5, *, formats: tuple[str, ...] = ("JSON", "TEXT"), corpus: bool = True) -> list[tuple[str, int, float, float]]:
    """(what, nodes, wall seconds, CPU seconds) for each measurement."""
    plan = synthetic_plan(n_nodes)
    render = {"JSON": lambda: json.dumps(plan, indent=2), "TEXT": lambda: render_text(plan)}
    results = []
    for fmt in formats:
        source = render[fmt]()
        nodes = len(parse_plan(source).nodes)
        wall, cpu = best_of(lambda s=source: _with_nodes(parse_plan(s)), repeat)
        what = f"synthetic plan, {fmt} ({len(source) / 1e6:.1f} MB)"
        results.append((what, nodes, wall, cpu))
    if corpus and CORPUS.is_dir():
        files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and not p.name.endswith(("-expect", ".expect", ".sql"))]
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
        nodes = sum(len(parse_plan(t).nodes) for t in texts)
        wall, cpu = best_of(lambda: [_with_nodes(parse_plan(t)) for t in texts], repeat)
        results.append((f"pev2 corpus ({len(files)} files)", nodes, wall, cpu))
        one_line = (CORPUS / "spec-inline" / "25-cleanup-source-backtracking.json").read_text()
        wall, cpu = best_of(lambda: _with_nodes(parse_plan(one_line)), repeat)
        results.append(("135 KB one-line plan (backtracking guard)", len(parse_plan(one_line).nodes), wall, cpu))
    return results


def _with_nodes(plan: Any) -> Any:
    """The plan, its node table built (``parse_plan`` builds it; this keeps the benchmark honest if that changes)."""
    assert len(plan.nodes) > 0
    return plan


def machine_reference() -> float:
    """Seconds for ``sum(range(1000))`` 10,000 times: about 0.1 s on a recent laptop."""
    return min(timeit.repeat("sum(range(1000))", number=10_000, repeat=3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    rows = run(args.nodes, args.repeat)
    w = max(len(r[0]) for r in rows)
    print(f"{'input'.ljust(w)}  {'nodes':>7}  {'wall s':>7}  {'nodes/s':>9}  {'CPU s':>7}  {'nodes/s':>9}")
    for what, nodes, wall, cpu in rows:
        print(f"{what.ljust(w)}  {nodes:>7,}  {wall:>7.3f}  {nodes / wall:>9,.0f}  {cpu:>7.3f}  {nodes / cpu:>9,.0f}")
    if not CORPUS.is_dir():
        print(f"(pev2 corpus not found at {CORPUS})")
    print(f"machine reference: sum(range(1000)) x 10,000 = {machine_reference():.3f} s (about 0.1 s on a recent laptop)")


if __name__ == "__main__":
    main()
