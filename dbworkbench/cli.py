"""``dbworkbench``: a thin command line over the library.

Every error becomes one ``Error: ...`` line that says what to do, with exit status 1
(130 for an interrupt); passwords are masked with the target's own redaction.
``dbworkbench --debug ...`` (or ``DBWORKBENCH_DEBUG=1``) prints the traceback as well.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
import pandas as pd
import psycopg

from .errors import UnsafeStatement, WorkbenchError

if TYPE_CHECKING:
    from pandas._libs.missing import NAType

F = TypeVar("F", bound=Callable[..., Any])

dsn_option = click.option(
    "--dsn", envvar="DBWORKBENCH_DSN", default=None,
    help="Connection string or URL (default: $DBWORKBENCH_DSN, PG* variables, else the sandbox).",
)


_DEBUG = "dbworkbench.debug"
_TARGETS = "dbworkbench.targets"
_RERUN = "run the command again with --debug for the traceback (dbworkbench --debug ...)"


def clean_errors(func: F) -> F:
    """Turn every error into ``Error: ...`` (exit 1; an interrupt exits 130), no traceback unless --debug."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # the reader went away (| head): click ends quietly with status 1
            raise
        except KeyboardInterrupt:
            _fail("interrupted (the statement running on the server, if any, was cancelled)", 130)
        except Exception as err:  # noqa: BLE001 - the one place every error becomes a message
            _fail(_message(err), 1)

    return wrapper  # type: ignore[return-value]


def _fail(message: str, status: int) -> None:
    """Print the message (and with --debug the traceback), both redacted, and exit with ``status``."""
    if _debugging():
        click.echo(_redact(traceback.format_exc()), err=True)
    click.echo(f"Error: {_redact(message)}", err=True)
    sys.exit(status)


def _message(err: BaseException) -> str:
    """One line (or a few) saying what went wrong and what to do."""
    if isinstance(err, WorkbenchError):
        return str(err)
    if isinstance(err, psycopg.Error):
        return _driver_message(err)
    if isinstance(err, OSError):
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror or err}{where}; check the path, its permissions and free space, then run it again"
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"unexpected {type(err).__name__}{': ' + first if first else ''}; {_RERUN} and report it"


def _driver_message(err: psycopg.Error) -> str:
    """A PostgreSQL or driver error: the server's message, detail and hint, then what to do."""
    diag = err.diag
    primary = diag.message_primary or (str(err).strip().splitlines() or [type(err).__name__])[0]
    parts = [f"PostgreSQL: {primary}" if diag.sqlstate else primary]
    parts += [f"{label}: {text}" for label, text in (("detail", diag.message_detail), ("hint", diag.message_hint))
              if text]
    if diag.sqlstate:
        parts[0] += f" (SQLSTATE {diag.sqlstate})"
    state = diag.sqlstate or ""
    if not state:
        advice = ("the connection failed or broke: check that the server is up and --dsn is right, then run it again"
                  if isinstance(err, psycopg.OperationalError) else f"the database driver failed; {_RERUN}")
    elif state.startswith("42"):
        advice = "check the statement's names and syntax against the database --dsn points at"
    elif state.startswith("28"):
        advice = "check the user and password in --dsn (or $DBWORKBENCH_DSN, PG* variables, ~/.pgpass)"
    elif state.startswith(("08", "57", "53")):
        advice = "the server or the connection gave out: check the server, then run it again"
    else:
        advice = "the statement failed on the server: fix it (or its data) and run it again"
    return "\n".join(parts) + "\n" + advice


def _debugging() -> bool:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and _DEBUG in ctx.meta:
        return bool(ctx.meta[_DEBUG])
    return os.environ.get("DBWORKBENCH_DEBUG", "").lower() in ("1", "true", "yes", "on")


def _redact(text: str) -> str:
    """``text`` with the secrets of every target this command opened masked (:meth:`Target.redact`)."""
    ctx = click.get_current_context(silent=True)
    for target in ctx.meta.get(_TARGETS, []) if ctx is not None else []:
        text = target.redact(text)
    return text


def _remember(db: Any) -> Any:
    """Note the workbench's target, so that error messages can be redacted with it, and close
    its session when the command ends (also when the CLI is called from Python)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta.setdefault(_TARGETS, []).append(db.target)
        ctx.call_on_close(db.close)
    return db


def _open(dsn: str | None, allow_writes: bool = False) -> Any:
    """A workbench on ``dsn`` (it connects on first use, after its target is remembered for redaction)."""
    from .workbench import connect

    return _remember(connect(dsn, allow_writes=allow_writes))


# What `show ... --format table` prints by default (csv and json print every column).
TABLE_COLUMNS = {
    "statements": ["query", "calls", "total_exec_ms", "mean_exec_ms", "share_of_total_time", "rows_per_call",
                   "cache_hit_ratio"],
    "tables": ["schema", "table", "n_live_tup", "seq_scan", "seq_tup_read", "idx_scan", "idx_scan_ratio",
               "cache_hit_ratio", "total_bytes"],
    "indexes": ["schema", "table", "index", "columns", "is_unique", "constraint", "idx_scan", "bytes"],
    "settings": ["name", "setting", "unit", "source", "pending_restart"],
    "column-stats": ["schema", "table", "column", "null_frac", "n_distinct", "estimated_distinct", "correlation"],
}


def _print_frame(frame: pd.DataFrame, fmt: str, columns: list[str] | None = None) -> None:
    if fmt == "table" and columns:
        frame = frame[columns]
    if fmt == "table":
        frame = frame.copy()
        for name in frame.columns:
            if frame[name].dtype == "string":
                flat = frame[name].str.replace(r"\s+", " ", regex=True)
                frame[name] = flat.where(flat.str.len() <= 70, flat.str.slice(0, 69) + "…")
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(frame.to_json(orient="records", date_format="iso", default_handler=str))
    else:
        with pd.option_context("display.max_rows", 500, "display.max_columns", 40, "display.width", 250,
                               "display.float_format", "{:,.3f}".format):
            text_columns = [c for c in frame.columns if frame[c].dtype in ("string", "object")]
            left = {c: _left_aligned(frame[c]) for c in text_columns}
            click.echo(frame.to_string(index=False, justify="left", formatters=left))


def _left_aligned(column: pd.Series) -> Callable[[Any], str]:
    width = max([len(str(v)) for v in column] + [len(str(column.name))])
    return lambda value: f"{value!s:<{width}}"


@click.group()
@click.version_option(package_name="dbworkbench")
@click.option("--debug", is_flag=True, envvar="DBWORKBENCH_DEBUG",
              help="On an error, print the traceback too (also: DBWORKBENCH_DEBUG=1).")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """PostgreSQL query performance work: statistics, plans and advice as DataFrames."""
    ctx.meta[_DEBUG] = debug


# -- sandbox ---------------------------------------------------------------------------


@main.group()
def sandbox() -> None:
    """The embedded PostgreSQL 18 with the demo database."""


@sandbox.command("start")
@clean_errors
def sandbox_start() -> None:
    """Start the sandbox (initialise it the first time)."""
    from .sandbox import Sandbox

    sb = Sandbox().start()
    click.echo(f"sandbox running (data directory {sb.pgdata})")
    click.echo(sb.url())


@sandbox.command("stop")
@clean_errors
def sandbox_stop() -> None:
    """Stop the sandbox."""
    from .sandbox import Sandbox

    click.echo("sandbox stopped" if Sandbox().stop() else "sandbox was not running")


@sandbox.command("status")
@clean_errors
def sandbox_status() -> None:
    """Say whether the sandbox runs, and where."""
    from .sandbox import Sandbox

    st = Sandbox().status()
    if st.running:
        click.echo(f"running  pid {st.pid}  data {st.pgdata}  socket {st.socket_dir}  port {st.port}")
    else:
        click.echo(f"stopped  data {st.pgdata}")
        sys.exit(3)


@sandbox.command("url")
@click.option("--database", default="demo", show_default=True)
@clean_errors
def sandbox_url(database: str) -> None:
    """Print the demo database's connection URL (last line), starting the sandbox if needed."""
    from .sandbox import Sandbox

    click.echo(Sandbox().start().url(database))


# -- demo database and workload ------------------------------------------------------


@main.group()
def demo() -> None:
    """The demo blog database (users, posts, comments)."""


@demo.command("load")
@click.option("--scale", type=click.Choice(["tiny", "small", "medium"]), default="small", show_default=True)
@click.option("--replace", is_flag=True, help="Drop and reload the demo tables if they exist.")
@dsn_option
@click.option("--allow-writes", is_flag=True, help="Needed to load into a server that is not the sandbox.")
@clean_errors
def demo_load(scale: str, replace: bool, dsn: str | None, allow_writes: bool) -> None:
    """Create the demo schema and rows (deterministic, skewed like a real site)."""
    from .datasets.demo import check_demo_ownership, demo_is_loaded

    db = _open(dsn, allow_writes=allow_writes) if dsn else _open_sandbox_empty()
    if demo_is_loaded(db.conn) and not replace:
        if dsn:
            check_demo_ownership(db.conn)  # a user's own users/posts/comments are not "the demo"
        click.echo("the demo database is already loaded (use --replace to reload it)")
        return
    result = db.load_demo(scale, replace=replace)
    rows = ", ".join(f"{n:,} {t}" for t, n in result["rows"].items())
    click.echo(f"loaded the {scale} demo ({rows}) in {result['seconds']:.1f} s")


def _open_sandbox_empty() -> Any:
    from .sandbox import Sandbox
    from .target import resolve_target
    from .workbench import Workbench

    return _remember(Workbench(resolve_target(Sandbox())))


def _require_writes(db: Any, what: str) -> None:
    if not db.target.allow_writes:
        raise click.ClickException(
            f"{what} writes, and {db.target.display} is not the sandbox; add --allow-writes to run it there"
        )


@main.group()
def workload() -> None:
    """The demo application's workload (reads, writes and the handbook's anti-patterns)."""


@workload.command("run")
@click.option("--iterations", type=click.IntRange(min=1), default=None, help="Statements to run (default 200).")
@click.option("--seconds", type=click.FloatRange(min=0.1), default=None, help="Run for this long instead.")
@click.option("--seed", type=int, default=0, show_default=True)
@dsn_option
@click.option("--allow-writes", is_flag=True, help="Needed to run it against a server that is not the sandbox.")
@clean_errors
def workload_run(iterations: int | None, seconds: float | None, seed: int, dsn: str | None, allow_writes: bool) -> None:
    """Run the demo workload and print a summary per statement."""
    from .datasets.workload import run_workload

    if iterations and seconds:
        raise click.UsageError("give --iterations or --seconds, not both")
    db = _open(dsn, allow_writes=allow_writes)
    _require_writes(db, "the workload")
    summary = run_workload(db.conn, iterations=iterations, seconds=seconds, seed=seed)
    _print_frame(summary, "table")
    click.echo(f"{int(summary['calls'].sum()):,} statements, {int(summary['errors'].sum()):,} errors, "
               f"{summary['total_ms'].sum() / 1000:.1f} s of execution")


# -- TPC-H for the benchmarks ----------------------------------------------------------------

TPCH_DATABASE = "tpch"  # the sandbox database `tpch load` fills when no --dsn is given


@main.group()
def tpch() -> None:
    """TPC-H for the benchmarks (schema and queries from the shared TPC-H folder, rows from tpchgen-cli)."""


@tpch.command("load")
@click.option("--sf", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Scale factor (1: 6 million lineitem rows, about 1 GB of CSV).")
@click.option("--replace", is_flag=True, help="Drop and reload the TPC-H tables if this loader made them.")
@dsn_option
@click.option("--allow-writes", is_flag=True, help="Needed to load into a server that is not the sandbox.")
@click.option("--tpch-dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The folder with schema.sql and queries/ (default: $DBWORKBENCH_TPCH_DIR, else ../shared/tpch "
                   "beside the repository).")
@clean_errors
def tpch_load(sf: float, replace: bool, dsn: str | None, allow_writes: bool, folder: Path | None) -> None:
    """Create the eight TPC-H tables (no keys or indexes) and load them; without --dsn, the sandbox's tpch database."""
    from .datasets.tpch import load_tpch, tpch_dir, tpch_is_loaded

    db = _open(dsn, allow_writes=allow_writes) if dsn else _open_sandbox_database(TPCH_DATABASE)
    _require_writes(db, "loading TPC-H")
    where = tpch_dir(folder)
    if tpch_is_loaded(db.conn) and not replace:
        click.echo("the TPC-H tables are already loaded (use --replace to reload them)")
        return
    result = load_tpch(db.conn, sf, tpch_dir=where, replace=replace)
    rows = ", ".join(f"{n:,} {t}" for t, n in result["rows"].items())
    click.echo(f"loaded TPC-H SF {sf:g} into database {result['database']!r} ({rows}) in {result['seconds']:.1f} s")
    if not dsn:
        click.echo(f"connect with: dbworkbench sandbox url --database {TPCH_DATABASE}")


def _open_sandbox_database(name: str) -> Any:
    """A workbench on the sandbox's database ``name``, created if missing (the sandbox is ours to change)."""
    from dataclasses import replace

    from psycopg import sql

    from .sandbox import Sandbox
    from .target import resolve_target
    from .workbench import Workbench

    sb = Sandbox().start()
    with psycopg.connect(sb.conninfo("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = resolve_target(sb)
    return _remember(Workbench(replace(target, params={**target.params, "dbname": name})))


# -- collectors ---------------------------------------------------------------------------

COLLECTORS = ["statements", "tables", "indexes", "settings", "column-stats"]


@main.command("show")
@click.argument("what", type=click.Choice(COLLECTORS))
@click.option("--table", default=None, help="For column-stats: one table.")
@click.option("--limit", type=int, default=20, show_default=True, help="Rows to print (0: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@dsn_option
@clean_errors
def show(what: str, table: str | None, limit: int, fmt: str, dsn: str | None) -> None:
    """Print one collector's DataFrame."""
    db = _open(dsn)
    frame = db.column_stats(table, values=False) if what == "column-stats" else getattr(db, what)()
    _print_frame(frame.head(limit) if limit else frame, fmt, TABLE_COLUMNS[what])


# -- health ---------------------------------------------------------------------------------


@main.command("health")
@dsn_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--check", "checks", multiple=True, help="Run only this check (repeatable).")
@click.option("--ram", "ram_gb", type=click.FloatRange(min=0.1), default=None,
              help="The server machine's RAM in GB (default: read on the server where possible).")
@click.option("--storage", type=click.Choice(["ssd", "hdd"]), default="ssd", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Show passing and skipped checks too.")
@click.option("--fail-on", type=click.Choice(["never", "fail", "warn"]), default="never", show_default=True,
              help="Exit with status 2 when a check has this status (or worse), for CI.")
@click.option("--exact-bloat/--no-exact-bloat", default=None,
              help="Measure flagged bloat with pgstattuple, which reads each whole relation (heavy I/O). "
                   "Default: on for the sandbox, off elsewhere.")
@clean_errors
def health_command(dsn: str | None, fmt: str, checks: tuple[str, ...], ram_gb: float | None, storage: str,
                   show_all: bool, fail_on: str, exact_bloat: bool | None) -> None:
    """Run the health checklist: findings with evidence and the SQL that fixes them."""
    from .health import to_markdown

    db = _open(dsn)
    report = db.health(checks=list(checks) or None, ram_bytes=int(ram_gb * 1024**3) if ram_gb else None,
                       storage=storage, exact_bloat=exact_bloat)
    shown = report if show_all or fmt == "json" else report[report["status"].isin(["fail", "warn"])]
    if fmt == "markdown":
        click.echo(to_markdown(shown))
    elif fmt == "json":
        _print_frame(shown, fmt)
    else:
        _print_findings(shown)
    if fmt != "json":
        counts = report["status"].value_counts()
        click.echo(", ".join(f"{counts.get(s, 0)} {s}" for s in ("fail", "warn", "pass", "skip")), err=True)
    bad = {"fail": {"fail"}, "warn": {"fail", "warn"}}.get(fail_on, set())
    if bad & set(report["status"]):
        sys.exit(2)


def _print_findings(report: pd.DataFrame) -> None:
    """One block per finding: the line, the evidence, what to do, the fix (nothing cut short)."""
    for r in report.itertuples(index=False):
        status, severity, recommendation = cast(str, r.status), cast(str, r.severity), cast(str, r.recommendation)
        fix_sql = cast("str | NAType", r.fix_sql)
        click.echo(f"{status.upper():<5} {severity:<8} {r.check}  {r.object}")
        click.echo(f"      evidence: {r.evidence}")
        if recommendation:
            click.echo(f"      do:       {recommendation}")
        if not pd.isna(fix_sql):
            click.echo("      fix:      " + fix_sql.replace("\n", "\n                "))
        click.echo("")


# -- the main job ---------------------------------------------------------------------------


@main.command("lab")
@click.option("--scale", type=click.Choice(["tiny", "small", "medium"]), default="small", show_default=True)
@click.option("--iterations", type=int, default=500, show_default=True, help="Workload statements to run first (0: none).")
@click.option("--notebooks", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to open (default: the repository's notebooks/; from an installed wheel, "
                   "$DBWORKBENCH_HOME/notebooks, where the curated notebooks are copied if missing).")
@click.option("--port", type=int, default=8888, show_default=True)
@click.option("--no-lab", is_flag=True, help="Prepare the sandbox and demo, but don't start JupyterLab.")
@clean_errors
def lab(scale: str, iterations: int, notebooks: Path | None, port: int, no_lab: bool) -> None:
    """Start the sandbox, load the demo, run the workload, open JupyterLab on the notebooks."""
    from .datasets.demo import demo_is_loaded
    from .datasets.workload import run_workload

    folder = _lab_folder(notebooks)
    click.echo(f"notebooks: {folder} ({len(list(folder.glob('*.ipynb')))} notebooks)")
    db = _open_sandbox_empty()
    click.echo(f"sandbox: {db.target.display}")
    if not demo_is_loaded(db.conn):
        db.load_demo(scale)
    if iterations:
        summary = run_workload(db.conn, iterations=iterations)
        click.echo(f"workload: {int(summary['calls'].sum()):,} statements run, {int(summary['errors'].sum()):,} errors")
    click.echo(f"demo database ready: {_sandbox_url()}")
    if no_lab:
        return
    from .report.lab import lab_command

    args, env = lab_command(folder, port)
    os.execve(sys.executable, args, env)  # no news pop-ups (dbworkbench.report.lab)


@main.command("report")
@dsn_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"), show_default=True,
              help="The HTML file to write (one self-contained page that opens offline).")
@click.option("--notebooks", "names", multiple=True, metavar="NAME",
              help="Notebooks to run, in order: 06_report (the default), 01, 03_tables_and_scans, ... or 'all'. Repeatable.")
@click.option("--column-stats", is_flag=True, help="Show the planner's most_common_vals and histograms (they hold real data).")
@click.option("--show-input", is_flag=True, help="Keep the notebooks' code in the page (hidden by default).")
@clean_errors
def report_command(dsn: str | None, out: Path, names: tuple[str, ...], column_stats: bool, show_input: bool) -> None:
    """Run the report notebook (and any others named) against --dsn and write one offline HTML file."""
    from .report import build_report

    chosen = list(names) or ["06_report"]
    click.echo(f"running {', '.join(chosen)} (a progress bar per notebook) ...", err=True)
    result = build_report(dsn, out, chosen, column_stats=column_stats, show_input=show_input, progress=True)
    click.echo(f"wrote {result.path}: {result.bytes / 2**20:.1f} MiB in {result.seconds:.0f} s "
               f"({', '.join(f'{n} {s:.0f} s' for n, s in result.notebook_seconds.items())})")


def _lab_folder(chosen: Path | None) -> Path:
    """The folder JupyterLab opens: the repository's notebooks/ in a checkout; else a folder of the user's
    (``--notebooks``, default ``$DBWORKBENCH_HOME/notebooks``) that gets a copy of each shipped notebook it lacks."""
    import shutil

    from ._paths import home_dir, notebooks_dir

    shipped = notebooks_dir()
    if chosen is None and shipped.name == "notebooks":  # a checkout: open the notebooks in place
        return shipped
    folder = chosen or home_dir() / "notebooks"
    if not shipped.is_dir():
        raise WorkbenchError(f"the curated notebooks are missing from this install ({shipped}); reinstall dbworkbench")
    folder.mkdir(parents=True, exist_ok=True)
    for nb in sorted(shipped.glob("*.ipynb")):
        if not (folder / nb.name).exists():  # never overwrite the user's edited copy
            shutil.copyfile(nb, folder / nb.name)
    return folder


def _sandbox_url() -> str:
    from .sandbox import Sandbox

    return Sandbox().url()


# -- plans ----------------------------------------------------------------------------------


# -- index advice ---------------------------------------------------------------------------


@main.command("advise")
@dsn_option
@click.option("--budget-mb", type=click.FloatRange(min=0), required=True, help="Storage the new indexes may take.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="Statements by total time to serve.")
@click.option("--min-calls", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--max-indexes", type=click.IntRange(min=1), default=None, help="At most this many new indexes.")
@click.option("--min-benefit-pct", type=click.FloatRange(min=0, max=100, max_open=True), default=None,
              help="Each index must save at least this percentage of the workload's estimated cost (default 0.5; 0: any gain).")
@click.option("--method", type=click.Choice(["greedy", "optimum"]), default="greedy", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write NNN_add_advised_indexes.up.sql / .down.sql into this folder.")
@click.option("--log", "log_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Take the workload from this auto_explain server log instead of pg_stat_statements.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@clean_errors
def advise_command(dsn: str | None, budget_mb: float, top: int, min_calls: int, max_indexes: int | None,
                   min_benefit_pct: float | None, method: str,
                   out: Path | None, log_file: Path | None, fmt: str) -> None:
    """Index advice for the workload in pg_stat_statements (or an auto_explain log, --log): the
    indexes worth their space, and the migration."""
    workload = None
    if log_file is not None:
        from .plans import read_auto_explain

        workload = read_auto_explain(log_file, progress=fmt == "table" and sys.stderr.isatty())
    db = _open(dsn)
    advice = db.advise(budget_mb, workload=workload, top=top, min_calls=min_calls, max_indexes=max_indexes,
                       min_benefit=None if min_benefit_pct is None else min_benefit_pct / 100, method=method, progress=fmt == "table" and sys.stderr.isatty())
    if fmt == "json":
        shown = advice.selected.drop(columns=["index"])
        click.echo(json.dumps({"relative_cost": advice.relative_cost, "selected": _records(shown),
                               "messages": advice.messages}, ensure_ascii=False))
    else:
        click.echo(repr(advice))
        for message in advice.messages:
            click.echo(f"note: {message}")
        if len(advice.selected):
            click.echo(advice.text())
        if len(advice.drops):
            click.echo("\nExisting indexes to consider dropping:")
            _print_findings(advice.drops)
    if out is not None and len(advice.selected):
        up, down = advice.write_migration(out)
        click.echo(f"wrote {up} and {down}", err=True)


def _explain_log(path: Path, fmt: str, top: int) -> None:
    from .plans import read_auto_explain

    log = read_auto_explain(path, progress=fmt == "text" and sys.stderr.isatty())
    slow = log.slowest(top)
    if fmt == "json":
        unreadable = log.unreadable.astype({"logged_at": "string"})
        click.echo(json.dumps({"entries": log.entries, "plans": _records(slow), "unreadable": _records(unreadable)},
                              ensure_ascii=False))
        return
    click.echo(f"{log.entries:,} auto_explain entries in {path}: {len(log):,} read, {len(log.unreadable):,} unreadable")
    for r in log.unreadable.head(5).to_dict("records"):
        click.echo(f"  unreadable entry at line {r['line']}: {r['error']}")
    if not len(slow):
        click.echo("no plans: is auto_explain loaded, with auto_explain.log_min_duration set?")
        return
    click.echo(f"\nSlowest {len(slow)} plans (`dbworkbench explain FILE` on one entry shows its tree):")
    _print_frame(slow, "table", ["plan_id", "logged_at", "duration_ms", "nodes", "top_insight", "query"])


def _records(frame: pd.DataFrame) -> Any:
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


_EXPLAIN_FLAGS = {"analyze=False": "--no-analyze", "allow_writes=True": "--allow-writes",
                  "allow_side_effects=True": "--allow-side-effects"}


@main.command("explain")
@click.argument("source", type=click.File("rb"), required=False, metavar="FILE|-")
@click.option("--sql", "sql_text", default=None, help="EXPLAIN this statement on the database instead of reading a plan.")
@dsn_option
@click.option("--no-analyze", is_flag=True, help="With --sql: the planner's estimate only; the statement is not run.")
@click.option("--allow-writes", is_flag=True,
              help="With --sql on a server that is not the sandbox: EXPLAIN ANALYZE a writing statement (rolled back).")
@click.option("--allow-side-effects", is_flag=True,
              help="With --sql: run calls whose effects a rollback does not undo (nextval, advisory locks, VOLATILE functions).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--top", type=click.IntRange(min=1), default=5, show_default=True,
              help="Nodes to list by exclusive time (with --log: plans to list by duration).")
@click.option("--log", "log_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read every plan of an auto_explain log and list the slowest with their top insight.")
@clean_errors
def explain_command(source: Any, sql_text: str | None, dsn: str | None, no_analyze: bool, allow_writes: bool,
                    allow_side_effects: bool, fmt: str, top: int, log_file: Path | None) -> None:
    """Read a plan and print its tree, the nodes that take the most time, and the insights.

    FILE holds EXPLAIN output in any format (TEXT as psql prints it, JSON, YAML, XML, an
    auto_explain log line); - reads it from stdin. With --sql the statement is run through
    EXPLAIN (ANALYZE, BUFFERS) instead, inside a transaction that is rolled back.
    --format json prints {"nodes": [...], "insights": [...]} (missing values are null).
    With --log FILE, every auto_explain plan in the server log FILE is read and the --top
    slowest are listed with their most severe insight (--format json: {"plans": [...]}).
    """

    from .plans import parse_plan
    from .plans.figure import node_labels

    if log_file is not None:
        if source is not None or sql_text is not None or no_analyze or allow_writes or allow_side_effects:
            raise click.UsageError("--log FILE reads a server log: give no plan FILE, --sql or its flags with it")
        _explain_log(log_file, fmt, top)
        return
    if (source is None) == (sql_text is None):
        raise click.UsageError('give a plan FILE (or - to read stdin), or --sql "SELECT ..."')
    if (no_analyze or allow_writes or allow_side_effects) and sql_text is None:
        raise click.UsageError("--no-analyze, --allow-writes and --allow-side-effects go with --sql")
    if sql_text is not None:
        try:
            plan = _open(dsn, allow_writes=allow_writes).explain(
                sql_text, analyze=not no_analyze, allow_side_effects=allow_side_effects
            )
        except UnsafeStatement as err:  # name the flags, not the library's keywords
            message = str(err)
            for keyword, flag in _EXPLAIN_FLAGS.items():
                message = message.replace(keyword, flag)
            raise UnsafeStatement(message) from None
    else:
        plan = parse_plan(source.read().decode("utf-8-sig", errors="replace"))
    insights = plan.insights()
    if fmt == "json":
        click.echo(json.dumps({"nodes": _records(plan.nodes), "insights": _records(insights)}, ensure_ascii=False))
        return
    nodes = plan.nodes
    facts = [f"{len(nodes):,} nodes"]
    if plan.planning_ms is not None:
        facts.append(f"planning {plan.planning_ms:,.3f} ms")
    if plan.execution_ms is not None:
        facts.append(f"execution {plan.execution_ms:,.3f} ms")
    click.echo(plan.text())
    click.echo("")
    click.echo("Plan: " + ", ".join(facts))
    timed = bool(nodes["exclusive_ms"].notna().any())
    by = "exclusive_ms" if timed else "total_cost"
    ranked = nodes.assign(operation=pd.array(node_labels(nodes), dtype="string"))
    ranked = ranked.sort_values(by, ascending=False, na_position="last", kind="stable").head(top)
    click.echo(f"\nTop {len(ranked)} nodes by " + ("exclusive time:" if timed else "total cost (no ANALYZE):"))
    columns = (["node_id", "operation", "actual_rows", "plan_rows", "actual_loops", "exclusive_ms", "exclusive_pct"]
               if timed else ["node_id", "operation", "plan_rows", "total_cost"])
    _print_frame(ranked, "table", columns)
    click.echo("\nInsights:")
    if insights.empty:
        click.echo("  none")
    for r in insights.to_dict("records"):
        where = "plan" if pd.isna(r.get("node_id")) else f"#{int(r['node_id'])}"
        click.echo(f"  {str(r.get('severity')).upper():<8} {where:<6} {r.get('message')}")
        if not pd.isna(r.get("suggestion", pd.NA)):
            click.echo(f"  {'':<8} {'':<6} do: {r['suggestion']}")


@main.command("lint")
@click.argument("source", type=click.File("rb"), metavar="FILE|-")
@click.option("--catalog", is_flag=True,
              help="Also read the database's catalog (indexes, column types, NOT NULL, table sizes) to sharpen or "
                   "silence findings: --dsn, $DBWORKBENCH_DSN, PG* variables, else the sandbox. --dsn implies it.")
@dsn_option
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["never", "error", "warning", "info"]), default="warning", show_default=True,
              help="Exit with status 2 when a finding has this severity or worse (error: the SQL could not be read).")
@click.pass_context
@clean_errors
def lint_command(ctx: click.Context, source: Any, catalog: bool, dsn: str | None, fmt: str, fail_on: str) -> None:
    """Lint the SQL in FILE (- reads stdin) for performance anti-patterns: one block per finding
    with its line and column, the fix, and the rewritten statement where the fix is mechanical.

    Offline unless --catalog or --dsn is given. Exit status: 0 when no finding reaches
    --fail-on (default: warning), 2 when one does, 1 on other errors.
    --format json prints the findings as records (the columns of dbworkbench.lint).
    """
    from .sqltools import SEVERITIES, lint

    sql = source.read().decode("utf-8-sig", errors="replace")
    on_command_line = ctx.get_parameter_source("dsn") == click.core.ParameterSource.COMMANDLINE
    found = _open(dsn).lint(sql) if catalog or on_command_line else lint(sql)
    if fmt != "text":
        _print_frame(found, fmt)
    else:
        for r in found.to_dict("records"):
            click.echo(f"{str(r['severity']).upper():<8} {r['code']}  {_line_col(sql, r['start'])}")
            click.echo(f"         {r['message']}")
            click.echo(f"         do: {r['suggestion']}")
            if not pd.isna(r["rewrite"]):
                click.echo("         rewrite:\n           " + str(r["rewrite"]).replace("\n", "\n           "))
            click.echo("")
        counts = found["severity"].value_counts()
        click.echo(", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES), err=True)
    worst = {"never": 0, "error": 1, "warning": 2, "info": 3}[fail_on]
    if any(s in SEVERITIES[:worst] for s in found["severity"]):
        sys.exit(2)


def _line_col(text: str, offset: Any) -> str:
    """'line L, column C' (1-based) of a 0-based offset, or 'position unknown'."""
    if offset is None or pd.isna(offset):
        return "position unknown"
    before = text[: int(offset)]
    return f"line {before.count(chr(10)) + 1}, column {int(offset) - before.rfind(chr(10))}"


_COMPARE_FLAGS = {"allow_writes=True": "--allow-writes", "allow_side_effects=True": "--allow-side-effects"}


@main.command("compare")
@click.argument("file_a", type=click.File("rb"), metavar="A.sql")
@click.argument("file_b", type=click.File("rb"), metavar="B.sql")
@dsn_option
@click.option("--runs", type=click.IntRange(min=1), default=30, show_default=True, help="Timed runs of each statement.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True, help="Untimed runs of each first.")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Time budget for all the runs; what was measured by then is reported.")
@click.option("--confidence", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=0.95,
              show_default=True)
@click.option("--allow-writes", is_flag=True,
              help="On a server that is not the sandbox: run writing statements (each run rolled back).")
@click.option("--allow-side-effects", is_flag=True,
              help="Run calls whose effects a rollback does not undo (nextval, advisory locks, VOLATILE functions).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@clean_errors
def compare_command(file_a: Any, file_b: Any, dsn: str | None, runs: int, warmup: int, max_seconds: float,
                    confidence: float, allow_writes: bool, allow_side_effects: bool, fmt: str) -> None:
    """Time the statement in B.sql against the one in A.sql and check that B returns A's rows.

    A and B run interleaved (ABBA...) after warm-ups, each run in a READ ONLY transaction
    (writes, with --allow-writes, rolled back), within --max-seconds. Prints the summary per
    statement (median, p95, IQR, mean with its interval), the ratio B/A with its bootstrap
    interval, the rank test's p-value, the verdict, and the result check with the first
    differing rows. Either file may be - (stdin). Exit status 3 when B returns different rows.
    --format json prints {"verdict", "verdict_text", "summary", "same_results"}.
    """
    import warnings

    from .timing import WrongResults

    a, b = (f.read().decode("utf-8-sig", errors="replace") for f in (file_a, file_b))
    try:
        with warnings.catch_warnings():  # the verdict line says it, and the exit status
            warnings.simplefilter("ignore", WrongResults)
            cmp = _open(dsn, allow_writes=allow_writes).compare(
                a, b, runs=runs, warmup=warmup, max_seconds=max_seconds, confidence=confidence,
                progress=sys.stderr.isatty(), allow_side_effects=allow_side_effects)
    except UnsafeStatement as err:  # name the flags, not the library's keywords
        message = str(err)
        if "parameter(s) ($1" in message:
            message = ("a statement uses $n parameters and the command line passes no values: write the values "
                       "into A.sql and B.sql, or call db.compare(sql_a, sql_b, params=[...]) in Python; nothing was sent")
        for keyword, flag in _COMPARE_FLAGS.items():
            message = message.replace(keyword, flag)
        raise UnsafeStatement(message) from None
    result = cmp.checked_results
    if fmt == "json":
        click.echo(json.dumps({
            "verdict": cmp.verdict, "verdict_text": cmp.verdict_text, "summary": _records(cmp.summary),
            "same_results": None if result is None else {
                "same": result.same, "reason": result.reason, "rows_a": result.rows_a, "rows_b": result.rows_b,
                "first_differences": _records(result.first_differences)},
        }, ensure_ascii=False))
    else:
        _print_frame(cmp.summary, "table")
        click.echo("")
        click.echo(cmp.verdict_text)
        if result is not None and not result.same:
            _print_frame(result.first_differences.astype({c: "string" for c in result.first_differences.columns
                                                          if result.first_differences[c].dtype == object}), "table")
    if result is not None and not result.same:
        sys.exit(3)
