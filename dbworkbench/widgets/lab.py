"""The QueryLab's logic, without a browser: two statements, their lint findings, runs, comparisons, history.

:class:`Lab` holds what the :class:`~dbworkbench.widgets.QueryLab` widget shows and does what
its buttons do; the widget only draws it. Tests and scripts drive it directly:

>>> lab = Lab(db, "SELECT * FROM users WHERE lower(email) = 'a@b.c'")  # doctest: +SKIP
>>> lab.lint(); lab.apply(0)          # the first finding's rewrite into variant B  # doctest: +SKIP
>>> cmp = lab.compare(runs=20)        # timed, interleaved, same rows checked  # doctest: +SKIP
>>> lab.history                       # doctest: +SKIP

Every statement goes through the workbench (``db.lint``, ``db.explain``, ``db.compare``), so
through the safety gate; nothing here sends SQL itself. One long operation at a time: the
workbench holds one connection, and a second :meth:`Lab.compare` while one runs raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import WorkbenchError
from ..frames import empty_frame

if TYPE_CHECKING:
    from ..plans import Plan
    from ..timing import Comparison
    from ..workbench import Workbench

__all__ = ["HISTORY_COLUMNS", "Lab", "LabBusy"]

# lab.history: one row per variant run or compared (documented in Lab.history)
HISTORY_COLUMNS: dict[str, str] = {
    "variant": "string",
    "sql": "string",
    "params": "object",
    "action": "string",
    "runs": "Int64",
    "median_ms": "Float64",
    "baseline_ms": "Float64",
    "ratio": "Float64",
    "verdict": "string",
    "same_results": "boolean",
    "stopped": "boolean",
    "at": "datetime64[ns, UTC]",
}

Progress = Callable[[int, int], None]  # (runs done, runs planned)


class LabBusy(WorkbenchError):
    """A run or comparison is still going; wait for it, or stop it with ``lab.stop()``."""


@dataclass
class _Step:
    """What one call to :meth:`Lab.run` or :meth:`Lab.compare` is doing, for the view's status line."""

    action: str
    done: int = 0
    planned: int = 0


class Lab:
    """Variant A (the statement as it is) and variant B (a rewrite), on one workbench.

    ``db``: a :class:`~dbworkbench.Workbench`. ``sql``: variant A. ``rewrite``: variant B to
    start with (empty: apply a lint rewrite with :meth:`apply`, or set ``lab.sql_b``).
    ``params``: values for ``$1``, ``$2``, … used by both variants. ``runs``, ``warmup`` and
    ``max_seconds`` go to ``db.compare`` (None: its defaults).
    """

    def __init__(
        self,
        db: Workbench,
        sql: str,
        rewrite: str = "",
        *,
        params: Sequence[Any] | None = None,
        runs: int | None = None,
        warmup: int | None = None,
        max_seconds: float | None = None,
    ) -> None:
        if not isinstance(sql, str) or not sql.strip():
            raise ValueError("QueryLab needs a statement: Lab(db, 'SELECT …')")
        self.db = db
        self.sql_a = sql
        self.sql_b = rewrite
        self.params = params
        self.runs, self.warmup, self.max_seconds = runs, warmup, max_seconds
        self.findings: pd.DataFrame | None = None
        self.plans: dict[str, Plan] = {}
        self.comparison: Comparison | None = None  # the last one
        self.error: BaseException | None = None
        self.step: _Step | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []
        self._names: dict[str, str] = {}

    # -- lint and rewrites ---------------------------------------------------------------------

    def lint(self, which: str = "a") -> pd.DataFrame:
        """Lint variant ``which`` ("a" or "b") with ``db.lint`` (the catalog sharpens the findings);
        keeps and returns the findings (columns ``code, severity, message, start, end, suggestion,
        rewrite``)."""
        found = self.db.lint(self._sql(which))
        self.findings = found.reset_index(drop=True)
        return self.findings

    def rewrites(self) -> pd.DataFrame:
        """The findings that carry a mechanical rewrite (their index is what :meth:`apply` takes)."""
        if self.findings is None:
            self.lint()
        assert self.findings is not None
        return self.findings[self.findings["rewrite"].notna()]

    def apply(self, finding: int) -> str:
        """Put finding ``finding``'s rewrite (its row in :attr:`findings`) into variant B; returns it."""
        if self.findings is None:
            self.lint()
        assert self.findings is not None
        if not 0 <= finding < len(self.findings):
            raise IndexError(f"there are {len(self.findings)} findings (0 to {len(self.findings) - 1}); lab.findings lists them")
        row = self.findings.iloc[finding]
        if pd.isna(row["rewrite"]):
            raise ValueError(
                f"finding {finding} ({row['code']}) has no mechanical rewrite; write variant B yourself "
                f"(lab.sql_b = ...) following its suggestion"
            )
        self.sql_b = str(row["rewrite"])
        return self.sql_b

    # -- parameters ------------------------------------------------------------------------------

    def sample_params(self, seed: int = 0) -> list[Any] | None:
        """Values for A's ``$1``, ``$2``, … sampled from the data they are compared with (as the index
        advisor samples them: ``lower(email) = lower($1)`` gets an e-mail from ``users.email``); sets
        and returns :attr:`params`. None, leaving ``params`` as it was, when a value cannot be found:
        give them yourself (``lab.params = [...]``). ``[]`` becomes None (A has no ``$n``)."""
        from ..advisor._examples import example_params

        with self._busy(_Step("sample")):
            values = example_params(self.db.conn, self.sql_a, seed=seed)
        if values is not None:
            self.params = values or None
        return values

    # -- running ---------------------------------------------------------------------------------

    def run(self, which: str = "a") -> Plan:
        """EXPLAIN ANALYZE variant ``which`` once (rolled back, through the gate): its Plan, with insights.
        Adds a history row (``action`` "run"); :attr:`plans` keeps the last plan of each variant."""
        sql = self._sql(which)
        with self._busy(_Step("run", 0, 1)):
            params = self.params
            plan = self.db.explain(sql, params)
        self.plans[which] = plan
        self._record(sql, params, action="run", runs=1, median_ms=plan.execution_ms)
        return plan

    def compare(
        self,
        *,
        runs: int | None = None,
        warmup: int | None = None,
        max_seconds: float | None = None,
        progress: Progress | bool | None = None,
    ) -> Comparison:
        """Time A against B with ``db.compare`` (interleaved, after warmups, same rows checked).

        ``progress``: a callable ``(done, planned)`` called after each run (the widget's bar),
        or True/False for a tqdm bar. :meth:`stop` (from another thread) ends it after the run in
        progress; the comparison then holds what was measured so far. Adds a history row for B
        (``action`` "compare") and returns the Comparison (also :attr:`comparison`).
        """
        if not self.sql_b.strip():
            raise ValueError("variant B is empty: apply a lint rewrite (lab.apply(i)) or set lab.sql_b first")
        options: dict[str, Any] = {
            "runs": runs if runs is not None else self.runs,
            "warmup": warmup if warmup is not None else self.warmup,
            "max_seconds": max_seconds if max_seconds is not None else self.max_seconds,
        }
        params = self.params
        with self._busy(_Step("compare")) as step:
            self._stop.clear()
            cmp = self.db.compare(
                self.sql_a, self.sql_b, params=params, stop=self._stop, **self._progress(step, progress),
                **{k: v for k, v in options.items() if v is not None},
            )
        self.comparison = cmp
        self._record_comparison(cmp, params)
        return cmp

    def stop(self) -> None:
        """Ask a running comparison to stop after the run in progress (safe from any thread)."""
        self._stop.set()

    @property
    def running(self) -> bool:
        """True while a run or comparison is going."""
        return self.step is not None

    # -- history ---------------------------------------------------------------------------------

    @property
    def history(self) -> pd.DataFrame:
        """The variants tried, one row per run or comparison, oldest first.

        ============ ======================= ==================================================
        column       dtype                   meaning
        ============ ======================= ==================================================
        variant      string                  "A" (the statement as given), "B1", "B2", … (each
                                             distinct rewrite, in the order first tried)
        sql          string                  the variant's text
        params       object                  the values of its ``$1``, ``$2``, … (a list; None: none)
        action       string                  "run" (one EXPLAIN ANALYZE) or "compare" (timed
                                             against A)
        runs         Int64                   timed runs of this variant
        median_ms    Float64                 its median time (a run: the execution time)
        baseline_ms  Float64                 A's median in the same comparison (NA for a run)
        ratio        Float64                 median_ms / baseline_ms (below 1: faster than A)
        verdict      string                  the comparison's verdict for B against A (NA: run)
        same_results boolean                 B returned the same rows as A (NA for a run)
        stopped      boolean                 stopped before all runs were done
        at           datetime64[ns, UTC]     when it finished
        ============ ======================= ==================================================
        """
        if not self._rows:
            return empty_frame(HISTORY_COLUMNS)
        frame = pd.DataFrame(self._rows, columns=list(HISTORY_COLUMNS))
        return frame.astype(HISTORY_COLUMNS)

    # -- internals -------------------------------------------------------------------------------

    def _sql(self, which: str) -> str:
        if which not in ("a", "b"):
            raise ValueError(f"which is 'a' (the statement) or 'b' (the rewrite), not {which!r}")
        sql = self.sql_a if which == "a" else self.sql_b
        if not sql.strip():
            raise ValueError(f"variant {which.upper()} is empty: set lab.sql_{which} first")
        return sql

    def _variant(self, sql: str) -> str:
        if sql == self.sql_a:
            return "A"
        if sql not in self._names:
            self._names[sql] = f"B{sum(1 for name in self._names.values() if name.startswith('B')) + 1}"
        return self._names[sql]

    def _busy(self, step: _Step) -> _Busy:
        return _Busy(self, step)

    def _progress(self, step: _Step, progress: Progress | bool | None) -> dict[str, Any]:
        """db.compare's progress arguments: a tqdm bar (``progress``), or an ``on_run`` callback that
        updates ``step`` and calls the caller's ``(done, planned)``."""
        if progress is None or isinstance(progress, bool):
            return {"progress": bool(progress)}

        def on_run(record: dict[str, Any]) -> None:
            step.done, step.planned = int(record["done"]), int(record["total"])
            progress(step.done, step.planned)

        return {"progress": False, "on_run": on_run}

    def _record(self, sql: str, params: Sequence[Any] | None, **values: Any) -> None:
        row = {"variant": self._variant(sql), "sql": sql, "params": None if params is None else list(params),
               "at": pd.Timestamp.now(tz="UTC"), **values}
        self._rows.append(row)

    def _record_comparison(self, cmp: Comparison, params: Sequence[Any] | None) -> None:
        """B's row, from what the comparison ran (the editors may have changed meanwhile)."""
        from ._comparison import facts

        self._record(cmp.sql_b, params, action="compare", **facts(cmp))


class _Busy:
    """Marks the lab as running one step; refuses a second, clears the step and keeps the error."""

    def __init__(self, lab: Lab, step: _Step) -> None:
        self.lab, self.step = lab, step

    def __enter__(self) -> _Step:
        if not self.lab._lock.acquire(blocking=False):
            raise LabBusy(f"a {self.lab.step.action if self.lab.step else 'step'} is still running; "
                          f"wait for it or stop it (lab.stop(), or the Stop button)")
        self.lab.step, self.lab.error = self.step, None
        return self.step

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: object) -> None:
        self.lab.step = None
        self.lab.error = err
        self.lab._lock.release()
