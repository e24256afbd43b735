"""Secrets in connection parameters and in messages: which keys hold one, masking, scrubbing.

Which libpq keywords are secret comes from libpq itself: :func:`psycopg.pq.Conninfo.get_defaults`
marks password-like options with the display character ``"*"`` (``password``, ``sslpassword``,
``oauth_client_secret`` on libpq 18). The SCRAM keys (``scram_client_key``, ``scram_server_key``)
are marked as debug options, not secrets, but they log in as well as a password does, so they are
masked too, as is any keyword whose name says ``password`` or ``secret``.

Connection strings are read with psycopg's own parser, never with regular expressions; a string
libpq cannot read is never echoed (only its kind, and libpq's reason without the quoted fragments
of the input it quotes).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cache
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"
WITHHELD = "(the driver's message is withheld: it held a secret)"
_ALWAYS_SECRET = frozenset({"password", "sslpassword", "scram_client_key", "scram_server_key"})
_URL_SCHEMES = ("postgresql://", "postgres://")
EXPECTED_FORMS = (
    "expected 'postgresql://user:password@host:5432/dbname' (with @ : / % and spaces in the password "
    "percent-encoded: %40 %3A %2F %25 %20) or 'host=... dbname=... password=...' (values with spaces "
    "or quotes in single quotes, \\' and \\\\ inside)"
)


@cache
def _libpq_options() -> tuple[tuple[str, bytes, str | None], ...]:
    """(keyword, dispchar, environment variable) of every option this libpq knows; () if it can't tell."""
    try:
        return tuple(
            (o.keyword.decode(), o.dispchar, o.envvar.decode() if o.envvar else None)
            for o in pq.Conninfo.get_defaults()
        )
    except (psycopg.Error, ImportError, NotImplementedError, AttributeError):
        return ()


def secret_keys() -> frozenset[str]:
    """The libpq keywords whose value is a secret (libpq's ``"*"`` options and the SCRAM keys).

    >>> {"password", "sslpassword"} <= secret_keys()
    True
    """
    return _ALWAYS_SECRET | {key for key, dispchar, _ in _libpq_options() if dispchar == b"*"}


def is_secret_key(key: str) -> bool:
    """Whether the connection keyword ``key`` holds a secret.

    >>> is_secret_key("sslpassword"), is_secret_key("host")
    (True, False)
    """
    low = key.lower()
    return low in secret_keys() or "password" in low or "secret" in low


def is_url(dsn: str) -> bool:
    """Whether ``dsn`` is in URL form (``postgresql://`` or ``postgres://``), which libpq reads differently."""
    return dsn.lstrip().lower().startswith(_URL_SCHEMES)


def _expands(dbname: str) -> bool:
    """Whether ``dbname`` looks like a connection string, as libpq's ``expand_dbname`` would read it.

    psycopg does not expand it, but a password written there is still a password.
    """
    return "=" in dbname or is_url(dbname)


def mask_params(params: Mapping[str, str]) -> dict[str, str]:
    """``params`` with the value of every secret key replaced by ``***`` (also inside a conninfo ``dbname``).

    >>> mask_params({"host": "db", "sslpassword": "x"})
    {'host': 'db', 'sslpassword': '***'}
    """
    shown = {}
    for key, value in params.items():
        if is_secret_key(key):
            shown[key] = MASK
        elif key == "dbname" and _expands(value):
            shown[key] = mask_dsn(value)
        else:
            shown[key] = value
    return shown


def mask_dsn(dsn: str) -> str:
    """A libpq conninfo or URL rewritten as conninfo with its secrets masked; ``***`` if libpq can't read it.

    >>> mask_dsn("postgresql://app:s3cr%40t@db/x")
    'user=app password=*** dbname=x host=db'
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return MASK
    return make_conninfo(**mask_params({k: str(v) for k, v in params.items() if v is not None}))


def secret_values(params: Mapping[str, str], environ: Mapping[str, str] | None = None) -> list[str]:
    """The secrets a connection with ``params`` may use: its secret values and those of the environment.

    The environment part is each secret keyword's libpq variable (``PGPASSWORD``), read now.
    """
    environ = os.environ if environ is None else environ
    found = [v for k, v in params.items() if is_secret_key(k) and v]
    dbname = params.get("dbname", "")
    if dbname and _expands(dbname):
        try:
            inner = conninfo_to_dict(dbname)
        except psycopg.Error:
            found.append(dbname)  # libpq can't read it either; keep all of it out of messages
        else:
            found += secret_values({k: str(v) for k, v in inner.items() if v is not None}, {})
    env_vars = {var for key, _, var in _libpq_options() if var and is_secret_key(key)} | {"PGPASSWORD"}
    found += [environ[var] for var in sorted(env_vars) if environ.get(var)]
    return list(dict.fromkeys(found))


def _forms(secret: str) -> set[str]:
    """The ways a secret may be written in a message: as is, percent-encoded, conninfo-quoted, repr-escaped."""
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret), quote(secret, safe=" +")}
    lower_hex = {_lower_hex(e) for e in encoded}
    conninfo = secret.replace("\\", "\\\\").replace("'", "\\'")
    return {secret, conninfo, repr(secret)[1:-1], *encoded, *lower_hex} - {""}


def _lower_hex(encoded: str) -> str:
    parts = encoded.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


def _unescape_conninfo(text: str) -> str:
    return text.replace("\\'", "'").replace("\\\\", "\\")


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every known secret replaced by ``***``, in any of the forms a message may use.

    When a secret can still be read in the text after that (once percent-decoded or unescaped),
    the whole text is replaced by a notice that it was withheld.

    >>> scrub("login as app:hunter%202 failed", ["hunter 2"])
    'login as app:*** failed'
    >>> scrub("login as app:hunt%65r2 failed", ["hunter2"])
    "(the driver's message is withheld: it held a secret)"
    """
    known = [s for s in secrets if s]
    for form in sorted({f for s in known for f in _forms(s)}, key=len, reverse=True):
        text = text.replace(form, MASK)
    decoded = (unquote(text), unquote_plus(text), _unescape_conninfo(text))
    if any(s in d for s in known for d in decoded):
        return WITHHELD
    return text


def describe_unreadable(dsn: str, reason: str) -> str:
    """Why ``dsn`` could not be read, without any of its text: only its kind and libpq's reason.

    libpq quotes the piece of input it stumbled on (``invalid percent-encoded token: "p%zz"``);
    everything from its first to its last double quote is left out.

    >>> describe_unreadable("host=db password='Alpha Zulu7", "unterminated quoted string in connection info string")
    'the key=value string (not shown: it may hold a password): unterminated quoted string in connection info string'
    """
    first, last = reason.find('"'), reason.rfind('"')
    if first >= 0:
        reason = reason[:first] + "…" + (reason[last + 1:] if last > first else "")
    reason = " ".join(reason.split())
    dsn = dsn.lstrip()
    scheme = dsn[: dsn.find("://")] if "://" in dsn else ""
    if scheme.lower().startswith("postgres") and scheme.replace("+", "").isalnum():
        kind = f"the {scheme}:// URL"
    else:
        kind = "the key=value string"
    return f"{kind} (not shown: it may hold a password): {reason}"
