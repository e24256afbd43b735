"""count-for-existence: ``(SELECT count(*) ...) > 0`` counts every match to learn whether there is one."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from ._base import Finding, Query, unparen

CODE = "count-for-existence"
#: One line for lists of the rules (README, the QueryLab).
DOC = '(SELECT count(*) ...) > 0 counts every match to learn whether there is one: EXISTS.'

# comparison of count with a literal -> True when it means "exists", False when "does not exist"
_MEANING: dict[tuple[type[exp.Expr], int], bool] = {
    (exp.GT, 0): True, (exp.GTE, 1): True, (exp.NEQ, 0): True,
    (exp.EQ, 0): False, (exp.LT, 1): False, (exp.LTE, 0): False,
}
_FLIP: dict[type[exp.Expr], type[exp.Expr]] = {exp.GT: exp.LT, exp.LT: exp.GT, exp.GTE: exp.LTE, exp.LTE: exp.GTE, exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}


def _counting(node: exp.Expr) -> exp.Select | None:
    """The SELECT of a scalar subquery that is just ``count(*)``/``count(1)`` over rows, else None."""
    node = unparen(node)
    if not isinstance(node, exp.Subquery) or not isinstance(node.this, exp.Select):
        return None
    sub = node.this
    if len(sub.expressions) != 1 or any(sub.args.get(a) for a in ("group", "having", "limit", "offset", "distinct", "with")):
        return None
    item = sub.expressions[0]
    item = item.this if isinstance(item, exp.Alias) else item
    if not isinstance(item, exp.Count) or isinstance(item.this, exp.Distinct):
        return None
    arg = item.this
    return sub if isinstance(arg, exp.Star) or (isinstance(arg, exp.Literal) and not arg.is_string) else None


def _existence(cmp: exp.Expr) -> tuple[exp.Select, bool] | None:
    """(the counting subquery, whether it means "exists") when ``cmp`` compares a count with 0 or 1."""
    kind_of = _FLIP.get(type(cmp))
    if kind_of is None:
        return None
    for side, other, kind in ((cmp.this, cmp.expression, type(cmp)), (cmp.expression, cmp.this, kind_of)):
        sub = _counting(side)
        lit = unparen(other)
        if sub is None or not isinstance(lit, exp.Literal) or lit.is_string or not lit.this.isdigit():
            continue
        exists = _MEANING.get((kind, int(lit.this)))
        if exists is not None:
            return sub, exists
    return None


def counts_for_existence(subquery: exp.Expr) -> bool:
    """Whether ``subquery`` is the count of a ``count-for-existence`` finding."""
    parent = subquery.parent
    while isinstance(parent, exp.Paren):
        parent = parent.parent
    return parent is not None and _existence(parent) is not None


def count_for_existence(q: Query) -> Iterator[Finding]:
    """``(SELECT count(*) FROM ... WHERE ...) > 0`` (or ``>= 1``, ``<> 0``, ``= 0``, ...): the count
    reads every matching row; EXISTS stops at the first. The EXISTS / NOT EXISTS form returns the
    same result and is given as the ``rewrite``."""
    for cmp in q.tree.find_all(*_FLIP):
        found = _existence(cmp)
        if found is not None:
            sub, exists = found
            body = sub.copy()
            body.set("expressions", [exp.Literal.number(1)])
            test: exp.Expr = exp.Exists(this=body)
            if not exists:
                test = exp.Not(this=test)
            tree = q.tree.copy()
            target = next(n for n in tree.find_all(type(cmp)) if n == cmp)
            target.replace(test)
            form = q.rewritten(tree)
            yield q.finding(
                CODE,
                "warning",
                cmp,
                f"{q.text(cmp)}: counting every matching row to learn whether there is one.",
                f"Use {'EXISTS' if exists else 'NOT EXISTS'} (SELECT 1 FROM ...): it stops at the first row. "
                "The rewrite returns the same result.",
                form,
            )
