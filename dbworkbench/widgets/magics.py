"""IPython cell magics: ``%%explain``, ``%%lint`` and ``%%lab``.

Load them with ``%load_ext dbworkbench``. Each takes the cell's SQL, runs it through the
workbench (so through the safety gate) and returns its result, which the notebook shows and
keeps in ``_`` for the next cell:

- ``%%explain`` → the :class:`~dbworkbench.Plan` (EXPLAIN ANALYZE, rolled back; ``--estimate``
  for the plan without running it), shown with its insights;
- ``%%lint`` → the findings DataFrame (``code, severity, message, start, end, suggestion, rewrite``);
- ``%%lab`` → a :class:`~dbworkbench.widgets.QueryLab` on the cell's SQL.

The connection: ``--dsn DSN`` (``--dsn "$dsn"`` takes a notebook variable), or ``--db NAME`` (a
Workbench the notebook already holds), else the default target (:func:`dbworkbench.connect`:
``$DBWORKBENCH_DSN``, the ``PG*`` environment, or the sandbox). Workbenches opened for a DSN are
kept and reused by later cells. ``--params EXPR``: a Python expression for the ``$1``, ``$2`` values.

Loading the extension also calls :func:`dbworkbench.safe_tables`, so the findings tables show
query text as text (no ``$1 … $2`` typeset as math).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..errors import WorkbenchError

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    from ..plans import Plan
    from ..workbench import Workbench
    from .querylab import QueryLab

__all__ = ["WorkbenchMagics", "load_ipython_extension"]


@magics_class
class WorkbenchMagics(Magics):
    """The dbworkbench cell magics (see the module doc)."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self._workbenches: dict[str | None, Workbench] = {}

    @magic_arguments()
    @argument("--dsn", help="a libpq conninfo or URL; default: the default target (dbworkbench.connect())")
    @argument("--db", help="the name of a Workbench variable in the notebook to use")
    @argument("--params", help="a Python expression giving the values of $1, $2, ... (a list)")
    @argument("--estimate", action="store_true", help="EXPLAIN without ANALYZE: the plan, not run")
    @cell_magic
    def explain(self, line: str, cell: str) -> Plan:
        """EXPLAIN the cell's SQL: the Plan, shown with its insights and returned (``_``).

        ``%%explain [--dsn DSN | --db NAME] [--params EXPR] [--estimate]``
        """
        args = parse_argstring(self.explain, line)
        db = self._workbench(args)
        return db.explain(_statement(cell), self._params(args), analyze=not args.estimate)

    @magic_arguments()
    @argument("--dsn", help="a libpq conninfo or URL: lint with that database's catalog")
    @argument("--db", help="the name of a Workbench variable in the notebook to use")
    @argument("--offline", action="store_true", help="no server: dbworkbench.lint(sql), from the SQL alone")
    @cell_magic
    def lint(self, line: str, cell: str) -> pd.DataFrame:
        """Lint the cell's SQL: the findings DataFrame, shown and returned (``_``).

        ``%%lint [--dsn DSN | --db NAME | --offline]``
        """
        args = parse_argstring(self.lint, line)
        if args.offline:
            import dbworkbench

            return dbworkbench.lint(_statement(cell))
        return self._workbench(args).lint(_statement(cell))

    @magic_arguments()
    @argument("--dsn", help="a libpq conninfo or URL; default: the default target (dbworkbench.connect())")
    @argument("--db", help="the name of a Workbench variable in the notebook to use")
    @argument("--params", help="a Python expression giving the values of $1, $2, ... (a list)")
    @argument("--runs", type=int, help="timed runs per variant for Compare")
    @argument("--max-seconds", type=float, help="time budget of Compare, seconds")
    @cell_magic
    def lab(self, line: str, cell: str) -> QueryLab:
        """Open the QueryLab on the cell's SQL: the widget, shown and returned (``_``).

        ``%%lab [--dsn DSN | --db NAME] [--params EXPR] [--runs N] [--max-seconds S]``
        """
        from .querylab import QueryLab

        args = parse_argstring(self.lab, line)
        return QueryLab(self._workbench(args), _statement(cell), params=self._params(args), runs=args.runs,
                        max_seconds=args.max_seconds)

    def close(self) -> None:
        """Close the workbenches the magics opened (the next cell opens them again)."""
        for db in self._workbenches.values():
            db.close()
        self._workbenches.clear()

    # -- connection and arguments ---------------------------------------------------------------

    def _workbench(self, args: Any) -> Workbench:
        """The Workbench for ``--db`` / ``--dsn`` / the default target; opened once per DSN."""
        from ..workbench import Workbench, connect

        if args.db is not None and args.dsn is not None:
            raise WorkbenchError("give --dsn or --db, not both")
        if args.db is not None:
            found = self.shell.user_ns.get(args.db) if self.shell is not None else None
            if not isinstance(found, Workbench):
                raise WorkbenchError(f"--db {args.db}: no Workbench of that name in this notebook (db = dbworkbench.connect(...) first)")
            return found
        dsn = _unquoted(args.dsn)
        dsn = None if dsn in (None, "", "None") else dsn  # '--dsn "$dsn"' with dsn = None reads "None"
        db = self._workbenches.get(dsn)
        if db is None:
            db = self._workbenches[dsn] = connect(dsn)
        return db

    def _params(self, args: Any) -> list[Any] | None:
        if args.params is None:
            return None
        assert self.shell is not None
        values = self.shell.ev(args.params)
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            raise WorkbenchError(f"--params {args.params}: give a list or tuple of values for $1, $2, ..., e.g. --params \"[42]\"")
        return list(values)


def _unquoted(value: str | None) -> str | None:
    """An option's value without the quotes IPython's argument splitter keeps ('--dsn "host=h dbname=d"')."""
    if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _statement(cell: str) -> str:
    sql = cell.strip()
    if not sql:
        raise WorkbenchError("the cell is empty: write one SQL statement below the magic's line")
    return sql


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics (``%load_ext dbworkbench``) and make tables show query text as text."""
    from .._escape import safe_tables

    ipython.register_magics(WorkbenchMagics)
    safe_tables()
