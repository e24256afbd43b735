"""What every health check gets (:class:`HealthContext`) and gives back (:class:`Finding`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from .. import catalog
from ..server import ServerInfo
from ._thresholds import HealthThresholds

STATUSES = ("fail", "warn", "pass", "skip")
SEVERITIES = ("critical", "warning", "info")

Row = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One result of one check about one object.

    ``status``: pass, warn, fail or skip. ``severity``: info, warning or critical.
    ``object``: what it is about (a table, an index, a setting, a session, or the
    database for database-wide results). ``fix_sql``: runnable SQL, or None.
    The runner fills in ``check``.
    """

    status: str
    object: str
    evidence: str
    recommendation: str = ""
    fix_sql: str | None = None
    severity: str = "info"
    check: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")


class CheckSkipped(Exception):
    """Raised by a check that cannot run here; the message becomes the skip row's evidence."""


Check = Callable[["HealthContext"], list[Finding]]


@dataclass
class HealthContext:
    """A connection, the server's facts, the thresholds, and every catalog question asked once.

    ``rows(name)`` runs ``catalog/health_<name>.sql`` the first time and returns the same
    list of dict rows to every later check; a failure is remembered too, so the checks
    that share a question all skip with the same reason.
    """

    conn: psycopg.Connection[Any]
    server: ServerInfo
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)
    ram_bytes: int | None = None
    storage: str = "ssd"
    exact_bloat: bool = False
    _cache: dict[str, list[Row] | BaseException] = field(default_factory=dict, repr=False)
    #: Names of objects the fixes of this run create (so two fixes never pick the same name).
    proposed_names: set[tuple[str, str]] = field(default_factory=set, repr=False)
    #: Structures derived from the rows, computed once per run and shared (see ``_shared.memo``).
    derived: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- catalog questions ----------------------------------------------------------

    def rows(self, name: str, **params: Any) -> list[Row]:
        """Rows of catalog question ``health_<name>`` (cached per run and parameters)."""
        key = name + repr(sorted(params.items()))
        cached = self._cache.get(key)
        if cached is None:
            try:
                cached = self.query(catalog.get(f"health_{name}", self.server.version_num), params)
            except psycopg.Error as err:
                cached = err
            self._cache[key] = cached
        if isinstance(cached, BaseException):
            raise cached
        return cached

    def query(self, query: str | sql.Composable, params: dict[str, Any] | None = None) -> list[Row]:
        """Run one read-only statement, rows as dicts."""
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params if params is not None else {})  # type: ignore[arg-type]
            return cur.fetchall()

    @property
    def settings(self) -> dict[str, Row]:
        """pg_settings by name (the collectors' ``settings`` question), read once per run."""
        by_name: dict[str, Row] | None = self.derived.get("__settings")
        if by_name is None:
            rows = self.query(catalog.get("settings", self.server.version_num))
            by_name = self.derived["__settings"] = {r["name"]: r for r in rows}
        return by_name

    def setting(self, name: str) -> str:
        return str(self.settings[name]["setting"])

    def setting_bytes(self, name: str) -> int | None:
        """A memory setting in bytes (None for -1 or a setting without a memory unit)."""
        row = self.settings[name]
        value = int(float(row["setting"]))
        unit = row["unit"] or ""
        if value < 0 or unit not in _UNITS:
            return None
        return value * _UNITS[unit]

    def setting_ms(self, name: str) -> float:
        """A time setting in milliseconds (-1 stays -1)."""
        row = self.settings[name]
        value = float(row["setting"])
        if value < 0:
            return value
        return value * _TIME_UNITS.get(row["unit"] or "ms", 1.0)

    # -- the machine ------------------------------------------------------------------

    def machine_ram(self) -> tuple[int | None, str]:
        """RAM of the server machine in bytes and where the number came from."""
        if self.ram_bytes:
            return self.ram_bytes, "given"
        try:
            row = self.rows("memory")[0]
        except psycopg.Error as err:
            return None, f"not readable from the server ({_first_line(err)}); pass ram_bytes="
        total = None
        if row["meminfo"]:
            m = re.search(r"^MemTotal:\s+(\d+)\s*kB", row["meminfo"], re.MULTILINE)
            total = int(m.group(1)) * 1024 if m else None
        limits = [row["cgroup_v2_max"], row["cgroup_v1_limit"]]
        limit = min((int(v) for v in limits if v and v.strip().isdigit()), default=None)
        if total and limit and limit < total:
            return limit, "cgroup memory limit on the server"
        if total:
            return total, "/proc/meminfo on the server"
        return None, "unknown (the server is not Linux, or hides /proc); pass ram_bytes="

    # -- SQL text ----------------------------------------------------------------------

    @property
    def database(self) -> str:
        return self.server.database

    def render(self, composable: sql.Composable) -> str:
        """``composable`` as SQL text, quoted for this connection."""
        return composable.as_string(self.conn)

    def name(self, *parts: str) -> str:
        """A (schema-)qualified name for messages: each part quoted only where it needs to be.

        Fix SQL never uses this: it composes :class:`psycopg.sql.Identifier` (always quoted), or, for a
        new index, takes the index advisor's ``IndexDef.create_sql`` (quoted by PostgreSQL's own rule).
        """
        return ".".join(p if _PLAIN.match(p) and p not in _RESERVED else self.render(sql.Identifier(p)) for p in parts)


_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
# SQL key words PostgreSQL reserves (appendix C, "reserved"): names that must be quoted.
_RESERVED = frozenset({
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
    "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
    "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike",
    "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like",
    "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or",
    "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
    "session_user", "similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to",
    "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
    "with",
})

_UNITS = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "8kB": 8192, "16kB": 16384,
          "32kB": 32768, "64kB": 65536}
_TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def pretty_seconds(s: float | None) -> str:
    if s is None:
        return "?"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 172_800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def reloption(options: list[str] | None, name: str) -> str | None:
    """The value of ``name`` in a pg_class.reloptions array, or None."""
    for opt in options or ():
        key, _, value = opt.partition("=")
        if key == name:
            return value
    return None


def first_line(err: BaseException) -> str:
    """The first line of an error message, for skip evidence."""
    return _first_line(err)
