"""implicit-cross-join: ``FROM a, b`` with nothing joining them is a Cartesian product."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query, conjuncts

CODE = "implicit-cross-join"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'FROM a, b with nothing linking them pairs every row with every row: a JOIN with its condition.'


def _names(node: exp.Expr) -> set[str]:
    return {c.table for c in node.find_all(exp.Column) if c.table}


def implicit_cross_join(q: Query) -> Iterator[Finding]:
    """A comma-separated FROM item (or a JOIN without ON/USING that is not written CROSS JOIN)
    that no WHERE condition connects to the tables before it: every row of one side is paired
    with every row of the other. An explicit ``CROSS JOIN`` says it is meant and is left alone,
    and so is a WHERE comparing unqualified columns (it may be the link; the names don't say)."""
    for select in q.selects():
        from_ = select.args.get("from_") or select.args.get("from")
        joins = select.args.get("joins") or []
        if from_ is None or not joins:
            continue
        seen = {from_.this.alias_or_name}
        where = select.args.get("where")
        conds = conjuncts(where.this if where is not None else None)
        links = [_names(c) for c in conds]
        if any(len(list(c.find_all(exp.Column))) >= 2 and any(not col.table for col in c.find_all(exp.Column)) for c in conds):
            continue  # a condition on unqualified columns may well link the tables: cannot tell
        for join in joins:
            name = join.this.alias_or_name
            bare = not join.args.get("on") and not join.args.get("using") and not join.args.get("kind") and not join.args.get("side")
            lateral = isinstance(join.this, exp.Lateral) or bool(join.this.find(exp.Lateral))
            if bare and not lateral and not any(name in link and (link & seen) for link in links):
                yield q.finding(
                    CODE,
                    "warning",
                    join,
                    f"{name} is listed in FROM with no condition linking it to {', '.join(sorted(seen))}: every row "
                    "of one is paired with every row of the other.",
                    f"Join it with a condition: JOIN {join.this.sql('postgres')} ON <its key> = <the other's key>; if the "
                    "product is what you want, write CROSS JOIN so readers know.",
                )
            seen.add(name)
