"""offset-pagination: a Limit that reads past an OFFSET and throws those rows away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._base import Finding, PlanView, fmt_ms, fmt_pct, fmt_rows, view

if TYPE_CHECKING:
    from .._plan import Plan

CODE = "offset-pagination"
#: At least this many rows skipped (over all loops) ...
MIN_ROWS_SKIPPED = 1_000
#: ... making up at least this share of what the Limit read.
MIN_SKIPPED_SHARE = 0.80


def _order(v: PlanView, child: int) -> tuple[str | None, str]:
    """The sort keys the page is taken in (a Sort's keys, or None) and what delivers that order."""
    for j in v.subtree(child):
        r = v.rows[j]
        if r["node_type"] in ("Sort", "Incremental Sort") and r["sort_key"]:
            return str(r["sort_key"]), v.label(j)
        if r["index_name"] and r["node_type"] in ("Index Scan", "Index Only Scan"):
            return None, v.label(j)
        if r["node_type"] not in ("Gather Merge", "Result", "Subquery Scan", "Nested Loop", "Hash Join", "Merge Join"):
            break
    return None, v.label(child)


def _keyset(keys: str | None) -> str:
    """The keyset condition for ORDER BY ``keys`` (a Sort's key list), in words and SQL."""
    if keys is None:
        return (
            "add (<ORDER BY columns>) < ($last values) to the WHERE (> for an ascending order), keep the ORDER BY, "
            "LIMIT n, with the previous page's last values"
        )
    cols = [k.strip() for k in keys.split(",")]
    bare = [c.replace(" NULLS LAST", "").replace(" NULLS FIRST", "").removesuffix(" DESC").strip() for c in cols]
    desc = [" DESC" in c for c in cols]
    last = ["$last" if len(bare) == 1 else f"$last_{k + 1}" for k in range(len(bare))]
    if len(set(desc)) == 1:
        op = "<" if desc[0] else ">"
        left = bare[0] if len(bare) == 1 else f"({', '.join(bare)})"
        right = last[0] if len(bare) == 1 else f"({', '.join(last)})"
        cond = f"{left} {op} {right}"
    else:  # mixed directions: no row comparison, the expanded form
        terms = []
        for k in range(len(bare)):
            equal = [f"{bare[j]} = {last[j]}" for j in range(k)]
            terms.append("(" + " AND ".join([*equal, f"{bare[k]} {'<' if desc[k] else '>'} {last[k]}"]) + ")")
        cond = "(" + " OR ".join(terms) + ")"
    return f"add {cond} to the WHERE, ORDER BY {keys} LIMIT n, with the previous page's last values"


def _keyset_statement(plan: Plan) -> str | None:
    """The statement's keyset form when the plan carries its text (auto_explain's Query Text)."""
    if not plan.query:
        return None
    from ...sqltools.offset_pagination import keyset_sql  # here: sqltools is a layer below plans (pure)

    written = keyset_sql(plan.query)
    return " ".join(written.split()) if written else None


def offset_pagination(plan: Plan) -> Iterator[Finding]:
    """A Limit whose input produced 1,000 rows or more that it skipped (an OFFSET), at least 80%
    of what it read: deep pages cost as much as every page before them. The keyset form
    continues from the previous page's last sort key and reads one page at any depth.
    Saving: the input's time times the share of its rows that were skipped.
    """
    v = view(plan)
    for i, r in enumerate(v.rows):
        if r["node_type"] != "Limit" or not v.children[i]:
            continue
        child = v.children[i][0]
        read = v.total_rows(child)
        kept = v.total_rows(i)
        skipped = read - kept
        if skipped < MIN_ROWS_SKIPPED or skipped < MIN_SKIPPED_SHARE * read:
            continue
        share = skipped / read
        spent = v.num(child, "inclusive_ms")
        keys, source = _order(v, child)
        written = _keyset_statement(plan)
        yield Finding(
            CODE,
            i,
            f"Limit: the OFFSET threw away {fmt_rows(skipped)} of the {fmt_rows(read)} rows ({fmt_pct(share)}) that "
            f"{source} produced, to return {fmt_rows(kept)}; producing them took {fmt_ms(spent)}.",
            "Paginate by key instead of by OFFSET (keyset pagination): "
            + (f"{written} -- the last parameters are the previous page's last sort values" if written else _keyset(keys))
            + "; add the primary key to the ORDER BY so the order is unique. An index on the ORDER BY columns then "
            "reads one page at any depth." + ("" if written else " dbworkbench.lint(sql) writes the keyset statement for a query."),
            spent * share,
        )
