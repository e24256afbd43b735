"""The QueryLab widget: ipywidgets over :class:`~dbworkbench.widgets.lab.Lab`.

>>> from dbworkbench.widgets import QueryLab
>>> QueryLab(db, "SELECT * FROM users WHERE lower(email) = 'a@b.c'")  # doctest: +SKIP

The view holds no logic of its own: each button calls the :class:`Lab` (``ql.lab``) and draws
its state. Run and Compare work in a background thread, so the notebook stays responsive, the
progress bar moves and Stop can end a long comparison; :meth:`QueryLab.wait` joins that thread
(tests and scripts: set values, ``click()``, ``wait()``, assert on the widgets or on ``ql.lab``).
Every text shown as HTML is escaped and kept from MathJax (``dbworkbench._escape``).
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd
import psycopg

from ..errors import WorkbenchError
from . import _html
from ._comparison import same_results_html, verdict_html
from .lab import Lab

if TYPE_CHECKING:
    from ..timing import Comparison
    from ..workbench import Workbench

__all__ = ["QueryLab"]

_EDITOR = widgets.Layout(width="100%", height="9em")
_STARTED = {
    "run": "running A and B once each (EXPLAIN ANALYZE, rolled back) …",
    "compare": "comparing: both complete results first, then warm-ups and timed runs (Stop ends the runs) …",
}


class QueryLab:
    """A SQL editor (variant A), its lint findings with an Apply button per mechanical rewrite, a
    second editor (variant B, the rewrite), Run (EXPLAIN ANALYZE each variant once, rolled back) and
    Compare (``db.compare``: timed runs, interleaved, with a progress bar and Stop), the verdict with
    its statistics, the same-results check, the comparison figure, the plan diff, and the variants
    tried (``history``).

    Arguments as :class:`~dbworkbench.widgets.lab.Lab`. Parts a test may drive: ``editor_a``,
    ``editor_b``, ``runs``, ``max_seconds`` (values), ``lint_button``, ``apply_buttons``,
    ``run_button``, ``compare_button``, ``stop_button`` (``click()``); what they show:
    ``findings``, ``status``, ``progress``, ``verdict``, ``same``, ``figure``, ``plans``,
    ``plan_diff``, ``history_view`` (``.value`` of HTML widgets, ``.outputs`` of Output widgets).
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
        self.lab = Lab(db, sql, rewrite, params=params, runs=runs, warmup=warmup, max_seconds=max_seconds)
        self._thread: threading.Thread | None = None

        self.editor_a = widgets.Textarea(value=sql, description="A", layout=_EDITOR)
        self.editor_b = widgets.Textarea(value=rewrite, description="B", layout=_EDITOR,
                                         placeholder="the rewrite: Apply a finding's rewrite, or write it here")
        self.editor_a.observe(lambda change: setattr(self.lab, "sql_a", change["new"]), "value")
        self.editor_b.observe(lambda change: setattr(self.lab, "sql_b", change["new"]), "value")

        self.lint_button = widgets.Button(description="Lint", tooltip="find anti-patterns in A", icon="search")
        self.findings = widgets.VBox()
        self.apply_buttons: list[widgets.Button] = []

        self.runs = widgets.BoundedIntText(value=runs or 0, min=0, max=100_000, description="runs",
                                           tooltip="timed runs per variant (0: db.compare's default)",
                                           layout=widgets.Layout(width="11em"))
        self.max_seconds = widgets.BoundedFloatText(value=max_seconds or 0.0, min=0.0, max=86_400.0,
                                                    description="max s", tooltip="time budget (0: db.compare's default)",
                                                    layout=widgets.Layout(width="11em"))
        self.params = widgets.Text(value="", description="$n values", placeholder="[42, 'a@b.c']  (a Python list)",
                                   tooltip="the values of $1, $2, … for both variants", layout=widgets.Layout(width="100%"))
        self.params.observe(lambda change: self._set_params(change["new"]), "value")
        self.run_button = widgets.Button(description="Run", tooltip="EXPLAIN ANALYZE A and B once (rolled back)",
                                         icon="play")
        self.compare_button = widgets.Button(description="Compare", button_style="primary",
                                             tooltip="time A against B, interleaved, and check they return the same rows",
                                             icon="balance-scale")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", disabled=True,
                                          tooltip="stop the comparison after the run in progress", icon="stop")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="", layout=widgets.Layout(width="16em"))
        self.status = widgets.HTML()

        self.verdict = widgets.HTML()
        self.same = widgets.HTML()
        self.figure = widgets.Output()
        self.plans = widgets.Output()
        self.plan_diff = widgets.Output()
        self.history_view = widgets.HTML()

        self.lint_button.on_click(lambda _: self._lint())
        self.run_button.on_click(lambda _: self._start("run", self._run))
        self.compare_button.on_click(lambda _: self._start("compare", self._compare))
        self.stop_button.on_click(lambda _: self._stop())

        results = widgets.Accordion(children=[self.plans, self.plan_diff, self.history_view])
        for i, title in enumerate(("Plans (Run)", "Plan diff (A → B)", "Variants tried")):
            results.set_title(i, title)
        self.widget = widgets.VBox([
            self.editor_a,
            widgets.HBox([self.lint_button]),
            self.findings,
            self.editor_b,
            self.params,
            widgets.HBox([self.run_button, self.compare_button, self.stop_button, self.runs, self.max_seconds,
                          self.progress]),
            self.status,
            self.verdict,
            self.same,
            self.figure,
            results,
        ])
        self._lint()
        if params is None:
            self._sample()
        self._show_params()

    # -- what a notebook sees ------------------------------------------------------------------

    @property
    def history(self) -> pd.DataFrame:
        """The variants tried: see :attr:`Lab.history <dbworkbench.widgets.lab.Lab.history>` for the columns."""
        return self.lab.history

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def run(self) -> None:
        """What the Run button does, waiting for it: each variant EXPLAIN ANALYZEd once."""
        self._start("run", self._run)
        self.wait()

    def compare(self) -> Comparison | None:
        """What the Compare button does, waiting for it; returns the Comparison (None if it failed:
        the status line says why)."""
        self._start("compare", self._compare)
        self.wait()
        return self.lab.comparison

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the Run or Compare in progress (if any) to finish."""
        if self._thread is not None:
            self._thread.join(timeout)

    # -- buttons ---------------------------------------------------------------------------------

    def _lint(self) -> None:
        try:
            found = self.lab.lint()
        except Exception as err:  # shown, not raised: a button has no caller to raise to
            self.status.value = _html.message(f"lint failed: {err}", tone="error")
            self.findings.children = ()
            return
        rows: list[widgets.Widget] = []
        self.apply_buttons = []
        for i, row in found.iterrows():
            button = widgets.Button(description="Apply", disabled=pd.isna(row["rewrite"]),
                                    tooltip="put this rewrite into B" if pd.notna(row["rewrite"]) else "no mechanical rewrite",
                                    layout=widgets.Layout(width="6em", flex="0 0 auto"))
            button.on_click(lambda _, i=int(i): self._apply(i))  # type: ignore[misc]
            self.apply_buttons.append(button)
            rows.append(widgets.HBox([button, widgets.HTML(_html.finding(row))]))
        if not rows:
            rows.append(widgets.HTML(_html.message("No findings: lint sees nothing wrong with A.", tone="ok")))
        self.findings.children = tuple(rows)
        self.status.value = _html.message(f"{len(found)} finding(s) in A")

    def _sample(self) -> None:
        """For ``$n`` text without params: values sampled from the data, said in the status line."""
        try:
            values = self.lab.sample_params()
        except (WorkbenchError, psycopg.Error) as err:
            values, note = None, f" ({err})"
        else:
            note = ""
        if values:
            self.status.value += _html.message(f"$1 … ${len(values)} sampled from the data: {values}; "
                                               "change them in the $n values field")
        elif values is None and "$" in self.lab.sql_a:
            self.status.value += _html.message(f"A has $n parameters and no values could be sampled{note}: "
                                               "write them in the $n values field before Run or Compare", tone="warning")

    def _show_params(self) -> None:
        values = self.lab.params
        self._shown_params = "" if values is None else repr(list(values))
        self.params.value = self._shown_params

    def _set_params(self, text: str) -> None:
        """The params field, read as a Python literal (never evaluated as code)."""
        if text == getattr(self, "_shown_params", None):
            return
        try:
            values = ast.literal_eval(text) if text.strip() else None
            if values is not None and (isinstance(values, str | bytes) or not isinstance(values, list | tuple)):
                raise ValueError("not a list")
        except (ValueError, SyntaxError):
            self.status.value = _html.message("$n values: write a Python list of literals, e.g. [42, 'a@b.c']", tone="error")
            return
        self.lab.params = None if values is None else list(values)
        self.status.value = _html.message(f"$n values set: {self.lab.params}")

    def _apply(self, i: int) -> None:
        try:
            self.editor_b.value = self.lab.apply(i)
            self.status.value = _html.message(f"B is finding {i}'s rewrite ({self.lab.findings.loc[i, 'code']})")  # type: ignore[union-attr]
        except (IndexError, ValueError) as err:
            self.status.value = _html.message(str(err), tone="error")

    def _stop(self) -> None:
        self.lab.stop()
        self.status.value = _html.message("stopping after the run in progress …", tone="warning")

    def _start(self, action: str, work: Callable[[], None]) -> None:
        """Run ``work`` in a thread with the buttons set for a long step."""
        if self._thread is not None and self._thread.is_alive():
            self.status.value = _html.message(f"a {self.lab.step.action if self.lab.step else 'step'} is still running",
                                              tone="warning")
            return
        self._set_running(True)
        self._show_params()  # lab.params may have been set in code
        self.status.value = _html.message(_STARTED[action])

        def body() -> None:
            try:
                work()
            except Exception as err:  # shown in the status line; the lab keeps it in lab.error
                self.status.value = _html.message(f"{action} failed: {type(err).__name__}: {err}", tone="error")
            finally:
                self._set_running(False)
                self.history_view.value = _html.table(self.lab.history.iloc[::-1])  # newest first

        self._thread = threading.Thread(target=body, name=f"querylab-{action}", daemon=True)
        self._thread.start()

    def _set_running(self, running: bool) -> None:
        for button in (self.lint_button, self.run_button, self.compare_button, *self.apply_buttons):
            button.disabled = running
        if not running:
            self._lint_buttons_enabled()
        self.stop_button.disabled = not running

    def _lint_buttons_enabled(self) -> None:
        findings = self.lab.findings
        for i, button in enumerate(self.apply_buttons):
            button.disabled = findings is None or i >= len(findings) or pd.isna(findings.loc[i, "rewrite"])

    def _run(self) -> None:
        self.plans.outputs = ()
        variants = ["a", "b"] if self.lab.sql_b.strip() else ["a"]
        self.progress.max, self.progress.value = len(variants), 0
        said = []
        for which in variants:
            plan = self.lab.run(which)
            self.progress.value += 1
            _show(self.plans, plan)
            took = "planned only (no values for its $n)" if plan.execution_ms is None else f"ran in {plan.execution_ms:.3f} ms"
            said.append(f"{which.upper()} {took}")
        if len(variants) == 2:
            self.plan_diff.outputs = ()
            _show(self.plan_diff, self.lab.plans["a"].diff(self.lab.plans["b"]))
            said.append("one run each: Compare times them properly")
        self.status.value = _html.message("; ".join(said))

    def _compare(self) -> None:
        self.progress.value, self.progress.max = 0, 1

        def progress(done: int, planned: int) -> None:
            self.progress.max = max(planned, 1)
            self.progress.value = min(done, self.progress.max)

        cmp = self.lab.compare(runs=self.runs.value or None, max_seconds=self.max_seconds.value or None,
                               progress=progress)
        self.verdict.value = verdict_html(cmp)
        self.same.value = same_results_html(cmp)
        self.figure.outputs = ()
        _show(self.figure, cmp.figure())
        self.plan_diff.outputs = ()
        try:  # plans sampled during the runs; a stopped comparison may need EXPLAINs of its own
            _show(self.plan_diff, cmp.plan_diff)
        except (WorkbenchError, psycopg.Error) as err:
            self.plan_diff.outputs = ({"output_type": "stream", "name": "stdout", "text": f"no plan diff: {err}\n"},)
        stopped = bool(self.lab.history["stopped"].iloc[-1]) if len(self.lab.history) else False
        self.status.value = _html.message("comparison stopped: the figures hold the runs done so far" if stopped
                                          else "comparison done", tone="warning" if stopped else "ok")


def _show(output: widgets.Output, obj: Any) -> None:
    """Append ``obj`` to ``output`` from any thread: a plotly figure as plotly's mimetype (JupyterLab
    draws it), anything else by its escaped ``_repr_html_``, with its repr as plain text."""
    import plotly.graph_objects as go
    import plotly.io as pio

    if isinstance(obj, go.Figure):
        data = pio.renderers["plotly_mimetype"].to_mimebundle(obj.to_dict())
    else:
        data = {"text/html": obj._repr_html_()}
    data["text/plain"] = repr(obj)
    output.outputs += ({"output_type": "display_data", "data": data, "metadata": {}},)
