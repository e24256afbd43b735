"""The indexes plan insights suggest, taken from the index advisor: one generator of index
advice, one way to write CREATE INDEX (:meth:`~dbworkbench.advisor.index.IndexDef.create_sql`)
and one naming rule, whether the advice comes from a plan, a health check or a workload.

The advisor's modules used here are pure (sqlglot, no server). They are imported inside the
functions: the advisor imports this package's quoting helpers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from ._sql import can_index

if TYPE_CHECKING:
    from ...advisor.index import IndexDef

# PostgreSQL 17+ prints an InitPlan's result as "(InitPlan 1).col1" (before 17: "$0"). The
# value is known before the scan starts, so an index can use it: to the advisor it is a
# parameter. Quoted strings and names are matched first so that their text is left alone.
#: Operator classes that come with an extension (a plan does not say what is installed).
_OPCLASS_EXTENSIONS = {"gin_trgm_ops": "pg_trgm", "gist_trgm_ops": "pg_trgm"}
_INITPLAN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|(?P<initplan>\(InitPlan \d+\)\.col\d+)""")


def _initplans_as_params(condition: str) -> str:
    """``condition`` with each InitPlan result written as a parameter.

    >>> _initplans_as_params("((p.slug)::text = ((InitPlan 2).col1)::text) AND (x = '(InitPlan 1).col1')")
    "((p.slug)::text = ($0)::text) AND (x = '(InitPlan 1).col1')"
    """
    return _INITPLAN.sub(lambda m: "$0" if m.group("initplan") else m.group(0), condition)


def condition_index(
    schema: str | None, table: str | None, alias: str | None, condition: str, *, using: Collection[str] = ()
) -> IndexDef | None:
    """The index advisor's best index on ``schema.table`` for ``condition`` (a Filter, Index
    Cond or join condition as the plan prints it; ``alias`` is the table's name there).

    ``using``: only an index with at least one of these columns (unquoted names) will do. None
    on system catalogs and where the advisor has no candidate.

    >>> condition_index("public", "comments", "c", "((c.user_id = $1) AND (c.created_at > now()))").create_sql()
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_user_id_created_at ON public.comments USING btree (user_id, created_at);'
    """
    if not table or not condition or not can_index(schema, table):
        return None
    from ...advisor.candidates import condition_candidates  # here: the advisor imports this package

    found = condition_candidates(table, _initplans_as_params(condition), schema=schema or None, alias=alias)
    if using:
        found = [ix for ix in found if set(ix.columns) & set(using)]
    return found[0] if found else None


def columns_index(schema: str | None, table: str, columns: Sequence[str]) -> IndexDef | None:
    """The advisor's B-tree index on plain ``columns`` (unquoted names) of ``schema.table``
    (unqualified when the schema is unknown); None on system catalogs.

    >>> columns_index(None, "comments", ["user_id"]).create_sql()
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_comments_user_id ON comments USING btree (user_id);'
    """
    if not can_index(schema, table):
        return None
    from ...advisor.index import IndexDef  # here: the advisor imports this package

    return IndexDef.on_columns(schema or "", table, columns)


def index_sql(ix: IndexDef) -> str:
    """``ix.create_sql()``, and the CREATE EXTENSION an operator class of its keys needs.

    >>> index_sql(condition_index(None, "posts", None, "((title)::text ~~ '%pg%'::text)"))
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_posts_title_gin_trgm_gin ON posts USING gin (title gin_trgm_ops); \
gin_trgm_ops comes with pg_trgm: CREATE EXTENSION IF NOT EXISTS pg_trgm; first if it is not installed.'
    """
    words = {w for key in ix.keys for w in key.split()}
    needs = [(op, ext) for op, ext in _OPCLASS_EXTENSIONS.items() if op in words]
    return ix.create_sql() + "".join(
        f" {op} comes with {ext}: CREATE EXTENSION IF NOT EXISTS {ext}; first if it is not installed." for op, ext in needs
    )
