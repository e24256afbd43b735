"""Targets: every way to name a server, the session guards, and no password anywhere."""

from __future__ import annotations

import psycopg
import pytest

import dbworkbench as wb
from dbworkbench.redaction import mask_dsn
from dbworkbench.target import redact, resolve_target


def test_passwords_are_masked_in_every_form() -> None:
    assert "hunter2" not in mask_dsn("postgresql://app:hunter2@db:5432/x")
    assert "hunter2" not in mask_dsn("host=db password=hunter2 dbname=x")
    assert "hunter2" not in mask_dsn("host=db password='hunter2' dbname=x")
    assert "hunter2" not in redact("FATAL: something hunter2", "hunter2")
    assert mask_dsn("postgresql://app@db/x") == "user=app dbname=x host=db"


def test_repr_and_errors_never_show_the_password() -> None:
    target = resolve_target("postgresql://app:s3cr3t-pw@/nowhere?host=/nonexistent-dir&port=1")
    assert "s3cr3t-pw" not in repr(target) and "s3cr3t-pw" not in target.display
    db = wb.Workbench(target)
    assert "s3cr3t-pw" not in repr(db)
    with pytest.raises(wb.ConnectionFailed) as err:
        db.statements()
    assert "s3cr3t-pw" not in str(err.value)
    assert err.value.__suppress_context__  # the driver's exception is not shown in tracebacks


def test_bad_connection_string_names_the_problem() -> None:
    with pytest.raises(wb.ConnectionFailed, match="not a connection string"):
        resolve_target("host=db password=zz9 dbname")


def test_unsupported_target_type_is_refused() -> None:
    with pytest.raises(wb.ConnectionFailed, match="cannot connect to a int"):
        resolve_target(42)


def _show(db: wb.Workbench, name: str) -> str:
    return db.conn.execute(f"SHOW {name}").fetchone()[0]  # name is one of ours, not user input


def test_non_sandbox_targets_are_read_only_with_timeouts(server, empty_db) -> None:
    db = wb.connect(empty_db)
    assert not db.target.is_sandbox
    assert _show(db, "default_transaction_read_only") == "on"
    assert _show(db, "statement_timeout") == "30s"
    assert _show(db, "lock_timeout") == "2s"
    assert _show(db, "idle_in_transaction_session_timeout") == "1min"
    assert _show(db, "application_name") == "dbworkbench"
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        db.conn.execute("CREATE TABLE should_not_exist (id int)")
    db.close()


def test_allow_writes_and_custom_timeouts(server, empty_db) -> None:
    with wb.connect(empty_db, allow_writes=True, statement_timeout_ms=1500, lock_timeout_ms=250) as db:
        assert _show(db, "default_transaction_read_only") == "off"
        assert _show(db, "statement_timeout") == "1500ms"
        assert _show(db, "lock_timeout") == "250ms"
        db.conn.execute("CREATE TABLE t_written (id int)")
        db.conn.execute("DROP TABLE t_written")
        with pytest.raises(psycopg.errors.QueryCanceled):
            db.conn.execute("SELECT pg_sleep(3)")


def test_sqlalchemy_url_engine_and_env(server, empty_db, monkeypatch, tmp_path) -> None:
    import sqlalchemy

    dbname = empty_db.split("dbname=")[1].split()[0]
    url = sqlalchemy.engine.URL.create(
        "postgresql+psycopg", username=server.user, database=dbname, query={"host": server.host, "port": str(server.port)}
    )
    for dsn in (url, url.render_as_string(), sqlalchemy.create_engine(url)):
        with wb.connect(dsn) as db:
            assert db.server.database == dbname
            assert _show(db, "default_transaction_read_only") == "on"

    monkeypatch.setenv("DBWORKBENCH_DSN", empty_db)
    with wb.connect() as db:
        assert db.server.database == dbname and not db.target.is_sandbox
    monkeypatch.delenv("DBWORKBENCH_DSN")

    for var, value in {"PGHOST": server.host, "PGPORT": str(server.port), "PGUSER": server.user, "PGDATABASE": dbname}.items():
        monkeypatch.setenv(var, value)
    with wb.connect() as db:
        assert db.server.database == dbname and not db.target.is_sandbox
    for var in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        monkeypatch.delenv(var)

    services = tmp_path / "pg_service.conf"
    services.write_text(f"[bench]\nhost={server.host}\nport={server.port}\nuser={server.user}\ndbname={dbname}\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    with wb.connect(service="bench") as db:
        assert db.server.database == dbname


def test_engine_connections_carry_the_guards(server, empty_db) -> None:
    import pandas as pd

    with wb.connect(empty_db) as db:
        frame = pd.read_sql("SELECT current_setting('default_transaction_read_only') AS ro", db.engine)
    assert frame["ro"].tolist() == ["on"]


def test_server_info_and_capabilities(server, empty_db) -> None:
    with wb.connect(empty_db) as db:
        info = db.server
        assert info.major == {"pg18": 18, "pg15": 15}[server.name]
        caps = db.capabilities
        assert caps["explain_generic_plan"] is (info.major >= 16)
        assert caps["explain_serialize"] is (info.major >= 17)
        assert caps["auto_explain"] is True
        assert "pg_stat_statements" in info.available_extensions
        assert caps["pg_stat_statements"] is False  # preloaded, but not created in this database


def test_no_dsn_means_the_sandbox_with_the_demo(sandbox) -> None:
    with wb.connect() as db:
        assert db.target.is_sandbox and db.target.allow_writes
        assert db.server.major == 18
        assert {"users", "posts", "comments"} <= set(db.tables()["table"])
        assert "sandbox" in repr(db)


def test_an_unprivileged_role_can_connect(server, empty_db) -> None:
    with server.admin() as admin:
        admin.execute("DROP ROLE IF EXISTS dwb_plain_reader")
        admin.execute("CREATE ROLE dwb_plain_reader LOGIN")
    try:
        conninfo = empty_db.replace(f"user={server.user}", "user=dwb_plain_reader")
        with wb.connect(conninfo) as db:
            assert db.server.user == "dwb_plain_reader" and not db.server.is_superuser
            assert db.tables().empty and len(db.settings()) > 100
    finally:
        with server.admin() as admin:
            admin.execute("DROP ROLE IF EXISTS dwb_plain_reader")
