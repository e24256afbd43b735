"""Figures that survive export and tables that stay text, without a server or a browser."""

from __future__ import annotations

import nbformat
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dbworkbench import viz
from dbworkbench.report import export_html, merge_notebooks, table_html
from dbworkbench.report.display import PLOTLYJS_MARK, RENDERER, _plotlyjs_html, setup_notebook

HOSTILE = "<img src=x onerror=alert(1)> <script>alert(2)</script> WHERE a = $1 AND b = $2\nORDER BY c"


def _figure_outputs(fig: go.Figure) -> nbformat.NotebookNode:
    setup_notebook(plotlyjs=False)
    bundle = pio.renderers[RENDERER].to_mimebundle(fig.to_dict())
    return nbformat.v4.new_output("display_data", data=bundle)


def _executed_notebook(figures: int) -> nbformat.NotebookNode:
    """A notebook as an executed one looks: the setup cell's plotly.js output, then figure outputs."""
    setup = nbformat.v4.new_code_cell("wb.setup_notebook()")
    setup.outputs = [nbformat.v4.new_output("display_data", data={"text/html": _plotlyjs_html()},
                                            metadata={PLOTLYJS_MARK: True})]
    cells = [nbformat.v4.new_markdown_cell("# A page"), setup]
    for i in range(figures):
        cell = nbformat.v4.new_code_cell(f"fig{i}")
        cell.outputs = [_figure_outputs(go.Figure(go.Bar(x=[HOSTILE], y=[i + 1])))]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def test_renderer_bundle_has_lab_mimetype_and_offline_html() -> None:
    output = _figure_outputs(viz.statements_pareto(pd.DataFrame({"query": [HOSTILE], "total_exec_ms": [3.0], "calls": [2]})))
    data = output["data"]
    assert "application/vnd.plotly.v1+json" in data  # JupyterLab draws this live
    html = data["text/html"]  # nbconvert keeps this one
    assert "Plotly.newPlot" in html
    assert "<script src" not in html and "cdn" not in html.lower() and "MathJax" not in html
    assert "plotly.js v" not in html  # plotly.js comes once per page, from the setup output


def test_export_keeps_every_figure_offline_and_plotlyjs_once(tmp_path) -> None:
    merged = merge_notebooks([_executed_notebook(2), _executed_notebook(3)])
    page = export_html(merged, tmp_path / "page.html")
    assert page.count("Plotly.newPlot(") == 5
    assert page.count("plotly.js v") == 1  # the second notebook's copy is dropped
    assert page.index("plotly.js v") < page.index("Plotly.newPlot(")
    assert "<script src=" not in page and "cdnjs" not in page and "mathjax" not in page.lower().split("</head>")[0]
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == page


def test_export_hides_code_unless_asked() -> None:
    nb = _executed_notebook(1)
    nb.cells[1].source = "secret_marker_in_code = 1"
    assert "secret_marker_in_code" not in export_html(nb)
    assert "secret_marker_in_code" in export_html(nb, hide_input=False)


def test_table_html_shows_server_text_as_text() -> None:
    frame = pd.DataFrame({"query": pd.array([HOSTILE], dtype="string"), "columns": [["<b>id</b>", "x"]],
                          "mean_exec_ms": [0.1234567], "total_exec_ms": [123456.789], "calls": [3]})
    html = table_html(frame)
    assert "<img" not in html and "<script" not in html and "<b>id" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;id&lt;/b&gt;, x" in html
    assert "tex2jax_ignore" in html and "mathjax_ignore" in html  # never typeset
    assert "0.123" in html and "0.1234567" not in html and "123,457" in html  # floats rounded
    assert "text-align: left" in html and "white-space: pre-wrap" in html  # text columns read as text


def test_table_html_of_an_empty_frame_with_text_columns() -> None:
    # an empty string column could not be asked whether it holds lists: notebooks 01 and 02 failed on
    # PostgreSQL 15, where the snapshot's tables and a plan's insights came back empty
    empty = pd.DataFrame({"table": pd.array([], dtype="string"), "rows": pd.array([], dtype="Int64")})
    html = table_html(empty)
    assert "<table" in html and ">table<" in html


def test_table_html_says_how_many_rows_it_left_out() -> None:
    html = table_html(pd.DataFrame({"n": range(100)}), max_rows=10)
    assert "10 of 100 rows shown" in html


def test_export_draws_figures_of_a_notebook_without_the_setup() -> None:
    """A notebook run with plotly's default renderer (only the plotly mimetype): the page still draws its figures."""
    nb = _executed_notebook(2)
    del nb.cells[1].outputs[0]  # no setup output, so no plotly.js
    for cell in nb.cells[2:]:
        del cell.outputs[0]["data"]["text/html"]
    page = export_html(nb)
    assert page.count("Plotly.newPlot(") == 2 and page.count("plotly.js v") == 1
    assert page.index("plotly.js v") < page.index("Plotly.newPlot(")


def test_pareto_share_axis_stops_at_100_and_labels_its_80_line() -> None:
    frame = pd.DataFrame({"query": ["a", "b", "c"], "total_exec_ms": [80.0, 15.0, 5.0], "calls": [1, 2, 3]})
    fig = viz.statements_pareto(frame)
    assert fig.layout.yaxis2.range[1] <= 101 and max(fig.layout.yaxis2.tickvals) == 100
    (label,) = [a for a in fig.layout.annotations if a.text == "80 %"]
    (line,) = fig.layout.shapes
    assert label.yref == line.yref == "y2" and label.y == line.y0 == line.y1 == 80


def _plan(ms: float) -> object:
    import json

    import dbworkbench as wb

    node = {"Node Type": "Seq Scan", "Relation Name": "posts", "Alias": "posts", "Startup Cost": 0.0,
            "Total Cost": 100.0, "Plan Rows": 10, "Plan Width": 8, "Actual Startup Time": 0.01,
            "Actual Total Time": ms, "Actual Rows": 10, "Actual Loops": 1}
    return wb.parse_plan(json.dumps([{"Plan": node, "Execution Time": ms}]))


def test_plan_diff_chart_uses_a_log_axis_when_after_is_400_times_faster() -> None:
    fast = _plan(400.0).diff(_plan(1.0)).figure()  # type: ignore[attr-defined]
    assert fast.layout.xaxis.type == "log" and "log scale" in fast.layout.xaxis.title.text
    close = _plan(4.0).diff(_plan(2.0)).figure()  # type: ignore[attr-defined]
    assert close.layout.xaxis.type != "log"
