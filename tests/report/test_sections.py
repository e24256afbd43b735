"""The report's sections on the demo database (PostgreSQL 18, and 15 where present): what each finds is checked
against the catalog, and a statement that can no longer be explained is reported, not raised."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

import dbworkbench as wb
from dbworkbench import report


@pytest.fixture(scope="module")
def db(demo_db: str) -> Iterator[wb.Workbench]:
    with psycopg.connect(demo_db, autocommit=True) as conn:  # traffic, then a table it read goes away
        conn.execute("CREATE TABLE gone_soon (a int)")
        for _ in range(3):
            conn.execute("SELECT count(*) FROM gone_soon WHERE a > 1 AND pg_sleep(0.05) IS NOT NULL")
        conn.execute("DROP TABLE gone_soon")
    with wb.connect(demo_db) as workbench:
        yield workbench


def test_schema_sections_match_the_demo(db: wb.Workbench) -> None:
    overview = report.schema_overview(db).set_index("table")
    assert {"users", "posts", "comments"} <= set(overview.index)
    assert overview.loc["comments", "references"] == "comments, posts, users"
    assert overview.loc["users", "referenced_by"] == "comments, posts"
    assert overview.loc["posts", "primary_key"] == "PRIMARY KEY (id)"
    ddl = report.table_ddl(db).set_index("table")["ddl"]
    assert ddl["comments"].startswith('CREATE TABLE "public"."comments" (')
    assert "FOREIGN KEY (post_id) REFERENCES posts(id) ON DELETE CASCADE" in ddl["comments"]
    assert "NOT NULL content" not in ddl["comments"]  # PostgreSQL 18's NOT NULL constraints stay on their column
    fig = report.er_figure(db)
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 3 and len(fig.layout.shapes) == 1  # posts→users, comments→posts, comments→users; parent_id loop


def test_index_purposes_name_the_foreign_key_an_index_serves(db: wb.Workbench) -> None:
    purposes = report.index_purposes(db).set_index("index")
    assert purposes.loc["idx_posts_user_id", "purpose"].startswith("joins and ON DELETE checks along posts_user_id_fkey")
    assert purposes.loc["posts_pkey", "type"] == "PRIMARY KEY"
    assert purposes.loc["users_email_key", "type"] == "UNIQUE"


def test_query_findings_report_a_statement_that_cannot_be_explained(db: wb.Workbench) -> None:
    findings = report.query_findings(db, top=50)
    gone = findings[findings["query"].str.contains("FROM gone_soon", regex=False)]
    assert len(gone) == 1 and gone["insights"].iloc[0].startswith("not explained: relation")
    assert not findings["query"].str.contains("dbworkbench:").any()  # the workbench's own statements are left out


def test_final_checklist_marks_every_handbook_line(db: wb.Workbench) -> None:
    checklist = report.final_checklist(db)
    assert list(checklist["item"]) == [item for item, _ in report.CHECKLIST]
    marks = checklist.set_index("item")["mark"]
    assert marks["Primary keys defined"] == "pass"
    assert marks["Foreign keys with appropriate ON DELETE behavior"] == "fail"  # comments.user_id has no index
    assert marks["Recovery procedure documented"] == "unknown"
    html = report.checklist_html(checklist)
    assert html.count("<li") == len(checklist)
