"""TPC-H for the benchmarks: the eight tables, rows from ``tpchgen-cli``, and the 22 queries.

The schema (``schema.sql``, tables without keys or indexes) and the queries
(``queries/q1.sql`` ... ``q22.sql``) are read from the project's shared TPC-H folder
(``../shared/tpch`` beside the repository, ``$DBWORKBENCH_TPCH_DIR`` or ``tpch_dir=``);
they are not copied into the package. The rows come from the ``tpchgen-cli`` package
(``pip install 'dbworkbench[bench]'``), written as CSV to a temporary folder and copied in.

>>> import psycopg                                                    # doctest: +SKIP
>>> conn = psycopg.connect("dbname=scratch", autocommit=True)         # doctest: +SKIP
>>> load_tpch(conn, 0.01, progress=False)["rows"]["lineitem"]         # doctest: +SKIP
60175
>>> sorted(tpch_queries())[:3]                                        # doctest: +SKIP
[1, 3, 4]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from tqdm.auto import tqdm

from ..errors import WorkbenchError
from ..guard import split_statements
from .demo import _current_schema as _demo_current_schema
from .demo import _Object
from .demo import _present as _demo_present

__all__ = ["EXCLUDED", "MARK", "TABLES", "generate_tpch", "load_tpch", "tpch_dir", "tpch_is_loaded",
           "tpch_queries"]

#: The eight tables, in load order (small first).
TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")

#: Queries index-selection studies leave out (Kossmann et al., PVLDB 2020): their costs
#: without indexes dominate the workload's sum by orders of magnitude.
EXCLUDED = (2, 17, 20)

#: How the loader marks what it creates: each table gets a comment starting with this.
#: ``replace=True`` drops only marked tables; a user's own ``orders`` table stops the load.
MARK = "dbworkbench tpch"

INSTALL_HINT = "pip install 'dbworkbench[bench]' (or: pip install tpchgen-cli)"

_LOAD_SETTINGS = {
    "statement_timeout": "0",
    "lock_timeout": "0",
    "maintenance_work_mem": "512MB",
    "synchronous_commit": "off",
}
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+([a-z_]+)\s*\(", re.IGNORECASE)
_COPY_CHUNK = 1 << 20


def tpch_dir(path: str | Path | None = None) -> Path:
    """The shared TPC-H folder: ``path``, else ``$DBWORKBENCH_TPCH_DIR``, else ``../shared/tpch`` beside the repository.

    Raises :class:`WorkbenchError` (saying where it looked) when it holds no ``schema.sql`` and ``queries/``.

    >>> (tpch_dir() / "schema.sql").exists()                          # doctest: +SKIP
    True
    """
    if path is not None:
        candidates = [Path(path).expanduser()]
    elif os.environ.get("DBWORKBENCH_TPCH_DIR"):
        candidates = [Path(os.environ["DBWORKBENCH_TPCH_DIR"]).expanduser()]
    else:
        repo = Path(__file__).resolve().parents[2]
        candidates = [repo.parent / "shared" / "tpch", Path.cwd().parent / "shared" / "tpch"]
    for folder in candidates:
        if (folder / "schema.sql").is_file() and (folder / "queries").is_dir():
            return folder.resolve()
    raise WorkbenchError(
        f"no TPC-H schema and queries in {' or '.join(str(c) for c in candidates)} (a folder with schema.sql and "
        "queries/q1.sql ... q22.sql); pass its path with --tpch-dir (tpch_dir= in Python) "
        "or set $DBWORKBENCH_TPCH_DIR"
    )


def tpch_queries(path: str | Path | None = None, *, exclude: Iterable[int] = EXCLUDED) -> dict[int, str]:
    """The TPC-H queries by number (without a trailing semicolon), leaving out ``exclude`` (Q2, Q17, Q20).

    >>> len(tpch_queries())                                           # doctest: +SKIP
    19
    """
    folder = tpch_dir(path) / "queries"
    skip = set(exclude)
    queries: dict[int, str] = {}
    for file in folder.glob("q*.sql"):
        if not (m := re.fullmatch(r"q(\d+)\.sql", file.name)) or int(m.group(1)) in skip:
            continue
        text = file.read_text(encoding="utf-8").strip()
        queries[int(m.group(1))] = text[:-1].rstrip() if text.endswith(";") else text
    if not queries:
        raise WorkbenchError(f"no q<N>.sql files in {folder}; pass the TPC-H folder with --tpch-dir")
    return dict(sorted(queries.items()))


def tpch_is_loaded(conn: psycopg.Connection[Any]) -> bool:
    """Whether all eight TPC-H tables exist, made by :func:`load_tpch`, in the connection's current schema.

    >>> tpch_is_loaded(conn)                                          # doctest: +SKIP
    True
    """
    present = _present(conn, _current_schema(conn))
    return len(present) == len(TABLES) and all(o.marked and o.kind == "table" for o in present)


def generate_tpch(sf: float, out_dir: str | Path, *, quiet: bool = True) -> dict[str, Path]:
    """Write the TPC-H rows at scale factor ``sf`` as CSV files into ``out_dir`` with ``tpchgen-cli``.

    Returns table -> file. Raises :class:`WorkbenchError` saying what to install when
    ``tpchgen-cli`` is missing, or what it printed when it fails.

    >>> generate_tpch(0.01, "/tmp/tpch")["region"].name               # doctest: +SKIP
    'region.csv'
    """
    if not sf > 0:
        raise WorkbenchError(f"the scale factor must be above 0 (got {sf}); 1 gives 6 million lineitem rows")
    exe = _tpchgen()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    args = [exe, "csv", "-s", _sf_text(sf), "--output-dir", str(out), "--overwrite", *(["--quiet"] if quiet else [])]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()[-800:]
        raise WorkbenchError(f"tpchgen-cli failed (exit {done.returncode}): {said}; check the scale factor and "
                             f"free space in {out}, and that tpchgen-cli is 4.0 or later ({INSTALL_HINT})")
    files = {t: out / f"{t}.csv" for t in TABLES}
    missing = [t for t, f in files.items() if not f.is_file()]
    if missing:
        raise WorkbenchError(f"tpchgen-cli wrote no CSV for {', '.join(missing)} in {out}; "
                             f"upgrade it ({INSTALL_HINT})")
    return files


def load_tpch(
    conn: psycopg.Connection[Any],
    sf: float = 1.0,
    *,
    tpch_dir: str | Path | None = None,
    replace: bool = False,
    progress: bool = True,
    work_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Create the eight TPC-H tables (no keys, no indexes) in the connection's current schema and fill them.

    ``conn`` is an autocommit connection that may create tables (the caller decides
    whether writing there is allowed: ``dbworkbench tpch load`` asks for the sandbox or
    ``--allow-writes``). Every table gets a comment starting with :data:`MARK`. When the
    tables exist already, ``replace=True`` drops them first (only if all carry the mark),
    otherwise this raises :class:`WorkbenchError`. It never drops what it did not create:
    a table (or view, ...) of one of the eight names without the mark, or a user's
    object depending on a TPC-H table, stops it before anything changes.

    The rows are generated first (``tpchgen-cli``, into ``work_dir`` or a temporary
    folder that is removed afterwards); then one transaction creates, marks, copies
    (``COPY ... FREEZE``) and analyses the tables: it loads everything or changes nothing.

    Returns ``sf``, ``rows`` (table -> rows), ``bytes`` (table -> CSV bytes), ``seconds``,
    ``step_seconds`` (generate, schema, copy, analyze), ``database`` and ``schema``.

    >>> load_tpch(conn, 0.01, progress=False)["rows"]["region"]       # doctest: +SKIP
    5
    """
    if not conn.autocommit:
        raise WorkbenchError("load_tpch needs an autocommit connection: psycopg.connect(..., autocommit=True)")
    folder = _resolve_dir(tpch_dir)
    ddl = _schema_statements(folder)
    schema = _current_schema(conn)
    present = _present(conn, schema)
    _refuse_foreign(conn, schema, present)
    if present and not replace:
        raise WorkbenchError(
            f"the TPC-H tables already exist in database {conn.info.dbname!r} (schema {schema!r}); pass "
            "replace=True (dbworkbench tpch load --replace) to drop and reload them"
        )
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dwb-tpch-", dir=work_dir) as tmp:
        files = generate_tpch(sf, tmp)
        timings["generate"] = round(time.perf_counter() - started, 3)
        sizes = {t: files[t].stat().st_size for t in TABLES}
        rows: dict[str, int] = {}
        with conn.transaction():
            for name, value in _LOAD_SETTINGS.items():
                conn.execute("SELECT set_config(%s, %s, true)", [name, value])
            mark = time.perf_counter()
            if present:
                _drop(conn, schema, present)
            for stmt in ddl:
                conn.execute(stmt)
            _mark(conn, schema, sf, folder)
            timings["schema"] = round(time.perf_counter() - mark, 3)
            mark = time.perf_counter()
            with tqdm(total=sum(sizes.values()), desc=f"TPC-H SF {_sf_text(sf)}", unit="B", unit_scale=True,
                      disable=not progress) as bar:
                for table in TABLES:
                    bar.set_postfix_str(table)
                    rows[table] = _copy(conn, schema, table, files[table], bar)
            timings["copy"] = round(time.perf_counter() - mark, 3)
            mark = time.perf_counter()
            conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(sql.Identifier(schema, t) for t in TABLES)))
            timings["analyze"] = round(time.perf_counter() - mark, 3)
    return {
        "sf": sf,
        "rows": rows,
        "bytes": sizes,
        "seconds": round(time.perf_counter() - started, 2),
        "step_seconds": timings,
        "database": conn.info.dbname,
        "schema": schema,
    }


# -- internals ------------------------------------------------------------------------------


def _tpchgen() -> str:
    """The ``tpchgen-cli`` executable: on PATH, or beside this Python (a virtualenv not activated)."""
    found = shutil.which("tpchgen-cli") or shutil.which("tpchgen-cli", path=str(Path(sys.executable).parent))
    if not found:
        raise WorkbenchError(f"TPC-H data comes from the tpchgen-cli package, which is not installed: {INSTALL_HINT}")
    return found


def _sf_text(sf: float) -> str:
    return f"{sf:g}"


def _resolve_dir(path: str | Path | None) -> Path:
    """:func:`tpch_dir` under another name (``load_tpch``'s keyword hides it there)."""
    return tpch_dir(path)


def _schema_statements(folder: Path) -> list[str]:
    """schema.sql's statements; each must create one of the eight tables (nothing else is run)."""
    chunks = split_statements((folder / "schema.sql").read_text(encoding="utf-8"))
    made = []
    for stmt in chunks:
        m = _CREATE_TABLE.match(re.sub(r"^\s*--[^\n]*\n", "", stmt, flags=re.MULTILINE))
        if not m or m.group(1).lower() not in TABLES:
            raise WorkbenchError(f"{folder / 'schema.sql'} holds a statement that creates none of the TPC-H tables "
                                 f"({stmt[:60]!r}...); point --tpch-dir at the project's TPC-H folder")
        made.append(m.group(1).lower())
    if sorted(made) != sorted(TABLES):
        raise WorkbenchError(f"{folder / 'schema.sql'} does not create the eight TPC-H tables once each "
                             f"(it creates {', '.join(made) or 'none'}); point --tpch-dir at the project's TPC-H folder")
    return chunks


def _current_schema(conn: psycopg.Connection[Any]) -> str:
    return _demo_current_schema(conn, "the TPC-H tables")


def _present(conn: psycopg.Connection[Any], schema: str) -> list[_Object]:
    """Relations in ``schema`` under the TPC-H names, with their kind and whether they carry the mark."""
    return _demo_present(conn, schema, tables=TABLES, types=(), functions=(), mark=MARK)


def _refuse_foreign(conn: psycopg.Connection[Any], schema: str, present: list[_Object]) -> None:
    foreign = [o for o in present if not o.marked or o.kind != "table"]
    if not foreign:
        return
    names = ", ".join(f"{o.kind} {schema}.{o.name}" for o in foreign)
    raise WorkbenchError(
        f"database {conn.info.dbname!r} already has {names}, not created by the TPC-H loader (no {MARK!r} comment "
        "on it); nothing was dropped or changed. Load TPC-H into an empty database (dbworkbench tpch load "
        "--dsn ...) or another schema (SET search_path), or drop those objects yourself if you mean to lose them."
    )


def _mark(conn: psycopg.Connection[Any], schema: str, sf: float, folder: Path) -> None:
    text = sql.Literal(f"{MARK} (SF {_sf_text(sf)}): created by dbworkbench's load_tpch from {folder}/schema.sql; "
                       "dbworkbench tpch load --replace drops and reloads it")
    for table in TABLES:
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(sql.Identifier(schema, table), text))


def _drop(conn: psycopg.Connection[Any], schema: str, present: list[_Object]) -> None:
    """Drop the (marked) TPC-H tables, without CASCADE: a user's view on one stops it."""
    try:
        conn.execute(sql.SQL("DROP TABLE {}").format(
            sql.SQL(", ").join(sql.Identifier(schema, o.name) for o in present)))
    except psycopg.errors.DependentObjectsStillExist as err:
        detail = (err.diag.message_detail or "").replace("\n", "; ")
        raise WorkbenchError(
            f"the TPC-H tables in database {conn.info.dbname!r} have dependents that are not the loader's "
            f"({detail or err.diag.message_primary}); nothing was dropped or changed. Drop or move those objects "
            "yourself, or load TPC-H into another database (dbworkbench tpch load --dsn ...)."
        ) from None


def _copy(conn: psycopg.Connection[Any], schema: str, table: str, file: Path, bar: Any) -> int:
    """COPY one CSV file (its header names the columns) into ``table``; the rows copied."""
    with open(file, "rb") as src:
        header = src.readline().decode("utf-8").strip()
        columns = [c.strip() for c in header.split(",") if c.strip()]
        bar.update(len(header) + 1)
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, FREEZE true)").format(
            sql.Identifier(schema, table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        with conn.cursor() as cur:
            with cur.copy(statement) as copy:
                while chunk := src.read(_COPY_CHUNK):
                    copy.write(chunk)
                    bar.update(len(chunk))
            return cur.rowcount
