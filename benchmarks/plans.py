"""How fast the plan parser reads plans, beside pev2 and the parser before, in one run.

    python benchmarks/plans.py [--repeat 5] [--log-iterations 500] [--before REV_OR_DIR ...] [--no-server]

Inputs, all parsed the same way by each reader:

- big plans captured from a real server (a sandbox of this script's own, the demo
  database): EXPLAIN (ANALYZE, BUFFERS, VERBOSE) of a UNION ALL of 1,000 joins (the tiny demo has 1,000 users), in
  TEXT and in JSON (nodes per second);
- an auto_explain log of the demo workload (``tests/plans/demo_log.py``: every plan
  logged, TEXT and JSON entries, six log_line_prefix forms): each entry one by one
  with ``parse_plan`` (with and without its node table), and the whole log at once
  with ``read_auto_explain(...).nodes`` (plans per second);
- a synthetic 10,000-node plan in JSON and TEXT, and the pev2 sample corpus.

Readers: ours (this tree); each ``--before`` (a git revision, extracted with ``git
archive``, or a folder holding a ``dbworkbench`` package), run in a second process on
the same inputs; and pev2 (its PlanService: ``fromSource`` then ``createPlan``, what
its component does with a pasted plan), where ``node`` and pev2 are installed (set
PEV2_DIR to the ``pev2`` package folder, or have it in ./node_modules). pev2 has no
log reader: its whole-log figure is its one-by-one figure. Times are the best of
``--repeat`` runs in CPU time of the process (steadier than wall clock on a busy
machine; each reader runs in one thread). Targets: ours at least 3x pev2 on the big plans (both
formats) and on the whole log read at once.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import dbworkbench.plans as plans
from dbworkbench.plans import parse_plan

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "plans" / "pev2"
if not CORPUS.is_dir():
    CORPUS = ROOT / "shared" / "plans" / "pev2"


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


def machine_reference() -> float:
    """Seconds for ``sum(range(1000))`` 10,000 times: about 0.1 s on a recent laptop."""
    return min(timeit.repeat("sum(range(1000))", number=10_000, repeat=3))


# --------------------------------------------------------------------------- real inputs


def big_query(usernames: list[str]) -> Any:
    """A UNION ALL of a join of the demo database per user name: about 4 nodes each."""
    from psycopg import sql

    one = sql.SQL("(SELECT p.id, p.title, u.username FROM posts p JOIN users u ON u.id = p.user_id "
                  "WHERE u.username = {} ORDER BY p.created_at DESC LIMIT 1)")
    return sql.SQL("\nUNION ALL\n").join(one.format(sql.Literal(name)) for name in usernames)


def real_inputs(home: Path, log_iterations: int) -> tuple[dict[str, str], str]:
    """({"TEXT": plan, "JSON": plan} captured on the demo database, an auto_explain log of the demo workload)."""
    import psycopg
    from psycopg import sql

    sys.path.insert(0, str(ROOT))
    from tests.plans.demo_log import write_demo_log

    log = write_demo_log(home, log_iterations)
    sb = plans_sandbox(home)
    big = {}
    with psycopg.connect(sb.conninfo(), autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        names = [r[0] for r in conn.execute("SELECT username FROM users ORDER BY username LIMIT 2000")]
        for fmt in ("TEXT", "JSON"):
            explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT {}) ").format(sql.SQL(fmt))
            rows = conn.execute(explain + big_query(names)).fetchall()
            big[fmt] = "\n".join(r[0] for r in rows) if fmt == "TEXT" else json.dumps(rows[0][0], indent=2)
    return big, log


def plans_sandbox(home: Path) -> Any:
    from dbworkbench import Sandbox

    return Sandbox(home).start()


def log_entries(log: str) -> list[str]:
    """Each auto_explain entry's message as it follows ``plan:`` (split here, not by the reader measured)."""
    out = []
    for msg in re.split(r"\n(?=[^\t])", log):
        head, _, rest = msg.partition("\n")
        if re.search(r"duration: \d+\.\d+ ms  plan:$", head):
            out.append("\n".join(line[1:] for line in rest.split("\n")))
    return out


# --------------------------------------------------------------------------- one reader, any inputs


def measure(inputs: dict[str, dict[str, Any]], repeat: int) -> dict[str, dict[str, Any]]:
    """Best seconds of each input with the ``dbworkbench.plans`` importable here (ours, or a --before tree).

    kinds: ``nodes`` (parse_plan of each text, with its node table), ``parse`` (parse_plan only),
    ``log`` (read_auto_explain of the one text, with its node table; a tree without it reads
    each entry with parse_plan and its node table instead, as one had to).
    """
    out: dict[str, dict[str, Any]] = {}
    for name, spec in inputs.items():
        texts, kind = spec["texts"], spec["kind"]
        if kind == "log" and hasattr(plans, "read_auto_explain"):
            fn = lambda t=texts: len(plans.read_auto_explain(t[0]).nodes)  # noqa: E731
        elif kind == "log":
            entries = spec["entries"]
            fn = lambda e=entries: sum(len(parse_plan(x).nodes) for x in e)  # noqa: E731
        elif kind == "nodes":
            fn = lambda t=texts: sum(len(parse_plan(x).nodes) for x in t)  # noqa: E731
        else:
            fn = lambda t=texts: [parse_plan(x) for x in t]  # noqa: E731
        _wall, cpu = best_of(fn, repeat)
        out[name] = {"seconds": cpu}
    return out


def measure_before(where: str, path: Path, repeat: int, tmp: Path) -> dict[str, dict[str, Any]]:
    """``measure`` in a second process that imports the parser of a git revision (or a folder)."""
    tree = Path(where)
    if not tree.is_dir():
        tree = tmp / f"before-{re.sub(r'[^A-Za-z0-9]', '_', where)}"
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", where, "dbworkbench"], check=True, capture_output=True).stdout
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(tree)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    run = subprocess.run([sys.executable, __file__, "--measure", str(path), "--repeat", str(repeat)],
                         env=env, check=True, capture_output=True, text=True, cwd=tmp)
    return json.loads(run.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def pev2_dir() -> Path | None:
    """The installed pev2 package folder, when there is one and node to run it."""
    if shutil.which("node") is None:
        return None
    for candidate in (os.environ.get("PEV2_DIR"), Path.cwd() / "node_modules" / "pev2", ROOT / "node_modules" / "pev2"):
        if candidate and (Path(candidate) / "dist" / "pev2.es.js").is_file():
            return Path(candidate)
    return None


def measure_pev2(pev2: Path, inputs: dict[str, dict[str, Any]], repeat: int, tmp: Path) -> dict[str, dict[str, Any]]:
    texts = {name: spec["entries"] if spec["kind"] == "log" else spec["texts"] for name, spec in inputs.items()}
    path = tmp / "pev2-inputs.json"
    path.write_text(json.dumps(texts))
    run = subprocess.run(["node", "--single-threaded-gc", str(Path(__file__).with_name("pev2_parse.mjs")), str(pev2), str(path), str(repeat)],
                         check=True, capture_output=True, text=True)
    return json.loads(run.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def offline_inputs(n_nodes: int, inputs: dict[str, dict[str, Any]], units: dict[str, tuple[int, str]]) -> None:
    """Add the inputs that need no server: the synthetic plan (JSON, TEXT), the pev2 corpus, its one-line plan."""
    synthetic = synthetic_plan(n_nodes)
    named = [(f"synthetic plan, {fmt} ({len(text) / 1e6:.1f} MB)", [text])
             for fmt, text in (("JSON", json.dumps(synthetic, indent=2)), ("TEXT", render_text(synthetic)))]
    if CORPUS.is_dir():
        files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and not p.name.endswith(("-expect", ".expect", ".sql"))]
        named.append((f"pev2 corpus ({len(files)} files)", [p.read_text(encoding="utf-8", errors="replace") for p in files]))
        one_line = CORPUS / "spec-inline" / "25-cleanup-source-backtracking.json"
        named.append(("135 KB one-line plan (backtracking guard)", [one_line.read_text()]))
    for name, texts in named:
        inputs[name] = {"kind": "nodes", "texts": texts}
        units[name] = (sum(len(parse_plan(t).nodes) for t in texts), "nodes")


def comparison(args: argparse.Namespace) -> None:
    """The table: ours, each --before, pev2, on the same inputs in one run."""
    tmp = Path(tempfile.mkdtemp(prefix="dwbbench-", dir="/tmp"))
    inputs: dict[str, dict[str, Any]] = {}
    units: dict[str, tuple[int, str]] = {}
    home = tmp / "sandbox"
    try:
        if not args.no_server:
            big, log = real_inputs(home, args.log_iterations)
            entries = log_entries(log)
            for fmt, text in big.items():
                name = f"real plan, {fmt} ({len(text) / 1e6:.1f} MB)"
                inputs[name] = {"kind": "nodes", "texts": [text]}
                units[name] = (len(parse_plan(text).nodes), "nodes")
            n = len(entries)
            inputs["log, each entry: parse_plan"] = {"kind": "parse", "texts": entries}
            inputs["log, each entry: parse_plan + .nodes"] = {"kind": "nodes", "texts": entries}
            inputs[f"log at once ({len(log) / 1e6:.1f} MB): read_auto_explain .nodes"] = {
                "kind": "log", "texts": [log], "entries": entries}
            for name in list(inputs)[2:]:
                units[name] = (n, "plans")
        offline_inputs(args.nodes, inputs, units)
        path = tmp / "inputs.json"
        path.write_text(json.dumps(inputs))
        results = {"ours": measure(inputs, args.repeat)}
        for where in args.before:
            results[f"before {where}"] = measure_before(where, path, args.repeat, tmp)
        pev2 = pev2_dir()
        if pev2 is not None:
            results["pev2"] = measure_pev2(pev2, inputs, args.repeat, tmp)
        _print_table(inputs, units, results)
        if pev2 is None:
            print("pev2: not measured (needs node and pev2: `npm install pev2`, or PEV2_DIR=.../node_modules/pev2)")
    finally:
        if home.exists():
            plans_sandbox_stop(home)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"machine reference: sum(range(1000)) x 10,000 = {machine_reference():.3f} s (about 0.1 s on a recent laptop)")


def plans_sandbox_stop(home: Path) -> None:
    from dbworkbench import Sandbox

    Sandbox(home).stop()


def _print_table(inputs: dict[str, Any], units: dict[str, tuple[int, str]], results: dict[str, dict[str, Any]]) -> None:
    readers = list(results)
    w = max(len(n) for n in inputs)
    head = f"{'input'.ljust(w)}  {'count':>13}" + "".join(f"  {r[:18]:>18}" for r in readers)
    if "pev2" in results:
        head += "  ours/pev2"
    print(head + "   (items per second; pev2 failures in brackets)")
    for name in inputs:
        count, unit = units[name]
        line = f"{name.ljust(w)}  {count:>7,} {unit:<5}"
        for r in readers:
            got = results[r].get(name)
            cell = f"{count / got['seconds']:,.0f}/s" if got else "-"
            if got and got.get("failed"):
                cell += f" [{got['failed']}]"
            line += f"  {cell:>18}"
        if "pev2" in results:
            line += f"  {results['pev2'][name]['seconds'] / results['ours'][name]['seconds']:>8.1f}x"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10_000, help="nodes of the synthetic plan")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--log-iterations", type=int, default=500, help="workload picks per log segment (six segments)")
    ap.add_argument("--before", action="append", default=[], help="a git revision or a folder with the parser to compare")
    ap.add_argument("--no-server", action="store_true", help="synthetic plans only (no sandbox)")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # a --before process
    args = ap.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(json.loads(args.measure.read_text()), args.repeat)))
        return
    comparison(args)


if __name__ == "__main__":
    main()
