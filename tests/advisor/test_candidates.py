"""Index candidates: the titled cases of fixtures/candidates.sql (pure), the frame's contract,
the plan insight's index, and SchemaInfo.read plus the demo workload on real servers."""

from __future__ import annotations

import ast
import doctest
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psycopg
import pytest

import dbworkbench as wb
from dbworkbench.advisor import IndexDef, _expr
from dbworkbench.advisor.candidates import CANDIDATE_COLUMNS, candidates, condition_candidates
from dbworkbench.advisor.schema import SchemaInfo

FIXTURES = Path(__file__).parent / "fixtures" / "candidates.sql"
# the package exports the function candidates(), so the modules are taken from sys.modules
candidates_module = importlib.import_module("dbworkbench.advisor.candidates")
schema_module = importlib.import_module("dbworkbench.advisor.schema")
ADVISOR = Path(candidates_module.__file__).parent


# --------------------------------------------------------------------------- a hand-made blog schema

_COLUMNS = {
    "users": [("id", "uuid", "U"), ("email", "character varying(255)", "S"), ("username", "character varying(50)", "S"),
              ("password_hash", "character varying(255)", "S"), ("full_name", "character varying(255)", "S"),
              ("role", "user_role", "E"), ("is_active", "boolean", "B"), ("email_verified", "boolean", "B"),
              ("last_login_at", "timestamp with time zone", "D"), ("created_at", "timestamp with time zone", "D")],
    "posts": [("id", "uuid", "U"), ("user_id", "uuid", "U"), ("title", "character varying(255)", "S"),
              ("slug", "character varying(255)", "S"), ("content", "text", "S"), ("status", "post_status", "E"),
              ("published_at", "timestamp with time zone", "D"), ("view_count", "integer", "N"),
              ("created_at", "timestamp with time zone", "D"), ("data", "jsonb", "U"), ("tags", "text[]", "A"),
              ("search", "tsvector", "U")],
    "comments": [("id", "uuid", "U"), ("post_id", "uuid", "U"), ("user_id", "uuid", "U"), ("parent_id", "uuid", "U"),
                 ("content", "text", "S"), ("is_approved", "boolean", "B"), ("is_deleted", "boolean", "B"),
                 ("created_at", "timestamp with time zone", "D")],
}
_INDEXES = [  # as pg_get_indexdef prints them
    ("users", "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)", True),
    ("users", "CREATE UNIQUE INDEX users_email_key ON public.users USING btree (email)", True),
    ("users", "CREATE UNIQUE INDEX users_username_key ON public.users USING btree (username)", True),
    ("users", "CREATE INDEX idx_users_created_at ON public.users USING btree (created_at)", False),
    ("users", "CREATE INDEX idx_users_lower_username ON public.users USING btree (lower((username)::text))", False),
    ("posts", "CREATE UNIQUE INDEX posts_pkey ON public.posts USING btree (id)", True),
    ("posts", "CREATE UNIQUE INDEX posts_slug_key ON public.posts USING btree (slug)", True),
    ("posts", "CREATE INDEX idx_posts_user_id ON public.posts USING btree (user_id)", False),
    ("posts", "CREATE INDEX idx_posts_status_published ON public.posts USING btree (status, published_at) "
              "WHERE (status = 'published'::post_status)", False),
    ("comments", "CREATE UNIQUE INDEX comments_pkey ON public.comments USING btree (id)", True),
    ("comments", "CREATE INDEX idx_comments_created ON public.comments USING btree (post_id, created_at)", False),
]
# (table, column, null_frac, avg_width, estimated_distinct, most_common_vals, most_common_freqs)
_STATS = [
    ("users", "is_active", 0.0, 1, 2.0, ["t", "f"], [0.9, 0.1]),
    ("users", "email", 0.0, 24, 10_000.0, None, None),
    ("posts", "status", 0.0, 4, 3.0, ["draft", "published", "archived"], [0.7, 0.2, 0.1]),
    ("posts", "user_id", 0.0, 16, 900.0, None, None),
    ("comments", "is_approved", 0.0, 1, 2.0, ["t", "f"], [0.8, 0.2]),
    ("comments", "is_deleted", 0.0, 1, 2.0, ["f", "t"], [0.95, 0.05]),
    ("comments", "user_id", 0.0, 16, 1000.0, None, None),
    ("comments", "content", 0.0, 180, 290_000.0, None, None),
    ("comments", "id", 0.0, 16, -1.0, None, None),
]


def blog_schema() -> SchemaInfo:
    cols = [("public", t, c, ty, True, cat) for t, spec in _COLUMNS.items() for c, ty, cat in spec]
    stats = pd.DataFrame(
        [("public", t, c, nf, w, nd, mcv, mcf, False) for t, c, nf, w, nd, mcv, mcf in _STATS],
        columns=["schema", "table", "column", "null_frac", "avg_width", "estimated_distinct", "most_common_vals",
                 "most_common_freqs", "inherited"],
    )
    return SchemaInfo(
        columns=pd.DataFrame(cols, columns=["schema", "table", "column", "type", "not_null", "category"]),
        indexes=pd.DataFrame([("public", t, d, u, True) for t, d, u in _INDEXES],
                             columns=["schema", "table", "definition", "is_unique", "is_valid"]),
        column_stats=stats,
        tables=pd.DataFrame([("public", "users", 10_000), ("public", "posts", 50_000), ("public", "comments", 300_000)],
                            columns=["schema", "table", "n_live_tup"]),
        extensions=frozenset({"plpgsql"}),
        search_path=("public",),
    )


# --------------------------------------------------------------------------- the fixture file


@dataclass
class Case:
    title: str
    statements: list[str] = field(default_factory=list)
    schema: str = "none"
    width: int = 3
    expect: list[tuple[str, list[int] | None]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    exactly: bool = False
    unparsed: list[tuple[int, str]] = field(default_factory=list)
    reasons: list[tuple[str, str]] = field(default_factory=list)


def read_cases(path: Path = FIXTURES) -> list[Case]:
    cases: list[Case] = []
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"--\s*(title|schema|width|expect|absent|exactly|unparsed|reason)\b:?\s*(.*)$", line)
        if m and m.group(1) == "title":
            cases.append(Case(m.group(2).strip()))
            body = []
            continue
        if not cases:
            continue
        case = cases[-1]
        if m:
            key, value = m.group(1), m.group(2).strip()
            if key == "schema":
                case.schema = value
            elif key == "width":
                case.width = int(value)
            elif key == "expect":
                definition, _, sources = value.partition(" @ ")
                case.expect.append((definition.strip(), [int(s) for s in sources.split(",")] if sources else None))
            elif key == "absent":
                case.absent.append(value)
            elif key == "exactly":
                case.exactly = True
            elif key == "unparsed":
                n, _, text = value.partition(":")
                case.unparsed.append((int(n), text.strip()))
            elif key == "reason":
                definition, _, text = value.partition(" ~ ")
                case.reasons.append((definition.strip(), text.strip()))
            continue
        if line.startswith("--") or not line.strip():
            continue
        body.append(line)
        if line.rstrip().endswith(";"):
            case.statements.append("\n".join(body))
            body = []
    return cases


CASES = read_cases()


def test_fixture_file_is_read() -> None:
    assert len(CASES) >= 40
    assert all(c.statements and (c.expect or c.absent or c.exactly or c.unparsed) for c in CASES), \
        [c.title for c in CASES if not c.statements]
    assert len({c.title for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.title for c in CASES])
def test_case(case: Case) -> None:
    info = blog_schema() if case.schema == "blog" else None
    frame = candidates(case.statements, schema=info, max_width=case.width)
    found = {ix.definition: row for ix, row in zip(frame["index"], frame.to_dict("records"))}
    for definition, sources in case.expect:
        assert definition in found, f"{definition!r} not among {sorted(found)}"
        if sources is not None:
            assert found[definition]["source_queries"] == sources
    for definition in case.absent:
        assert definition not in found, f"{definition!r} should not be proposed"
    if case.exactly:
        assert sorted(found) == sorted(d for d, _ in case.expect)
    unparsed = frame.attrs["unparsed"]
    assert sorted(unparsed["statement_id"].tolist()) == sorted(n for n, _ in case.unparsed)
    for n, text in case.unparsed:
        error = unparsed.loc[unparsed["statement_id"] == n, "error"].iloc[0]
        assert text.lower() in error.lower()
        assert unparsed.loc[unparsed["statement_id"] == n, "query"].iloc[0] == case.statements[n]
    for definition, text in case.reasons:
        assert text in found[definition]["reason"], found[definition]["reason"]
    for ix in frame["index"]:
        assert len(ix.name.encode()) <= 63 and len(ix.keys) <= case.width


# --------------------------------------------------------------------------- the frame's contract


def test_frame_columns_and_dtypes() -> None:
    frame = candidates(["SELECT id FROM posts WHERE lower(title) = $1 AND user_id = $2 AND status = 'draft'"])
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    for name, dtype in CANDIDATE_COLUMNS.items():
        assert str(frame[name].dtype) == ("object" if dtype == "object" else dtype), name
    assert frame["score"].is_monotonic_decreasing
    row = frame[frame["expression"].notna() & (frame["columns"].map(len) == 2)].iloc[0]
    assert row["expression"] == "lower(title), user_id, status" and row["columns"] == ["user_id", "status"]
    assert frame[frame["columns"].map(len) == 0]["expression"].tolist() == ["lower(title)"]
    plain = frame[frame["expression"].isna()].iloc[0]
    assert plain["columns"] and pd.isna(plain["where"]) and plain["table"] == "public.posts"
    assert all(isinstance(ix, IndexDef) and ix.create_sql() == sql for ix, sql in zip(frame["index"], frame["create_sql"]))
    partial = frame[frame["where"].notna()]
    assert set(partial["where"]) == {"status = 'draft'"}


def test_workload_frame_calls_weigh_the_score() -> None:
    sql = ["SELECT id FROM comments WHERE user_id = $1", "SELECT id FROM comments WHERE post_id = $1"]
    light = candidates(pd.DataFrame({"query": sql, "calls": [1, 1]}))
    heavy = candidates(pd.DataFrame({"query": sql, "calls": [1, 500]}))
    light, heavy = (f[f["include"].map(len) == 0].reset_index(drop=True) for f in (light, heavy))
    assert light.loc[0, "score"] == pytest.approx(light.loc[1, "score"])
    assert heavy.loc[0, "columns"] == ["post_id"] and heavy.loc[0, "score"] > 100 * heavy.loc[1, "score"]
    with pytest.raises(ValueError, match="'query' column"):
        candidates(pd.DataFrame({"sql": sql}))


def test_empty_and_unknown_tables() -> None:
    frame = candidates([])
    assert frame.empty and list(frame.columns) == list(CANDIDATE_COLUMNS)
    assert frame.attrs["unparsed"].empty and str(frame.attrs["unparsed"]["statement_id"].dtype) == "Int64"
    gone = candidates(["SELECT * FROM vanished WHERE a = $1", "SELECT id FROM posts WHERE user_id = $1 AND view_count > 3"],
                      schema=blog_schema())
    assert gone.attrs["unknown_tables"] == ["vanished"]
    assert not gone.empty and set(gone["table"]) == {"public.posts"}
    assert "pg_stats" not in " ".join(gone.attrs["pruned"]["reason"]) or len(gone.attrs["pruned"])
    assert (gone.attrs["pruned"]["index"] == "ON public.posts USING btree (user_id)").any()
    with pytest.raises(ValueError, match="max_width"):
        candidates(["SELECT 1"], max_width=0)


def test_pg_stat_statements_text_of_typed_literals_and_copy() -> None:
    """pg_stat_statements turns ``date '2024-01-01'`` into ``date $1``, which neither PostgreSQL nor
    sqlglot reads (TPC-H Q14 from pg_stat_statements was reported unparsed); COPY looks nothing up,
    so it gives no candidates and is not reported as unparsed either (the TPC-H load's COPYs were)."""
    frame = candidates(["SELECT count(*) FROM posts WHERE published_at >= date $1 AND published_at < date $1 + interval $2 month",
                        'COPY "public"."posts" ("id", "title") FROM STDIN (FORMAT csv)'], schema=blog_schema())
    assert frame.attrs["unparsed"].empty, frame.attrs["unparsed"]
    assert any(c[:1] == ["published_at"] for c in frame["columns"]), list(frame["columns"])


def test_an_output_alias_is_no_key_column() -> None:
    """TPC-H Q15's shape: a CTE groups by its output alias; no index on the table names the alias."""
    query = ("WITH per AS (SELECT user_id AS author, count(*) AS n FROM comments WHERE created_at >= $1 GROUP BY author) "
             "SELECT * FROM per WHERE n > 3")
    frame = candidates([query], schema=blog_schema())
    assert not any("author" in cols for cols in frame["columns"]), list(frame["create_sql"])
    assert [["created_at"]] == [c for c in frame["columns"] if c == ["created_at"]]
    pruned = frame.attrs["pruned"]
    assert pruned["reason"].str.contains('public.comments has no column author').any(), pruned
    # without the column list (nothing known), it is taken on trust
    assert any("author" in cols for cols in candidates([query])["columns"])


def test_pg_stats_rank_a_selective_key_above_a_weak_one() -> None:
    frame = candidates(["SELECT id FROM comments WHERE user_id = $1", "SELECT id FROM comments WHERE is_approved = false"],
                       schema=blog_schema())
    scores = {tuple(r["columns"]): r["score"] for r in frame.to_dict("records")}
    assert scores[("user_id",)] > scores[("is_approved",)] > 0


# --------------------------------------------------------------------------- one source of index advice


def test_condition_candidates_from_a_plan_filter() -> None:
    fts = condition_candidates("posts", "(to_tsvector('english'::regconfig, content) @@ plainto_tsquery('english'::regconfig, 'x'::text))",
                               schema="public")
    assert [ix.definition for ix in fts] == ["ON public.posts USING gin (to_tsvector('english', content))"]
    lookups = condition_candidates("comments", "((c.user_id = $1) AND (c.created_at > now()))", alias="c")
    assert lookups[0].definition == "ON comments USING btree (user_id, created_at)"
    assert condition_candidates("t", "SubPlan 1 garbage (((") == []


def test_plan_insight_takes_the_advisor_index() -> None:
    plan = wb.parse_plan("""
 Seq Scan on posts  (cost=0.00..9193.50 rows=15 width=181) (actual time=0.02..41.5 rows=12 loops=1)
   Filter: (to_tsvector('english'::regconfig, content) @@ plainto_tsquery('english'::regconfig, 'slow query'::text))
   Rows Removed by Filter: 299988
 Execution Time: 41.6 ms
""")
    found = plan.insights()
    row = found[found["code"] == "seq-scan-selective"].iloc[0]
    assert "USING gin (to_tsvector('english', content))" in row["suggestion"]
    assert "CREATE INDEX CONCURRENTLY" in row["suggestion"]


# --------------------------------------------------------------------------- purity and docs


def test_no_database_driver_in_the_pure_modules() -> None:
    """candidates and its helpers import no driver at module level (SchemaInfo.read imports lazily)."""
    for name in ("candidates.py", "_access.py", "_expr.py", "schema.py"):
        tree = ast.parse((ADVISOR / name).read_text(encoding="utf-8"))
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for n in names:
                assert n.split(".")[0] not in {"psycopg", "sqlalchemy"} and n.lstrip(".") not in ("collectors", "explain"), (name, n)


@pytest.mark.parametrize("module", [candidates_module, schema_module, _expr])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- real servers


@pytest.fixture(scope="module")
def demo(demo_db: str):
    from dbworkbench.datasets.workload import run_workload

    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        run_workload(conn, iterations=150, seed=3, progress=False)
    with wb.connect(demo_db) as db:
        yield db


def test_schema_info_read(demo) -> None:
    info = SchemaInfo.read(demo)
    assert info.search_path == ("public",)
    assert {"plpgsql", "pg_stat_statements"} <= info.extensions
    assert info.text_search_config == "english"
    cols = info.columns
    assert list(cols.columns[:5]) == ["schema", "table", "column", "type", "not_null"]
    email = cols[(cols["table"] == "users") & (cols["column"] == "email")].iloc[0]
    assert email["type"] == "character varying(255)" and bool(email["not_null"]) is True
    assert bool(cols[(cols["table"] == "users") & (cols["column"] == "full_name")]["not_null"].iloc[0]) is False
    assert info.resolve_table(None, "comments") == ("public", "comments") and info.resolve_table(None, "nope") is None
    assert {"users_pkey", "idx_users_email", "idx_posts_status_published"} <= set(info.indexes["index"])
    shapes = info.index_shapes("public", "posts")
    assert any(s.where == "status = 'published'" and [k.expr for k in s.keys] == ["status", "published_at"] for s in shapes)
    assert info.rows("public", "comments") and info.rows("public", "comments") > 0
    status = info.stats("public", "posts", "status")
    assert status is not None and "published" in status["most_common_vals"]


def test_demo_workload_candidates(demo, demo_db: str) -> None:
    """The three required candidates come out of the demo's pg_stat_statements, none duplicates an
    index the schema has, and every CREATE INDEX runs on the server (in a rolled-back transaction)."""
    info = SchemaInfo.read(demo)
    workload = demo.statements()
    frame = candidates(workload, schema=info)
    assert frame.attrs["unparsed"].empty, frame.attrs["unparsed"]
    defs = set(frame["index"].map(lambda ix: ix.definition))
    assert "ON public.users USING btree (lower(email))" in defs
    assert "ON public.posts USING gin (to_tsvector('english', content))" in defs
    assert any(c == "public.comments" and cols[:1] == ["user_id"] for c, cols in zip(frame["table"], frame["columns"]))

    def shape(definition: str) -> str:
        return re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ", "", definition)

    with psycopg.connect(demo_db) as conn:
        existing = {shape(d) for (d,) in conn.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index JOIN pg_class c ON c.oid = indrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'")}
        made = []
        for ix in frame["index"]:
            conn.execute("SAVEPOINT s")
            conn.execute(ix.create_sql(concurrently=False, if_not_exists=False, name="advisor_probe"))
            (d,) = conn.execute("SELECT pg_get_indexdef('public.advisor_probe'::regclass)").fetchone()
            made.append(shape(d))
            conn.execute("ROLLBACK TO SAVEPOINT s")
        conn.rollback()
    assert len(made) == len(frame) and not set(made) & existing, set(made) & existing
