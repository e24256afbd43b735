"""db.compare: interleaved runs, statistics, verdicts, stop and budget, writes rolled back."""

from __future__ import annotations

import threading

import numpy as np
import psycopg
import pytest

import dbworkbench as wb
from dbworkbench.timing import SUMMARY_COLUMNS, TIMINGS_COLUMNS, WrongResults, summarize

SLOW = "SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY md5(g::text)) s"
FAST = "SELECT count(*) FROM generate_series(1, 200000) g"


def test_statistics_alone() -> None:
    a = np.linspace(10, 12, 30)
    s = summarize(a, a * 2)
    assert s.verdict == "slower" and s.ratio == pytest.approx(2.0) and s.ratio_ci[0] > 1
    assert summarize(a, a / 1.5).verdict == "faster"
    same = summarize(a, a[::-1].copy())
    assert same.verdict == "no detectable difference" and same.p_value > 0.5
    assert summarize(a[:2], a[:2] * 3).verdict == "no detectable difference"  # too few runs
    assert list(s.summary.columns) == [c for c, _ in SUMMARY_COLUMNS]
    assert s.summary.loc[0, "median_ms"] == pytest.approx(np.median(a))


def test_a_real_speedup_with_the_same_rows(ro) -> None:
    seen: list[dict] = []
    cmp = ro.compare(SLOW, FAST, runs=8, warmup=1, progress=False, on_run=seen.append, buffers_every=4)
    t = cmp.timings
    assert list(t.columns) == [c for c, _ in TIMINGS_COLUMNS]
    assert [str(d) for d in t.dtypes] == [d for _, d in TIMINGS_COLUMNS]
    assert len(t) == 16 and (t.groupby("variant")["run"].apply(sorted).map(list) == [list(range(8))] * 2).all()
    assert "".join(t["variant"]) == "AB" + "BA" + "AB" + "BA" + "AB" + "BA" + "AB" + "BA"  # interleaved ABBA
    sampled = t["run"] % 4 == 0
    assert t.loc[sampled, "shared_hit"].notna().all() and t.loc[~sampled, "shared_hit"].isna().all()
    assert len(seen) == 16 and seen[-1]["done"] == seen[-1]["total"] == 18
    assert cmp.verdict == cmp.speed_verdict == "faster" and cmp.ratio < 1
    assert cmp.same_results and cmp.verdict_text.startswith("B is ") and "same results" in cmp.verdict_text
    s = cmp.summary
    assert s.loc[1, "median_ms"] == pytest.approx(np.median(t.loc[t["variant"] == "B", "ms"].astype(float)))
    assert s.loc[1, "ratio_ci_high"] < 1 and s.loc[1, "p_value"] < 0.05
    assert set(cmp.plan_diff.nodes["change"]) - {"same"}  # the sort is gone
    fig = cmp.figure()
    assert [tr.name for tr in fig.data] == ["A", "B"] and all(len(tr.y) == 8 for tr in fig.data)


def test_faster_but_wrong_is_flagged_loudly(ro) -> None:
    with pytest.warns(WrongResults, match="WRONG REWRITE") as caught:
        cmp = ro.compare(SLOW, FAST.replace("200000", "100000"), runs=4, warmup=0, progress=False, buffers_every=0)
    assert caught[0].filename == __file__  # the warning points at the user's line, not inside the package
    assert cmp.speed_verdict == "faster" and cmp.verdict == "different results"
    assert not cmp.same_results and cmp.verdict_text.startswith("WRONG REWRITE")


def test_stop_ends_the_runs_with_what_was_measured(ro) -> None:
    stop = threading.Event()
    cmp = ro.compare(FAST, FAST, runs=50, warmup=0, progress=False, buffers_every=0,
                     on_run=lambda r: stop.set() if r["done"] >= 5 else None, stop=stop)
    assert len(cmp.timings) == 5 and cmp.stopped and "stopped on request" in cmp.stopped
    assert "stopped on request" in cmp.verdict_text


def test_the_time_budget_holds(ro) -> None:
    cmp = ro.compare(FAST, FAST, runs=100_000, warmup=0, max_seconds=0.5, progress=False, buffers_every=0)
    assert cmp.stopped and "time budget" in cmp.stopped and len(cmp.timings) < 200_000
    long = "SELECT count(*) FROM generate_series(1, 200000000)"
    cmp = ro.compare(long, long, runs=3, warmup=0, max_seconds=0.3, progress=False, buffers_every=0,
                     check_results=False)
    assert cmp.stopped and "during a run of A" in cmp.stopped and cmp.timings.empty
    assert cmp.verdict == "no detectable difference" and "too few runs" in cmp.verdict_text
    cmp = ro.compare(long, long, runs=3, warmup=0, max_seconds=0.3, progress=False, buffers_every=0)
    assert cmp.stopped and "while the results were compared" in cmp.stopped and cmp.checked_results is None
    assert cmp.timings.empty and ro.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_the_session_timeout_is_a_timeout_not_a_budget(demo_db) -> None:
    with wb.connect(demo_db, statement_timeout_ms=200) as db, pytest.raises(wb.QueryTimeout, match="statement_timeout"):
        db.compare("SELECT count(*) FROM generate_series(1, 200000000)", FAST, progress=False)


def test_writes_refused_read_only_and_rolled_back_with_writes_allowed(ro, rw) -> None:
    with pytest.raises(wb.UnsafeStatement, match="read-only"):
        ro.compare("UPDATE posts SET view_count = view_count + 1", FAST, progress=False)
    before = rw.conn.execute("SELECT sum(view_count) FROM posts").fetchone()
    cmp = rw.compare("UPDATE posts SET view_count = view_count + 1",
                     "UPDATE posts SET view_count = view_count + 1 WHERE true", runs=3, warmup=1, progress=False,
                     buffers_every=2)
    assert len(cmp.timings) == 6 and cmp.same_results
    assert rw.conn.execute("SELECT sum(view_count) FROM posts").fetchone() == before


def test_bad_input_is_refused(ro) -> None:
    with pytest.raises(ValueError, match="runs must be"):
        ro.compare(FAST, FAST, runs=0)
    with pytest.raises(ValueError, match="empty"):
        ro.compare("  ", FAST)
    with pytest.raises(wb.UnsafeStatement, match="one statement at a time"):
        ro.compare(FAST, "SELECT 1; DELETE FROM comments", progress=False)


def test_results_checked_on_demand(ro) -> None:
    cmp = ro.compare(FAST, FAST, runs=3, warmup=0, progress=False, buffers_every=0, check_results=False)
    assert cmp.checked_results is None and cmp.verdict_text.endswith("results not compared")
    assert cmp.same_results and cmp.checked_results is not None and cmp.same_results.rows_a == 1
    assert "<b>" in cmp._repr_html_() and "tex2jax_ignore" in cmp._repr_html_()
