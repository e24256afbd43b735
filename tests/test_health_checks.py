"""Every health check against a database where it must pass and one where it must fail.

Each failing state is made here, on a real server (both versions), and where the check
offers fix_sql, running it makes the check pass.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.fix_db import Server
from tests.health_states import (
    apply_fixes,
    check,
    execute,
    flush_stats,
    row,
    statuses,
    system_setting,
    wait_until,
)


@pytest.fixture
def fresh_db(server: Server, request: pytest.FixtureRequest) -> Iterator[str]:
    """Conninfo of a new empty database for one test (dropped afterwards)."""
    name = re.sub(r"\W", "_", f"h_{request.node.name}")[:50] + f"_{next(_counter)}"
    yield server.create_database(name)
    server.drop_database(name)


_counter = itertools.count()

# -- schema --------------------------------------------------------------------------------


def test_primary_key_missing(fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE ok (id int PRIMARY KEY)")
    assert statuses(check(fresh_db, "primary_key_missing")) == {"pass"}

    execute(fresh_db, "CREATE TABLE bare (a int)",
            "CREATE TABLE keyed (code text NOT NULL, v int)", "CREATE UNIQUE INDEX keyed_code ON keyed (code)")
    frame = check(fresh_db, "primary_key_missing")
    assert row(frame, "public.bare").status == "fail"
    assert row(frame, "public.bare").fix_sql is pd_na()
    keyed = row(frame, "public.keyed")
    assert keyed.status == "fail" and "PRIMARY KEY USING INDEX" in keyed.fix_sql

    apply_fixes(fresh_db, frame)
    execute(fresh_db, "ALTER TABLE bare ADD PRIMARY KEY (a)")
    assert statuses(check(fresh_db, "primary_key_missing")) == {"pass"}


def pd_na() -> object:
    import pandas as pd

    return pd.NA


def test_fk_without_index_checks_leading_columns(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE parent (id int PRIMARY KEY)",
            "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, other int)",
            "CREATE INDEX child_other_parent ON child (other, parent_id)",  # parent_id second: no help
            "CREATE VIEW idx_child_parent_id AS SELECT 1 AS one")  # holds the advisor's name for the index
    frame = check(fresh_db, "fk_without_index")
    found = row(frame, "public.child(parent_id)")
    assert found.status == "fail"
    assert "child_other_parent (other, parent_id) has parent_id in position 2" in found.evidence
    # the index advisor's statement (IndexDef), under the next name no relation holds
    assert found.fix_sql == (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_child_parent_id_2 ON public.child USING btree (parent_id);")
    assert found.recommendation.endswith("To undo: DROP INDEX CONCURRENTLY IF EXISTS public.idx_child_parent_id_2;")

    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "fk_without_index")) == {"pass"}


def test_fk_without_index_two_column_key_in_any_order(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE p (a int, b int, PRIMARY KEY (a, b))",
            "CREATE TABLE c (x int, y int, FOREIGN KEY (x, y) REFERENCES p)",
            "CREATE INDEX c_yx ON c (y, x)")
    assert statuses(check(fresh_db, "fk_without_index")) == {"pass"}
    execute(fresh_db, "DROP INDEX c_yx", "CREATE INDEX c_x_partial ON c (x, y) WHERE x > 0")
    assert statuses(check(fresh_db, "fk_without_index")) == {"fail"}


def test_fk_on_delete(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE users (id int PRIMARY KEY)",
            "CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users ON DELETE CASCADE)",
            "CREATE TABLE comments (id int PRIMARY KEY, post_id int REFERENCES posts ON DELETE CASCADE)")
    frame = check(fresh_db, "fk_on_delete")
    assert statuses(frame) == {"pass"}
    cascade = row(frame, "public.posts.posts_user_id_fkey")
    assert "ON DELETE CASCADE" in cascade.evidence and "through them rows of comments" in cascade.evidence

    execute(fresh_db, "CREATE TABLE likes (id int PRIMARY KEY, "
                      "post_id int NOT NULL REFERENCES posts ON DELETE SET NULL)")
    frame = check(fresh_db, "fk_on_delete")
    bad = row(frame, "public.likes.likes_post_id_fkey")
    assert bad.status == "fail" and "not-null violation" in bad.evidence

    apply_fixes(fresh_db, frame)
    frame = check(fresh_db, "fk_on_delete")
    assert statuses(frame) == {"pass"}
    assert "ON DELETE RESTRICT" in row(frame, "public.likes.likes_post_id_fkey").evidence


def test_updated_at_without_trigger(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$",
            "CREATE TABLE a (id int PRIMARY KEY, updated_at timestamptz DEFAULT now())",
            "CREATE TRIGGER a_touch BEFORE UPDATE ON a FOR EACH ROW EXECUTE FUNCTION touch()")
    assert statuses(check(fresh_db, "updated_at_without_trigger")) == {"pass"}

    execute(fresh_db, "CREATE TABLE b (id int PRIMARY KEY, updated_at timestamptz DEFAULT now())")
    frame = check(fresh_db, "updated_at_without_trigger")
    found = row(frame, "public.b.updated_at")
    assert found.status == "warn" and "touch()" in found.evidence
    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "updated_at_without_trigger")) == {"pass"}
    execute(fresh_db, "INSERT INTO b VALUES (1, '2000-01-01')", "UPDATE b SET id = 2")
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT updated_at > '2001-01-01' FROM b").fetchone()[0]


# -- indexes -------------------------------------------------------------------------------


def test_invalid_index_from_a_failed_concurrent_build(fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE t (id int PRIMARY KEY, v int)",
            "INSERT INTO t SELECT g, g % 10 FROM generate_series(1, 100) g")
    assert statuses(check(fresh_db, "invalid_index")) == {"pass"}

    with pytest.raises(psycopg.errors.UniqueViolation):
        execute(fresh_db, "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON t (v)")
    frame = check(fresh_db, "invalid_index")
    found = row(frame, "public.t_v_key")
    assert found.status == "fail"
    assert found.fix_sql == 'DROP INDEX CONCURRENTLY IF EXISTS "public"."t_v_key";'
    assert "CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON public.t USING btree (v);" in found.recommendation

    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "invalid_index")) == {"pass"}


def test_duplicate_index(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE t (id int PRIMARY KEY, a int, b int, email text UNIQUE, code text)",
            "CREATE INDEX t_a_b ON t (a, b)",
            "CREATE INDEX t_b_partial ON t (b) WHERE a > 0",
            "CREATE INDEX t_b_other_partial ON t (b) WHERE a < 0",           # other predicate: not a duplicate
            "CREATE INDEX t_code_pattern ON t (code text_pattern_ops)",
            "CREATE INDEX t_code ON t (code)",                               # other operator class
            "CREATE INDEX t_lower_email ON t (lower(email))",
            "CREATE INDEX t_b_a_desc ON t (b DESC, a)")                      # other order
    assert statuses(check(fresh_db, "duplicate_index")) == {"pass"}

    execute(fresh_db,
            "CREATE INDEX t_a ON t (a)",                                     # prefix of t_a_b
            "CREATE UNIQUE INDEX t_email_dup ON t (email)",                  # repeats the UNIQUE constraint
            "CREATE INDEX t_id_plain ON t (id)",                             # repeats the primary key
            "CREATE INDEX t_lower_email_2 ON t (lower(email))",              # same expression
            "CREATE INDEX t_b_partial_2 ON t (b) WHERE a > 0")               # same predicate
    frame = check(fresh_db, "duplicate_index")
    assert set(frame["object"]) == {"public.t_a", "public.t_email_dup", "public.t_id_plain",
                                    "public.t_lower_email_2", "public.t_b_partial_2"}
    assert statuses(frame) == {"fail"}
    assert "the index of UNIQUE constraint t_email_key" in row(frame, "public.t_email_dup").evidence
    assert "the index of PRIMARY KEY t_pkey" in row(frame, "public.t_id_plain").evidence
    assert "leading prefix of t_a_b" in row(frame, "public.t_a").evidence
    assert "CREATE INDEX CONCURRENTLY t_a ON public.t USING btree (a);" in row(frame, "public.t_a").recommendation

    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "duplicate_index")) == {"pass"}


def test_unused_index(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE parent (id int PRIMARY KEY)",
            "CREATE TABLE t (id int PRIMARY KEY, v int, parent_id int REFERENCES parent, u int UNIQUE)",
            "CREATE INDEX t_parent ON t (parent_id)",      # the only index for a foreign key: kept
            "CREATE INDEX t_v ON t (v)",
            "INSERT INTO t SELECT g, g, NULL, g FROM generate_series(1, 1000) g", "ANALYZE t")
    frame = check(fresh_db, "unused_index")
    assert set(frame["object"]) == {"public.t_v"}
    assert row(frame, "public.t_v").status == "warn"

    with psycopg.connect(fresh_db, autocommit=True) as conn:  # now it is used
        conn.execute("SET enable_seqscan = off")
        conn.execute("SELECT * FROM t WHERE v = 5").fetchall()
        flush_stats(conn)
    wait_until(fresh_db, "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 't_v'", lambda v: v and v > 0)
    assert statuses(check(fresh_db, "unused_index")) == {"pass"}

    execute(fresh_db, "CREATE INDEX t_v_u ON t (v, u)")
    frame = check(fresh_db, "unused_index")
    assert set(frame["object"]) == {"public.t_v_u"}
    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "unused_index")) == {"pass"}


# -- scans ---------------------------------------------------------------------------------


def test_seq_scan_heavy(fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE t (id int PRIMARY KEY, v int)",
            "INSERT INTO t SELECT g, g % 100 FROM generate_series(1, 20000) g", "ANALYZE t")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for i in range(60):
            conn.execute("SELECT * FROM t WHERE id = %s", [i]).fetchall()
        flush_stats(conn)
    wait_until(fresh_db, "SELECT idx_scan FROM pg_stat_user_tables WHERE relname = 't'", lambda v: v and v >= 60)
    frame = check(fresh_db, "seq_scan_heavy")
    assert statuses(frame) == {"pass"}

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for i in range(100):
            conn.execute("SELECT count(*) FROM t WHERE v = %s", [i]).fetchall()
        flush_stats(conn)
    wait_until(fresh_db, "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 't'", lambda v: v and v >= 100)
    frame = check(fresh_db, "seq_scan_heavy")
    found = row(frame, "public.t")
    assert found.status == "fail"  # 60 index scans of 160: under half
    assert re.search(r"1\d\d sequential scans read 2,0\d\d,\d{3} rows", found.evidence), found.evidence
    assert "20,000 rows" in found.evidence
    assert found.fix_sql is pd_na()
    assert row(check(fresh_db, "seq_scan_heavy", seq_scan_fail_index_share=0.3), "public.t").status == "warn"
    assert statuses(check(fresh_db, "seq_scan_heavy", seq_scan_min_rows=50_000)) == {"pass"}


def test_cache_hit(fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE small (id int)", "INSERT INTO small SELECT generate_series(1, 1000)")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for _ in range(100):
            conn.execute("SELECT count(*) FROM small").fetchall()
        flush_stats(conn)
    wait_until(fresh_db, "SELECT heap_blks_hit FROM pg_statio_user_tables WHERE relname = 'small'",
               lambda v: v and v >= 200)
    frame = check(fresh_db, "cache_hit", cache_min_blocks=100)
    assert statuses(frame) == {"pass"}

    # COPY goes through a small ring of buffers: most of a big table is not in shared buffers
    # afterwards, and the first scan reads it from outside.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE big (id int, pad text)")
        with conn.cursor().copy("COPY big FROM STDIN") as copy:
            for i in range(300_000):
                copy.write_row((i, "x" * 100))
        conn.execute("SELECT count(*) FROM big").fetchall()
        flush_stats(conn)
    wait_until(fresh_db, "SELECT heap_blks_read FROM pg_statio_user_tables WHERE relname = 'big'",
               lambda v: v and v > 1000)
    frame = check(fresh_db, "cache_hit", cache_hit_fail=0.95)
    big = row(frame, "public.big")
    assert big.status == "fail" and "hit shared buffers" in big.evidence
    assert row(frame, "tables (all)").status == "fail"


# -- vacuum --------------------------------------------------------------------------------


def test_dead_tuples(fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE t (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false)",
            "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10000) g")
    wait_until(fresh_db, "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 't'", lambda v: v == 10000)
    assert statuses(check(fresh_db, "dead_tuples")) == {"pass"}

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DELETE FROM t WHERE id <= 6000")
        flush_stats(conn)
    wait_until(fresh_db, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 't'", lambda v: v == 6000)
    frame = check(fresh_db, "dead_tuples")
    found = row(frame, "public.t")
    assert found.status == "fail" and "6,000 dead vs 4,000 live" in found.evidence
    assert "autovacuum is disabled for it" in found.evidence
    assert found.fix_sql == 'VACUUM (ANALYZE) "public"."t";'

    apply_fixes(fresh_db, frame)
    wait_until(fresh_db, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 't'", lambda v: v == 0)
    assert statuses(check(fresh_db, "dead_tuples")) == {"pass"}


def test_analyze_stale(fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE t (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false)")
    assert statuses(check(fresh_db, "analyze_stale")) == {"pass"}  # empty: nothing to analyze

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 5000) g")
        flush_stats(conn)
    wait_until(fresh_db, "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 't'", lambda v: v == 5000)
    frame = check(fresh_db, "analyze_stale")
    found = row(frame, "public.t")
    assert found.status == "fail" and "never been analyzed" in found.evidence
    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "analyze_stale")) == {"pass"}

    with psycopg.connect(fresh_db, autocommit=True) as conn:   # far past the autoanalyze trigger
        conn.execute("UPDATE t SET v = v + 1")
        conn.execute("UPDATE t SET v = v + 1")
        flush_stats(conn)
    wait_until(fresh_db, "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 't'",
               lambda v: v == 10000)
    frame = check(fresh_db, "analyze_stale")
    assert row(frame, "public.t").status == "warn"
    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "analyze_stale")) == {"pass"}


def _bloat_table(conninfo: str) -> None:
    """60,000 rows, 4 of every 5 deleted and vacuumed: the pages stay, a fifth full."""
    execute(conninfo,
            "CREATE TABLE t (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false)",
            "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 60000) g",
            "ANALYZE t")


@pytest.mark.parametrize("pgstattuple", [False, True], ids=["estimate", "pgstattuple"])
def test_table_and_index_bloat(fresh_db: str, pgstattuple: bool) -> None:
    small = {"bloat_min_bytes": 256 * 1024, "exact_bloat": True}
    if pgstattuple:
        execute(fresh_db, "CREATE EXTENSION pgstattuple")
    _bloat_table(fresh_db)
    assert statuses(check(fresh_db, "table_bloat", **small)) == {"pass"}
    assert statuses(check(fresh_db, "index_bloat", **small)) == {"pass"}

    execute(fresh_db, "DELETE FROM t WHERE id % 5 <> 0", "VACUUM t", "ANALYZE t")
    frame = check(fresh_db, "table_bloat", **small)
    found = row(frame, "public.t")
    assert found.status == "fail" and "estimated" in found.evidence
    assert ("pgstattuple:" in found.evidence) == pgstattuple
    assert found.fix_sql == 'VACUUM (FULL, ANALYZE) "public"."t";'

    iframe = check(fresh_db, "index_bloat", **small)
    ifound = row(iframe, "public.t_pkey")
    assert ifound.status == "fail" and ("pgstatindex:" in ifound.evidence) == pgstattuple
    assert ifound.fix_sql == 'REINDEX INDEX CONCURRENTLY "public"."t_pkey";'

    apply_fixes(fresh_db, iframe)
    assert statuses(check(fresh_db, "index_bloat", **small)) == {"pass"}
    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "table_bloat", **small)) == {"pass"}


def test_bloat_under_the_size_floor_passes(fresh_db: str) -> None:
    _bloat_table(fresh_db)
    execute(fresh_db, "DELETE FROM t WHERE id % 5 <> 0", "VACUUM t", "ANALYZE t")
    frame = check(fresh_db, "table_bloat")  # default floor: 100 MB wasted
    assert statuses(frame) == {"pass"} and "most: t" in frame.iloc[0].evidence


def test_xid_wraparound(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE old (id int PRIMARY KEY)", "INSERT INTO old VALUES (1)", "VACUUM (FREEZE) old",
            "CREATE PROCEDURE burn(n int) LANGUAGE plpgsql AS "
            "$$ BEGIN FOR i IN 1..n LOOP PERFORM txid_current(); COMMIT; END LOOP; END $$")
    assert statuses(check(fresh_db, "xid_wraparound")) == {"pass"}

    execute(fresh_db, "CALL burn(2000)")
    frame = check(fresh_db, "xid_wraparound", xid_age_fail=1000)
    found = row(frame, "public.old")
    assert found.status == "fail" and found.severity == "critical"
    assert "transaction ID age" in found.evidence
    assert found.fix_sql == 'VACUUM (FREEZE, ANALYZE) "public"."old";'
    database = row(frame, f"database {psycopg.conninfo.conninfo_to_dict(fresh_db)['dbname']}")
    assert database.status == "fail" and database.fix_sql == "VACUUM (FREEZE, ANALYZE);"

    execute(fresh_db, found.fix_sql)
    frame = check(fresh_db, "xid_wraparound", xid_age_fail=1000)
    assert "public.old" not in set(frame["object"])


# -- capacity ------------------------------------------------------------------------------


def test_sequence_near_limit(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE s (id serial PRIMARY KEY, v int)",
            "CREATE TABLE i (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY)",
            "CREATE TABLE child (s_id int REFERENCES s)",
            "CREATE SEQUENCE big_seq AS bigint",
            "CREATE TABLE b (id int DEFAULT nextval('big_seq') PRIMARY KEY)",
            "INSERT INTO s (v) VALUES (1)", "INSERT INTO i DEFAULT VALUES", "INSERT INTO b DEFAULT VALUES")
    assert statuses(check(fresh_db, "sequence_near_limit")) == {"pass"}

    execute(fresh_db, "SELECT setval('s_id_seq', 2000000000)",
            "SELECT setval(pg_get_serial_sequence('i', 'id'), 1850000000)",
            "SELECT setval('big_seq', 2100000000)")   # bigint sequence, integer column: the column limits
    frame = check(fresh_db, "sequence_near_limit")
    seq = row(frame, "public.s_id_seq")
    assert seq.status == "fail" and "93.13 % used" in seq.evidence
    assert seq.fix_sql.splitlines() == ['ALTER TABLE "public"."s" ALTER COLUMN "id" TYPE bigint;',
                                        'ALTER TABLE "public"."child" ALTER COLUMN "s_id" TYPE bigint;',
                                        'ALTER SEQUENCE "public"."s_id_seq" AS bigint NO MAXVALUE;']
    assert row(frame, "public.i_id_seq").status == "warn"
    big = row(frame, "public.big_seq")
    assert big.status == "fail" and "limited by the integer column" in big.evidence

    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "sequence_near_limit")) == {"pass"}
    execute(fresh_db, "INSERT INTO s (v) VALUES (2)")


def test_integer_key_near_limit(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE k (id int PRIMARY KEY)", "CREATE TABLE ref (k_id int REFERENCES k)",
            "INSERT INTO k SELECT generate_series(1, 1000)", "ANALYZE k")
    assert statuses(check(fresh_db, "integer_key_near_limit")) == {"pass"}

    execute(fresh_db, "INSERT INTO k SELECT generate_series(2000000000, 2000001000)", "ANALYZE k")
    frame = check(fresh_db, "integer_key_near_limit")
    found = row(frame, "public.k.id")
    assert found.status == "fail" and "referenced by public.ref(k_id)" in found.evidence
    assert 'ALTER TABLE "public"."ref" ALTER COLUMN "k_id" TYPE bigint;' in found.fix_sql

    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "integer_key_near_limit")) == {"pass"}


# -- settings ------------------------------------------------------------------------------


def _shared_buffers(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return int(conn.execute("SELECT setting::int8 * 8192 FROM pg_settings WHERE name = 'shared_buffers'")
                   .fetchone()[0])


def test_memory_settings(fresh_db: str) -> None:
    ram = 4 * _shared_buffers(fresh_db)  # shared_buffers is then exactly 25 % of RAM
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    execute(fresh_db,
            f"ALTER DATABASE {dbname} SET effective_cache_size = '{ram * 3 // 4 // 1024}kB'",
            f"ALTER DATABASE {dbname} SET maintenance_work_mem = '{ram // 16 // 1024}kB'",
            f"ALTER DATABASE {dbname} SET work_mem = '1MB'")
    frame = check(fresh_db, "memory_settings", ram_bytes=ram)
    assert statuses(frame) == {"pass"}
    assert set(frame["object"]) == {"shared_buffers", "effective_cache_size", "maintenance_work_mem", "work_mem"}

    frame = check(fresh_db, "memory_settings", ram_bytes=1024**4)  # a 1 TB machine: all far too small
    assert row(frame, "shared_buffers").status == "fail"
    assert "ALTER SYSTEM SET \"shared_buffers\" = '262144MB';" == row(frame, "shared_buffers").fix_sql
    assert "restart" in row(frame, "shared_buffers").recommendation
    assert row(frame, "effective_cache_size").status == "fail"

    execute(fresh_db, f"ALTER DATABASE {dbname} SET work_mem = '1GB'")  # 100 connections x 1 GB > RAM
    assert row(check(fresh_db, "memory_settings", ram_bytes=ram), "work_mem").status == "warn"

    execute(fresh_db, f"ALTER DATABASE {dbname} SET work_mem = '64kB'")
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # a sort that spills to a temp file
        conn.execute("SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC").fetchall()
        flush_stats(conn)
    wait_until(fresh_db, "SELECT temp_files FROM pg_stat_database WHERE datname = current_database()",
               lambda v: v and v > 0)
    found = row(check(fresh_db, "memory_settings", ram_bytes=ram), "work_mem")
    assert found.status == "warn" and "spill to disk" in found.evidence


def test_memory_settings_fix_applies(server, fresh_db: str) -> None:
    ram = 4 * _shared_buffers(fresh_db)
    frame = check(fresh_db, "memory_settings", ram_bytes=ram)
    reloadable = frame[frame["fix_sql"].notna() & frame["fix_sql"].str.contains("pg_reload_conf", na=False)]
    with system_setting(server.conninfo()):
        apply_fixes(server.conninfo(), reloadable)
        time.sleep(0.3)
        after = check(fresh_db, "memory_settings", ram_bytes=ram)
        for obj in reloadable["object"]:
            assert row(after, obj).status == "pass", row(after, obj).evidence


def test_memory_settings_skip_without_ram(server, fresh_db: str) -> None:
    # a monitoring role that may read settings but not the server's files
    execute(server.conninfo(), "DROP ROLE IF EXISTS health_plain", "CREATE ROLE health_plain LOGIN",
            "GRANT pg_read_all_settings TO health_plain")
    try:
        plain = psycopg.conninfo.make_conninfo(fresh_db, user="health_plain")
        frame = check(plain, "memory_settings")
        assert row(frame, "shared_buffers").status == "skip"
        assert "pass ram_bytes=" in row(frame, "shared_buffers").evidence
        assert row(frame, "work_mem").status in ("pass", "warn")
    finally:
        execute(server.conninfo(), "DROP ROLE health_plain")


def test_planner_settings(fresh_db: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    execute(fresh_db, f"ALTER DATABASE {dbname} SET random_page_cost = 1.1",
            f"ALTER DATABASE {dbname} SET effective_io_concurrency = 200")
    assert statuses(check(fresh_db, "planner_settings")) == {"pass"}

    execute(fresh_db, f"ALTER DATABASE {dbname} SET random_page_cost = 4",
            f"ALTER DATABASE {dbname} SET effective_io_concurrency = 1")
    frame = check(fresh_db, "planner_settings")
    assert row(frame, "random_page_cost").status == "warn"
    assert row(frame, "random_page_cost").fix_sql == (
        "ALTER SYSTEM SET \"random_page_cost\" = '1.1';\nSELECT pg_reload_conf();")
    assert row(frame, "effective_io_concurrency").status == "warn"
    assert statuses(check(fresh_db, "planner_settings", storage="hdd")) == {"pass"}


def test_planner_settings_fix_applies(server, fresh_db: str) -> None:
    with system_setting(server.conninfo()):
        execute(server.conninfo(), "ALTER SYSTEM SET random_page_cost = 4", "SELECT pg_reload_conf()")
        time.sleep(0.3)
        frame = check(fresh_db, "planner_settings")
        assert row(frame, "random_page_cost").status == "warn"
        apply_fixes(server.conninfo(), frame)
        time.sleep(0.3)
        assert statuses(check(fresh_db, "planner_settings")) == {"pass"}


def test_logging_settings(fresh_db: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    execute(fresh_db, f"ALTER DATABASE {dbname} SET log_min_duration_statement = '1s'",
            f"ALTER DATABASE {dbname} SET log_lock_waits = on", f"ALTER DATABASE {dbname} SET log_temp_files = 0")
    frame = check(fresh_db, "logging_settings")
    assert statuses(frame) == {"pass"}, frame[["object", "evidence"]]

    execute(fresh_db, f"ALTER DATABASE {dbname} SET log_min_duration_statement = -1",
            f"ALTER DATABASE {dbname} SET log_lock_waits = off", f"ALTER DATABASE {dbname} SET log_temp_files = -1")
    frame = check(fresh_db, "logging_settings")
    assert {r.object for r in frame.itertuples() if r.status == "warn"} == {
        "log_min_duration_statement", "log_lock_waits", "log_temp_files"}


def test_pg_stat_statements(fresh_db: str) -> None:
    frame = check(fresh_db, "pg_stat_statements")
    found = row(frame, "pg_stat_statements")
    assert found.status == "fail" and found.fix_sql == "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "pg_stat_statements")) == {"pass"}


def test_autovacuum_settings(server, fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE t (id int PRIMARY KEY, v text)")  # text: it has a TOAST table
    assert statuses(check(fresh_db, "autovacuum_settings")) == {"pass"}

    execute(fresh_db, "ALTER TABLE t SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)")
    frame = check(fresh_db, "autovacuum_settings")
    found = row(frame, "public.t")
    assert found.status == "warn"
    assert found.fix_sql == 'ALTER TABLE "public"."t" RESET (autovacuum_enabled, toast.autovacuum_enabled);'
    apply_fixes(fresh_db, frame)
    assert statuses(check(fresh_db, "autovacuum_settings")) == {"pass"}

    with system_setting(server.conninfo()):
        execute(server.conninfo(), "ALTER SYSTEM SET autovacuum = off", "SELECT pg_reload_conf()")
        time.sleep(0.3)
        frame = check(fresh_db, "autovacuum_settings")
        found = row(frame, "autovacuum")
        assert found.status == "fail" and found.severity == "critical"
        apply_fixes(server.conninfo(), frame)
        time.sleep(0.3)
        assert statuses(check(fresh_db, "autovacuum_settings")) == {"pass"}


def test_checkpoint_settings(server, fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        version = conn.info.server_version
        conn.execute("SELECT pg_stat_reset_shared(%s)", ["checkpointer" if version >= 170000 else "bgwriter"])
    assert statuses(check(fresh_db, "checkpoint_settings")) == {"pass"}
    execute(fresh_db, *["CHECKPOINT"] * 12)
    wait_until(fresh_db, "SELECT num_requested FROM pg_stat_checkpointer" if version >= 170000
               else "SELECT checkpoints_req FROM pg_stat_bgwriter", lambda v: v and v >= 12)
    found = row(check(fresh_db, "checkpoint_settings"), "max_wal_size")
    assert found.status == "warn" and "ALTER SYSTEM SET \"max_wal_size\"" in found.fix_sql


# -- backup --------------------------------------------------------------------------------


def test_backup_readiness_without_archiving(fresh_db: str) -> None:
    frame = check(fresh_db, "backup_readiness")
    assert row(frame, "wal_level").status == "pass"
    assert row(frame, "archive_mode").status == "warn"


@pytest.fixture(scope="module")
def archiving(server) -> Iterator[str]:
    """A server of the same version with WAL archiving on (archive_command 'true'): its conninfo."""
    from dbworkbench.sandbox import Sandbox
    from tests.fix_db import PG15_BIN

    tmp = Path(tempfile.mkdtemp(prefix="dwbarc-", dir="/tmp"))
    tmp.chmod(0o755)
    if server.name == "pg18":
        sb = Sandbox(tmp).start()
        with psycopg.connect(sb.conninfo("postgres"), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET archive_mode = on")
            conn.execute("ALTER SYSTEM SET archive_command = 'true'")
        sb.stop()
        yield sb.start().conninfo("postgres")
        sb.stop()
    else:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(tmp, "postgres", "postgres")
        data = tmp / "data"
        subprocess.run([*as_user, str(PG15_BIN / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"],
                       check=True, capture_output=True)
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(f"\narchive_mode = on\narchive_command = 'true'\nlisten_addresses = ''\n"
                       f"unix_socket_directories = '{tmp}'\nport = 5416\n")
        subprocess.run([*as_user, str(PG15_BIN / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "start"],
                       check=True, capture_output=True)
        yield psycopg.conninfo.make_conninfo(host=str(tmp), port="5416", user="postgres", dbname="postgres")
        subprocess.run([*as_user, str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, check=False)
    shutil.rmtree(tmp, ignore_errors=True)


def _switch_wal(conninfo: str) -> None:
    execute(conninfo, "CREATE TABLE IF NOT EXISTS w (v int)", "INSERT INTO w VALUES (1)", "SELECT pg_switch_wal()")


def test_backup_readiness_archiving(archiving: str) -> None:
    _switch_wal(archiving)
    wait_until(archiving, "SELECT archived_count FROM pg_stat_archiver", lambda v: v and v > 0)
    frame = check(archiving, "backup_readiness")
    assert statuses(frame) == {"pass"}, frame[["object", "evidence"]]
    assert "segments archived" in row(frame, "archiver").evidence

    with system_setting(archiving):
        execute(archiving, "ALTER SYSTEM SET archive_command = 'false'", "SELECT pg_reload_conf()")
        time.sleep(0.5)
        _switch_wal(archiving)
        wait_until(archiving, "SELECT failed_count FROM pg_stat_archiver", lambda v: v and v > 0, timeout=30)
        found = row(check(archiving, "backup_readiness"), "archiver")
        assert found.status == "fail" and found.severity == "critical" and "latest attempt failed" in found.evidence
    # archive_command is back to 'true': the archiver retries and succeeds
    wait_until(archiving, "SELECT last_archived_time > last_failed_time FROM pg_stat_archiver", bool, timeout=90)
    assert row(check(archiving, "backup_readiness"), "archiver").status == "warn"  # it failed before, works now


# -- activity ------------------------------------------------------------------------------


def _blocked_session(conninfo: str) -> tuple[psycopg.Connection, threading.Thread, int]:
    """A session holding a row lock in an open transaction, and a second one waiting for it."""
    execute(conninfo, "CREATE TABLE IF NOT EXISTS lk (id int PRIMARY KEY, v int)",
            "INSERT INTO lk VALUES (1, 0) ON CONFLICT DO NOTHING")
    holder = psycopg.connect(conninfo)
    holder.execute("UPDATE lk SET v = v + 1 WHERE id = 1")  # transaction left open

    def wait() -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("UPDATE lk SET v = v + 1 WHERE id = 1")

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    wait_until(conninfo, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'", lambda v: v >= 1)
    return holder, waiter, holder.info.backend_pid


def test_lock_contention(fresh_db: str) -> None:
    assert statuses(check(fresh_db, "lock_contention")) == {"pass"}
    holder, waiter, holder_pid = _blocked_session(fresh_db)
    try:
        frame = check(fresh_db, "lock_contention")
        assert statuses(frame) == {"warn"}
        found = frame.iloc[0]
        assert f"Blocked by pid {holder_pid}" in found.evidence and "UPDATE lk SET v = v + 1" in found.evidence
        assert "idle in transaction" in found.evidence
        assert found.fix_sql == f"SELECT pg_terminate_backend({holder_pid});"
        assert statuses(check(fresh_db, "lock_contention", lock_wait_fail_s=0)) == {"fail"}

        apply_fixes(fresh_db, frame)
        waiter.join(10)
        assert not waiter.is_alive()
        assert statuses(check(fresh_db, "lock_contention")) == {"pass"}
    finally:
        holder.close()


def test_long_running_queries(fresh_db: str) -> None:
    assert statuses(check(fresh_db, "long_running_queries", long_query_warn_s=1)) == {"pass"}

    def sleep() -> None:
        with psycopg.connect(fresh_db, autocommit=True) as conn, pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(30)")

    sleeper = threading.Thread(target=sleep, daemon=True)
    sleeper.start()
    time.sleep(1.5)
    frame = check(fresh_db, "long_running_queries", long_query_warn_s=1)
    found = frame.iloc[0]
    assert found.status == "warn" and "pg_sleep(30)" in found.evidence
    assert found.fix_sql.startswith("SELECT pg_cancel_backend(")
    assert check(fresh_db, "long_running_queries", long_query_warn_s=1, long_query_fail_s=1).iloc[0].status == "fail"

    apply_fixes(fresh_db, frame)
    sleeper.join(10)
    assert not sleeper.is_alive()
    assert statuses(check(fresh_db, "long_running_queries", long_query_warn_s=1)) == {"pass"}


def test_idle_in_transaction(fresh_db: str) -> None:
    assert statuses(check(fresh_db, "idle_in_transaction", idle_in_transaction_warn_s=1)) == {"pass"}
    idle = psycopg.connect(fresh_db)
    try:
        idle.execute("SELECT 1")  # opens a transaction and leaves it open
        time.sleep(1.5)
        frame = check(fresh_db, "idle_in_transaction", idle_in_transaction_warn_s=1)
        found = frame.iloc[0]
        assert found.status == "warn" and f"pid {idle.info.backend_pid}" == found.object
        apply_fixes(fresh_db, frame)
        time.sleep(0.3)
        assert statuses(check(fresh_db, "idle_in_transaction", idle_in_transaction_warn_s=1)) == {"pass"}
    finally:
        idle.close()


def test_connections(fresh_db: str) -> None:
    assert statuses(check(fresh_db, "connections")) == {"pass"}
    with psycopg.connect(fresh_db) as conn:
        usable = conn.execute("SELECT current_setting('max_connections')::int "
                              "- current_setting('superuser_reserved_connections')::int").fetchone()[0]
        if conn.info.server_version >= 160000:
            usable -= int(conn.execute("SHOW reserved_connections").fetchone()[0])
        baseline = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                                ).fetchone()[0]
    extra = [psycopg.connect(fresh_db) for _ in range(5)]
    try:
        line = (baseline + 5) / usable  # with five more connections the share reaches the line
        frame = check(fresh_db, "connections", connections_warn=line, connections_fail=1.0)
        assert row(frame, "connections").status == "warn"
        assert check(fresh_db, "connections", connections_warn=line, connections_fail=line).iloc[0].status == "fail"
    finally:
        for conn in extra:
            conn.close()
