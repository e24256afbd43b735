"""The QueryLab without a browser: set values, click(), wait(), assert on what the widgets show and on lab.history.

Against the demo database on PostgreSQL 18 (the comparisons time real runs; one server is enough here).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import dbworkbench as wb
from dbworkbench.widgets import HISTORY_COLUMNS, Lab, LabBusy, QueryLab

pytestmark = pytest.mark.parametrize("server", ["pg18"], indirect=True)

BAD = "SELECT * FROM users WHERE lower(email) = 'nobody@example.com'"
# the handbook's pair, on the demo: every user with at least one post, counted and by existence
COUNTED = "SELECT u.id FROM users u WHERE (SELECT count(*) FROM posts p WHERE p.user_id = u.id) > 0"
EXISTS = "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM posts p WHERE p.user_id = u.id)"
SLOW = "SELECT count(*) FROM generate_series(1, 300000) g"


@pytest.fixture(scope="module")
def db(demo_db: str) -> Iterator[wb.Workbench]:
    with wb.connect(demo_db) as workbench:
        yield workbench


def _text(output: Any) -> str:
    """Everything an Output widget holds, as one string."""
    return repr(output.outputs)


def test_opening_lints_and_apply_puts_the_rewrite_into_b(db: wb.Workbench) -> None:
    ql = QueryLab(db, BAD)
    found = ql.lab.findings
    assert found is not None and {"select-star", "function-on-indexed-column"} <= set(found["code"])
    assert len(ql.apply_buttons) == len(found) == len(ql.findings.children)
    for button, rewrite in zip(ql.apply_buttons, found["rewrite"]):
        assert button.disabled == pd.isna(rewrite)  # Apply only where the fix is mechanical
    assert "select-star" in ql.findings.children[0].children[1].value

    ql = QueryLab(db, COUNTED)
    found = ql.lab.findings
    assert found is not None and list(found["code"]) == ["count-for-existence"]
    assert not ql.apply_buttons[0].disabled
    ql.apply_buttons[0].click()
    assert ql.editor_b.value == found.loc[0, "rewrite"] == ql.lab.sql_b
    assert "EXISTS" in ql.editor_b.value.upper() and "count-for-existence" in ql.status.value


def test_lint_apply_compare_shows_verdict_same_results_figure_and_history(db: wb.Workbench) -> None:
    ql = QueryLab(db, COUNTED, runs=6)
    ql.apply_buttons[0].click()  # count(*) > 0 → EXISTS
    rewrite = ql.lab.sql_b
    ql.compare_button.click()
    ql.wait(120)
    assert not ql.lab.running and ql.lab.error is None, ql.status.value
    cmp = ql.lab.comparison
    assert cmp is not None and cmp.sql_b == rewrite
    assert cmp.verdict in ("faster", "slower", "no detectable difference")
    assert cmp.verdict in ql.verdict.value and "median_ms" in ql.verdict.value
    assert "same results: yes" in ql.same.value
    assert "application/vnd.plotly.v1+json" in _text(ql.figure)
    assert "PlanDiff" in _text(ql.plan_diff)
    assert ql.progress.value == ql.progress.max >= 12  # 6 timed runs of each, and the warmups
    history = ql.history
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert history.dtypes.astype(str).to_dict() == HISTORY_COLUMNS
    row = history.iloc[-1]
    assert (row["variant"], row["action"], row["runs"], row["same_results"], row["stopped"]) == ("B1", "compare", 6, True, False)
    assert row["sql"] == rewrite and row["verdict"] == cmp.verdict
    assert row["ratio"] == pytest.approx(row["median_ms"] / row["baseline_ms"])
    assert "B1" in ql.history_view.value
    assert not ql.compare_button.disabled and ql.stop_button.disabled
    ql.editor_b.value = EXISTS  # another variant: B2
    ql.compare_button.click()
    ql.wait(120)
    assert list(ql.history["variant"]) == ["B1", "B2"] and ql.history["same_results"].all()


@pytest.mark.filterwarnings("ignore::dbworkbench.timing.WrongResults")  # compare warns too; the widget shows it
def test_a_wrong_rewrite_is_flagged_loudly(db: wb.Workbench) -> None:
    ql = QueryLab(db, EXISTS, runs=4)
    ql.editor_b.value = EXISTS + " AND u.is_active"  # faster or not, it drops the inactive users
    ql.compare_button.click()
    ql.wait(120)
    assert ql.lab.error is None, ql.status.value
    assert "WRONG REWRITE" in ql.same.value and "different results" in ql.verdict.value
    assert ql.history.iloc[-1]["same_results"] == False  # noqa: E712  (pandas boolean)
    assert ql.history.iloc[-1]["verdict"] == "different results"


def test_stop_ends_a_long_comparison(db: wb.Workbench) -> None:
    ql = QueryLab(db, SLOW, runs=400, max_seconds=300)
    ql.editor_b.value = SLOW.replace("count(*)", "count(g)")  # the same count, another way
    ql.compare_button.click()
    deadline = time.monotonic() + 60
    while ql.progress.value < 12 and time.monotonic() < deadline:  # the warmups (3 of each), then timed runs
        time.sleep(0.05)
    assert ql.progress.value >= 12 and ql.lab.running
    assert not ql.stop_button.disabled and ql.compare_button.disabled and ql.run_button.disabled  # while it runs
    with pytest.raises(LabBusy):  # one long step at a time on the one connection
        ql.lab.compare()
    ran = ql.editor_b.value
    ql.editor_b.value = "SELECT 1"  # edited while it runs: the history keeps what ran
    ql.stop_button.click()
    ql.wait(60)
    assert not ql.lab.running
    row = ql.history.iloc[-1]
    assert row["stopped"] == True and 3 <= row["runs"] < 400  # noqa: E712
    assert row["sql"] == ran and row["variant"] == "B1"
    assert row["same_results"] == True  # noqa: E712  (checked before the timed runs)
    assert "stopped" in ql.status.value and "same results: yes" in ql.same.value
    assert ql.lab.comparison.stopped.startswith("stopped on request")
    assert ql.stop_button.disabled and not ql.compare_button.disabled


def test_run_explains_both_variants_once(db: wb.Workbench) -> None:
    ql = QueryLab(db, COUNTED, EXISTS)
    ql.run_button.click()
    ql.wait(60)
    assert ql.lab.error is None, ql.status.value
    assert set(ql.lab.plans) == {"a", "b"}
    assert _text(ql.plans).count("text/html") == 2 and "PlanDiff" in _text(ql.plan_diff)
    runs = ql.history[ql.history["action"] == "run"]
    assert list(runs["variant"]) == ["A", "B1"] and runs["median_ms"].notna().all()
    assert runs["ratio"].isna().all() and runs["verdict"].isna().all()


def test_lab_logic_refuses_clearly(db: wb.Workbench) -> None:
    lab = Lab(db, BAD)
    with pytest.raises(ValueError, match="variant B is empty"):
        lab.compare()
    found = lab.lint()
    with pytest.raises(IndexError, match="lab.findings"):
        lab.apply(len(found))
    without = [i for i, r in enumerate(found["rewrite"]) if pd.isna(r)]
    if without:
        with pytest.raises(ValueError, match="no mechanical rewrite"):
            lab.apply(without[0])
    with pytest.raises(ValueError, match="needs a statement"):
        Lab(db, "  ")
    with pytest.raises(wb.UnsafeStatement):  # the gate, as everywhere: the target is read-only
        lab.sql_b = "DELETE FROM comments"
        lab.compare(runs=3)
    assert not lab.running  # a refused step leaves the lab usable
    assert lab.history.empty and list(lab.history.columns) == list(HISTORY_COLUMNS)


def test_everything_shown_is_escaped(db: wb.Workbench) -> None:
    hostile = "SELECT * FROM users WHERE username = '<script>alert(1)</script>' OR email = '$x$ costs $1'"
    ql = QueryLab(db, hostile, "SELECT id FROM users WHERE username = '<img src=x onerror=alert(1)>'")
    ql.run_button.click()
    ql.wait(60)
    shown = [ql.status.value, ql.history_view.value] + [
        child.value for row in ql.findings.children for child in getattr(row, "children", [row]) if hasattr(child, "value")
        and isinstance(child.value, str)]
    assert "username" in ql.history_view.value  # the variants' text is shown, escaped
    shown += [output["data"]["text/html"] for output in ql.plans.outputs]
    for html in shown:
        assert "<script" not in html and "<img" not in html and "$" not in html
    assert "&lt;img" in ql.history_view.value and "&#36;x&#36;" in ql.history_view.value
    assert "tex2jax_ignore" in ql.history_view.value


def test_a_statement_with_parameters_gets_values_from_the_data(db: wb.Workbench) -> None:
    """pg_stat_statements text ($1, $2, ...): values sampled from the columns they are compared with."""
    lab = Lab(db, "SELECT * FROM users WHERE lower(email) = lower($1)", "SELECT * FROM users WHERE email = $1")
    values = lab.sample_params()
    assert values is not None and len(values) == 1 and lab.params == values
    stored = db.conn.execute("SELECT count(*) FROM users WHERE email = %s", values).fetchone()
    assert stored == (1,)  # a real e-mail, as stored
    cmp = lab.compare(runs=4, warmup=1, progress=False)
    assert cmp.same_results.same  # the stored spelling: both find the one user
    assert lab.history.iloc[-1]["same_results"] == True  # noqa: E712
    assert lab.history.iloc[-1]["params"] == values
    ql = QueryLab(db, "SELECT id FROM posts WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2")
    assert ql.lab.params is not None and ql.lab.params[1] == "20"  # sampled on opening
    assert "sampled" in ql.status.value
    assert Lab(db, "SELECT $1::int + 1").sample_params() is None  # compared with no column: no guess


def test_the_params_field_reads_literals_only(db: wb.Workbench) -> None:
    ql = QueryLab(db, "SELECT id FROM users WHERE lower(email) = lower($1)")
    assert ql.params.value == repr(ql.lab.params) and ql.lab.params is not None  # sampled, and shown
    ql.params.value = "['nobody@example.com']"
    assert ql.lab.params == ["nobody@example.com"]
    for bad in ("__import__('os').getcwd()", "'just a string'", "[1, "):
        ql.params.value = bad
        assert ql.lab.params == ["nobody@example.com"] and "Python list" in ql.status.value
    ql.lab.params = ["someone@example.com"]  # set in code: the field follows on the next Run
    ql.run()
    assert ql.params.value == "['someone@example.com']" and ql.lab.error is None
    assert ql.history.iloc[-1]["params"] == ["someone@example.com"]


def test_run_without_values_shows_the_generic_plan(db: wb.Workbench) -> None:
    ql = QueryLab(db, "SELECT $1::int + 1", "SELECT $1::int + 2")  # compared with no column: nothing sampled
    assert ql.lab.params is None and "no values could be sampled" in ql.status.value
    ql.run()
    assert ql.lab.error is None, ql.status.value
    assert "A planned only" in ql.status.value and "B planned only" in ql.status.value
    assert ql.history["median_ms"].isna().all() and len(ql.history) == 2
    found_b = ql.lab.lint("b")  # lint the rewrite too: its findings become lab.findings
    assert list(found_b.columns) == ["code", "severity", "message", "start", "end", "suggestion", "rewrite"]
