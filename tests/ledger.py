"""The ledger: what a server holds that a read-only tool must never change.

``Ledger.take(admin_conninfo, dbname)`` reads, as a superuser, every database that accepts
connections (``dbname`` first):

- every table and materialized view outside ``pg_catalog``, ``information_schema`` and the
  toast schemas: its row count and the md5 of its rows' text in order;
- every sequence's ``last_value`` and ``is_called`` (read from the sequence itself);
- catalog rows (pg_class, pg_proc, pg_namespace, pg_extension, roles, settings, ...): the
  columns that only DDL, GRANT, ALTER ... SET or ANALYZE change, kept row by row so a
  difference names the rows; a digest per catalog;
- cluster state a rollback does not undo: advisory locks, prepared transactions, client
  sessions (``pg_stat_activity``), statistics resets, the notification queue's usage and
  what a :class:`Listener` opened before the run has received since.

``before.diff(after)`` lists the differences as sentences; an empty list means nothing changed.
:func:`session_state` reads what one session holds (prepared statements, cursors, LISTEN
channels, advisory locks, read-only mode): a tool's connection must end as it began.

>>> listener = Listener(conninfo, ["ledger"])           # doctest: +SKIP
>>> before = Ledger.take(admin, "ledger", listener=listener)  # doctest: +SKIP
>>> ...                                                  # doctest: +SKIP
>>> assert before.diff(Ledger.take(admin, "ledger", listener=listener)) == []  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

APPLICATION_NAME = "ledger"
EXCLUDED_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

# Per database: the columns of each catalog that only a change of schema, privileges,
# settings or statistics moves (not autovacuum's relpages/reltuples/relfrozenxid).
DATABASE_CATALOGS: dict[str, str] = {
    "pg_class": "SELECT oid, relname, relnamespace, relkind, relowner, relfilenode, relpersistence, relacl, "
                "reloptions, relhasindex, relhastriggers, relrowsecurity, relispartition FROM pg_class",
    "pg_attribute": "SELECT attrelid, attnum, attname, atttypid, attnotnull, atthasdef, attisdropped, attstattarget, "
                    "attacl, attoptions FROM pg_attribute",
    "pg_index": "SELECT indexrelid, indrelid, indisunique, indisprimary, indisvalid, indisready, indislive, indkey "
                "FROM pg_index",
    "pg_constraint": "SELECT oid, conname, conrelid, contype, convalidated, condeferrable FROM pg_constraint",
    "pg_trigger": "SELECT oid, tgname, tgrelid, tgenabled, tgfoid FROM pg_trigger",
    "pg_rewrite": "SELECT oid, rulename, ev_class, ev_enabled FROM pg_rewrite",
    "pg_policy": "SELECT oid, polname, polrelid, polcmd FROM pg_policy",
    "pg_proc": "SELECT oid, proname, pronamespace, proowner, provolatile, prosecdef, md5(prosrc) AS src, proacl, "
               "proconfig FROM pg_proc",
    "pg_type": "SELECT oid, typname, typnamespace, typowner, typacl FROM pg_type",
    "pg_namespace": "SELECT oid, nspname, nspowner, nspacl FROM pg_namespace",
    "pg_extension": "SELECT oid, extname, extversion, extnamespace, extowner FROM pg_extension",
    "pg_default_acl": "SELECT oid, defaclrole, defaclnamespace, defaclobjtype, defaclacl FROM pg_default_acl",
    "pg_event_trigger": "SELECT oid, evtname, evtevent, evtenabled FROM pg_event_trigger",
    "pg_publication": "SELECT oid, pubname, pubowner FROM pg_publication",
    "pg_statistic": "SELECT starelid, staattnum, stainherit, stanullfrac, stawidth, stadistinct FROM pg_statistic",
    "pg_largeobject_metadata": "SELECT oid, lomowner, lomacl FROM pg_largeobject_metadata",
    "pg_foreign_server": "SELECT oid, srvname, srvowner, srvoptions FROM pg_foreign_server",
    "pg_user_mapping": "SELECT oid, umuser, umserver, md5(umoptions::text) AS options FROM pg_user_mapping",
}
# Shared by the cluster: read once, through the first database.
CLUSTER_CATALOGS: dict[str, str] = {
    "pg_roles": "SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, "
                "rolbypassrls, rolconnlimit, md5(coalesce(rolpassword, '')) AS password, rolvaliduntil FROM pg_authid",
    "pg_auth_members": "SELECT roleid, member, admin_option FROM pg_auth_members",
    "pg_db_role_setting": "SELECT setdatabase, setrole, setconfig FROM pg_db_role_setting",
    "pg_database": "SELECT oid, datname, datdba, datallowconn, datconnlimit, datacl FROM pg_database",
    "pg_tablespace": "SELECT oid, spcname, spcowner, spcacl, spcoptions FROM pg_tablespace",
    "pg_settings": "SELECT name, setting, source, pending_restart FROM pg_settings "
                   "WHERE source NOT IN ('session', 'default', 'client')",
    "pg_file_settings": "SELECT sourcefile, sourceline, name, setting, applied FROM pg_file_settings",
    "pg_replication_slots": "SELECT slot_name, plugin, slot_type, database, temporary FROM pg_replication_slots",
    "pg_subscription": "SELECT oid, subname, subowner, subenabled FROM pg_subscription",
}
# When each statistics view was last reset (a view missing on this version is left out).
CLUSTER_RESETS: dict[str, str] = {
    "pg_stat_bgwriter": "SELECT stats_reset FROM pg_stat_bgwriter",
    "pg_stat_archiver": "SELECT stats_reset FROM pg_stat_archiver",
    "pg_stat_wal": "SELECT stats_reset FROM pg_stat_wal",
    "pg_stat_checkpointer": "SELECT stats_reset FROM pg_stat_checkpointer",
    "pg_stat_slru": "SELECT string_agg(name || '=' || coalesce(stats_reset::text, ''), ',' ORDER BY name) FROM pg_stat_slru",
    "pg_stat_io": "SELECT max(stats_reset) FROM pg_stat_io",
    "pg_stat_database": "SELECT string_agg(coalesce(datname, '(shared)') || '=' || coalesce(stats_reset::text, ''), ',' "
                        "ORDER BY datname) FROM pg_stat_database",
}


@dataclass(frozen=True)
class TableSum:
    """One table's row count and the md5 of its rows' text, in order."""

    rows: int
    md5: str


@dataclass(frozen=True)
class Notification:
    channel: str
    payload: str
    pid: int


class Listener:
    """A session that LISTENs on ``channels`` from before the run; :meth:`poll` says what came since."""

    def __init__(self, conninfo: str, channels: Iterable[str], application_name: str = "ledger_listener") -> None:
        self.channels = list(channels)
        self._received: list[Notification] = []
        self.lost: str | None = None
        self.conn = psycopg.connect(_with_name(conninfo, application_name), autocommit=True)
        for channel in self.channels:
            self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        self.pid = self.conn.info.backend_pid

    def poll(self, wait: float = 0.05) -> list[Notification]:
        """Notifications received since the last poll; an empty list when none came."""
        if self.lost is None:
            try:
                self.conn.execute("SELECT 1")  # what arrived meanwhile waits in psycopg's backlog
                self._received += [Notification(n.channel, n.payload, n.pid) for n in self.conn.notifies(timeout=wait)]
            except psycopg.Error as err:
                self.lost = f"the listener's session (pid {self.pid}) was lost: {str(err).strip()}"
        got, self._received = self._received, []
        return got

    def close(self) -> None:
        self.conn.close()


@dataclass
class Ledger:
    """What a cluster holds; see the module doc. Build it with :meth:`take`."""

    tables: dict[str, TableSum] = field(default_factory=dict)
    sequences: dict[str, tuple[int, bool]] = field(default_factory=dict)
    catalogs: dict[str, frozenset[str]] = field(default_factory=dict)
    advisory_locks: frozenset[tuple[Any, ...]] = frozenset()
    prepared_xacts: frozenset[tuple[Any, ...]] = frozenset()
    sessions: frozenset[tuple[Any, ...]] = frozenset()
    resets: dict[str, str] = field(default_factory=dict)
    queue_usage: float = 0.0
    notifications: list[Notification] = field(default_factory=list)
    listener_lost: str | None = None
    databases: frozenset[str] = frozenset()  # read database by database; keys of theirs start "<dbname>."

    @classmethod
    def take(
        cls,
        admin_conninfo: str,
        dbname: str,
        *,
        listener: Listener | None = None,
        ignore_pids: Iterable[int] = (),
        databases: str = "all",
    ) -> Ledger:
        """Read the ledger as the superuser of ``admin_conninfo``: ``dbname``, then every other database.

        ``ignore_pids``: sessions left out of :attr:`sessions` (a tool's own, still open).
        ``databases``: "all", "one" (``dbname`` only) or "none" (cluster-wide state only:
        roles, settings, locks, sessions, resets, notifications), for quick takes between calls.
        """
        ledger = cls()
        skip = {*ignore_pids, *([listener.pid] if listener else [])}
        with _connect(admin_conninfo, dbname) as conn:
            others = [r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datallowconn AND datname <> %s ORDER BY datname", [dbname])]
            ledger._read_cluster(conn, skip)
        read = {"all": [dbname, *others], "one": [dbname], "none": []}[databases]
        for name in read:
            with _connect(admin_conninfo, name) as conn:
                ledger._read_database(conn, name)
        ledger.databases = frozenset(read)
        if listener is not None:
            ledger.notifications = listener.poll()
            ledger.listener_lost = listener.lost
        return ledger

    # -- reading ---------------------------------------------------------------------------

    def _read_cluster(self, conn: psycopg.Connection[Any], skip: set[int]) -> None:
        for name, query in CLUSTER_CATALOGS.items():
            self.catalogs[name] = _rows(conn, query)
        self.advisory_locks = frozenset(conn.execute(
            "SELECT l.database, l.classid, l.objid, l.objsubid, l.mode, l.granted, l.pid, a.application_name "
            "FROM pg_locks l LEFT JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory'").fetchall())
        self.prepared_xacts = frozenset(conn.execute(
            "SELECT gid, owner, database FROM pg_prepared_xacts").fetchall())
        self.sessions = frozenset(
            row for row in conn.execute(
                "SELECT pid, usename, datname, application_name, backend_type FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND backend_type IN ('client backend', 'background worker') "
                "AND application_name IS DISTINCT FROM %s", [APPLICATION_NAME]).fetchall()
            if row[0] not in skip
        )
        for name, query in CLUSTER_RESETS.items():
            value = _optional(conn, query)
            if value is not None:
                self.resets[name] = value
        self.queue_usage = float(conn.execute("SELECT pg_notification_queue_usage()").fetchone()[0])  # type: ignore[index]

    def _read_database(self, conn: psycopg.Connection[Any], dbname: str) -> None:
        for name, query in DATABASE_CATALOGS.items():
            self.catalogs[f"{dbname}.{name}"] = _rows(conn, query)
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone():
            value = _optional(conn, "SELECT stats_reset FROM pg_stat_statements_info")
            if value is not None:
                self.resets[f"{dbname}.pg_stat_statements_info"] = value
        relations = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'm', 'S') AND c.relispopulated "
            "AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg\\_temp\\_%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%' "
            "ORDER BY 1, 2", [list(EXCLUDED_SCHEMAS)]).fetchall()
        for schema, name, kind in relations:
            key = f"{dbname}.{schema}.{name}"
            rel = sql.Identifier(schema, name)
            if kind == "S":
                row = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(rel)).fetchone()
                self.sequences[key] = (int(row[0]), bool(row[1]))  # type: ignore[index]
            else:
                row = conn.execute(sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} AS t"
                ).format(rel)).fetchone()
                self.tables[key] = TableSum(int(row[0]), str(row[1]))  # type: ignore[index]

    # -- figures and differences -----------------------------------------------------------

    def digest(self, catalog: str) -> str:
        """The md5 of one catalog's rows (sorted)."""
        return hashlib.md5("\n".join(sorted(self.catalogs[catalog])).encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        """What this ledger compares, counted."""
        return {
            "tables": len(self.tables),
            "rows": sum(t.rows for t in self.tables.values()),
            "sequences": len(self.sequences),
            "catalogs": len(self.catalogs),
            "catalog_rows": sum(len(rows) for rows in self.catalogs.values()),
            "sessions": len(self.sessions),
            "stats_resets": len(self.resets),
        }

    def diff(self, after: Ledger) -> list[str]:
        """Every difference from this ledger to ``after``, one sentence each; [] when none.

        Per-database state is compared for the databases both ledgers read.
        """
        shared = self.databases & after.databases

        def keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
            return sorted(k for k in a.keys() | b.keys() if "." not in k or k.split(".", 1)[0] in shared)

        out: list[str] = []
        for key in keys(self.tables, after.tables):
            a, b = self.tables.get(key), after.tables.get(key)
            if a != b:
                out.append(f"table {key}: {_table(a)} -> {_table(b)}")
        for key in keys(self.sequences, after.sequences):
            a_seq, b_seq = self.sequences.get(key), after.sequences.get(key)
            if a_seq != b_seq:
                out.append(f"sequence {key}: {_sequence(a_seq)} -> {_sequence(b_seq)}")
        for name in keys(self.catalogs, after.catalogs):
            a_rows, b_rows = self.catalogs.get(name, frozenset()), after.catalogs.get(name, frozenset())
            if a_rows != b_rows:
                gone, new = sorted(a_rows - b_rows), sorted(b_rows - a_rows)
                out.append(f"catalog {name}: {len(gone)} row(s) gone {gone[:4]}, {len(new)} new {new[:4]}")
        out += _set_diff("advisory lock", self.advisory_locks, after.advisory_locks)
        out += _set_diff("prepared transaction", self.prepared_xacts, after.prepared_xacts)
        out += _set_diff("session (pid, user, database, application_name, type)", self.sessions, after.sessions)
        for name in keys(self.resets, after.resets):
            if self.resets.get(name) != after.resets.get(name):
                out.append(f"statistics reset {name}: {self.resets.get(name)} -> {after.resets.get(name)}")
        if after.queue_usage != self.queue_usage:
            out.append(f"notification queue usage: {self.queue_usage} -> {after.queue_usage}")
        out += [f"notification received: channel {n.channel!r} payload {n.payload!r} from pid {n.pid}"
                for n in after.notifications]
        if after.listener_lost and not self.listener_lost:
            out.append(after.listener_lost)
        return out


def session_state(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What one session holds that outlives a rolled-back transaction.

    psycopg's own automatic prepared statements (``_pg3_*``, after ``prepare_threshold``
    executions of one query) are left out: the driver makes them, not the tool.
    """
    def names(query: str) -> list[str]:
        return sorted(str(r[0]) for r in conn.execute(query))

    return {
        "prepared_statements": names(
            "SELECT name FROM pg_prepared_statements WHERE name NOT LIKE '\\_pg3\\_%' ORDER BY 1"),
        "cursors": names("SELECT name FROM pg_cursors ORDER BY 1"),
        "listening": names("SELECT pg_listening_channels() ORDER BY 1"),
        "advisory_locks": names(
            "SELECT objid::text FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() ORDER BY 1"),
        "temp_tables": names(
            "SELECT relname FROM pg_class WHERE relpersistence = 't' AND pg_table_is_visible(oid) ORDER BY 1"),
        "default_transaction_read_only": conn.execute("SHOW default_transaction_read_only").fetchone()[0],  # type: ignore[index]
        "in_transaction": conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE,
    }


# -- internals ----------------------------------------------------------------------------------


def _with_name(conninfo: str, application_name: str, dbname: str | None = None) -> str:
    params = conninfo_to_dict(conninfo)
    params["application_name"] = application_name
    if dbname is not None:
        params["dbname"] = dbname
    return make_conninfo(**params)


def _connect(admin_conninfo: str, dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(_with_name(admin_conninfo, APPLICATION_NAME, dbname), autocommit=True, connect_timeout=10)


def _rows(conn: psycopg.Connection[Any], query: str) -> frozenset[str]:
    composed = sql.SQL("SELECT q::text FROM ({}) AS q").format(sql.SQL(query))  # type: ignore[arg-type]
    return frozenset(str(r[0]) for r in conn.execute(composed))


def _optional(conn: psycopg.Connection[Any], query: str) -> str | None:
    """The first value of ``query`` as text; None where the view does not exist on this version."""
    try:
        with conn.transaction():
            row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return None
    return "" if row is None or row[0] is None else str(row[0])


def _table(t: TableSum | None) -> str:
    return "absent" if t is None else f"{t.rows} rows (md5 {t.md5[:12]})"


def _sequence(s: tuple[int, bool] | None) -> str:
    return "absent" if s is None else f"last_value {s[0]} ({'called' if s[1] else 'not called'})"


def _set_diff(what: str, before: frozenset[tuple[Any, ...]], after: frozenset[tuple[Any, ...]]) -> list[str]:
    return ([f"{what} gone: {row}" for row in sorted(before - after, key=repr)]
            + [f"{what} new: {row}" for row in sorted(after - before, key=repr)])


def describe(counts: dict[str, int]) -> str:
    """The counts as one line, for the test's output."""
    return ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items())


__all__: Sequence[str] = ["Ledger", "Listener", "Notification", "TableSum", "describe", "session_state"]
