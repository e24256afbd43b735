"""TPC-H: the loader (rows from tpchgen-cli, schema and queries from the shared folder) and `dbworkbench tpch load`."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from dbworkbench.cli import main
from dbworkbench.datasets.tpch import EXCLUDED, MARK, TABLES, generate_tpch, load_tpch, tpch_dir, tpch_is_loaded, tpch_queries
from dbworkbench.errors import WorkbenchError

SF = 0.01

# --------------------------------------------------------------------------- no server


def test_queries_are_the_nineteen_of_the_studies() -> None:
    queries = tpch_queries()
    assert sorted(queries) == [n for n in range(1, 23) if n not in EXCLUDED]
    assert all(q.lstrip().upper().startswith(("SELECT", "WITH")) and not q.rstrip().endswith(";")
               for q in queries.values())
    assert len(tpch_queries(exclude=())) == 22


def test_a_folder_without_the_schema_says_how_to_point_at_it(tmp_path: Path) -> None:
    with pytest.raises(WorkbenchError, match="--tpch-dir"):
        tpch_dir(tmp_path)


def test_missing_tpchgen_cli_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(WorkbenchError, match=r"pip install 'dbworkbench\[bench\]'"):
        generate_tpch(SF, tmp_path / "out")


def test_generate_writes_the_eight_tables_as_csv(tmp_path: Path) -> None:
    files = generate_tpch(SF, tmp_path)
    assert set(files) == set(TABLES)
    assert files["region"].read_text().splitlines()[0] == "r_regionkey,r_name,r_comment"
    assert len(files["nation"].read_text().splitlines()) == 26   # header + 25 nations


# --------------------------------------------------------------------------- on the servers


def _count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])


def _tables(conn: psycopg.Connection, schema: str = "public") -> dict[str, str | None]:
    rows = conn.execute("SELECT relname, obj_description(oid, 'pg_class') FROM pg_class WHERE relkind = 'r'"
                        " AND relnamespace = %s::regnamespace", [schema]).fetchall()
    return dict(rows)


def test_load_fills_marks_and_analyses_the_tables_and_the_queries_run(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        assert not tpch_is_loaded(conn)
        result = load_tpch(conn, SF, progress=False)
        assert tpch_is_loaded(conn)
        assert result["rows"]["region"] == 5 and result["rows"]["nation"] == 25
        assert result["rows"]["orders"] == 15_000
        for table in TABLES:
            assert _count(conn, table) == result["rows"][table] > 0
        made = _tables(conn)
        assert set(made) == set(TABLES) and all(c and c.startswith(MARK) for c in made.values())
        indexes = conn.execute("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                               " WHERE c.relname = ANY(%s)", [list(TABLES)]).fetchone()
        assert indexes == (0,), "TPC-H tables start without keys or indexes"
        analysed = conn.execute("SELECT count(DISTINCT starelid) FROM pg_statistic"
                                " WHERE starelid = ANY(%s::regclass[])", [list(TABLES)]).fetchone()
        assert analysed == (len(TABLES),)
        for number, query in tpch_queries().items():
            conn.execute(sql.SQL("EXPLAIN ") + sql.SQL(query))  # type: ignore[operator]
        q6 = conn.execute(tpch_queries()[6]).fetchone()
        assert q6 is not None and q6[0] > 0

        with pytest.raises(WorkbenchError, match="--replace"):
            load_tpch(conn, SF, progress=False)
        again = load_tpch(conn, SF, progress=False, replace=True)
        assert again["rows"] == result["rows"] and _count(conn, "lineitem") == result["rows"]["lineitem"]


def test_a_users_own_table_of_a_tpch_name_stops_the_load_and_stays(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop")
        conn.execute("CREATE TABLE shop.orders (id int)")
        conn.execute("INSERT INTO shop.orders VALUES (1), (2)")
        conn.execute("SET search_path = shop")
        for replace in (False, True):
            with pytest.raises(WorkbenchError, match="not created by the TPC-H loader.*nothing was dropped"):
                load_tpch(conn, SF, progress=False, replace=replace)
        assert _tables(conn, "shop") == {"orders": None}
        assert _count(conn, "orders") == 2


def test_replace_stops_at_a_users_view_on_a_tpch_table(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA viewed")
        conn.execute("SET search_path = viewed")
        load_tpch(conn, SF, progress=False)
        conn.execute("CREATE VIEW my_regions AS SELECT r_name FROM region")
        with pytest.raises(WorkbenchError, match="dependents.*nothing was dropped"):
            load_tpch(conn, SF, progress=False, replace=True)
        assert _count(conn, "my_regions") == 5 and set(_tables(conn, "viewed")) == set(TABLES)


def test_cli_refuses_without_allow_writes_and_loads_with_it(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA cli")
        conn.execute("CREATE ROLE tpch_cli_loader LOGIN")
        conn.execute("GRANT ALL ON SCHEMA cli TO tpch_cli_loader")
        conn.execute("ALTER ROLE tpch_cli_loader SET search_path = cli")
    try:
        dsn = psycopg.conninfo.make_conninfo(empty_db, user="tpch_cli_loader")
        runner = CliRunner()
        refused = runner.invoke(main, ["tpch", "load", "--sf", str(SF), "--dsn", dsn], env={"DBWORKBENCH_DSN": None})
        assert refused.exit_code == 1 and "--allow-writes" in refused.output, refused.output
        with psycopg.connect(empty_db, autocommit=True) as conn:
            assert _tables(conn, "cli") == {}
        loaded = runner.invoke(main, ["tpch", "load", "--sf", str(SF), "--dsn", dsn, "--allow-writes"],
                               env={"DBWORKBENCH_DSN": None})
        assert loaded.exit_code == 0, loaded.output
        assert "15,000 orders" in loaded.output
        with psycopg.connect(empty_db, autocommit=True) as conn:
            assert set(_tables(conn, "cli")) == set(TABLES)
        twice = runner.invoke(main, ["tpch", "load", "--sf", str(SF), "--dsn", dsn, "--allow-writes"],
                              env={"DBWORKBENCH_DSN": None})
        assert twice.exit_code == 0 and "already loaded" in twice.output
        bad_dir = runner.invoke(main, ["tpch", "load", "--dsn", dsn, "--allow-writes", "--replace", "--tpch-dir", "/nonexistent"],
                                env={"DBWORKBENCH_DSN": None})
        assert bad_dir.exit_code == 1 and "--tpch-dir" in bad_dir.output and "Traceback" not in bad_dir.output
    finally:
        with psycopg.connect(empty_db, autocommit=True) as conn:
            conn.execute("DROP OWNED BY tpch_cli_loader")
            conn.execute("DROP ROLE tpch_cli_loader")


def test_cli_without_dsn_loads_the_sandboxs_tpch_database(sandbox: object) -> None:
    import dbworkbench as wb

    admin = wb.Sandbox().conninfo("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS tpch")
    try:
        result = CliRunner().invoke(main, ["tpch", "load", "--sf", str(SF)], env={"DBWORKBENCH_DSN": None})
        assert result.exit_code == 0, result.output
        assert "into database 'tpch'" in result.output and "sandbox url --database tpch" in result.output
        with psycopg.connect(wb.Sandbox().conninfo("tpch"), autocommit=True) as conn:
            assert tpch_is_loaded(conn) and _count(conn, "region") == 5
        with psycopg.connect(wb.Sandbox().conninfo("demo"), autocommit=True) as conn:
            assert not set(_tables(conn)) & set(TABLES), "TPC-H stays out of the demo database"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS tpch WITH (FORCE)")
