"""Schema audit: primary keys, foreign keys and their indexes, ON DELETE actions, updated_at triggers."""

from __future__ import annotations

from collections import defaultdict

from psycopg import sql

from ._context import Finding, HealthContext, Row
from ._shared import (
    create_index_sql,
    fk_supporting_indexes,
    fmt_int,
    free_name,
    indexes_by_table,
    ints,
    key_attnums,
    key_text,
    table_name,
)

_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def primary_key_missing(ctx: HealthContext) -> list[Finding]:
    """Tables without a primary key (the handbook's checklist: "Primary keys defined").

    Where a valid unique index on NOT NULL columns exists, the fix promotes it with
    ``ADD PRIMARY KEY USING INDEX``; otherwise the recommendation says what to add.
    """
    tables = [t for t in ctx.rows("tables") if t["relkind"] in ("r", "p") and not t["is_partition"]]
    by_table = indexes_by_table(ctx)
    out = []
    for t in tables:
        if t["has_pk"]:
            continue
        name = table_name(ctx, t)
        candidates = [
            ix for ix in by_table.get(t["relid"], [])
            if ix["is_unique"] and ix["is_valid"] and ix["predicate"] is None and ix["keys_not_null"]
            and ix["constraint"] is None
            and ix["method"] == "btree" and len(ix["columns"]) == ix["n_key_columns"]
            and not any(ints(ix["indoption"])) and t["relkind"] == "r"
        ]
        rows = f"{fmt_int(max(t['reltuples'], 0))} rows (estimate)"
        why = ("Without a primary key rows cannot be addressed reliably (ORMs, tools, UPDATE of one row), "
               "logical replication cannot replicate UPDATE and DELETE, and duplicates creep in.")
        if candidates:
            ix = min(candidates, key=lambda i: (len(i["columns"]), i["index"]))
            fix = ctx.render(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {};").format(
                sql.Identifier(t["schema"], t["table"]), sql.Identifier(ix["index"]), sql.Identifier(ix["index"])))
            out.append(Finding(
                "fail", name,
                f"{name} has no primary key; {rows}. The unique index {ix['index']} {key_text(ix)} is on NOT NULL "
                "columns and can become it.",
                why + " Promoting the existing unique index takes a brief ACCESS EXCLUSIVE lock and no rebuild.",
                fix, "warning"))
        else:
            add = ctx.render(sql.SQL(
                "ALTER TABLE {} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;").format(
                sql.Identifier(t["schema"], t["table"])))
            out.append(Finding(
                "fail", name,
                f"{name} has no primary key and no unique index on NOT NULL columns; {rows}.",
                why + " Add the natural key as PRIMARY KEY if the data has one; otherwise a surrogate key, e.g. "
                f"{add} (rewrites the table under an ACCESS EXCLUSIVE lock).",
                None, "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"all {len(tables)} tables have a primary key"))
    return out


def fk_without_index(ctx: HealthContext) -> list[Finding]:
    """Foreign keys whose columns do not lead any valid, non-partial index (postgres-checkup H003).

    A DELETE or key UPDATE on the referenced table then scans the whole referencing
    table for each row, under lock, and joins along the key cannot use an index.
    """
    fks = ctx.rows("foreign_keys")
    support = fk_supporting_indexes(ctx)
    by_table = indexes_by_table(ctx)
    out = []
    for fk in fks:
        if support[fk["oid"]]:
            continue
        name = table_name(ctx, fk)
        cols = list(fk["columns"])
        attnums = ints(fk["conkey"])
        near = [ix for ix in by_table.get(fk["relid"], []) if set(attnums) & set(key_attnums(ix))]
        near_text = "; ".join(
            f"{ix['index']} {key_text(ix)} has "
            + ", ".join(f"{c} in position {key_attnums(ix).index(a) + 1}" for a, c in zip(attnums, cols)
                        if a in key_attnums(ix))
            + (" (partial)" if ix["predicate"] else "") + ("" if ix["is_valid"] else " (invalid)")
            for ix in near
        )
        action = _ACTIONS.get(fk["on_delete"], fk["on_delete"])
        evidence = (
            f"{fk['constraint']}: {name}({', '.join(cols)}) → {ctx.name(fk['ref_schema'], fk['ref_table'])}"
            f"({', '.join(fk['ref_columns'])}) ON DELETE {action}; no index starts with "
            f"({', '.join(cols)}). {name} has {fmt_int(max(fk['reltuples'], 0))} rows (estimate)."
            + (f" Not leading: {near_text}." if near_text else "")
        )
        fix, undo = create_index_sql(ctx, fk["schema"], fk["table"], cols, partitioned=fk["relkind"] == "p")
        out.append(Finding(
            "fail", f"{name}({', '.join(cols)})", evidence,
            f"Each DELETE (and key UPDATE) on {fk['ref_table']} looks up matching {fk['table']} rows"
            + (" to cascade" if action == "CASCADE" else "") + "; without an index that is a sequential scan "
            f"per row. Create the index (CONCURRENTLY: writes continue). To undo: {undo}",
            fix, "warning"))
    if not out:
        out.append(Finding("pass", ctx.database, f"all {len(fks)} foreign keys have a supporting index"))
    return out


def fk_on_delete(ctx: HealthContext) -> list[Finding]:
    """Every foreign key's ON DELETE action, with what a parent DELETE reaches through CASCADE.

    The handbook asks for "Foreign keys with appropriate ON DELETE behavior": the list is
    for a person to judge (status pass, severity info). It fails where the action cannot
    work: SET NULL on a NOT NULL column, SET DEFAULT on a column without a default.
    """
    fks = ctx.rows("foreign_keys")
    children: dict[int, list[Row]] = defaultdict(list)
    for fk in fks:
        if fk["on_delete"] == "c":
            children[fk["ref_relid"]].append(fk)
    out = []
    for fk in fks:
        name = table_name(ctx, fk)
        ref = ctx.name(fk["ref_schema"], fk["ref_table"])
        action = _ACTIONS.get(fk["on_delete"], fk["on_delete"])
        cols = ", ".join(fk["columns"])
        obj = f"{name}.{fk['constraint']}"
        base = f"{name}({cols}) → {ref}({', '.join(fk['ref_columns'])}) ON DELETE {action}"
        if fk["on_delete"] == "n" and fk["columns_not_null"]:
            alter = ctx.render(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}, ADD CONSTRAINT {} {};").format(
                sql.Identifier(fk["schema"], fk["table"]), sql.Identifier(fk["constraint"]),
                sql.Identifier(fk["constraint"]),
                sql.SQL(_restrict_on_delete(fk["definition"]))))
            out.append(Finding(
                "fail", obj, f"{base}, but {cols} is NOT NULL: deleting a referenced {fk['ref_table']} row fails "
                "with a not-null violation instead of setting NULL.",
                "Decide what a delete should do: CASCADE (delete the rows too), RESTRICT (refuse), or drop NOT NULL "
                "to keep SET NULL. The fix shown chooses RESTRICT (it rewrites no data but validates the key "
                "under a SHARE ROW EXCLUSIVE lock).",
                alter, "warning"))
            continue
        if fk["on_delete"] == "d" and len(fk["columns_with_default"]) < len(fk["columns"]):
            out.append(Finding(
                "warn", obj, f"{base}, but not every column of ({cols}) has a DEFAULT: they are set to NULL.",
                "Give the columns a DEFAULT that references an existing row, or use SET NULL / RESTRICT.",
                None, "warning"))
            continue
        if fk["on_delete"] == "c":
            reach = _cascade_reach(fk["relid"], children)
            if fk["relid"] == fk["ref_relid"]:
                what = (f"deleting a {fk['table']} row deletes the {fk['table']} rows whose {cols} points to it, "
                        "recursively (a whole thread)")
            else:
                what = f"deleting a {fk['ref_table']} row deletes its {fk['table']} rows"
            what += f", and through them rows of {', '.join(sorted(reach))}" if reach else ""
        elif fk["on_delete"] in ("a", "r"):
            what = f"deleting a {fk['ref_table']} row that still has {fk['table']} rows fails"
        else:
            what = f"deleting a {fk['ref_table']} row sets {cols} to {'NULL' if fk['on_delete'] == 'n' else 'its default'}"
        out.append(Finding("pass", obj, f"{base}: {what}.",
                           "Listed for review: check that this is what the application expects."))
    if not out:
        out.append(Finding("pass", ctx.database, "no foreign keys"))
    return out


def _restrict_on_delete(definition: str) -> str:
    """pg_get_constraintdef text with its ``ON DELETE SET NULL [(columns)]`` made ``ON DELETE RESTRICT``.

    Only the action clause changes: the same words inside a quoted table or column name stay.

    >>> _restrict_on_delete('FOREIGN KEY (a, b) REFERENCES "ON DELETE SET NULL"(x, y) ON DELETE SET NULL (b)')
    'FOREIGN KEY (a, b) REFERENCES "ON DELETE SET NULL"(x, y) ON DELETE RESTRICT'
    """
    clause = " ON DELETE SET NULL"
    outside = _unquoted_positions(definition)
    start = max(k for k in range(len(definition)) if definition.startswith(clause, k) and k in outside)
    end = start + len(clause)
    if definition.startswith(" (", end):  # PostgreSQL 15+: SET NULL (only these columns)
        end = min(k for k in outside if k > end and definition[k] == ")") + 1
    return definition[:start] + " ON DELETE RESTRICT" + definition[end:]


def _unquoted_positions(text: str) -> set[int]:
    """Offsets of the characters of ``text`` outside double-quoted identifiers."""
    out, inside = set(), False
    for k, ch in enumerate(text):
        if ch == '"':
            inside = not inside  # a doubled "" inside a name toggles twice
        elif not inside:
            out.add(k)
    return out


def _cascade_reach(relid: int, children: dict[int, list[Row]]) -> set[str]:
    """Tables reached by CASCADE from rows of ``relid`` (beyond ``relid`` itself)."""
    seen: set[int] = {relid}
    names: set[str] = set()
    stack = [relid]
    while stack:
        for fk in children.get(stack.pop(), []):
            if fk["relid"] not in seen:
                seen.add(fk["relid"])
                names.add(fk["table"])
                stack.append(fk["relid"])
    return names


def updated_at_without_trigger(ctx: HealthContext) -> list[Finding]:
    """Tables with an ``updated_at`` timestamp column but no BEFORE UPDATE row trigger to keep it current.

    The handbook's schema sets ``updated_at`` by trigger on users and posts; a table with
    the column and no trigger keeps the insert time forever. The fix reuses the function
    the other tables' triggers call.
    """
    rows = ctx.rows("updated_at", columns=list(UPDATED_AT_COLUMNS))
    out = []
    for r in rows:
        if r["has_trigger"]:
            continue
        name = table_name(ctx, r)
        fix = None
        if r["function_name"]:
            trigger = free_name(f"update_{r['table']}_{r['column']}", "", set(r["trigger_names"]))
            fix = ctx.render(sql.SQL(
                "CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}();").format(
                sql.Identifier(trigger), sql.Identifier(r["schema"], r["table"]),
                sql.Identifier(r["function_schema"], r["function_name"])))
        out.append(Finding(
            "warn", f"{name}.{r['column']}",
            f"{name} has an {r['column']} column but no BEFORE UPDATE row trigger: UPDATEs leave it at the insert time"
            + (f"; the other tables use {r['function_schema']}.{r['function_name']}()" if r["function_name"] else "")
            + ".",
            "Add the trigger (as the other tables have), or set the column in every UPDATE the application runs.",
            fix, "info"))
    if not out:
        out.append(Finding("pass", ctx.database,
                           f"{len(rows)} {'/'.join(UPDATED_AT_COLUMNS)} columns, each kept current by a trigger"
                           if rows else "no updated_at columns"))
    return out


#: Column names taken to mean "time of the last update".
UPDATED_AT_COLUMNS = ("updated_at", "modified_at", "updated_on", "last_modified")
