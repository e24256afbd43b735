"""Helpers several checks share: index keys, foreign key support, fix SQL builders."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Container
from typing import Any

from psycopg import sql

from ..advisor.index import IndexDef
from ..plans.insights._sql import truncate_name
from ._context import HealthContext, Row

_CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX ", re.IGNORECASE)


def ints(text: str | None) -> list[int]:
    """'1 2 3' (int2vector/oidvector text) or '{1,2}' (array text) → [1, 2, 3]."""
    if not text:
        return []
    return [int(v) for v in re.split(r"[\s,{}]+", text) if v]


def memo(ctx: HealthContext, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per health run, shared between checks."""
    if key not in ctx.derived:
        ctx.derived[key] = compute()
    return ctx.derived[key]


def indexes_by_table(ctx: HealthContext) -> dict[int, list[Row]]:
    def compute() -> dict[int, list[Row]]:
        grouped: dict[int, list[Row]] = defaultdict(list)
        for ix in ctx.rows("indexes"):
            grouped[ix["relid"]].append(ix)
        return grouped

    return memo(ctx, "indexes_by_table", compute)  # type: ignore[no-any-return]


def key_attnums(ix: Row) -> list[int]:
    """Table column numbers of the index's key columns (0 for an expression)."""
    return ints(ix["indkey"])[: ix["n_key_columns"]]


def key_signature(ix: Row) -> list[tuple[Any, ...]]:
    """Per key column: (column or expression text, operator class, collation, sort options)."""
    n = ix["n_key_columns"]
    cols = list(ix["columns"])[:n]
    classes, colls, opts = ints(ix["indclass"]), ints(ix["indcollation"]), ints(ix["indoption"])
    return [(cols[k], classes[k] if k < len(classes) else 0, colls[k] if k < len(colls) else 0,
             opts[k] if k < len(opts) else 0) for k in range(n)]


def include_columns(ix: Row) -> list[str]:
    return list(ix["columns"])[ix["n_key_columns"]:]


def key_text(ix: Row) -> str:
    text = ", ".join(list(ix["columns"])[: ix["n_key_columns"]])
    inc = include_columns(ix)
    return f"({text})" + (f" INCLUDE ({', '.join(inc)})" if inc else "")


def supports_foreign_key(ix: Row, fk_attnums: list[int]) -> bool:
    """Whether a lookup by the foreign key's columns can use ``ix``: its leading key columns
    are exactly the foreign key's columns (in any order), it is valid and not partial."""
    if not ix["is_valid"] or ix["predicate"] is not None or ix["method"] not in ("btree", "hash"):
        return False
    lead = key_attnums(ix)[: len(fk_attnums)]
    if ix["method"] == "hash":
        lead = key_attnums(ix)
    return len(lead) == len(fk_attnums) and set(lead) == set(fk_attnums)


def fk_supporting_indexes(ctx: HealthContext) -> dict[int, list[Row]]:
    """Foreign key oid → the indexes that support it (empty list: none does)."""

    def compute() -> dict[int, list[Row]]:
        by_table = indexes_by_table(ctx)
        out: dict[int, list[Row]] = {}
        for fk in ctx.rows("foreign_keys"):
            attnums = ints(fk["conkey"])
            out[fk["oid"]] = [ix for ix in by_table.get(fk["relid"], []) if supports_foreign_key(ix, attnums)]
        return out

    return memo(ctx, "fk_supporting_indexes", compute)  # type: ignore[no-any-return]


def _free_index(ctx: HealthContext, ix: IndexDef) -> IndexDef:
    """``ix`` under a name unused in its schema (and by the other fixes of this run)."""
    # Indexes share their schema's namespace with every relation: sequences, views and composite types too.
    taken = {r["name"] for r in ctx.rows("relation_names", schema=ix.schema)}
    taken |= {name for s, name in ctx.proposed_names if s == ix.schema}
    ix = ix.named(taken)
    ctx.proposed_names.add((ix.schema, ix.name))
    return ix


def free_name(base: str, suffix: str, taken: Container[str]) -> str:
    """``base`` + ``suffix`` cut to 63 bytes (as the server would cut it), numbered (``suffix1``,
    ``suffix2``, ...) until it is not ``taken``."""
    for n in range(1000):
        end = suffix if n == 0 else f"{suffix}{n}"
        name = truncate_name(base, 63 - len(end.encode())) + end
        if name not in taken:
            return name
    raise RuntimeError("no free name")  # pragma: no cover


def create_index_sql(ctx: HealthContext, schema: str, table: str, columns: list[str], *,
                     partitioned: bool = False) -> tuple[str, str]:
    """The index advisor's CREATE INDEX CONCURRENTLY on ``columns`` (plain on a partitioned table,
    where CONCURRENTLY is not allowed) under a free name, and the DROP INDEX that undoes it."""
    ix = _free_index(ctx, IndexDef.on_columns(schema, table, columns))
    return ix.create_sql(concurrently=not partitioned), ix.drop_sql(concurrently=not partitioned)


def drop_index_sql(ctx: HealthContext, ix: Row) -> str:
    """DROP INDEX CONCURRENTLY IF EXISTS (plain DROP INDEX for an index of a partitioned table)."""
    concurrently = "" if ix["table_relkind"] == "p" else "CONCURRENTLY "
    return ctx.render(sql.SQL("DROP INDEX {}IF EXISTS {};").format(
        sql.SQL(concurrently), sql.Identifier(ix["schema"], ix["index"])))


def recreate_index_sql(ix: Row) -> str:
    """The index's own definition (pg_get_indexdef, already quoted by the server) as CREATE ... CONCURRENTLY."""
    definition: str = ix["definition"]
    if ix["table_relkind"] == "p":
        return definition + ";"
    return _CREATE_INDEX.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX CONCURRENTLY ", definition, count=1) + ";"


def alter_system_sql(ctx: HealthContext, name: str, value: str | list[str], *, reload: bool = True) -> str:
    """ALTER SYSTEM SET name = 'value' (a list becomes 'a', 'b'), then pg_reload_conf() when reloadable."""
    values = value if isinstance(value, list) else [value]
    query = sql.SQL("ALTER SYSTEM SET {} = {};").format(
        sql.Identifier(*name.split(".")), sql.SQL(", ").join(sql.Literal(v) for v in values))
    text = ctx.render(query)
    return text + ("\nSELECT pg_reload_conf();" if reload else "")


def table_name(ctx: HealthContext, row: Row, schema: str = "schema", table: str = "table") -> str:
    """schema.table, quoted where needed, for objects and messages."""
    return ctx.name(row[schema], row[table])


def row_count(r: Row) -> float:
    """A table's rows: pg_class.reltuples (as of the last VACUUM or ANALYZE) when known, else n_live_tup."""
    reltuples = r.get("reltuples") or 0
    return reltuples if reltuples > 0 else max(r.get("n_live_tup") or 0, 0)


def fmt_int(n: float | None) -> str:
    return "?" if n is None else f"{int(n):,}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    return "?" if x is None else f"{x * 100:.{digits}f} %"
