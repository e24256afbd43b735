"""How the notebooks show figures and tables: live in JupyterLab, in exported HTML, offline, as text.

:func:`setup_notebook` (the curated notebooks call it first) does three things:

- **plotly.js once per page**: it shows plotly.js itself (about 4.6 MB, from the plotly package,
  no CDN) in the cell's output, as plotly's own ``notebook`` renderer does. An HTML export of the
  notebook (``jupyter nbconvert --to html``, :func:`dbworkbench.report.export_html`) then carries
  it once, before every figure.
- **the renderer** ``dbworkbench``: each figure's output holds plotly's own mimetype (JupyterLab
  draws it live through the jupyterlab-plotly extension) *and* an HTML ``div`` with the
  ``Plotly.newPlot`` call (what nbconvert keeps: it drops the plotly mimetype, plotly.py issue
  5365). Neither loads MathJax or anything else from the network.
- **tables as text**: :func:`dbworkbench.safe_tables` (no HTML from the server, no ``$1 … $2``
  typeset) and a DataFrame HTML display that left-aligns text columns, keeps line breaks of a
  query as line breaks, and shows floats with at most three significant decimals.

>>> from dbworkbench.report.display import table_html
>>> import pandas as pd
>>> "&lt;b&gt;" in table_html(pd.DataFrame({"query": ["<b> $1"]}))
True
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer, PlotlyRenderer

from .._escape import html_text, math_off, safe_tables

__all__ = ["PLOTLYJS_MARK", "RENDERER", "setup_notebook", "table_html"]

RENDERER = "dbworkbench"
# the metadata key of the output that carries plotly.js (the report keeps the first one of a page)
PLOTLYJS_MARK = "dbworkbench_plotlyjs"


class _Renderer(MimetypeRenderer):
    """plotly's mimetype for JupyterLab and a plotly.js-less ``div`` for exported HTML, in one bundle."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = dict(config or {})
        self._json = PlotlyRenderer(config=self.config)

    def to_mimebundle(self, fig_dict: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = self._json.to_mimebundle(fig_dict)
        bundle["text/html"] = pio.to_html(
            fig_dict, config=self.config, include_plotlyjs=False, include_mathjax=False, full_html=False,
            default_width="100%", default_height=525, validate=False,
        )
        return bundle


def _plotlyjs_html() -> str:
    from plotly.offline import get_plotlyjs

    return ("<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
            f"<script>if (!window.Plotly) {{\n{get_plotlyjs()}\n}}</script>")


def _register() -> None:
    if RENDERER not in pio.renderers:
        pio.renderers[RENDERER] = _Renderer(config={"displaylogo": False})


def setup_notebook(*, plotlyjs: bool = True) -> None:
    """Set this notebook up to show figures and tables safely, live and in exported HTML (see the module doc).

    ``plotlyjs=False`` leaves plotly.js out of the output (JupyterLab still draws the figures; an HTML
    export then draws none).

    >>> setup_notebook(plotlyjs=False); import plotly.io as pio; pio.renderers.default
    'dbworkbench'
    """
    safe_tables()
    _register()
    pio.renderers.default = RENDERER
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - IPython comes with the notebooks
        return
    shell = get_ipython()  # type: ignore[no-untyped-call]
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, table_html)
    if plotlyjs:
        display(HTML(_plotlyjs_html()), metadata={PLOTLYJS_MARK: True})  # type: ignore[no-untyped-call]


def _number(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    x = float(value)  # type: ignore[arg-type]
    if x == 0 or abs(x) >= 100:
        return f"{x:,.0f}" if x.is_integer() or abs(x) >= 100 else f"{x:,.1f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def _joined(value: object) -> str:
    return html_text(", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value)


def table_html(frame: pd.DataFrame, max_rows: int | None = None) -> str:
    """A DataFrame as an HTML table that shows server text as text: escaped, never typeset,
    text columns left-aligned with their line breaks kept, floats rounded (:func:`setup_notebook`
    makes it the notebook's DataFrame display). Longer frames show their first ``max_rows`` rows
    (default: pandas' ``display.max_rows``) and say how many there are."""
    limit = max_rows if max_rows is not None else (pd.get_option("display.max_rows") or len(frame))
    shown = frame.head(limit)
    floats = [c for c in shown.columns if pd.api.types.is_float_dtype(shown[c].dtype)]
    texts = [c for c in shown.columns if shown[c].dtype == object or isinstance(shown[c].dtype, pd.StringDtype)]
    lists = [c for c in texts if any(isinstance(v, (list, tuple)) for v in shown[c])]  # an empty string column too
    styler = shown.style.format(escape="html", na_rep="").format(_number, subset=floats)
    if lists:  # index columns and the like: "a, b" rather than ['a', 'b']
        styler = styler.format(_joined, subset=lists, na_rep="")
    if texts:
        styler = styler.set_properties(subset=texts, **{"text-align": "left", "white-space": "pre-wrap"})
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    html = styler.to_html()
    if len(frame) > len(shown):
        html += f"<p>{len(shown)} of {len(frame):,} rows shown</p>"
    return math_off(html)
