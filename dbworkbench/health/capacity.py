"""Running out of numbers: sequences and integer primary keys near the end of their range."""

from __future__ import annotations

from psycopg import sql

from ._context import Finding, HealthContext, Row
from ._shared import fmt_int, fmt_pct

TYPE_RANGE = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def _status(ctx: HealthContext, used: float) -> str | None:
    t = ctx.thresholds
    if used >= t.capacity_fail:
        return "fail"
    if used >= t.capacity_warn:
        return "warn"
    return None


def _widen_sql(ctx: HealthContext, schema: str, table: str, column: str) -> str:
    return ctx.render(sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE bigint;").format(
        sql.Identifier(schema, table), sql.Identifier(column)))


def _referencing(ctx: HealthContext, schema: str, table: str, column: str) -> list[tuple[str, str, str]]:
    """(schema, table, column) of foreign key columns that reference ``schema.table(column)``."""
    out = []
    for fk in ctx.rows("foreign_keys"):
        if fk["ref_schema"] == schema and fk["ref_table"] == table and column in fk["ref_columns"]:
            out.append((fk["schema"], fk["table"], fk["columns"][list(fk["ref_columns"]).index(column)]))
    return out


_REWRITE = ("ALTER COLUMN ... TYPE bigint rewrites the table and its indexes under an ACCESS EXCLUSIVE lock; "
            "on a big table follow the handbook's zero-downtime pattern instead (add a bigint column, backfill in "
            "batches, swap in a short transaction).")


def sequence_near_limit(ctx: HealthContext) -> list[Finding]:
    """Sequences that have used most of their range, or of the range of the column they feed (PgHero sequence_danger).

    The limit is the sequence's own MAXVALUE (MINVALUE when descending) or the feeding
    column's type range, whichever comes first: a bigint sequence feeding an integer
    column fails at 2^31 - 1.
    """
    rows = ctx.rows("sequences")
    out = []
    unreadable: set[str] = set()
    checked: set[int] = set()
    for r in rows:
        name = ctx.name(r["schema"], r["sequence"])
        if r["last_value"] is None:
            if not r["can_read"]:
                unreadable.add(name)
            continue
        checked.add(r["seqid"])
        ascending = r["increment_by"] > 0
        col_range = TYPE_RANGE.get(r["column_type"] or "", None)
        if ascending:
            limit = min(r["max_value"], col_range[1]) if col_range else r["max_value"]
            used = (r["last_value"] - r["min_value"] + 1) / (limit - r["min_value"] + 1)
            left = limit - r["last_value"]
        else:
            limit = max(r["min_value"], col_range[0]) if col_range else r["min_value"]
            used = (r["max_value"] - r["last_value"] + 1) / (r["max_value"] - limit + 1)
            left = r["last_value"] - limit
        status = _status(ctx, used)
        if status is None:
            continue
        feeds = (f"feeds {ctx.name(r['table_schema'], r['table'])}.{ctx.name(r['column'])} ({r['column_type']})"
                 if r["table"] else "feeds no column")
        own = r["max_value"] if ascending else r["min_value"]
        limited_by = f"its {'MAX' if ascending else 'MIN'}VALUE" if limit == own else f"the {r['column_type']} column"
        fix_parts = []
        if r["table"] and r["column_type"] in ("smallint", "integer"):
            fix_parts.append(_widen_sql(ctx, r["table_schema"], r["table"], r["column"]))
            for s, tname, c in _referencing(ctx, r["table_schema"], r["table"], r["column"]):
                fix_parts.append(_widen_sql(ctx, s, tname, c))
        bigint_lo, bigint_hi = TYPE_RANGE["bigint"]
        if r["data_type"] != "bigint" or (own < bigint_hi if ascending else own > bigint_lo):
            fix_parts.append(ctx.render(sql.SQL("ALTER SEQUENCE {} AS bigint {};").format(
                sql.Identifier(r["schema"], r["sequence"]),
                sql.SQL("NO MAXVALUE" if ascending else "NO MINVALUE"))))
        out.append(Finding(
            status, name,
            f"{name} ({r['data_type']}{', CYCLE' if r['cycle'] else ''}) is at {fmt_int(r['last_value'])} of "
            f"{fmt_int(limit)} ({fmt_pct(used, 2)} used, {fmt_int(left)} values left, limited by {limited_by}); {feeds}.",
            "When it runs out every INSERT fails. Move the sequence and the column (and the columns that reference "
            f"it) to bigint. {_REWRITE}",
            "\n".join(fix_parts) or None, "critical"))
    for name in sorted(unreadable):
        out.append(Finding("skip", name, f"no SELECT or USAGE privilege on {name}: its last value is hidden",
                           "Grant pg_read_all_data, or USAGE on the sequence, to the role running the checklist."))
    if not any(f.status != "skip" for f in out):
        out.append(Finding("pass", ctx.database,
                           f"{len(checked)} sequences in use, each under {fmt_pct(ctx.thresholds.capacity_warn, 0)} "
                           "of its range"))
    return out


def integer_key_near_limit(ctx: HealthContext) -> list[Finding]:
    """smallint and integer primary key columns whose values near the type's limit (postgres-checkup L003).

    Reads the largest (and smallest) value from the planner statistics (histogram bounds
    and most common values as of the last ANALYZE), so no table is read.
    """
    rows: list[Row] = ctx.rows("integer_keys")
    out = []
    for r in rows:
        if not r["has_stats"] or r["max_seen"] is None:
            continue
        lo, hi = TYPE_RANGE[r["column_type"]]
        used = max(r["max_seen"] / hi, (r["min_seen"] or 0) / lo)
        status = _status(ctx, used)
        if status is None:
            continue
        table = ctx.name(r["schema"], r["table"])
        fix = [_widen_sql(ctx, r["schema"], r["table"], r["column"])]
        fix += [_widen_sql(ctx, s, tname, c) for s, tname, c in _referencing(ctx, r["schema"], r["table"], r["column"])]
        out.append(Finding(
            status, f"{table}.{ctx.name(r['column'])}",
            f"{table}.{r['column']} ({r['column_type']}, primary key {r['constraint']}) holds values up to "
            f"{fmt_int(r['max_seen'])} of {fmt_int(hi)} ({fmt_pct(used, 2)} of the range, from the planner "
            "statistics)" + (f"; referenced by {', '.join(r['referencing_columns'])}" if r["referencing_columns"] else "")
            + ".",
            f"When the key reaches {fmt_int(hi)} every INSERT fails. Widen it, and the columns that reference it, "
            f"to bigint. {_REWRITE}",
            "\n".join(fix), "critical"))
    if not out:
        out.append(Finding("pass", ctx.database,
                           f"{len(rows)} smallint/integer primary key columns, each under "
                           f"{fmt_pct(ctx.thresholds.capacity_warn, 0)} of its range"
                           if rows else "no smallint or integer primary keys"))
    return out
