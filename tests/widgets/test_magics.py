"""The cell magics in a real IPython shell, against the demo database: %%explain, %%lint, %%lab."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

import dbworkbench as wb
from dbworkbench.widgets import QueryLab

BAD = "SELECT * FROM users WHERE lower(email) = 'nobody@example.com'"


@pytest.fixture(scope="module")
def shell(demo_db: str) -> Iterator[InteractiveShell]:
    """An IPython shell with ``%load_ext dbworkbench`` done and the demo database as $DBWORKBENCH_DSN."""
    ip = InteractiveShell.instance()
    mp = pytest.MonkeyPatch()
    mp.setenv("DBWORKBENCH_DSN", demo_db)
    ip.run_line_magic("load_ext", "dbworkbench")
    ip.user_ns["demo_dsn"] = demo_db
    yield ip
    ip.magics_manager.registry["WorkbenchMagics"].close()  # its workbench is on this module's database
    mp.undo()


def _cell(ip: InteractiveShell, text: str) -> object:
    """Run a cell; its result, raising what the cell raised."""
    result = ip.run_cell(text)
    result.raise_error()
    return result.result


def test_load_ext_registers_the_three_cell_magics(shell: InteractiveShell) -> None:
    cells = shell.magics_manager.magics["cell"]
    assert {"explain", "lint", "lab"} <= set(cells)
    assert pd.get_option("display.html.use_mathjax") is False  # tables keep $1 … $2 as text


def test_explain_returns_the_plan_for_the_next_cell(shell: InteractiveShell) -> None:
    plan = _cell(shell, f"%%explain\n{BAD}\n")
    assert isinstance(plan, wb.Plan)
    assert plan.execution_ms is not None  # ANALYZE by default
    assert "Seq Scan" in set(plan.nodes["node_type"])  # no index on lower(email)
    assert shell.user_ns["_"] is plan  # what the next cell sees
    assert "lower(email)" in plan.query
    html = plan._repr_html_()
    assert "Plan" in html and "tex2jax_ignore" in html


def test_explain_options(shell: InteractiveShell) -> None:
    estimated = _cell(shell, f"%%explain --estimate\n{BAD}")
    assert isinstance(estimated, wb.Plan) and estimated.execution_ms is None
    shell.user_ns["email"] = "Nobody@Example.com"
    with_params = _cell(shell, "%%explain --params [email]\nSELECT id FROM users WHERE lower(email) = lower($1)")
    assert isinstance(with_params, wb.Plan) and with_params.execution_ms is not None
    # --dsn with a notebook variable, and --db with a Workbench the notebook holds
    by_dsn = _cell(shell, '%%explain --dsn "$demo_dsn"\nSELECT count(*) FROM posts')
    assert isinstance(by_dsn, wb.Plan) and by_dsn.nodes.loc[0, "actual_rows"] == 1
    shell.user_ns["mydb"] = wb.connect(shell.user_ns["demo_dsn"])
    by_db = _cell(shell, "%%explain --db mydb --estimate\nSELECT count(*) FROM comments")
    assert isinstance(by_db, wb.Plan)
    shell.user_ns["mydb"].close()


def test_magics_refuse_clearly(shell: InteractiveShell) -> None:
    with pytest.raises(wb.UnsafeStatement):  # the gate: the default target is read-only
        _cell(shell, "%%explain\nDELETE FROM comments")
    with pytest.raises(wb.WorkbenchError, match="cell is empty"):
        _cell(shell, "%%explain\n   \n")
    with pytest.raises(wb.WorkbenchError, match="no Workbench of that name"):
        _cell(shell, "%%explain --db nothing_here\nSELECT 1")
    with pytest.raises(wb.WorkbenchError, match="list or tuple"):
        _cell(shell, "%%explain --params 'x'\nSELECT $1::text")


def test_lint_returns_the_findings(shell: InteractiveShell) -> None:
    found = _cell(shell, f"%%lint\n{BAD}")
    assert isinstance(found, pd.DataFrame)
    assert list(found.columns) == ["code", "severity", "message", "start", "end", "suggestion", "rewrite"]
    assert {"select-star", "function-on-indexed-column"} <= set(found["code"])
    offline = _cell(shell, f"%%lint --offline\n{BAD}")
    assert "select-star" in set(offline["code"])
    clean = _cell(shell, "%%lint\nSELECT id, username FROM users WHERE id = $1")
    assert not (clean["severity"] == "warning").any()


def test_lab_opens_the_querylab_on_the_cell(shell: InteractiveShell) -> None:
    lab = _cell(shell, f"%%lab --runs 5\n{BAD}")
    assert isinstance(lab, QueryLab)
    assert lab.editor_a.value == BAD and lab.lab.runs == 5
    assert "select-star" in set(lab.lab.findings["code"])  # linted on opening
    bundle = lab._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
