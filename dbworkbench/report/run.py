"""Run the report notebook (and, if asked, the other curated notebooks) with papermill → one offline HTML file."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from .export import export_html, merge_notebooks

__all__ = ["NOTEBOOKS", "ReportResult", "build_report"]

REPORT = "06_report"
_PLOTLY = "application/vnd.plotly.v1+json"
# the curated notebooks in reading order (the report's own last); `--notebooks all` runs them all
NOTEBOOKS = ("01_workload", "02_plan_explorer", "03_tables_and_scans", "04_index_advisor", "05_rewrite_lab", REPORT)


@dataclass
class ReportResult:
    """What :func:`build_report` wrote: the file, its size, and the seconds each notebook took."""

    path: Path
    bytes: int
    seconds: float
    notebook_seconds: dict[str, float] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)  # plotly figures each notebook drew

    def __str__(self) -> str:
        runs = ", ".join(f"{name} {s:.1f} s" for name, s in self.notebook_seconds.items())
        return f"{self.path}: {self.bytes / 2**20:.1f} MiB in {self.seconds:.1f} s ({runs})"


def _resolve(names: Sequence[str], folder: Path) -> list[Path]:
    if list(names) == ["all"]:
        names = [n for n in NOTEBOOKS if (folder / f"{n}.ipynb").exists()]
    paths = []
    for name in names:
        path = Path(name)
        if path.suffix != ".ipynb":
            matches = sorted(folder.glob(f"{name}*.ipynb"))
            if len(matches) != 1:
                known = ", ".join(p.stem for p in sorted(folder.glob("[0-9]*.ipynb")))
                raise WorkbenchError(f"no single notebook named {name!r} in {folder}; known: {known}")
            path = matches[0]
        if not path.exists():
            raise WorkbenchError(f"no notebook at {path}")
        paths.append(path)
    return paths


def build_report(
    dsn: str | None = None,
    out: str | Path = "report.html",
    notebooks: Sequence[str] = (REPORT,),
    *,
    column_stats: bool = False,
    show_input: bool = False,
    progress: bool = True,
    folder: str | Path | None = None,  # default: the curated notebooks
    kernel_name: str = "python3",
) -> ReportResult:
    """Execute ``notebooks`` (names like ``"06_report"`` or ``"01"``, paths, or ``["all"]``) against ``dsn``
    (None: the sandbox) and write them as one self-contained HTML file ``out`` that opens offline.

    Each notebook gets ``dsn`` through its ``parameters`` cell (and ``column_stats`` where it has
    one: per-column ``most_common_vals`` and histograms are left out unless asked). Code is hidden
    unless ``show_input``. Against a server other than the sandbox the notebooks only read.

    >>> build_report(out="report.html", notebooks=["all"])  # doctest: +SKIP
    """
    import papermill as pm

    from .._paths import notebooks_dir

    paths = _resolve(notebooks, Path(folder) if folder else notebooks_dir())
    start = time.perf_counter()
    executed, seconds, figures = [], {}, {}
    for path in paths:
        offered: dict[str, Any] = {"dsn": dsn, "column_stats": column_stats}
        declared = pm.inspect_notebook(str(path))
        began = time.perf_counter()
        try:
            nb = pm.execute_notebook(str(path), None, parameters={k: v for k, v in offered.items() if k in declared},
                                     kernel_name=kernel_name, progress_bar=progress, cwd=str(path.parent))
        except pm.PapermillExecutionError as err:
            raise WorkbenchError(f"{path.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}") from None
        seconds[path.stem] = time.perf_counter() - began
        figures[path.stem] = sum(_PLOTLY in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        executed.append(nb)
    title = "dbworkbench report" if len(paths) > 1 or paths[0].stem == REPORT else paths[0].stem
    page = export_html(merge_notebooks(executed, title=title), out, hide_input=not show_input)
    return ReportResult(Path(out), len(page.encode("utf-8")), time.perf_counter() - start, seconds, figures)
