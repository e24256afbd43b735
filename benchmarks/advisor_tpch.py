"""The index advisor on TPC-H (PostgreSQL 15 + HypoPG + pg_qualstats); prints the issue's tables.

    python benchmarks/advisor_tpch.py                       # SF 1 in a private PostgreSQL 15, removed afterwards
    python benchmarks/advisor_tpch.py --cluster /var/tmp/dwb-tpch   # keep the loaded cluster (stopped) for next time
    python benchmarks/advisor_tpch.py --sf 0.1 --budgets 25,50 --cap 30
    python benchmarks/advisor_tpch.py --skip-measure        # estimates only, no timed runs

What it does, on a private PostgreSQL 15 cluster it starts in its own folder (as the
``postgres`` OS user when run as root; a Unix socket only), with HypoPG and pg_qualstats
(preloaded, ``pg_qualstats.sample_rate = 1``):

1. loads TPC-H at ``--sf`` with ``dbworkbench.datasets.tpch.load_tpch`` (the tables of
   ``../shared/tpch/schema.sql``: no keys, no indexes) and prints the load time;
2. runs the 19 queries (not Q2, Q17, Q20) once, each capped by ``statement_timeout = --cap``:
   the measured time without indexes, and pg_qualstats' sample of their predicates;
3. asks ``pg_qualstats_index_advisor()`` for its indexes and prices them like ours: the
   relative cost (the 19 queries' summed estimated cost with the indexes ÷ without) with
   HypoPG, HypoPG's size estimate and the real size (built, measured, dropped);
4. the advisor sweep with one ``dbworkbench.advisor.Advisor`` (the workload's candidates and
   what-if costs kept across budgets): its setup, then for each budget the relative cost of
   the default selection (greedy with swaps) and of the exact optimum over the same
   candidates, the seconds, cost requests and EXPLAINs each added; then ours at
   pg_qualstats' storage;
5. builds the 500 MB advice for real (estimated against real size per index) and times
   the workload with it against none (and with pg_qualstats' indexes), each query capped.

Targets (issue #10): greedy within 1 percentage point of the optimum at every budget; the
whole sweep (step 4: the setup, greedy and optimum at every budget) under 2 minutes.
Settings of the cluster: shared_buffers 2GB, work_mem 64MB, jit off (JIT compilation is no
part of what indexes change), everything else PostgreSQL's defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # the checkout's dbworkbench, even when not installed
try:
    import psycopg
    from psycopg import sql
except ImportError:
    sys.exit("advisor_tpch.py needs dbworkbench's dependencies: run `make init` in the repository and then "
             "`.venv/bin/python benchmarks/advisor_tpch.py` (or: pip install -e '.[bench]')")

PG15_BIN = Path(os.environ.get("DBWORKBENCH_PG15_BIN", "/usr/lib/postgresql/15/bin"))
BUDGETS_MB = (25, 50, 100, 150, 200, 300, 500, 800, 1500)
MEASURE_BUDGET_MB = 500
DATABASE = "tpch"
PORT = 5416                       # only names the socket file inside the cluster's own folder
SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements, pg_qualstats",
    "pg_qualstats.sample_rate": "1",
    "pg_qualstats.max": "10000",
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    "jit": "off",
    "listen_addresses": "''",
}
TARGET_GAP_PP = 1.0
TARGET_SWEEP_S = 120.0


# -- what the machine needs ---------------------------------------------------------------------


def missing_prerequisites(tpch_folder: str | None) -> list[str]:
    """Each thing this benchmark needs and the machine lacks, with the command that brings it."""
    missing: list[str] = []
    if not (PG15_BIN / "postgres").exists():
        return [f"PostgreSQL 15 (no {PG15_BIN}/postgres): apt-get install -y postgresql-15 "
                "(or set DBWORKBENCH_PG15_BIN to its bin folder)"]
    share, lib = _pg_config("--sharedir"), _pg_config("--pkglibdir")
    for ext, package in (("hypopg", "postgresql-15-hypopg"), ("pg_qualstats", "postgresql-15-pg-qualstats"),
                         ("pg_stat_statements", "postgresql-contrib-15 (part of postgresql-15 on Debian)")):
        if not (Path(share) / "extension" / f"{ext}.control").exists() or not (Path(lib) / f"{ext}.so").exists():
            missing.append(f"the {ext} extension for PostgreSQL 15: apt-get install -y {package}")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("running as root, PostgreSQL needs an unprivileged OS user 'postgres' to run as "
                           "(apt-get install -y postgresql-15 creates it), or run this as a normal user")
    try:
        from dbworkbench.datasets.tpch import _tpchgen, tpch_dir

        _tpchgen()
        tpch_dir(tpch_folder)
    except ImportError:
        missing.append("the dbworkbench package: pip install -e '.[bench]' in the repository (or make init)")
    except Exception as err:  # noqa: BLE001 - WorkbenchError says what to do
        missing.append(str(err))
    return missing


def _pg_config(flag: str) -> str:
    return subprocess.run([str(PG15_BIN / "pg_config"), flag], capture_output=True, text=True, check=True).stdout.strip()


# -- the private cluster ------------------------------------------------------------------------


class Cluster:
    """A PostgreSQL 15 cluster in ``folder`` (data in folder/data, socket in folder), ours to change."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self._as, *cmd], check=True, capture_output=True, text=True)

    def start(self) -> Cluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.folder, "postgres", "postgres")
        os.chmod(self.folder, 0o755)
        if not (self.data / "PG_VERSION").exists():
            self._run(str(PG15_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
                      "--encoding=utf8", "--locale=C")
        conf = "".join(f"{k} = {v if v.startswith(chr(39)) else repr(v)}\n" for k, v in SETTINGS.items())
        conf += f"unix_socket_directories = '{self.folder}'\nport = {PORT}\n"
        (self.data / "benchmark.conf").write_text(conf)
        if self._as:
            shutil.chown(self.data / "benchmark.conf", "postgres", "postgres")
        main_conf = self.data / "postgresql.conf"
        if "include_if_exists = 'benchmark.conf'" not in main_conf.read_text():
            with open(main_conf, "a") as f:
                f.write("\ninclude_if_exists = 'benchmark.conf'\n")
        running = subprocess.run([*self._as, str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "status"],
                                 capture_output=True).returncode == 0
        if not running:
            try:
                self._run(str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                          "-t", "120", "start")
            except subprocess.CalledProcessError as err:
                log = (self.folder / "log").read_text(errors="replace")[-2000:] if (self.folder / "log").exists() else ""
                raise SystemExit(f"PostgreSQL 15 did not start in {self.data}: {err.stderr}\n{log}") from None
        return self

    def stop(self) -> None:
        subprocess.run([*self._as, str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                       capture_output=True)

    def conninfo(self, dbname: str = DATABASE) -> str:
        return psycopg.conninfo.make_conninfo(host=str(self.folder), port=str(PORT), user="postgres", dbname=dbname)

    def connect(self, dbname: str = DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo(dbname), autocommit=True)


def prepare(cluster: Cluster, sf: float, tpch_folder: str | None) -> float | None:
    """The tpch database with TPC-H at ``sf`` and the extensions; the load's seconds (None: reused)."""
    from dbworkbench.datasets.tpch import MARK, load_tpch, tpch_is_loaded

    with cluster.connect("postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    seconds = None
    with cluster.connect() as conn:
        for ext in ("hypopg", "pg_qualstats", "pg_stat_statements", "pg_prewarm"):
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))
        mark = conn.execute("SELECT obj_description('public.lineitem'::regclass, 'pg_class')").fetchone() \
            if tpch_is_loaded(conn) else None
        if not (mark and mark[0] and mark[0].startswith(f"{MARK} (SF {sf:g})")):
            print(f"loading TPC-H SF {sf:g} ...", flush=True)
            result = load_tpch(conn, sf, tpch_dir=tpch_folder, replace=True, progress=sys.stderr.isatty())
            seconds = float(result["seconds"])
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in result["step_seconds"].items())
            rows = sum(result["rows"].values())
            print(f"loaded TPC-H SF {sf:g}: {rows:,} rows in {seconds:.1f} s ({steps})", flush=True)
        else:
            print(f"TPC-H SF {sf:g} already loaded in {cluster.data} (reused)", flush=True)
        leftovers = conn.execute("SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                                 " WHERE c.relnamespace = 'public'::regnamespace").fetchall()
        for (name,) in leftovers:       # an earlier run that was interrupted: the benchmark starts from none
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.SQL(name)))
    return seconds


# -- costs and times ----------------------------------------------------------------------------


def plan_cost(conn: psycopg.Connection[Any], query: str) -> float:
    row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + sql.SQL(query)).fetchone()  # type: ignore[operator]
    assert row is not None
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return float(plan[0]["Plan"]["Total Cost"])


def workload_cost(conn: psycopg.Connection[Any], queries: dict[int, str]) -> dict[int, float]:
    return {n: plan_cost(conn, q) for n, q in queries.items()}


@dataclass
class Run:
    ms: float
    capped: bool

    def text(self) -> str:
        return (">" if self.capped else "") + f"{self.ms / 1000:,.2f}"


def run_queries(conn: psycopg.Connection[Any], queries: dict[int, str], cap_s: float, label: str) -> dict[int, Run]:
    """Each query once, cancelled at ``cap_s`` seconds; its time (the cap when cancelled)."""
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(int(cap_s * 1000))))
    out: dict[int, Run] = {}
    try:
        for n, q in queries.items():
            t0 = time.perf_counter()
            try:
                conn.execute(sql.SQL(q)).fetchall()  # type: ignore[arg-type]
                out[n] = Run((time.perf_counter() - t0) * 1000, False)
            except psycopg.errors.QueryCanceled:
                out[n] = Run(cap_s * 1000, True)
            print(f"  {label}: Q{n} {out[n].text()} s", file=sys.stderr, flush=True)
    finally:
        conn.execute("RESET statement_timeout")
    return out


def prewarm(conn: psycopg.Connection[Any]) -> None:
    from dbworkbench.datasets.tpch import TABLES

    for t in TABLES:
        conn.execute("SELECT pg_prewarm(%s::regclass)", [t])


@contextmanager
def hypothetical(conn: psycopg.Connection[Any], definitions: Sequence[str]) -> Iterator[list[int]]:
    """HypoPG indexes for ``definitions`` while the block runs; yields their estimated sizes in bytes."""
    sizes = []
    try:
        for d in definitions:
            row = conn.execute("SELECT indexrelid FROM hypopg_create_index(%s)", [d]).fetchone()
            assert row is not None
            size = conn.execute("SELECT hypopg_relation_size(%s)", [row[0]]).fetchone()
            sizes.append(int(size[0]) if size else 0)
        yield sizes
    finally:
        conn.execute("SELECT hypopg_reset()")


@contextmanager
def built(conn: psycopg.Connection[Any], definitions: Sequence[str]) -> Iterator[list[int]]:
    """The indexes built for real (on our own cluster) while the block runs; yields their sizes in bytes."""
    before = {r[0] for r in conn.execute("SELECT indexrelid FROM pg_index").fetchall()}
    made: list[int] = []
    try:
        sizes = []
        for d in definitions:
            conn.execute(sql.SQL(d))  # type: ignore[arg-type]
            new = [r[0] for r in conn.execute("SELECT indexrelid FROM pg_index").fetchall() if r[0] not in before | set(made)]
            made += new
            size = conn.execute("SELECT sum(pg_relation_size(i)) FROM unnest(%s::oid[]) i", [new]).fetchone()
            sizes.append(int(size[0] or 0) if size else 0)
        conn.execute("ANALYZE")    # expression indexes bring statistics of their own
        yield sizes
    finally:
        for oid in made:
            name = conn.execute("SELECT %s::regclass::text", [oid]).fetchone()
            if name:
                conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.SQL(name[0])))


# -- pg_qualstats -------------------------------------------------------------------------------


@dataclass
class QualstatsResult:
    proposed: int
    definitions: list[str]
    unoptimised: int
    hypo_bytes: int
    real_bytes: int
    relative_cost: float
    relative_cost_real: float


def qualstats_advice(conn: psycopg.Connection[Any], queries: dict[int, str], base: dict[int, float]) -> QualstatsResult:
    row = conn.execute("SELECT pg_qualstats_index_advisor()").fetchone()
    advice = row[0] if row and isinstance(row[0], dict) else json.loads(row[0]) if row and row[0] else {}
    proposed = list(advice.get("indexes") or [])
    definitions = list(dict.fromkeys(proposed))     # it may name one index several times: build it once
    unoptimised = len(advice.get("unoptimised") or [])
    total = sum(base.values())
    with hypothetical(conn, definitions) as hypo:
        hypo_cost = sum(workload_cost(conn, queries).values())
    with built(conn, definitions) as real:
        real_cost = sum(workload_cost(conn, queries).values())
    return QualstatsResult(len(proposed), definitions, unoptimised, sum(hypo), sum(real), hypo_cost / total, real_cost / total)


# -- our advisor ---------------------------------------------------------------------------------


@dataclass
class Point:
    budget_mb: float
    method: str
    relative_cost: float | None
    seconds: float
    requests: int | None
    indexes: int
    mb: float
    error: str | None = None
    explains: int | None = None
    advice: Any = None


def advisor_available() -> str | None:
    """None when ``dbworkbench.advisor.Advisor`` exists; else why the advisor columns stay empty."""
    import dbworkbench.advisor as advisor

    if not hasattr(advisor, "Advisor"):
        return "dbworkbench.advisor.Advisor does not exist in this checkout: the advisor columns stay empty"
    return None


def advise_point(advisor: Any, budget_mb: float, method: str) -> Point:
    """One advice from the shared ``advisor``: its wall time, and the cost requests and EXPLAINs it added."""
    t0, requests, explains = time.perf_counter(), advisor.requests, advisor.explains
    try:
        advice = advisor.advise(budget_mb, method=method)
    except Exception as err:  # noqa: BLE001 - a failed point is printed, the sweep goes on
        return Point(budget_mb, method, None, time.perf_counter() - t0, None, 0, 0.0, f"{type(err).__name__}: {err}")
    seconds = time.perf_counter() - t0
    selected = advice.selected
    size = float(selected["bytes"].sum()) / 2**20 if len(selected) else 0.0
    return Point(budget_mb, method, float(advice.relative_cost), seconds, advisor.requests - requests, len(selected), size,
                 explains=advisor.explains - explains, advice=advice)


@dataclass
class Setup:
    seconds: float
    requests: int
    explains: int
    statements: int
    candidates: int
    useful: int


def sweep(advisor: Any, budgets: Sequence[float]) -> list[tuple[Point, Point]]:
    rows = []
    for budget in budgets:
        rows.append((advise_point(advisor, budget, "greedy"), advise_point(advisor, budget, "optimum")))
        g, o = rows[-1]
        print(f"  advise {budget:g} MB: greedy {_pct(g.relative_cost)} in {g.seconds:.1f} s, "
              f"optimum {_pct(o.relative_cost)} in {o.seconds:.1f} s", file=sys.stderr, flush=True)
    return rows


# -- printing -------------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))


def print_sweep(points: list[tuple[Point, Point]], setup: Setup | None, unavailable: str | None) -> None:
    print("\nIndex advice by storage budget (relative cost = estimated cost of the 19 queries with the advice / without)")
    headers = ["budget MB", "greedy", "optimum", "gap pp", "greedy s", "optimum s", "greedy req", "optimum req",
               "greedy EXPLAINs", "optimum EXPLAINs", "greedy idx", "greedy MB"]
    if unavailable or setup is None:
        print_table(headers, [[f"{b:g}"] + ["n/a"] * (len(headers) - 1) for b in BUDGETS_MB])
        print(f"({unavailable})")
        return
    print(f"one Advisor for the sweep: {setup.statements} statements, {setup.candidates} candidates ({setup.useful} lower "
          f"some statement's cost by 1 % or more alone); its setup (workload, candidates, sizes, costs today and with "
          f"each candidate alone) took {setup.seconds:.1f} s, {setup.requests} cost requests, {setup.explains} EXPLAINs. "
          "Per budget below: the work each advice added (what-if costs already known are not asked again)")
    rows = []
    for g, o in points:
        gap = None if g.relative_cost is None or o.relative_cost is None else (g.relative_cost - o.relative_cost) * 100
        rows.append([f"{g.budget_mb:g}", _pct(g.relative_cost), _pct(o.relative_cost),
                     "n/a" if gap is None else f"{gap:+.2f}", f"{g.seconds:.1f}", f"{o.seconds:.1f}",
                     _count(g.requests), _count(o.requests), _count(g.explains), _count(o.explains),
                     str(g.indexes), f"{g.mb:,.1f}"])
    print_table(headers, rows)
    for g, o in points:
        for p in (g, o):
            if p.error:
                print(f"  {p.method} at {p.budget_mb:g} MB failed: {p.error[:300]}")
    gaps = [(g.relative_cost - o.relative_cost) * 100 for g, o in points
            if g.relative_cost is not None and o.relative_cost is not None]
    total = setup.seconds + sum(g.seconds + o.seconds for g, o in points)
    ok_gap = bool(gaps) and len(gaps) == len(points) and max(gaps) <= TARGET_GAP_PP
    print(f"target: greedy within {TARGET_GAP_PP:g} pp of the optimum at every budget: "
          f"{'met' if ok_gap else 'NOT met'} (largest gap {max(gaps, default=float('nan')):+.2f} pp)")
    print(f"target: the whole sweep (setup, then greedy and optimum at every budget) under {TARGET_SWEEP_S:.0f} s: "
          f"{'met' if total < TARGET_SWEEP_S else 'NOT met'} ({total:.1f} s)")


def _count(n: int | None) -> str:
    return "n/a" if n is None else str(n)


def print_measure(queries: dict[int, str], columns: dict[str, dict[int, Run]], cap_s: float) -> None:
    print(f"\nMeasured time per query, seconds (each run once, cancelled at {cap_s:g} s: '>' marks a cancelled one)")
    names = list(columns)
    rows = [[f"Q{n}"] + [columns[c][n].text() if n in columns[c] else "n/a" for c in names] for n in queries]
    totals = ["total"] + [(">" if any(r.capped for r in columns[c].values()) else "")
                          + f"{sum(r.ms for r in columns[c].values()) / 1000:,.2f}" for c in names]
    print_table(["query", *names], [*rows, totals])


# -- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sf", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    parser.add_argument("--budgets", default=",".join(str(b) for b in BUDGETS_MB), help="storage budgets in MB")
    parser.add_argument("--cap", type=float, default=60.0, help="statement_timeout per measured query, seconds")
    parser.add_argument("--cluster", default=None,
                        help="keep the PostgreSQL 15 cluster in this folder and reuse it (default: a temporary one)")
    parser.add_argument("--tpch-dir", default=None, help="the folder with schema.sql and queries/ (default ../shared/tpch)")
    parser.add_argument("--skip-measure", action="store_true", help="no timed runs (pg_qualstats then sees no workload)")
    args = parser.parse_args(argv)
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]

    missing = missing_prerequisites(args.tpch_dir)
    if missing:
        print("advisor_tpch.py needs, and this machine lacks:", file=sys.stderr)
        for m in missing:
            print(f"  - {m}", file=sys.stderr)
        return 2
    from dbworkbench.datasets.tpch import tpch_queries

    queries = tpch_queries(args.tpch_dir)
    folder = Path(args.cluster).resolve() if args.cluster else Path(tempfile.mkdtemp(prefix="dwb-tpch-", dir="/tmp"))
    cluster = Cluster(folder).start()
    print(f"PostgreSQL 15 cluster in {folder} ({'kept, stopped at the end' if args.cluster else 'removed at the end'})",
          flush=True)
    try:
        return _benchmark(cluster, queries, budgets, args)
    finally:
        cluster.stop()
        if not args.cluster:
            shutil.rmtree(folder, ignore_errors=True)


def _benchmark(cluster: Cluster, queries: dict[int, str], budgets: list[float], args: argparse.Namespace) -> int:
    load_s = prepare(cluster, args.sf, args.tpch_dir)
    measured: dict[str, dict[int, Run]] = {}
    with cluster.connect() as conn:
        base = workload_cost(conn, queries)
        print(f"estimated cost of the {len(queries)} queries without indexes: {sum(base.values()):,.0f}", flush=True)
        conn.execute("SELECT pg_qualstats_reset()")
        if not args.skip_measure:
            prewarm(conn)
            measured["none"] = run_queries(conn, queries, args.cap, "none")
        else:   # pg_qualstats samples executed queries only: run each with a short cap
            run_queries(conn, queries, 5.0, "sampling")
        t0 = time.perf_counter()
        qs = qualstats_advice(conn, queries, base)
        qs_seconds = time.perf_counter() - t0

    unavailable = advisor_available()
    points: list[tuple[Point, Point]] = []
    setup: Setup | None = None
    same_storage: Point | None = None
    at_measure: Point | None = None
    if not unavailable:
        import dbworkbench as wb
        from dbworkbench.advisor import Advisor

        db = wb.connect(cluster.conninfo())
        try:
            t0 = time.perf_counter()
            with Advisor(db, workload=list(queries.values()), progress=False) as advisor:
                setup = Setup(time.perf_counter() - t0, advisor.requests, advisor.explains, len(advisor.reads),
                              len(advisor.indexes), len(advisor.useful))
                print(f"  advisor setup {setup.seconds:.1f} s", file=sys.stderr, flush=True)
                points = sweep(advisor, budgets)
                same_storage = advise_point(advisor, max(qs.real_bytes / 2**20, 1.0), "greedy")
                at_measure = next((g for g, _ in points if g.budget_mb == MEASURE_BUDGET_MB), None) \
                    or advise_point(advisor, MEASURE_BUDGET_MB, "greedy")
        finally:
            db.close()

    sizes: list[tuple[str, int, int]] = []
    if not args.skip_measure:
        with cluster.connect() as conn:
            with built(conn, qs.definitions):
                prewarm(conn)
                measured["pg_qualstats"] = run_queries(conn, queries, args.cap, "pg_qualstats")
            if at_measure is not None and at_measure.advice is not None:
                indexes = list(at_measure.advice.indexes)
                estimated = [int(b) for b in at_measure.advice.selected["bytes"]]
                with built(conn, [ix.create_sql(concurrently=False) for ix in indexes]) as real:
                    sizes = [(ix.definition, e, r) for ix, e, r in zip(indexes, estimated, real)]
                    prewarm(conn)
                    measured[f"advice {MEASURE_BUDGET_MB} MB"] = run_queries(conn, queries, args.cap, "advice")

    print(f"\n== TPC-H SF {args.sf:g}, PostgreSQL 15, {len(queries)} queries (not Q2, Q17, Q20) ==")
    print(f"load: {'reused' if load_s is None else f'{load_s:.1f} s'}")
    print_sweep(points, setup, unavailable)
    print(f"\npg_qualstats_index_advisor(): {qs.proposed} indexes proposed, {len(qs.definitions)} distinct (priced below), "
          f"{qs.unoptimised} quals it left unoptimised; {qs_seconds:.1f} s including builds")
    for d in qs.definitions:
        print(f"  {d}")
    headers = ["proposal", "indexes", "size MB (est.)", "size MB (real)", "relative cost (HypoPG)", "relative cost (real)"]
    rows = [["pg_qualstats", str(len(qs.definitions)), f"{qs.hypo_bytes / 2**20:,.1f}", f"{qs.real_bytes / 2**20:,.1f}",
             _pct(qs.relative_cost), _pct(qs.relative_cost_real)]]
    if same_storage is not None and same_storage.error:
        rows.append([f"ours at {same_storage.budget_mb:,.1f} MB", "failed", "n/a", "n/a", "n/a", "n/a"])
    elif same_storage is not None:
        rows.append([f"ours at {same_storage.budget_mb:,.1f} MB", str(same_storage.indexes), f"{same_storage.mb:,.1f}",
                     "n/a", _pct(same_storage.relative_cost), "n/a"])
    else:
        rows.append(["ours at the same storage", "n/a", "n/a", "n/a", "n/a", "n/a"])
    print_table(headers, rows)
    if same_storage is not None and same_storage.error:
        print(f"  ours at pg_qualstats' storage failed: {same_storage.error[:300]}")
    if sizes:
        print(f"\nThe {MEASURE_BUDGET_MB} MB advice's indexes, estimated against real size (MB):")
        print_table(["index", "estimated", "real", "real/est."],
                    [[d, f"{e / 2**20:,.1f}", f"{r / 2**20:,.1f}", f"{r / e:.2f}" if e else "n/a"] for d, e, r in sizes])
    if measured:
        print_measure(queries, measured, args.cap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
