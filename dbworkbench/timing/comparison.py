"""``db.compare(sql_a, sql_b)``: time a statement against its rewrite and say whether B is really
faster and still returns the same rows.

Both statements pass the safety gate (:func:`dbworkbench.guard.admit`) and go over the extended
query protocol. First their complete results are compared (:mod:`.results`; within the time
budget, so a wrong rewrite is caught even when the timing uses the rest of it). Then, after
``warmup`` untimed runs of each, A and B run ``runs`` times each,
interleaved (A B B A A B ...), each run in its own transaction (READ ONLY for reads; a writing
statement, only where the target allows writes, is rolled back) with ``statement_timeout`` no
longer than what is left of ``max_seconds``. A run's time (ms) is the client's wall time from
sending the statement to having received its whole result. Every ``buffers_every``-th run of each
variant is followed by an EXPLAIN (ANALYZE, BUFFERS) of it (:meth:`Workbench.explain`), whose
shared buffers hit and read fill that run's buffer columns and whose plan feeds ``plan_diff``.
A ``stop`` (threading.Event, or a callable returning True) or the time budget ends the runs
early: the comparison then holds what was measured, with ``stopped`` saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import psycopg

from .._escape import html_text, math_off
from .._faults import warn_user
from ._exec import admit_pair
from ._run import Stop, budget_ms, run
from .results import SameResults, same_results
from .stats import MIN_RUNS, Statistics, summarize

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..plans import Plan
    from ..plans.diff import PlanDiff
    from ..workbench import Workbench

__all__ = ["TIMINGS_COLUMNS", "Comparison", "WrongResults", "compare"]

TIMINGS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("variant", "string"), ("run", "Int64"), ("ms", "Float64"), ("shared_hit", "Int64"), ("shared_read", "Int64"),
)
DIFFERENT = "different results"


class WrongResults(UserWarning):
    """Warned when a compared rewrite returns different rows from the original."""


class Comparison:
    """The outcome of :func:`compare`.

    - ``timings``: one row per timed run (:data:`TIMINGS_COLUMNS`): ``variant`` ("A"/"B"),
      ``run`` (0-based per variant), ``ms`` (Float64), ``shared_hit``/``shared_read`` (Int64,
      from EXPLAIN ANALYZE on the sampled runs, NA on the others).
    - ``summary``: one row per variant (:data:`~dbworkbench.timing.stats.SUMMARY_COLUMNS`):
      runs, median_ms, p95_ms, iqr_ms, mean_ms with mean_ci_low_ms/mean_ci_high_ms (t interval),
      then on B's row the ratio of medians B/A with its bootstrap interval (ratio_ci_low/high)
      and the Mann-Whitney U p-value (A's row: ratio 1, the rest NA).
    - ``verdict``: "faster", "slower" or "no detectable difference" (B relative to A, at
      ``confidence``), or "different results" when B does not return A's rows, whatever its
      speed; ``speed_verdict`` is the timing part alone; ``verdict_text`` one line for people.
    - ``same_results`` (:class:`~dbworkbench.timing.results.SameResults`), ``plan_diff``,
      ``figure()``; ``stopped``: why the runs ended early (None: they did not).
    """

    def __init__(self, db: Workbench | None, sql_a: str, sql_b: str, params: tuple[Any, Any], timings: pd.DataFrame,
                 *, confidence: float, stopped: str | None, plans: dict[str, Plan], elapsed_s: float,
                 results: SameResults | None) -> None:
        self._db = db
        self.sql_a, self.sql_b = sql_a, sql_b
        self._params = params
        self.timings = timings
        self.confidence = confidence
        self.stopped = stopped
        self.plans = plans
        self.elapsed_s = elapsed_s
        self._results = results

    def __repr__(self) -> str:
        return f"<Comparison {self.verdict_text}>"

    def _repr_html_(self) -> str:
        table = self.summary.to_html(index=False, escape=True, na_rep="")
        return math_off(f"<p><b>{html_text(self.verdict_text)}</b></p>{table}")

    # -- statistics -------------------------------------------------------------------------

    def _ms(self, variant: str) -> np.ndarray:
        t = self.timings
        return t.loc[t["variant"] == variant, "ms"].to_numpy(dtype="float64")

    @cached_property
    def _stats(self) -> Statistics:
        return summarize(self._ms("A"), self._ms("B"), self.confidence)

    @property
    def summary(self) -> pd.DataFrame:
        return self._stats.summary.copy()

    @property
    def ratio(self) -> float:
        """Median of B over median of A (< 1: B is faster)."""
        return self._stats.ratio

    @property
    def ratio_ci(self) -> tuple[float, float]:
        return self._stats.ratio_ci

    @property
    def p_value(self) -> float:
        return self._stats.p_value

    @property
    def speed_verdict(self) -> str:
        return self._stats.verdict

    @property
    def verdict(self) -> str:
        results = self._results
        if results is not None and not results.same:
            return DIFFERENT
        return self.speed_verdict

    @property
    def verdict_text(self) -> str:
        s = self._stats
        runs = int(min(len(self._ms("A")), len(self._ms("B"))))
        level = f"{self.confidence:.0%}"
        if runs < MIN_RUNS:
            speed = f"too few runs to tell ({runs} of each; at least {MIN_RUNS} needed)"
        elif s.verdict == "no detectable difference":
            speed = (f"no detectable difference at {level} confidence (B/A = {s.ratio:.2f}, "
                     f"interval {s.ratio_ci[0]:.2f}-{s.ratio_ci[1]:.2f}, p = {s.p_value:.2g}, {runs} runs each)")
        else:
            factor = 1 / s.ratio if s.verdict == "faster" else s.ratio
            speed = (f"B is {factor:.2f}x {s.verdict} than A (median {self._median('B'):.3f} ms vs "
                     f"{self._median('A'):.3f} ms; B/A interval {s.ratio_ci[0]:.2f}-{s.ratio_ci[1]:.2f} at {level}, "
                     f"p = {s.p_value:.2g}, {runs} runs each)")
        if self.stopped:
            speed += f"; {self.stopped}"
        results = self._results
        if results is not None and not results.same:
            return f"WRONG REWRITE: B does not return A's rows ({results.reason}); timing: {speed}"
        if results is None:
            return speed + "; results not compared"
        return speed + "; same results"

    def _median(self, variant: str) -> float:
        x = self._ms(variant)
        return float(np.median(x)) if len(x) else float("nan")

    # -- results, plans, figure -------------------------------------------------------------

    @property
    def checked_results(self) -> SameResults | None:
        """The result check :func:`compare` made; None when it made none (stopped early, check_results=False)."""
        return self._results

    @property
    def same_results(self) -> SameResults:
        """Whether B returns A's rows (computed on first use when :func:`compare` did not)."""
        if self._results is None:
            if self._db is None:
                raise ValueError("this comparison has no workbench to check the results with; use db.same_results()")
            self._results = self._db.same_results(self.sql_a, self.sql_b, self._params[0], params_b=self._params[1])
        return self._results

    @cached_property
    def plan_diff(self) -> PlanDiff:
        """A's plan against B's through the plan engine's diff (plans from EXPLAIN ANALYZE runs)."""
        from ..plans.diff import diff_plans

        plans = dict(self.plans)
        for variant, text, values in (("A", self.sql_a, self._params[0]), ("B", self.sql_b, self._params[1])):
            if variant not in plans:
                if self._db is None:
                    raise ValueError("no plan was sampled for this comparison; run it again with buffers_every=1")
                plans[variant] = self._db.explain(text, values)
        return diff_plans(plans["A"], plans["B"])

    def figure(self) -> go.Figure:
        """The two run-time distributions side by side (box with every run as a point)."""
        import plotly.graph_objects as go

        fig = go.Figure()
        for variant, colour in (("A", "#636efa"), ("B", "#ef553b")):
            runs = self.timings[self.timings["variant"] == variant]
            hover = [html_text(f"{variant} run {int(r)}: {ms:.3f} ms") for r, ms in zip(runs["run"], runs["ms"], strict=True)]
            fig.add_trace(go.Box(y=runs["ms"].astype("float64"), name=variant, boxpoints="all", jitter=0.4,
                                 pointpos=0, marker_color=colour, text=hover, hoverinfo="text"))
        title = html_text(self.verdict_text if len(self.verdict_text) < 140 else self.verdict_text[:137] + "...")
        fig.update_layout(title=title, yaxis_title="ms per run", showlegend=False, template="plotly_white")
        return fig


def compare(
    db: Workbench, sql_a: str, sql_b: str, params: Sequence[Any] | None = None, *,
    params_b: Sequence[Any] | None = None, runs: int = 30, warmup: int = 3, max_seconds: float = 60.0,
    confidence: float = 0.95, progress: bool = True, stop: Stop = None,
    on_run: Callable[[dict[str, Any]], None] | None = None, buffers_every: int = 5,
    check_results: bool = True, allow_side_effects: bool = False,
) -> Comparison:
    """Time ``sql_b`` against ``sql_a`` (module doc) and compare their results; see :class:`Comparison`."""
    if int(runs) < 1 or int(warmup) < 0 or not max_seconds > 0 or not 0 < confidence < 1 or int(buffers_every) < 0:
        raise ValueError("runs must be >= 1, warmup >= 0, max_seconds > 0, 0 < confidence < 1 and buffers_every >= 0")
    values = {"A": params, "B": params if params_b is None else params_b}
    a, b = admit_pair(db.conn, (sql_a, sql_b), (values["A"], values["B"]), read_only=not db.target.allow_writes,
                      action="db.compare", allow_side_effects=allow_side_effects)
    started = time.perf_counter()
    results, note = None, None
    if check_results:  # first: a wrong rewrite is caught even when the timing uses up the budget
        session_ms = db.target.guards.statement_timeout_ms or 0
        timeout_ms = budget_ms(started, max_seconds, session_ms)
        try:
            results = same_results(db.conn, sql_a, sql_b, read_only=not db.target.allow_writes, admitted=(a, b),
                                   params=values["A"], params_b=values["B"], timeout_ms=timeout_ms)
        except psycopg.errors.QueryCanceled:
            if session_ms and timeout_ms >= session_ms:
                raise  # the session's statement_timeout: a QueryTimeout saying how to raise it
            note = f"the time budget (max_seconds={max_seconds:g}) ran out while the results were compared"
    measured = run(db, {"A": a, "B": b}, values, runs=int(runs), warmup=int(warmup), max_seconds=float(max_seconds),
                   started=started, progress=progress, stop=stop, on_run=on_run, buffers_every=int(buffers_every),
                   allow_side_effects=allow_side_effects)
    timings = pd.DataFrame.from_records(measured.records, columns=[c for c, _ in TIMINGS_COLUMNS])
    timings = timings.astype(dict(TIMINGS_COLUMNS))
    cmp = Comparison(db, sql_a, sql_b, (values["A"], values["B"]), timings, confidence=confidence,
                     stopped=note or measured.stopped, plans=measured.plans, elapsed_s=measured.elapsed_s, results=results)
    if results is not None and not results.same:
        warn_user(cmp.verdict_text, WrongResults)
    return cmp

