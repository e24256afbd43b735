"""lint without a server: the cases in cases.sql, positions, dtypes, parse errors, the rule list."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dbworkbench
from dbworkbench import sqltools
from dbworkbench.sqltools import COLUMNS, RULE_DOCS, RULES, lint

HERE = Path(__file__).parent


def _cases() -> list[tuple[str, list[str], str]]:
    text = (HERE / "cases.sql").read_text(encoding="utf-8")
    out = []
    for block in re.split(r"^-- case: ", text, flags=re.M)[1:]:
        title, rest = block.split("\n", 1)
        codes_line, sql = rest.split("\n", 1)
        codes = [c.strip() for c in codes_line.removeprefix("-- codes:").split(",") if c.strip()]
        out.append((title.strip(), codes, sql.strip().rstrip(";")))
    return out


CASES = _cases()


@pytest.mark.parametrize(("title", "codes", "sql"), CASES, ids=[c[0] for c in CASES])
def test_case(title: str, codes: list[str], sql: str) -> None:
    found = lint(sql)
    assert found["code"].tolist() == codes, found[["code", "message"]].to_string()
    for row in found.itertuples():
        assert 0 <= row.start < row.end <= len(sql), (row.code, row.start, row.end)
        assert row.message and row.suggestion


def test_every_code_has_a_case() -> None:
    covered = {code for _, codes, _ in CASES for code in codes}
    assert covered == set(RULE_DOCS) - {"parse-error"}


def test_columns_and_dtypes() -> None:
    found = lint("SELECT * FROM users WHERE lower(email) = lower($1)")
    assert list(found.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in found.dtypes.items()} == COLUMNS
    assert found["rewrite"].isna().all()
    empty = lint("SELECT id FROM users WHERE id = $1")
    assert empty.empty and {c: str(t) for c, t in empty.dtypes.items()} == COLUMNS


def test_positions_point_at_the_text() -> None:
    sql = "SELECT id\nFROM users\nWHERE LOWER(email) = LOWER($1)\n  AND title LIKE '%x'"
    found = lint(sql).set_index("code")
    assert sql[found.loc["function-on-indexed-column", "start"] : found.loc["function-on-indexed-column", "end"]] == "LOWER(email) = LOWER($1)"
    assert sql[found.loc["leading-wildcard-like", "start"] : found.loc["leading-wildcard-like", "end"]] == "title LIKE '%x'"
    cast = "SELECT id FROM posts WHERE created_at::date = $1::date"
    row = lint(cast).iloc[0]
    assert cast[row["start"] : row["end"]] == "created_at::date = $1::date"
    offset = "SELECT id FROM posts ORDER BY id LIMIT 20 OFFSET $1"
    row = lint(offset).iloc[0]
    assert offset[row["start"] : row["end"]] == "$1"


@pytest.mark.parametrize(
    ("sql", "at"),
    [("SELECT FROM WHERE (", "WHERE"), ("SELECT id FROM users WHERE", None), ("SELECT 1,\n 'abc", "'abc"), ("", None)],
)
def test_parse_error_is_one_finding(sql: str, at: str | None) -> None:
    found = lint(sql)
    if not sql:
        assert found.empty
        return
    assert found["code"].tolist() == ["parse-error"] and found.loc[0, "severity"] == "error"
    if at is not None:
        assert sql[found.loc[0, "start"] : found.loc[0, "end"]] == at


def test_bad_input_type() -> None:
    with pytest.raises(TypeError, match="str"):
        lint(b"SELECT 1")  # type: ignore[arg-type]


def test_rewrites_are_whole_statements() -> None:
    sql = "SELECT u.id FROM users u WHERE (SELECT count(*) FROM posts p WHERE p.user_id = u.id) >= 1 ORDER BY u.id LIMIT 5"
    rewrite = lint(sql).loc[0, "rewrite"]
    assert "EXISTS" in rewrite and "count" not in rewrite.lower() and "LIMIT 5" in rewrite
    assert lint(rewrite).query("code == 'count-for-existence'").empty


def test_several_statements() -> None:
    found = lint("SELECT * FROM users WHERE id = $1; SELECT id FROM posts ORDER BY random() LIMIT 1")
    assert found["code"].tolist() == ["select-star", "order-by-random"]


def test_rule_list() -> None:
    assert len(RULES) == len(RULE_DOCS) - 1
    for rule, code in zip(RULES, RULE_DOCS, strict=False):  # one module per rule, named after its code
        module = sys.modules[rule.__module__]
        assert module.CODE == code and rule.__module__.endswith("." + rule.__name__) and rule.__doc__
    for code, doc in RULE_DOCS.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code) and doc.endswith(".") and len(doc) < 400
    assert dbworkbench.lint is lint


def test_docstring_examples() -> None:
    result = doctest.testmod(sqltools, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_no_database_driver_imported() -> None:
    """sqltools reads SQL offline: importing it and linting load no database driver."""
    code = (
        "import sys, dbworkbench.sqltools as st; st.lint('SELECT * FROM users u, posts p ORDER BY random()'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg2', 'sqlalchemy', 'asyncpg')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_tpch_queries_get_only_true_findings() -> None:
    """The 22 TPC-H queries (comma joins linked in WHERE, unqualified columns): no false implicit
    cross join; the real anti-patterns are named (Q13's LIKE '%special%requests%', Q16's NOT IN,
    Q22's substring(c_phone ...))."""
    from dbworkbench.datasets.tpch import tpch_queries
    from dbworkbench.errors import WorkbenchError

    try:
        queries = tpch_queries(exclude=())
    except WorkbenchError as err:
        pytest.skip(f"no TPC-H queries here: {err}")
    found = {n: lint(sql) for n, sql in queries.items()}
    assert all(f.query("severity == 'error'").empty for f in found.values())
    assert "implicit-cross-join" not in {c for f in found.values() for c in f["code"]}
    assert "leading-wildcard-like" in set(found[13]["code"])
    assert "not-in-subquery" in set(found[16]["code"])
    assert "function-on-indexed-column" in set(found[22]["code"])
    assert found[1].empty and found[6].empty
