"""Secrets: hostile passwords never appear in reprs, errors, logs or CLI output (issue #9, finding 3).

Every hostile password carries a marker word (``Zulu7``, ``Kilo4``, ...): a check fails when the
password shows up in any form (as is, percent-encoded, conninfo-escaped, repr-escaped) or when its
marker does (the tail of a password cut off by a bad parse).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

import dbworkbench as wb
from dbworkbench.cli import main
from dbworkbench.redaction import WITHHELD, is_secret_key, scrub, secret_keys
from dbworkbench.target import Target, resolve_target

# (password, its marker word)
HOSTILE = [
    ("pä ss'w\"o=r@d:\\x/%Zulu7", "Zulu7"),  # quotes, space, =, @, :, backslash, /, %, non-ASCII
    ("Alpha Kilo4", "Kilo4"),  # the issue's unterminated-quote case
    ("Mike9'; DROP ROLE x; --", "Mike9"),
    ('back\\slash\\\\"Oscar2"\\', "Oscar2"),  # backslashes, double quotes, a trailing backslash
    ("=@:/%Tango5%zz=", "Tango5"),  # starts with =, an invalid %-escape inside
    ("密码 🔑 Yankee3 ñandú", "Yankee3"),  # non-ASCII, emoji
    ("  Quebec8  ", "Quebec8"),  # leading and trailing spaces
    ("%20Xray6%41+&?#", "Xray6"),  # looks percent-encoded already; URL delimiters
]
IDS = [marker for _, marker in HOSTILE]
CLOSED = {"host": "127.0.0.1", "port": "1", "dbname": "db", "user": "app"}  # nothing listens on port 1


def _tells(password: str, marker: str) -> set[str]:
    """What must never be seen: the password in every form a message might use, and its marker."""
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return {password, quote(password, safe=""), quote(password), quote_plus(password), escaped,
            repr(password)[1:-1], marker}


def assert_clean(text: str, password: str, marker: str, where: str) -> None:
    leaked = sorted(t for t in _tells(password, marker) if t.strip() and t in text)
    assert not leaked, f"{where} shows {leaked!r}: {text!r}"


def _url(password: str, params: dict[str, str], key: str = "password", scheme: str = "postgresql") -> str:
    """A URL with ``password`` percent-encoded, as the user name's password or as a query parameter."""
    query = f"?host={quote(params['host'], safe='')}&port={params['port']}"
    if key == "password":
        return f"{scheme}://{params['user']}:{quote(password, safe='')}@/{params['dbname']}{query}"
    return f"{scheme}://{params['user']}@/{params['dbname']}{query}&{key}={quote(password, safe='')}"


def _inputs(password: str, params: dict[str, str]) -> dict[str, object]:
    """Every way a user can hand the workbench a password (the environment is tested apart)."""
    import sqlalchemy

    sa_url = sqlalchemy.engine.URL.create(
        "postgresql+psycopg", username=params["user"], password=password, database=params["dbname"],
        query={"host": params["host"], "port": params["port"]},
    )
    return {
        "conninfo": make_conninfo(**params, password=password),
        "url": _url(password, params),
        "sqlalchemy url string": sa_url.render_as_string(hide_password=False),
        "sqlalchemy url": sa_url,
        "sqlalchemy engine": sqlalchemy.create_engine(sa_url),
        "sslpassword conninfo": make_conninfo(**params, sslpassword=password),
        "sslpassword url": _url(password, params, key="sslpassword"),
        "conninfo in dbname": make_conninfo(dbname=make_conninfo(**params, password=password)),
    }


# -- which keys are secret --------------------------------------------------------------


def test_secret_keys_come_from_libpq() -> None:
    starred = {o.keyword.decode() for o in psycopg.pq.Conninfo.get_defaults() if o.dispchar == b"*"}
    assert {"password", "sslpassword"} <= starred <= secret_keys()
    assert {"scram_client_key", "scram_server_key"} <= secret_keys()
    assert is_secret_key("SSLPASSWORD") and is_secret_key("some_future_password") and is_secret_key("x_secret")
    assert not any(is_secret_key(k) for k in ("host", "user", "dbname", "sslkey", "passfile", "options"))


def test_display_masks_every_key_libpq_calls_secret() -> None:
    pw, marker = HOSTILE[0]
    params = {k: pw for k in secret_keys()} | {"host": "db"}
    target = Target(params, wb.target.SessionGuards())
    assert_clean(target.display, pw, marker, "display")
    assert_clean(repr(target), pw, marker, "repr")
    assert target.display.count("***") == len(secret_keys())


# -- no server: reprs and masking -------------------------------------------------------


@pytest.mark.parametrize(("password", "marker"), HOSTILE, ids=IDS)
def test_reprs_show_no_secret(password: str, marker: str) -> None:
    for form, dsn in _inputs(password, CLOSED).items():
        target = resolve_target(dsn)
        assert_clean(repr(target), password, marker, f"repr(Target) from {form}")
        assert_clean(target.display, password, marker, f"Target.display from {form}")
        assert "***" in target.display, form
        assert_clean(repr(wb.Workbench(target)), password, marker, f"repr(Workbench) from {form}")
        if form != "conninfo in dbname":
            assert "host=127.0.0.1" in target.display and "port=1" in target.display, (form, target.display)


@pytest.mark.parametrize(("password", "marker"), HOSTILE, ids=IDS)
def test_the_password_reaches_libpq_intact(password: str, marker: str) -> None:
    """Masking must not change what is sent: each form parses back to the very same password."""
    for form, dsn in _inputs(password, CLOSED).items():
        params = resolve_target(dsn).params
        key = "sslpassword" if "sslpassword" in form else "password"
        if form == "conninfo in dbname":
            params = psycopg.conninfo.conninfo_to_dict(params["dbname"])
        assert params[key] == password, form


def test_scrub_catches_encoded_forms_and_withholds_what_it_cannot_place() -> None:
    pw = "pä ss'w\"o=r@d:\\x/%Zulu7"
    head, *rest = quote(pw, safe="").split("%")
    lower_hex = "%".join([head] + [p[:2].lower() + p[2:] for p in rest])  # p%c3%a4%20ss...
    escaped = pw.replace("\\", "\\\\").replace("'", "\\'")
    text = f"a {pw} b {quote(pw, safe='')} c {lower_hex} d '{escaped}' e {quote_plus(pw)}"
    assert scrub(text, [pw]) == "a *** b *** c *** d '***' e ***"
    assert scrub("login Alph%61 Kilo4 failed", ["Alpha Kilo4"]) == WITHHELD  # encoded one letter at a time
    assert scrub("nothing here", ["Alpha Kilo4"]) == "nothing here"


# -- errors: unreadable strings, nothing listening, the server says no ----------------------


def _unreadable(password: str) -> dict[str, str]:
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "unterminated quote": f"host=127.0.0.1 port=1 password='{escaped}",
        "bad %-escape in URL": f"postgresql://app:{quote(password, safe='')}%zz@127.0.0.1:1/db",
        "bad %-escape in query": f"postgresql://app@127.0.0.1:1/db?sslpassword={quote(password, safe='')}%zz",
        "unterminated IPv6 host": f"postgresql://app:{quote(password, safe='')}@[127.0.0.1/db",
        "unencoded URL password": f"postgresql://app:{password}@127.0.0.1:1/db",
        "unencoded SQLAlchemy URL password": f"postgresql+psycopg://app:{password}@127.0.0.1:1/db",
        "unquoted conninfo password": f"host=127.0.0.1 port=1 password={password}",
    }


def _error_text(dsn: object) -> str:
    """The message a user sees from resolving ``dsn`` and running a collector on it."""
    with pytest.raises(wb.ConnectionFailed) as err:
        wb.connect(dsn).tables()
    assert err.value.__suppress_context__  # the driver's exception is not shown in tracebacks
    return str(err.value)


@pytest.mark.parametrize(("password", "marker"), HOSTILE, ids=IDS)
def test_unreadable_strings_are_not_echoed(password: str, marker: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for form, dsn in _unreadable(password).items():
        message = _error_text(dsn)
        assert_clean(message, password, marker, f"error from {form}")
        if form in ("unterminated quote", "bad %-escape in URL", "unterminated IPv6 host"):
            assert "not a connection string or URL" in message and "expected 'postgresql://" in message
    assert_clean(caplog.text, password, marker, "log")


def test_the_unterminated_quote_of_the_issue() -> None:
    with pytest.raises(wb.ConnectionFailed) as err:
        resolve_target("host=db password='Alpha Zulu7")
    message = str(err.value)
    assert "Zulu7" not in message and "Alpha" not in message
    assert "unterminated quoted string" in message and "key=value string (not shown" in message


def test_an_unencoded_at_in_a_url_password_is_refused() -> None:
    with pytest.raises(wb.ConnectionFailed, match="not percent-encoded") as err:
        resolve_target("postgresql://app:p@ss-Zulu7@db.example.com/x")  # libpq would take host 'ss-Zulu7@db...'
    assert "Zulu7" not in str(err.value) and "the postgresql:// URL" in str(err.value)


@pytest.mark.parametrize(("password", "marker"), HOSTILE, ids=IDS)
def test_cannot_connect_errors_show_no_secret(password: str, marker: str, caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    for form, dsn in _inputs(password, CLOSED).items():
        message = _error_text(dsn)
        assert "cannot connect to" in message and "127.0.0.1" in message, message
        assert_clean(message, password, marker, f"error from {form}")
    monkeypatch.setenv("PGPASSWORD", password)
    target = resolve_target(make_conninfo(**CLOSED))
    assert_clean(repr(target), password, marker, "repr with PGPASSWORD")
    assert_clean(_error_text(make_conninfo(**CLOSED)), password, marker, "error with PGPASSWORD")
    assert target.redact(f"echo {password}") == "echo ***"  # the environment's password is scrubbed too
    assert_clean(caplog.text, password, marker, "log")


@pytest.mark.parametrize(("password", "marker"), HOSTILE, ids=IDS)
def test_cli_output_shows_no_secret(password: str, marker: str) -> None:
    dsns = {**{f"closed port, {k}": v for k, v in _inputs(password, CLOSED).items() if isinstance(v, str)},
            **_unreadable(password)}
    for form, dsn in dsns.items():
        result = CliRunner().invoke(main, ["show", "tables", "--dsn", dsn])
        assert result.exit_code == 1 and result.output.startswith("Error: "), (form, result.output)
        assert "Traceback" not in result.output
        assert_clean(result.output, password, marker, f"CLI output for {form}")


# -- a real server that checks passwords --------------------------------------------------

ROLES = [f"dwb_secret_{i}" for i in range(len(HOSTILE))]


@pytest.fixture(scope="module")
def password_roles(server, empty_db) -> Iterator[dict[str, str]]:
    """One login role per hostile password, and a pg_hba line that makes them (only them) use SCRAM.

    Yields the connection parameters of the test database without user or password.
    """
    with server.admin() as admin:
        hba_file = admin.execute("SELECT current_setting('hba_file')").fetchone()[0]
        for role, (password, _) in zip(ROLES, HOSTILE):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        with open(hba_file, encoding="utf-8") as f:
            original = f.read()
        with open(hba_file, "w", encoding="utf-8") as f:  # first match wins: our line goes first
            f.write(f"local all {','.join(ROLES)} scram-sha-256\n{original}")
        admin.execute("SELECT pg_reload_conf()")
        errors = admin.execute("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL").fetchone()[0]
        assert errors == 0
    dbname = empty_db.split("dbname=")[1].split()[0]
    try:
        yield {"host": server.host, "port": str(server.port), "dbname": dbname}
    finally:
        with open(hba_file, "w", encoding="utf-8") as f:
            f.write(original)
        with server.admin() as admin:
            admin.execute("SELECT pg_reload_conf()")
            for role in ROLES:
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.mark.parametrize(("index"), range(len(HOSTILE)), ids=IDS)
def test_a_server_checks_hostile_passwords_and_its_refusal_shows_none(
    password_roles: dict[str, str], index: int, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    password, marker = HOSTILE[index]
    wrong, wrong_marker = HOSTILE[(index + 1) % len(HOSTILE)]
    params = password_roles | {"user": ROLES[index]}
    for form, dsn in _inputs(password, params).items():
        if "sslpassword" in form or form == "conninfo in dbname":
            continue  # no SSL on a Unix socket; psycopg does not expand a conninfo given as dbname
        with wb.connect(dsn) as db:  # the right password, in every form, logs in
            assert db.server.user == ROLES[index], form
            assert_clean(repr(db), password, marker, f"repr(Workbench) connected from {form}")
    for form, dsn in _inputs(wrong, params).items():
        if "sslpassword" in form or form == "conninfo in dbname":
            continue
        message = _error_text(dsn)
        assert "password authentication failed" in message, message
        assert_clean(message, wrong, wrong_marker, f"refusal for {form}")
        assert_clean(message, password, marker, f"refusal for {form}")
        result = CliRunner().invoke(main, ["show", "tables", "--dsn", dsn]) if isinstance(dsn, str) else None
        if result is not None:
            assert result.exit_code == 1 and "password authentication failed" in result.output
            assert_clean(result.output, wrong, wrong_marker, f"CLI output for {form}")

    monkeypatch.setenv("PGPASSWORD", wrong)
    message = _error_text(make_conninfo(**params))
    assert "password authentication failed" in message
    assert_clean(message, wrong, wrong_marker, "refusal with PGPASSWORD")
    monkeypatch.setenv("PGPASSWORD", password)
    with wb.connect(make_conninfo(**params)) as db:
        assert db.server.user == ROLES[index]
        assert_clean(repr(db), password, marker, "repr(Workbench) connected with PGPASSWORD")
    assert_clean(caplog.text, password, marker, "log")
    assert_clean(caplog.text, wrong, wrong_marker, "log")
