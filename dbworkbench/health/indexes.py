"""Index hygiene: invalid, duplicate and redundant, unused indexes."""

from __future__ import annotations

from .._pretty import pretty_bytes
from ._context import Finding, HealthContext, Row
from ._shared import (
    drop_index_sql,
    fk_supporting_indexes,
    fmt_int,
    include_columns,
    indexes_by_table,
    key_signature,
    key_text,
    recreate_index_sql,
)


def invalid_index(ctx: HealthContext) -> list[Finding]:
    """Indexes marked invalid, e.g. left by a failed CREATE INDEX CONCURRENTLY (postgres-checkup H001).

    An invalid index is never used for reads but is still maintained by every write (and
    a unique one still rejects duplicates). One being built right now is reported as a
    warning without a fix.
    """
    indexes = ctx.rows("indexes")
    out = []
    for ix in indexes:
        if ix["is_valid"]:
            continue
        name = ctx.name(ix["schema"], ix["index"])
        if ix["being_built"]:
            out.append(Finding(
                "warn", name, f"{name} on {ix['table']} is invalid because CREATE INDEX / REINDEX CONCURRENTLY "
                "is building it right now (pg_stat_progress_create_index).",
                "Wait for the build to finish, then run the checklist again.", None, "info"))
            continue
        out.append(Finding(
            "fail", name,
            f"{name} {key_text(ix)} on {ix['table']} is invalid (indisvalid = false"
            + ("" if ix["is_ready"] else ", not even ready for inserts")
            + f"); {pretty_bytes(ix['bytes'])}. Definition: {ix['definition']}",
            "A failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY leaves the index behind: writes pay for it, "
            "reads never use it" + (", and it still rejects duplicate keys" if ix["is_unique"] else "")
            + ". Drop it, fix the cause (for a unique index: the duplicate rows), then build it again with "
            f"{recreate_index_sql(ix)}",
            drop_index_sql(ctx, ix), "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"all {len(indexes)} indexes are valid"))
    return out


def duplicate_index(ctx: HealthContext) -> list[Finding]:
    """Indexes another index of the same table makes redundant (postgres-checkup H004, PgHero duplicate_indexes).

    Same table, access method and predicate, and either the same key columns (with the
    same operator classes, collations and sort order: an exact duplicate, including a
    plain or UNIQUE index that repeats a PRIMARY KEY or UNIQUE constraint's index) or,
    for btree, key columns that are a leading prefix of the other's (a non-unique index
    only: a unique one enforces something the longer index does not). The index kept is
    the one that backs a constraint, is unique, or is older. Indexes a foreign key
    depends on are never proposed for dropping.
    """
    by_table = indexes_by_table(ctx)
    out = []
    n = 0
    for table_indexes in by_table.values():
        valid = [ix for ix in table_indexes if ix["is_valid"]]
        n += len(valid)
        reported: set[int] = set()
        for ix in sorted(valid, key=_keep_score):
            if ix["indexrelid"] in reported or not _droppable(ix):
                continue
            cover = _covering(ix, [o for o in valid if o["indexrelid"] != ix["indexrelid"]
                                   and o["indexrelid"] not in reported])
            if cover is None:
                continue
            other, exact = cover
            reported.add(ix["indexrelid"])
            name = ctx.name(ix["schema"], ix["index"])
            what = _describe(other)
            relation = "the same key columns as" if exact else "key columns that are a leading prefix of"
            evidence = (
                f"{ix['index']} {key_text(ix)}{' UNIQUE' if ix['is_unique'] else ''} has {relation} "
                f"{other['index']} {key_text(other)}{what}; same method ({ix['method']})"
                + (f" and predicate (WHERE {ix['predicate']})" if ix["predicate"] else ", no predicate")
                + f". {pretty_bytes(ix['bytes'])}, {fmt_int(ix['idx_scan'])} scans since the statistics reset."
            )
            keep = "enforces the same uniqueness and serves" if exact and ix["is_unique"] else "serves"
            out.append(Finding(
                "fail", name, evidence,
                f"Drop {ix['index']}: {other['index']} {keep} the same lookups, and every write pays for both. "
                f"To undo: {recreate_index_sql(ix)}",
                drop_index_sql(ctx, ix), "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"no duplicate or redundant index among {n} valid indexes"))
    return out


def _describe(ix: Row) -> str:
    if ix["constraint_type"] == "p":
        return f", the index of PRIMARY KEY {ix['constraint']}"
    if ix["constraint_type"] == "u":
        return f", the index of UNIQUE constraint {ix['constraint']}"
    if ix["constraint_type"] == "x":
        return f", the index of EXCLUDE constraint {ix['constraint']}"
    return " (UNIQUE)" if ix["is_unique"] else ""


def _keep_score(ix: Row) -> tuple[int, ...]:
    """Higher = better to keep: primary key, constraint, referenced by a foreign key, unique, older."""
    return (
        int(bool(ix["is_primary"])),
        int(ix["constraint"] is not None),
        int(bool(ix["referenced_by"])),
        int(bool(ix["is_unique"])),
        -ix["indexrelid"],
    )


def _droppable(ix: Row) -> bool:
    return ix["constraint"] is None and not ix["referenced_by"]


def _covering(ix: Row, others: list[Row]) -> tuple[Row, bool] | None:
    """An index that makes ``ix`` redundant, and whether it is an exact duplicate."""
    sig = key_signature(ix)
    inc = set(include_columns(ix))
    prefix_of: Row | None = None
    for other in others:
        if other["method"] != ix["method"] or other["predicate"] != ix["predicate"]:
            continue
        if not inc <= set(other["columns"]):
            continue
        osig = key_signature(other)
        if osig == sig:
            if (other["is_unique"] or not ix["is_unique"]) and _keep_score(other) > _keep_score(ix):
                return other, True
        elif (prefix_of is None and ix["method"] == "btree" and not ix["is_unique"]
              and len(sig) < len(osig) and osig[: len(sig)] == sig):
            prefix_of = other
    return (prefix_of, False) if prefix_of is not None else None


def unused_index(ctx: HealthContext) -> list[Finding]:
    """Indexes not scanned since the statistics were reset (postgres-checkup H002, PgHero unused_indexes).

    Left out: indexes behind a constraint, unique indexes (they enforce uniqueness even
    when never read), indexes a foreign key depends on, one supporting index of each
    foreign key (the smallest, when all of them are unused), invalid ones (see
    invalid_index). The scan count is this server's: check replicas before dropping.
    """
    t = ctx.thresholds
    db = ctx.rows("database")[0]
    since = (f"since the statistics were reset at {db['stats_reset']:%Y-%m-%d %H:%M}" if db["stats_reset"]
             else "since statistics collection began (never reset)")
    indexes = ctx.rows("indexes")
    candidates = {
        ix["indexrelid"]: ix for ix in indexes
        if ix["is_valid"] and ix["constraint"] is None and not ix["is_unique"] and not ix["referenced_by"]
        and ix["idx_scan"] is not None and ix["idx_scan"] <= t.unused_index_max_scans
        and (ix["bytes"] or 0) >= t.unused_index_min_bytes
    }
    # Keep, for every foreign key, one supporting index: dropping all of them would leave it unindexed.
    for supporting in fk_supporting_indexes(ctx).values():
        if supporting and all(ix["indexrelid"] in candidates for ix in supporting):
            keep = min(supporting, key=lambda ix: (ix["bytes"] or 0, len(ix["columns"]), ix["index"]))
            candidates.pop(keep["indexrelid"])
    out = []
    for ix in candidates.values():
        name = ctx.name(ix["schema"], ix["index"])
        out.append(Finding(
            "warn", name,
            f"{ix['index']} {key_text(ix)} on {ix['table']}: {fmt_int(ix['idx_scan'])} scans {since}; "
            f"{pretty_bytes(ix['bytes'])}.",
            "Every INSERT, UPDATE of its columns and DELETE maintains it for no read. Make sure the statistics cover "
            "a full business cycle (month-end reports) and that replicas do not use it, then drop it. "
            f"To undo: {recreate_index_sql(ix)}",
            drop_index_sql(ctx, ix), "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"every droppable index has been scanned {since}"))
    return out
