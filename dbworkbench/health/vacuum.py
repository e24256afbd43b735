"""Vacuum and its effects: dead tuples, stale statistics, bloat, transaction ID wraparound."""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from .._pretty import pretty_bytes
from ._context import Finding, HealthContext, Row, first_line, reloption
from ._shared import fmt_int, fmt_pct, row_count, table_name

XID_HORIZON = 2**31  # transaction IDs (and multixact IDs) wrap around at 2^31 of age

#: How to ask for exact bloat measurement (it is off by default outside the sandbox).
EXACT_BLOAT_HOW = "db.health(exact_bloat=True), or dbworkbench health --exact-bloat"


def _vacuum_sql(ctx: HealthContext, r: Row, options: str) -> str:
    return ctx.render(sql.SQL("VACUUM ({}) {};").format(sql.SQL(options), sql.Identifier(r["schema"], r["table"])))


def _rel_setting(ctx: HealthContext, r: Row, name: str) -> float:
    """A per-table autovacuum option (reloptions) or the server's setting."""
    value = reloption(r["reloptions"], name)
    return float(value if value is not None else ctx.setting(name))


def _when(ts: datetime | None) -> str:
    return "never" if ts is None else f"{ts:%Y-%m-%d %H:%M}"


def dead_tuples(ctx: HealthContext) -> list[Finding]:
    """Tables where dead tuples are a large share of all tuples (postgres-checkup F003).

    Autovacuum should vacuum a table once dead tuples pass
    ``autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * reltuples``; a large
    dead share means it is off for the table, too slow, or held back by a long transaction.
    """
    t = ctx.thresholds
    autovacuum_on = ctx.setting("autovacuum") == "on"
    tables = [r for r in ctx.rows("tables") if r["relkind"] in ("r", "m")]
    out = []
    for r in tables:
        dead, live = r["n_dead_tup"] or 0, r["n_live_tup"] or 0
        if dead < t.dead_tuple_min:
            continue
        share = dead / (live + dead)
        if share < t.dead_tuple_warn_share:
            continue
        trigger = (_rel_setting(ctx, r, "autovacuum_vacuum_threshold")
                   + _rel_setting(ctx, r, "autovacuum_vacuum_scale_factor") * max(r["reltuples"], 0))
        disabled = reloption(r["reloptions"], "autovacuum_enabled") == "false" or not autovacuum_on
        name = table_name(ctx, r)
        out.append(Finding(
            "fail" if share >= t.dead_tuple_fail_share else "warn", name,
            f"{fmt_int(dead)} dead vs {fmt_int(live)} live tuples ({fmt_pct(share)} dead); autovacuum vacuums it "
            f"past {fmt_int(trigger)} dead tuples; last vacuum {_when(r['last_vacuum'])}, last autovacuum "
            f"{_when(r['last_autovacuum'])}" + ("; autovacuum is disabled for it." if disabled else "."),
            "Dead tuples make scans read more pages and indexes grow. Vacuum it now; then find why autovacuum fell "
            "behind: disabled on the table (autovacuum_settings), too few workers or too low a cost limit for the "
            "update rate, or a long transaction holding back cleanup (long_running_queries, idle_in_transaction).",
            _vacuum_sql(ctx, r, "ANALYZE"), "warning"))
    if not out:
        out.append(Finding("pass", ctx.database,
                           f"no table among {len(tables)} has {fmt_pct(t.dead_tuple_warn_share, 0)} or more dead "
                           f"tuples (ignoring fewer than {fmt_int(t.dead_tuple_min)})"))
    return out


def analyze_stale(ctx: HealthContext) -> list[Finding]:
    """Tables the planner has no statistics for, or whose statistics autoanalyze has let fall behind.

    Never analyzed: rows but no column statistics (pg_stats) and no recorded ANALYZE.
    Behind: rows changed since the last ANALYZE exceed ``analyze_overdue_factor`` times
    the autoanalyze trigger.
    """
    t = ctx.thresholds
    tables = [r for r in ctx.rows("tables") if r["relkind"] in ("r", "m") and r["can_select"] and r["n_columns"]]
    out = []
    for r in tables:
        rows = row_count(r)
        mods = r["n_mod_since_analyze"] or 0
        name = table_name(ctx, r)
        fix = ctx.render(sql.SQL("ANALYZE {};").format(sql.Identifier(r["schema"], r["table"])))
        never = not r["n_stats_columns"] and r["last_analyze"] is None and r["last_autoanalyze"] is None
        if never and (rows > 0 or mods > 0 or (r["n_tup_ins"] or 0) > 0):
            out.append(Finding(
                "fail", name,
                f"{name} has about {fmt_int(max(rows, mods))} rows and has never been analyzed: no column statistics "
                "in pg_stats.",
                "Without statistics the planner guesses row counts (often badly: wrong join orders, no index use). "
                "Analyze it now; autoanalyze will keep it current once it passes its trigger.",
                fix, "warning"))
            continue
        trigger = (_rel_setting(ctx, r, "autovacuum_analyze_threshold")
                   + _rel_setting(ctx, r, "autovacuum_analyze_scale_factor") * max(r["reltuples"], 0))
        if mods > t.analyze_overdue_factor * trigger and mods >= 1000:
            last = max((x for x in (r["last_analyze"], r["last_autoanalyze"]) if x is not None), default=None)
            out.append(Finding(
                "warn", name,
                f"{fmt_int(mods)} rows changed since the last ANALYZE ({_when(last)}); autoanalyze triggers at "
                f"{fmt_int(trigger)}.",
                "The planner's row estimates drift as the data changes. Analyze it now; if it keeps happening, check "
                "that autovacuum runs for the table (autovacuum_settings).",
                fix, "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"all {len(tables)} tables have current planner statistics"))
    return out


# -- bloat -------------------------------------------------------------------------------


def _maxalign(n: float) -> int:
    return int(math.ceil(n / 8.0) * 8)


@dataclass
class _Bloat:
    row: Row
    pages: int
    expected_pages: int | None
    wasted: int | None
    ratio: float | None
    exact: dict[str, Any] | None = None
    exact_error: str | None = None

    @property
    def bytes(self) -> int:
        return self.pages * int(self.row["block_size"])


def _estimate_heap(r: Row) -> _Bloat:
    pages, tuples, bs = r["relpages"], r["reltuples"], r["block_size"]
    if r["n_stats"] < r["n_columns"] or pages < 1 or tuples < 0:
        return _Bloat(r, pages, None, None, None)
    nullmap = math.ceil(r["n_columns"] / 8) if r["has_nulls"] else 0
    tuple_bytes = _maxalign(_maxalign(23 + nullmap) + r["data_width"])
    usable = (bs - 24) - bs * (100 - r["fillfactor"]) / 100
    per_page = max(1, min(int(usable // (tuple_bytes + 4)), (bs - 24) // 28))
    expected = math.ceil(tuples / per_page)
    wasted = max(0, pages - expected) * bs
    return _Bloat(r, pages, expected, wasted, wasted / (pages * bs))


def _estimate_btree(r: Row) -> _Bloat:
    pages, tuples, bs = r["relpages"], r["reltuples"], r["block_size"]
    if r["n_stats"] < r["n_columns"] or pages < 1 or tuples < 0:
        return _Bloat(r, pages, None, None, None)
    tuple_bytes = _maxalign((16 if r["has_nulls"] else 8) + r["data_width"])
    usable = (bs - 24 - 16) * r["fillfactor"] / 100
    per_page = max(2, int(usable // (tuple_bytes + 4)))
    leaves = max(1, math.ceil(tuples / per_page))
    expected = 1 + leaves + (math.ceil(leaves / per_page) if leaves > 1 else 0)
    wasted = max(0, pages - expected) * bs
    return _Bloat(r, pages, expected, wasted, wasted / (pages * bs))


def _measure_exactly(ctx: HealthContext, items: list[_Bloat], kind: str) -> str:
    """Fill in ``exact`` with pgstattuple/pgstatindex for the items that qualify; a note for the evidence."""
    schema = ctx.server.extension_schema("pgstattuple")
    if schema is None:
        return "pgstattuple is not installed: statistics-based estimates only"
    if not ctx.exact_bloat:
        return (f"exact measurement with pgstattuple skipped: it reads each whole {kind}, heavy I/O on a busy server; "
                f"turn it on with {EXACT_BLOAT_HOW}")
    t = ctx.thresholds
    func = "pgstattuple" if kind == "table" else "pgstatindex"
    oid = "relid" if kind == "table" else "indexrelid"
    query = sql.SQL("SELECT * FROM {}(%(oid)s::oid::regclass)").format(sql.Identifier(schema, func))
    measured = 0
    for item in items:
        if measured >= t.exact_bloat_max_objects or item.bytes > t.exact_bloat_max_bytes:
            continue
        try:
            item.exact = ctx.query(query, {"oid": item.row[oid]})[0]
            measured += 1
        except psycopg.Error as err:
            item.exact_error = first_line(err)
    return f"pgstattuple measured {measured}"


def _apply_exact_heap(item: _Bloat) -> None:
    e = item.exact
    if not e or not e["table_len"]:
        return
    reserve = e["table_len"] * (100 - item.row["fillfactor"]) / 100
    wasted = max(0, e["free_space"] + e["dead_tuple_len"] - reserve)
    item.wasted, item.ratio = int(wasted), wasted / e["table_len"]


def _apply_exact_btree(item: _Bloat) -> None:
    e = item.exact
    if not e or not e["index_size"] or e["avg_leaf_density"] is None or math.isnan(e["avg_leaf_density"]):
        return
    bs = item.row["block_size"]
    empty = (e["empty_pages"] + e["deleted_pages"]) * bs
    leaf_waste = e["leaf_pages"] * bs * max(0.0, 1 - e["avg_leaf_density"] / item.row["fillfactor"])
    wasted = empty + leaf_waste
    item.wasted, item.ratio = int(wasted), wasted / e["index_size"]


def _bloat_findings(ctx: HealthContext, kind: str, rows: list[Row]) -> list[Finding]:
    t = ctx.thresholds
    estimate = _estimate_heap if kind == "table" else _estimate_btree
    items = [estimate(r) for r in rows]

    def flagged(b: _Bloat) -> bool:
        return b.ratio is not None and b.wasted is not None and b.ratio >= t.bloat_warn_ratio \
            and b.wasted >= t.bloat_min_bytes

    unknown = [b for b in items if b.ratio is None and b.bytes >= t.bloat_min_bytes]
    unknown_ids = {id(b) for b in unknown}
    candidates = [b for b in items if flagged(b)] + unknown
    note = _measure_exactly(ctx, candidates, kind)
    skipped = not ctx.exact_bloat and ctx.server.extension_schema("pgstattuple") is not None
    estimated = {id(b): (b.ratio, b.wasted) for b in items}
    for b in candidates:
        (_apply_exact_heap if kind == "table" else _apply_exact_btree)(b)
    out = []
    for b in items:
        r = b.row
        obj = ctx.name(r["schema"], r["table"] if kind == "table" else r["index"])
        est_ratio, est_wasted = estimated[id(b)]
        if b.ratio is None:
            if id(b) in unknown_ids:
                out.append(Finding(
                    "skip", obj, f"{obj} ({pretty_bytes(b.bytes)}): no planner statistics for its columns, no estimate"
                    + (f"; pgstattuple: {b.exact_error}" if b.exact_error else "") + (f"; {note}" if skipped else "")
                    + ".",
                    "ANALYZE the table for an estimate, or "
                    + (f"measure it exactly: {EXACT_BLOAT_HOW}." if skipped else
                       "install pgstattuple (CREATE EXTENSION pgstattuple) to measure it.")))
            continue
        if not flagged(b):
            continue
        parts = []
        if est_ratio is not None:
            parts.append(f"estimated {fmt_pct(est_ratio)} bloat ({pretty_bytes(est_wasted)} of {pretty_bytes(b.bytes)}; "
                         f"statistics say {fmt_int(r['reltuples'])} {'rows' if kind == 'table' else 'entries'} fit in "
                         f"{fmt_int(b.expected_pages)} pages, it has {fmt_int(b.pages)})")
        if b.exact is not None:
            e = b.exact
            if kind == "table":
                parts.append(f"pgstattuple: {fmt_pct(b.ratio)} wasted (free space {pretty_bytes(e['free_space'])}, "
                             f"dead tuples {pretty_bytes(e['dead_tuple_len'])}, fillfactor {r['fillfactor']})")
            else:
                parts.append(f"pgstatindex: {fmt_pct(b.ratio)} wasted (leaf density {e['avg_leaf_density']:.1f} % "
                             f"of {r['fillfactor']} % fillfactor, {e['empty_pages'] + e['deleted_pages']} empty or "
                             "deleted pages)")
        elif b.exact_error:
            parts.append(f"pgstattuple: {b.exact_error}")
        elif skipped:
            parts.append(note)
        status = "fail" if b.ratio >= t.bloat_fail_ratio else "warn"
        if kind == "table":
            fix = _vacuum_sql(ctx, r, "FULL, ANALYZE")
            rec = ("VACUUM FULL rewrites the table compactly but holds an ACCESS EXCLUSIVE lock throughout (reads and "
                   "writes wait); online alternatives are pg_repack and pg_squeeze. Then find out why it bloated: "
                   "dead_tuples, long transactions, autovacuum settings.")
        else:
            fix = ctx.render(sql.SQL("REINDEX INDEX CONCURRENTLY {};").format(sql.Identifier(r["schema"], r["index"])))
            rec = ("REINDEX CONCURRENTLY builds a compact copy while reads and writes continue, then swaps it in "
                   "(needs the index's size in free disk).")
        out.append(Finding(status, obj, "; ".join(parts) + ".", rec, fix, "warning"))
    if not any(f.status in ("fail", "warn") for f in out):
        known = [b for b in items if b.ratio is not None]
        worst = max(known, key=lambda b: b.wasted or 0, default=None)
        what = "tables" if kind == "table" else "btree indexes"
        text = f"{len(known)} {what} estimated; none has {fmt_pct(t.bloat_warn_ratio, 0)} bloat with at least " \
               f"{pretty_bytes(t.bloat_min_bytes)} wasted"
        if worst is not None and worst.wasted:
            wname = worst.row["table"] if kind == "table" else worst.row["index"]
            text += f" (most: {wname}, {pretty_bytes(worst.wasted)}, {fmt_pct(worst.ratio)})"
        blind = sum(1 for b in items if b.ratio is None)
        if blind:
            text += (f"; {blind} not estimated (no planner statistics visible: never analyzed, or no SELECT "
                     "privilege on their columns)")
        out.append(Finding("pass", ctx.database, f"{text}; {note}"))
    return out


def table_bloat(ctx: HealthContext) -> list[Finding]:
    """Heap bloat: pages beyond what the rows need (postgres-checkup F004, PgHero space).

    Estimated from planner statistics (row count, average column widths, fillfactor,
    tuple header and alignment). With ``exact_bloat=True`` (the default on the sandbox
    only) and the pgstattuple extension installed, flagged tables up to
    ``exact_bloat_max_bytes`` are measured exactly (it reads the whole table under an
    ACCESS SHARE lock, like a SELECT).
    """
    return _bloat_findings(ctx, "table", ctx.rows("table_bloat"))


def index_bloat(ctx: HealthContext) -> list[Finding]:
    """Btree index bloat (postgres-checkup F005, PgHero index_bloat), estimated and, with pgstattuple, measured."""
    return _bloat_findings(ctx, "index", ctx.rows("index_bloat"))


# -- wraparound --------------------------------------------------------------------------


def _shell_dbname(database: str) -> str:
    """A database name for a client's --dbname in a POSIX shell: a plain name as it is, any other as
    the connection string ``dbname='...'`` (libpq reads a --dbname holding ``=`` as one), shell-quoted."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", database):
        return database
    conninfo = "dbname='" + database.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return shlex.quote(conninfo)


def xid_wraparound(ctx: HealthContext) -> list[Finding]:
    """Transaction ID and multixact ages of databases and tables (postgres-checkup F002, PgHero transaction_id_danger).

    At an age of 2^31 PostgreSQL stops assigning transaction IDs to prevent data loss.
    Warns past ``xid_age_warn`` (default: the server's ``autovacuum_freeze_max_age``, where
    the forced anti-wraparound vacuum should already have run), fails past ``xid_age_fail``.
    """
    t = ctx.thresholds
    warn = t.xid_age_warn if t.xid_age_warn is not None else int(ctx.setting("autovacuum_freeze_max_age"))
    mwarn = t.xid_age_warn if t.xid_age_warn is not None else int(ctx.setting("autovacuum_multixact_freeze_max_age"))
    fail = t.xid_age_fail

    def judge(xid_age: int | None, mxid_age: int | None) -> str | None:
        xid_age, mxid_age = xid_age or 0, mxid_age or 0
        if xid_age >= fail or mxid_age >= fail:
            return "fail"
        if xid_age >= warn or mxid_age >= mwarn:
            return "warn"
        return None

    def ages(xid_age: int | None, mxid_age: int | None) -> str:
        return (f"transaction ID age {fmt_int(xid_age)} ({fmt_pct((xid_age or 0) / XID_HORIZON, 2)} of the 2^31 "
                f"horizon), multixact age {fmt_int(mxid_age)}; autovacuum_freeze_max_age {fmt_int(warn)}")

    out = []
    databases = ctx.rows("databases")
    for d in databases:
        status = judge(d["xid_age"], d["mxid_age"])
        if status is None:
            continue
        current = d["is_current"]
        out.append(Finding(
            status, f"database {d['database']}", f"database {d['database']}: {ages(d['xid_age'], d['mxid_age'])}.",
            "Freeze it before PostgreSQL stops accepting writes at 2^31: "
            + ("run the fix (it vacuums every table; the tables listed below first if time is short)"
               if current else f"vacuumdb --freeze --analyze --dbname={_shell_dbname(d['database'])}")
            + "; look for what held autovacuum back: long transactions, prepared transactions, replication slots.",
            "VACUUM (FREEZE, ANALYZE);" if current else None, "critical"))
    tables = [r for r in ctx.rows("tables") if r["xid_age"] is not None]
    for r in sorted(tables, key=lambda r: -(r["xid_age"] or 0)):
        status = judge(r["xid_age"], r["mxid_age"])
        if status is None:
            continue
        name = table_name(ctx, r)
        out.append(Finding(
            status, name, f"{name}: {ages(r['xid_age'], r['mxid_age'])}; last vacuum {_when(r['last_vacuum'])}, "
            f"last autovacuum {_when(r['last_autovacuum'])}.",
            "Freeze the table now (VACUUM FREEZE reads it all; it takes no lock that blocks reads or writes).",
            _vacuum_sql(ctx, r, "FREEZE, ANALYZE"), "critical"))
    if not out:
        oldest = databases[0] if databases else None
        oldest_table = max(tables, key=lambda r: r["xid_age"] or 0, default=None)
        text = (f"oldest database {oldest['database']}: {ages(oldest['xid_age'], oldest['mxid_age'])}"
                if oldest else "no databases visible")
        if oldest_table is not None:
            text += f"; oldest table here {oldest_table['table']} at {fmt_int(oldest_table['xid_age'])}"
        out.append(Finding("pass", ctx.database, text))
    return out
