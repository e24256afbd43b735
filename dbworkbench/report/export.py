"""Executed notebooks → one self-contained HTML page that opens offline (nbconvert).

The page uses the ``offline`` template shipped here: JupyterLab's export without require.js,
MathJax, mermaid or the widget manager (all of which it would fetch from a CDN). plotly.js
travels inside the notebooks' own output (:func:`dbworkbench.report.setup_notebook`); a page
built from several notebooks keeps the first copy only. A figure that only carries plotly's
mimetype (nbconvert drops it: plotly.py issue 5365) gets its HTML form here, and the page
plotly.js where no notebook brought it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .display import PLOTLYJS_MARK

__all__ = ["export_html", "merge_notebooks"]

_TEMPLATES = Path(__file__).parent / "templates"
_PLOTLY = "application/vnd.plotly.v1+json"


def _plotlyjs_outputs(nb: NotebookNode) -> Iterable[tuple[NotebookNode, NotebookNode]]:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get(PLOTLYJS_MARK):
                yield cell, output


def _figures_as_html(nb: NotebookNode) -> None:
    """Give each figure that only has plotly's mimetype (a notebook that did not call
    ``setup_notebook``) the HTML ``div`` nbconvert keeps, and the page plotly.js once, before its first figure."""
    import plotly.io as pio

    from .display import _plotlyjs_html

    has_plotlyjs = any(True for _ in _plotlyjs_outputs(nb))
    for cell in nb.cells:
        for k, output in enumerate(list(cell.get("outputs", []))):
            data = output.get("data", {})
            if _PLOTLY not in data:
                continue
            if "text/html" not in data:
                data["text/html"] = pio.to_html(dict(data[_PLOTLY]), include_plotlyjs=False, include_mathjax=False,
                                                full_html=False, default_width="100%", default_height=525, validate=False)
            if not has_plotlyjs:
                cell.outputs.insert(k, nbformat.v4.new_output("display_data", data={"text/html": _plotlyjs_html()},
                                                              metadata={PLOTLYJS_MARK: True}))
                has_plotlyjs = True


def merge_notebooks(notebooks: Iterable[NotebookNode], title: str | None = None) -> NotebookNode:
    """One notebook holding the cells of ``notebooks`` in order, plotly.js kept once (the first copy), every
    figure with an HTML form (see :func:`export_html`).

    >>> nb = merge_notebooks([nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# a")])] * 2)
    >>> len(nb.cells)
    2
    """
    merged = nbformat.v4.new_notebook()
    for nb in notebooks:
        if not merged.metadata:
            merged.metadata = copy.deepcopy(nb.metadata)
        merged.cells.extend(copy.deepcopy(nb.cells))
    for i, (cell, output) in enumerate(list(_plotlyjs_outputs(merged))):
        if i:
            cell.outputs.remove(output)
    _figures_as_html(merged)
    if title:
        merged.metadata["title"] = title
    return merged


def export_html(nb: NotebookNode | str | Path, out: str | Path | None = None, *, hide_input: bool = True,
                title: str | None = None) -> str:
    """The executed notebook ``nb`` (a node or a path) as one offline HTML page; also written to ``out``.

    ``hide_input`` leaves the code cells' source out (their output stays). Cells tagged
    ``remove-cell`` are left out whole, and outputs of cells tagged ``remove-output``.
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    node = nbformat.read(str(nb), as_version=4) if isinstance(nb, (str, Path)) else nb
    node = merge_notebooks([node], title=title or node.metadata.get("title"))
    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(config=config, template_name="offline", extra_template_basedirs=[str(_TEMPLATES)],
                            exclude_input=hide_input, exclude_input_prompt=hide_input, exclude_output_prompt=hide_input)
    body, _ = exporter.from_notebook_node(node)
    if out is not None:
        Path(out).write_text(body, encoding="utf-8")
    return body
