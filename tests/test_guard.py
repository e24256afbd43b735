"""The guard classifies statements without a server."""

from __future__ import annotations

import pytest

from dbworkbench.errors import UnsafeStatement
from dbworkbench.guard import check_single, classify, split_statements

CASES = [
    ("select 1", "read"),
    ("SELECT * FROM users WHERE lower(email) = $1", "read"),
    ("VALUES (1), (2)", "read"),
    ("(SELECT 1) UNION (SELECT 2)", "read"),
    ("SELECT 'insert into t values (1)' AS s", "read"),
    ('SELECT "update" FROM t', "read"),
    ("EXPLAIN SELECT 1", "read"),
    ("COPY t TO STDOUT", "read"),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "write"),
    ("INSERT INTO comments (post_id) VALUES ($1)", "write"),
    ("UPDATE posts SET view_count = view_count + 1 WHERE id = $1", "write"),
    ("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", "write"),
    ("SELECT * INTO copy_of_t FROM t", "write"),
    ("COPY t FROM STDIN", "write"),
    ("EXPLAIN ANALYZE DELETE FROM t", "write"),
    ("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", "write"),
    ("DO $$ BEGIN PERFORM 1; END $$", "write"),
    ("CREATE INDEX CONCURRENTLY ON t (a)", "ddl"),
    ("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u ON DELETE CASCADE", "ddl"),
    ("VACUUM (ANALYZE) t", "ddl"),
    ("TRUNCATE t", "ddl"),
    ("BEGIN", "transaction"),
    ("SET work_mem = '64MB'", "transaction"),
]


@pytest.mark.parametrize(("sql", "kind"), CASES)
def test_classify(sql: str, kind: str) -> None:
    assert classify(sql).kind == kind


def test_row_locks_and_parameters_are_noticed() -> None:
    assert classify("SELECT * FROM t WHERE id = $1 FOR UPDATE").locks_rows
    assert classify("SELECT * FROM t WHERE id = $1").has_parameters
    assert not classify("SELECT '$1'").has_parameters


def test_several_statements_are_refused_by_name() -> None:
    assert classify("SELECT 1; DROP TABLE users").kind == "ddl"
    with pytest.raises(UnsafeStatement, match="2 \\(SELECT, DROP\\)"):
        check_single("SELECT 1; DROP TABLE users")
    assert check_single("SELECT 'a;b'; ").statements == 1
    assert len(split_statements("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2")) == 2


def test_empty_and_unreadable_sql() -> None:
    with pytest.raises(UnsafeStatement, match="empty"):
        classify("  -- just a comment\n")
    with pytest.raises(UnsafeStatement, match="cannot read"):
        classify("SELECT 'unterminated")
