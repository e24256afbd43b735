"""offset-pagination: ``LIMIT n OFFSET m`` reads and throws away m rows on every page."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query, unparen

CODE = "offset-pagination"
#: One line for lists of the rules (README, the QueryLab).
DOC = 'OFFSET reads and discards every skipped row: keyset pagination.'
#: A literal OFFSET at least this large is a warning (a parameter always is: it grows with the page).
DEEP_OFFSET = 1000


def _renumber(tree: exp.Expr) -> int:
    """Number ``tree``'s ``$n`` parameters 1, 2, ... in the order of their numbers (the OFFSET's
    number is gone); returns how many there are."""
    found = sorted({int(p.name) for p in tree.find_all(exp.Parameter) if p.name.isdigit()})
    new = {old: k + 1 for k, old in enumerate(found)}
    for p in tree.find_all(exp.Parameter):
        if p.name.isdigit():
            p.set("this", exp.Literal.number(new[int(p.name)]))
    return len(found)


def keyset(q: Query, select: exp.Select) -> str | None:
    """The keyset form of a paginated SELECT: OFFSET dropped, a row-value comparison with the
    previous page's last sort key values (new parameters) added to the WHERE. None when the
    ORDER BY mixes directions or sorts by something other than columns."""
    order = select.args.get("order")
    if order is None or not order.expressions:
        return None
    keys = [o for o in order.expressions if isinstance(o, exp.Ordered)]
    if len(keys) != len(order.expressions) or not all(isinstance(unparen(o.this), exp.Column) for o in keys):
        return None
    if len({bool(o.args.get("desc")) for o in keys}) != 1:
        return None
    desc = bool(keys[0].args.get("desc"))
    tree = select.copy()
    tree.set("offset", None)
    first = _renumber(tree) + 1
    cols = [unparen(o.this).copy() for o in keys]
    params: list[exp.Expr] = [exp.Parameter(this=exp.Literal.number(first + k)) for k in range(len(cols))]
    left: exp.Expr = cols[0] if len(cols) == 1 else exp.Tuple(expressions=cols)
    right: exp.Expr = params[0] if len(params) == 1 else exp.Tuple(expressions=params)
    cond: exp.Expr = exp.LT(this=left, expression=right) if desc else exp.GT(this=left, expression=right)
    tree = tree.where(cond, copy=False)
    return q.rewritten(tree)


def keyset_sql(sql: str) -> str | None:
    """The keyset form of the first paginated SELECT (one with an OFFSET) in ``sql``; None when
    there is none or it cannot be written (see :func:`keyset`).

    >>> print(keyset_sql("SELECT id FROM posts WHERE user_id = $1 ORDER BY id LIMIT 20 OFFSET $2"))
    SELECT
      id
    FROM posts
    WHERE
      user_id = $1 AND id > $2
    ORDER BY
      id
    LIMIT 20
    """
    from ._parse import parse

    trees, error = parse(sql)
    for tree in trees if error is None else []:
        q = Query(sql, tree)
        for select in q.selects():
            if select.args.get("offset") is not None:
                return keyset(q, select)
    return None


def offset_pagination(q: Query) -> Iterator[Finding]:
    """An OFFSET that is a parameter or a literal >= 1,000 (*warning*; a smaller literal is *info*):
    the server produces and discards every skipped row, so page n costs n pages. The keyset form
    (``WHERE (sort keys) < ($last values) ORDER BY ... LIMIT n``) reads one page whatever the depth;
    it needs the previous page's last row and a unique sort key (append the primary key), so it
    is given in the suggestion and never as an equivalent ``rewrite``."""
    for select in q.selects():
        offset = select.args.get("offset")
        if offset is None:
            continue
        value = unparen(offset.expression)
        if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
            if int(value.this) == 0:
                continue
            severity = "warning" if int(value.this) >= DEEP_OFFSET else "info"
        else:
            severity = "warning"
        form = keyset(q, select)
        fix = (
            f"Keyset pagination reads one page at any depth: {form} -- with the previous page's last "
            "values of the ORDER BY columns as the last parameters (the others renumbered from $1 without the "
            "OFFSET's; leave the condition out for the first page)."
            if form
            else "Keyset pagination: order by a unique key and continue from the previous page's last value "
            "(WHERE key > $last ORDER BY key LIMIT n) instead of skipping rows."
        )
        yield q.finding(
            CODE,
            severity,
            offset,
            f"OFFSET {q.text(value)}: every skipped row is read, sorted and thrown away, so deep pages cost as much as "
            "all the pages before them.",
            fix + " Make the ORDER BY unique (append the primary key) so no row is skipped or repeated between pages.",
        )
