"""The health checklist as a whole: its frame, the demo database's findings and their fixes, CLI, figures."""

from __future__ import annotations

import json

import pandas as pd
import psycopg
import pytest
from click.testing import CliRunner

import dbworkbench as wb
from dbworkbench.cli import main
from dbworkbench.health import (
    CHECK_NAMES,
    HEALTH_COLUMNS,
    Finding,
    HealthThresholds,
    describe_checks,
    figures,
    findings_frame,
    to_markdown,
)
from tests.health_states import apply_fixes, check, execute, row, statuses

# Checks whose fix changes the server, not the database (ALTER SYSTEM, sessions): tested
# in test_health_checks.py with the server restored afterwards.
SERVER_LEVEL = {"memory_settings", "planner_settings", "logging_settings", "autovacuum_settings",
                "checkpoint_settings", "backup_readiness", "lock_contention", "long_running_queries",
                "idle_in_transaction", "connections", "pg_stat_statements"}


@pytest.fixture(scope="module")
def demo_report(demo_db: str) -> pd.DataFrame:
    with wb.connect(demo_db) as db:
        return db.health()


def test_frame_columns_dtypes_and_order(demo_report: pd.DataFrame) -> None:
    assert list(demo_report.columns) == list(HEALTH_COLUMNS)
    assert {str(t) for t in demo_report.dtypes} == {"string"}
    assert set(demo_report["status"]) <= {"pass", "warn", "fail", "skip"}
    assert set(demo_report["severity"]) <= {"info", "warning", "critical"}
    assert set(demo_report["check"]) == set(CHECK_NAMES)          # every check reports something
    order = demo_report["status"].map({"fail": 0, "warn": 1, "pass": 2, "skip": 3})
    assert order.is_monotonic_increasing
    assert demo_report["evidence"].str.len().min() > 10
    assert demo_report.loc[demo_report["status"] == "pass", "fix_sql"].isna().all()
    assert set(demo_report.attrs["seconds"]) == set(CHECK_NAMES)


def test_demo_duplicates_of_unique_constraints(demo_report: pd.DataFrame) -> None:
    dup = demo_report[demo_report["check"] == "duplicate_index"]
    assert set(dup["object"]) == {"public.idx_users_email", "public.idx_users_username", "public.idx_posts_slug"}
    assert statuses(dup) == {"fail"}
    assert "the index of UNIQUE constraint users_email_key" in row(dup, "public.idx_users_email").evidence
    assert row(dup, "public.idx_users_email").fix_sql == 'DROP INDEX CONCURRENTLY IF EXISTS "public"."idx_users_email";'
    assert ("CREATE UNIQUE INDEX CONCURRENTLY idx_users_email ON public.users USING btree (email);"
            in row(dup, "public.idx_users_email").recommendation)


def test_demo_unindexed_foreign_keys(demo_report: pd.DataFrame) -> None:
    fks = demo_report[demo_report["check"] == "fk_without_index"]
    assert set(fks["object"]) == {"public.comments(user_id)", "public.comments(parent_id)"}
    parent = row(fks, "public.comments(parent_id)")
    assert "idx_comments_post_parent (post_id, parent_id) has parent_id in position 2" in parent.evidence
    assert parent.fix_sql == (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_parent_id ON public.comments USING btree (parent_id);"
    )
    # comments.post_id leads idx_comments_post_parent: supported
    assert "public.comments(post_id)" not in set(fks["object"])


def test_demo_other_findings(demo_report: pd.DataFrame) -> None:
    trig = demo_report[demo_report["check"] == "updated_at_without_trigger"]
    assert set(trig["object"]) == {"public.comments.updated_at"}
    assert "update_updated_at_column" in trig.iloc[0].fix_sql
    listed = demo_report[demo_report["check"] == "fk_on_delete"]
    assert len(listed) == 4 and listed["evidence"].str.contains("ON DELETE CASCADE").all()
    assert statuses(demo_report[demo_report["check"] == "primary_key_missing"]) == {"pass"}


def test_demo_fixes_make_each_check_pass(server, demo_template: str, demo_report: pd.DataFrame) -> None:
    """Apply each database-level check's fixes to its own copy of the demo: the check then passes."""
    to_fix = demo_report[demo_report["status"].isin(["fail", "warn"]) & demo_report["fix_sql"].notna()
                         & ~demo_report["check"].isin(SERVER_LEVEL)]
    assert {"duplicate_index", "fk_without_index", "updated_at_without_trigger", "unused_index"} <= set(to_fix["check"])
    for name, findings in to_fix.groupby("check"):
        copy = server.create_database(f"h_demo_fix_{name}"[:60], template=demo_template)
        try:
            assert apply_fixes(copy, findings) == len(findings)
            after = check(copy, name)
            assert statuses(after) == {"pass"}, after[["object", "evidence"]].to_dict("records")
        finally:
            server.drop_database(f"h_demo_fix_{name}"[:60])


def test_all_demo_fixes_together(server, demo_template: str, demo_report: pd.DataFrame) -> None:
    """Every database-level fix in one go (IF EXISTS makes the overlapping DROPs safe): all those checks pass."""
    to_fix = demo_report[demo_report["status"].isin(["fail", "warn"]) & demo_report["fix_sql"].notna()
                         & ~demo_report["check"].isin(SERVER_LEVEL)]
    copy = server.create_database("h_demo_fix_all", template=demo_template)
    try:
        apply_fixes(copy, to_fix)
        with wb.connect(copy) as db:
            after = db.health(checks=sorted(set(to_fix["check"]) | {"fk_without_index"}))
        assert statuses(after) == {"pass"}, after[after.status != "pass"][["check", "object"]]
    finally:
        server.drop_database("h_demo_fix_all")


def test_read_only_target_and_no_locks_left(demo_db: str) -> None:
    with wb.connect(demo_db) as db:
        assert db.conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        report = db.health()
        assert not report["evidence"].str.contains("read-only transaction").any()
        pid = db.conn.info.backend_pid
        with psycopg.connect(demo_db) as other:
            held = other.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'relation'",
                                 [pid]).fetchone()[0]
        assert held == 0


def test_exact_bloat_with_pgstattuple(server, demo_template: str) -> None:
    copy = server.create_database("h_demo_pgstattuple", template=demo_template)
    try:
        execute(copy, "CREATE EXTENSION pgstattuple")
        report = check(copy, "table_bloat", exact_bloat=True, bloat_min_bytes=0, bloat_warn_ratio=0.0)
        assert report["evidence"].str.contains("pgstattuple:").all()
        assert "pgstattuple is not installed" not in " ".join(report["evidence"])
        off = check(copy, "table_bloat", exact_bloat=False, bloat_min_bytes=0, bloat_warn_ratio=0.0)
        assert not off["evidence"].str.contains("pgstattuple:").any()
        default = check(copy, "table_bloat", bloat_min_bytes=0, bloat_warn_ratio=0.0)  # not the sandbox: off
        assert default["evidence"].str.contains("exact measurement with pgstattuple skipped").all()
    finally:
        server.drop_database("h_demo_pgstattuple")


def test_a_check_that_cannot_run_is_skipped(demo_db: str) -> None:
    from dbworkbench.health import CheckSkipped, HealthContext, run_check

    def needs_something(ctx: HealthContext) -> list[Finding]:
        raise CheckSkipped("needs the something extension")

    def broken_sql(ctx: HealthContext) -> list[Finding]:
        ctx.query("SELECT * FROM pg_catalog.no_such_view")
        return []

    with wb.connect(demo_db) as db:
        ctx = HealthContext(db.conn, db.server)
        (skipped,) = run_check(needs_something, ctx)
        assert (skipped.check, skipped.status, skipped.evidence) == ("needs_something", "skip",
                                                                     "needs the something extension")
        (failed,) = run_check(broken_sql, ctx)
        assert failed.status == "skip" and "no_such_view" in failed.evidence


def test_options_are_checked(demo_db: str) -> None:
    with wb.connect(demo_db) as db:
        with pytest.raises(wb.WorkbenchError, match="unknown health check"):
            db.health(checks=["no_such_check"])
        with pytest.raises(wb.WorkbenchError, match="unknown health option.*thresholds are"):
            db.health(cache_hit_threshold=0.5)
        with pytest.raises(wb.WorkbenchError, match="storage"):
            db.health(storage="tape")
        one = db.health(checks="fk_without_index", thresholds=HealthThresholds(capacity_fail=0.5))
        assert set(one["check"]) == {"fk_without_index"}


def test_thresholds_document_their_source() -> None:
    import inspect

    from dbworkbench.health import _thresholds

    source = inspect.getsource(_thresholds.HealthThresholds)
    for name in HealthThresholds.names():
        comment = source.split(f"    {name}:")[0].rsplit("\n\n", 1)[-1]
        assert "#:" in comment, f"threshold {name} has no documented default"


def test_describe_checks() -> None:
    table = describe_checks()
    assert list(table["check"]) == list(CHECK_NAMES)
    assert table["what"].str.len().min() > 10


def test_findings_frame_sorts_and_types() -> None:
    frame = findings_frame([
        Finding("pass", "a", "fine", check="cache_hit"),
        Finding("warn", "b", "hmm", severity="info", check="cache_hit"),
        Finding("fail", "c", "bad", fix_sql="SELECT 1;", severity="warning", check="cache_hit"),
        Finding("warn", "d", "worse", severity="critical", check="cache_hit"),
        Finding("skip", "e", "cannot", check="cache_hit"),
    ])
    assert list(frame["object"]) == ["c", "d", "b", "a", "e"]
    assert frame["fix_sql"].isna().tolist() == [False, True, True, True, True]
    with pytest.raises(ValueError):
        Finding("bad", "x", "y")


def test_markdown_escapes_server_text() -> None:
    text = to_markdown(pd.DataFrame({"object": ['public."<script>x|y"'], "fix_sql": ["A;\nB;"]}))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "x\\|y" in text and "A;<br>B;" in text


# -- command line --------------------------------------------------------------------------


def test_cli_health_formats(demo_db: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["health", "--dsn", demo_db, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["check"] for r in rows} == set(CHECK_NAMES)

    result = runner.invoke(main, ["health", "--dsn", demo_db, "--format", "markdown", "--check", "duplicate_index"])
    assert result.exit_code == 0
    assert result.output.startswith("| check | status | severity | object |")
    assert "idx_users_email" in result.output

    result = runner.invoke(main, ["health", "--dsn", demo_db, "--check", "fk_without_index", "--fail-on", "fail"])
    assert result.exit_code == 2
    assert "fix:      CREATE INDEX CONCURRENTLY" in result.output

    result = runner.invoke(main, ["health", "--dsn", demo_db, "--check", "nope"])
    assert result.exit_code == 1 and result.output.startswith("Error: unknown health check")


# -- figures -------------------------------------------------------------------------------


def test_figures_from_the_collectors(demo_db: str) -> None:
    with wb.connect(demo_db) as db:
        tables, indexes = db.tables(), db.indexes()
    assert len(figures.scan_picture(tables).data) == 4
    assert len(figures.cache_hit_by_table(tables).data) == 1
    fig = figures.index_size_vs_scans(indexes)
    assert {t.name for t in fig.data} <= {"used", "unused", "unused, enforces a constraint"}
    assert len(figures.dead_tuple_share(tables).data) == 1


def test_figures_escape_names() -> None:
    tables = pd.DataFrame({
        "schema": ["public"], "table": ["<img src=x onerror=alert(1)>"], "seq_scan": [5], "idx_scan": [1],
        "seq_tup_read": [500], "idx_tup_fetch": [1], "n_live_tup": [100], "n_dead_tup": [50],
        "heap_blks_hit": [10], "heap_blks_read": [10],
    })
    for fig in (figures.scan_picture(tables), figures.cache_hit_by_table(tables), figures.dead_tuple_share(tables)):
        html = fig.to_json()
        assert "<img" not in html and "&lt;img" in html
