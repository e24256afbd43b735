"""SQL the suggestions write: identifiers quoted the PostgreSQL way, columns read from plan
expressions, the table behind a foreign key's default name. (CREATE INDEX is the index
advisor's to write: see ``_index``.)

The plans package imports no database driver, so quoting is done here, by
PostgreSQL's own rule (``quote_identifier`` in ``ruleutils.c``): a name stays bare
when it is lower-case ASCII letters, digits and underscores, does not start with a
digit, and is not a keyword other than an unreserved one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# PostgreSQL 18's keywords that are not UNRESERVED (pg_get_keywords() catcode C, R, T):
# quote_ident() quotes these.
_KEYWORDS = frozenset(
    """
    between bigint bit boolean char character coalesce dec decimal exists extract float greatest
    grouping inout int integer interval json json_array json_arrayagg json_exists json_object
    json_objectagg json_query json_scalar json_serialize json_table json_value least merge_action
    national nchar none normalize nullif numeric out overlay position precision real row setof
    smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement
    xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
    all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create current_catalog current_date current_role current_time current_timestamp
    current_user default deferrable desc distinct do else end except false fetch for foreign from
    grant group having in initially intersect into lateral leading limit localtime localtimestamp
    not null offset on only or order placing primary references returning select session_user some
    symmetric system_user table then to trailing true union unique user using variadic when where
    window with
    authorization binary collation concurrently cross current_schema freeze full ilike inner is
    isnull join left like natural notnull outer overlaps right similar tablesample verbose
    """.split()
)
_SAFE = re.compile(r"[a-z_][a-z0-9_]*")


def quote_ident(name: str) -> str:
    """``name`` as PostgreSQL's ``quote_ident`` writes it.

    >>> quote_ident("comments"), quote_ident("User"), quote_ident("order"), quote_ident('a"b')
    ('comments', '"User"', '"order"', '"a""b"')
    """
    if _SAFE.fullmatch(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def unquote_ident(text: str) -> str:
    """The name a quoted identifier stands for (a bare one as it is).

    >>> unquote_ident('"a""b"'), unquote_ident("comments")
    ('a"b', 'comments')
    """
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


#: PostgreSQL keeps at most this many bytes of a name (NAMEDATALEN - 1); it cuts longer ones.
MAX_NAME_BYTES = 63


def truncate_name(text: str, limit: int = MAX_NAME_BYTES) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8 on a character boundary, as PostgreSQL
    cuts a longer name: SQL that creates an object must name it as the server will.

    >>> truncate_name("表" * 30) == "表" * 21
    True
    """
    data = text.encode()
    return data[:limit].decode(errors="ignore") if len(data) > limit else text


def quote_literal(value: str) -> str:
    """A string literal (standard_conforming_strings on; backslashes get the E'' form).

    >>> quote_literal("it's")
    "'it''s'"
    """
    body = value.replace("'", "''")
    if "\\" in body:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def qualified(schema: str | None, name: str) -> str:
    """``schema.name``, each part quoted; just the name when the schema is unknown.

    >>> qualified("public", "Order Items")
    'public."Order Items"'
    """
    return f"{quote_ident(schema)}.{quote_ident(name)}" if schema else quote_ident(name)


# --------------------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<str>[Ee]?'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")*")
    |(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    |(?P<param>\$\d+)
    |(?P<id>[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
    |(?P<cast>::)
    |(?P<punct>[(),.\[\]])
    |(?P<op>[-+*/<>=~!@\#%^&|`?]+)
    |(?P<other>.)
    """,
    re.VERBOSE,
)

# Words PostgreSQL prints in expressions that are not column names (it prints them in
# upper case, and booleans as true/false; a column named like one of them is quoted).
_EXPR_WORDS = frozenset(
    """AND OR NOT IS NULL TRUE FALSE ANY ALL SOME ARRAY CASE WHEN THEN ELSE END IN LIKE ILIKE SIMILAR
    TO ESCAPE BETWEEN DISTINCT FROM COLLATE AT TIME ZONE INTERVAL ROW EXISTS SubPlan InitPlan CTE
    CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP LOCALTIME LOCALTIMESTAMP CURRENT_USER SESSION_USER
    CURRENT_ROLE CURRENT_CATALOG CURRENT_SCHEMA USER SYSTEM_USER DEFAULT true false
    NORMALIZED UNKNOWN OVERLAPS""".split()
)
_TYPE_WORDS = frozenset({"varying", "precision", "with", "without", "time", "zone"})
_TEXT_CASTS = frozenset({"text", "character varying", "varchar", "bpchar", "name"})
_EQ_OPS = frozenset({"="})
_RANGE_OPS = frozenset({"<", ">", "<=", ">="})


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int


def _tokens(expr: str) -> list[_Tok]:
    return [_Tok(m.lastgroup or "other", m.group(), m.start(), m.end()) for m in _TOKEN.finditer(expr) if m.lastgroup != "ws"]


def _name(t: _Tok) -> str:
    return t.text[1:-1].replace('""', '"') if t.kind == "qid" else t.text


def _wrapped(toks: list[_Tok]) -> bool:
    """Whether one pair of parentheses encloses all of ``toks``."""
    if len(toks) < 2 or toks[0].text != "(" or toks[-1].text != ")":
        return False
    depth = 0
    for k, t in enumerate(toks):
        if t.text in ("(", "["):
            depth += 1
        elif t.text in (")", "]"):
            depth -= 1
            if depth == 0 and k < len(toks) - 1:
                return False
    return True


def _strip(toks: list[_Tok]) -> list[_Tok]:
    while _wrapped(toks):
        toks = toks[1:-1]
    return toks


def _top_level(toks: list[_Tok]) -> list[int]:
    """Indexes of the tokens outside any parentheses or brackets."""
    out, depth = [], 0
    for k, t in enumerate(toks):
        if t.text in ("(", "["):
            depth += 1
        elif t.text in (")", "]"):
            depth -= 1
        elif depth == 0:
            out.append(k)
    return out


def _split(toks: list[_Tok], word: str) -> list[list[_Tok]]:
    parts, last = [], 0
    for k in _top_level(toks):
        if toks[k].kind == "id" and toks[k].text == word:
            parts.append(toks[last:k])
            last = k + 1
    parts.append(toks[last:])
    return parts


def _skip_type(toks: list[_Tok], k: int) -> int:
    """Index after a type name that starts at ``k`` (after ``::``)."""
    n = len(toks)
    if k < n and toks[k].kind in ("id", "qid"):
        k += 1
        while k + 1 < n and toks[k].text == "." and toks[k + 1].kind in ("id", "qid"):
            k += 2
        while k < n and toks[k].kind == "id" and toks[k].text in _TYPE_WORDS:
            k += 1
        if k < n and toks[k].text == "(" and k + 1 < n and toks[k + 1].kind == "num":
            depth = 0
            while k < n:
                depth += toks[k].text == "("
                depth -= toks[k].text == ")"
                k += 1
                if depth == 0:
                    break
        while k + 1 < n and toks[k].text == "[" and toks[k + 1].text == "]":
            k += 2
    return k


@dataclass(frozen=True)
class _Ref:
    qualifier: str | None
    column: str
    first: int  # token index of the qualifier (or of the column when bare)
    last: int  # token index of the column


def _refs(toks: list[_Tok]) -> list[_Ref]:
    """Column references in ``toks``: ``alias.col`` or a bare ``col``."""
    out: list[_Ref] = []
    k, n = 0, len(toks)
    while k < n:
        t = toks[k]
        if t.kind == "cast":
            k = _skip_type(toks, k + 1)
            continue
        if t.kind in ("id", "qid"):
            prev = toks[k - 1].text if k else ""
            nxt = toks[k + 1].text if k + 1 < n else ""
            if prev == ".":  # (InitPlan 1).col1 and the like
                k += 1
                continue
            if nxt == "." and k + 2 < n and toks[k + 2].kind in ("id", "qid"):
                out.append(_Ref(_name(t), _name(toks[k + 2]), k, k + 2))
                k += 3
                continue
            if nxt == "(" or (t.kind == "id" and (t.text in _EXPR_WORDS or _printed_word(t.text, nxt))):
                k += 1
                continue
            out.append(_Ref(None, _name(t), k, k))
        k += 1
    return out


def _printed_word(word: str, nxt: str) -> bool:
    """PostgreSQL's own lower-case words in expressions, "hashed SubPlan 1" and "(returns $0)":
    a column of that name is printed bare, so the next token decides."""
    return (word == "hashed" and nxt == "SubPlan") or (word == "returns" and nxt.startswith("$"))


def _only_ref(toks: list[_Tok]) -> _Ref | None:
    """The reference when ``toks`` is nothing but one column reference."""
    refs = _refs(toks)
    if len(refs) == 1 and refs[0].first == 0 and refs[0].last == len(toks) - 1:
        return refs[0]
    return None


@dataclass(frozen=True)
class IndexColumn:
    """An index element read from a condition: ``element`` is ready for CREATE INDEX."""

    element: str
    kind: str  # "eq", "range" or "bool"


class _Side:
    """Which references belong to the relation being indexed."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def own(self, r: _Ref) -> bool:
        return r.qualifier is None or r.qualifier in self.names


def _element(toks: list[_Tok], expr: str, side: _Side) -> str | None:
    """The index element for an operand made only of this relation's columns."""
    toks = _strip(toks)
    refs = _refs(toks)
    if not refs or not all(side.own(r) for r in refs):
        return None
    if any(t.kind == "param" or (t.kind == "id" and t.text in ("SubPlan", "InitPlan")) for t in toks):
        return None
    # a bare column, possibly cast to a text type ((email)::text: varchar shown as text)
    if len(refs) == 1:
        casts = [k for k in _top_level(toks) if toks[k].kind == "cast"]
        core, cast = (toks, "") if not casts else (_strip(toks[: casts[0]]), " ".join(t.text for t in toks[casts[0] + 1 :]))
        if _only_ref(core) is not None:
            if not casts or (len(casts) == 1 and cast in _TEXT_CASTS):
                return quote_ident(refs[0].column)
    # an expression: drop this relation's qualifiers, keep the text as PostgreSQL printed it
    drop = set()
    for r in refs:
        if r.qualifier is not None:
            drop.update({r.first, r.first + 1})
    parts: list[str] = []
    prev_end = toks[0].start
    for k, t in enumerate(toks):
        gap = expr[prev_end : t.start]
        prev_end = t.end
        parts.append(gap if k in drop else gap + t.text)
    body = "".join(parts).strip()
    return f"({body})"


def conjuncts(expr: str | None) -> list[str]:
    """The top-level AND-ed conditions of a plan expression, without their parentheses.

    >>> conjuncts("((c.user_id = $1) AND (NOT c.is_deleted))")
    ['c.user_id = $1', 'NOT c.is_deleted']
    """
    if not expr:
        return []
    toks = _strip(_tokens(expr))
    return [expr[p[0].start : p[-1].end] for p in (_strip(x) for x in _split(toks, "AND")) if p]


def index_columns(expr: str | None, names: set[str]) -> list[IndexColumn]:
    """Index elements for the AND-ed conditions of ``expr`` that compare a column (or an
    expression over columns) of the relation called any of ``names`` (its alias and name)
    with something that does not depend on it: a constant, a parameter, another table's
    column. Equality conditions first, in the order they appear, then range conditions;
    ``<>``, ``LIKE`` and conditions under OR are left out (a B-tree index cannot use them
    as written).

    >>> [c.element for c in index_columns("((c.created_at > now()) AND (c.user_id = p.id))", {"c", "comments"})]
    ['user_id', 'created_at']
    >>> [c.element for c in index_columns("(lower((email)::text) = 'a@b.c'::text)", {"users"})]
    ['(lower((email)::text))']
    """
    if not expr:
        return []
    side = _Side(names)
    found: list[IndexColumn] = []
    toks = _strip(_tokens(expr))
    for part in _split(toks, "AND"):
        col = _condition(_strip(part), expr, side)
        if col is not None and col.element not in {c.element for c in found}:
            found.append(col)
    order = {"eq": 0, "bool": 1, "range": 2}
    return sorted(found, key=lambda c: order[c.kind])


def _condition(toks: list[_Tok], expr: str, side: _Side) -> IndexColumn | None:
    if not toks:
        return None
    top = _top_level(toks)
    if any(toks[k].kind == "id" and toks[k].text == "OR" for k in top):
        return None
    # boolean column: "flag" or "NOT flag"
    body = toks[1:] if toks[0].kind == "id" and toks[0].text == "NOT" else toks
    body = _strip(body)
    ref = _only_ref(body)
    if ref is not None and side.own(ref):
        return IndexColumn(quote_ident(ref.column), "bool")
    # x IS NULL / IS NOT NULL
    is_at = [k for k in top if toks[k].kind == "id" and toks[k].text == "IS"]
    if len(is_at) == 1:
        tail = [t.text for t in toks[is_at[0] + 1 :]]
        if tail in (["NULL"], ["NOT", "NULL"]):
            el = _element(toks[: is_at[0]], expr, side)
            return None if el is None else IndexColumn(el, "eq" if tail == ["NULL"] else "range")
        return None
    ops = [k for k in top if toks[k].kind == "op"]
    if len(ops) != 1:
        return None
    k = ops[0]
    op = toks[k].text
    left, right = toks[:k], toks[k + 1 :]
    if right and right[0].kind == "id" and right[0].text in ("ANY", "ALL", "SOME"):
        if right[0].text != "ANY" or op != "=":
            return None
        right = right[1:]
    if op in _EQ_OPS:
        kind = "eq"
    elif op in _RANGE_OPS:
        kind = "range"
    else:
        return None
    for mine, other in ((left, right), (right, left)):
        if any(side.own(r) for r in _refs(_strip(other))):
            continue
        el = _element(mine, expr, side)
        if el is not None:
            return IndexColumn(el, kind)
    return None


_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})


def can_index(schema: str | None, table: str | None) -> bool:
    """Whether a suggestion may add an index: not on system catalogs.

    >>> can_index("public", "t"), can_index("pg_catalog", "pg_class"), can_index(None, "pg_attribute")
    (True, False, False)
    """
    if schema in _SYSTEM_SCHEMAS:
        return False
    return not (schema is None and table is not None and table.startswith("pg_"))


def create_statistics(schema: str | None, table: str, columns: list[str]) -> str:
    """CREATE STATISTICS on ``columns`` (already quoted) of a table, named the way PostgreSQL 16+
    names it when no name is given (``<table>_<columns>_stat``), in the table's schema:
    PostgreSQL before 16 requires the name. IF NOT EXISTS: running it twice is harmless.

    >>> create_statistics("public", "t", ["a", '"B"'])
    'CREATE STATISTICS IF NOT EXISTS public."t_a_B_stat" ON a, "B" FROM public.t;'
    """
    name = truncate_name(f"{table}_{'_'.join(unquote_ident(c) for c in columns)}_stat")
    return f"CREATE STATISTICS IF NOT EXISTS {qualified(schema, name)} ON {', '.join(columns)} FROM {qualified(schema, table)};"


# --------------------------------------------------------------------------- foreign keys

_FKEY = re.compile(r"^(?P<body>.+)_fkey\d*$")


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def fk_from_name(constraint: str, referenced: str | None) -> tuple[str, str] | None:
    """(referencing table, column) read from a foreign key named the PostgreSQL way,
    ``<table>_<column>_fkey``, when the split is clear: the column is the referenced
    table's name (singular) plus ``_id``, or the name ends in ``_<word>_id``.

    >>> fk_from_name("comments_user_id_fkey", "users")
    ('comments', 'user_id')
    >>> fk_from_name("order_items_order_id_fkey", "orders")
    ('order_items', 'order_id')
    >>> fk_from_name("comments_parent_id_fkey", "comments")
    ('comments', 'parent_id')
    >>> fk_from_name("fk_custom", "users") is None
    True
    """
    m = _FKEY.match(constraint)
    if not m:
        return None
    words = m.group("body").split("_")
    if len(words) < 2:
        return None
    if referenced:
        wanted = {f"{_singular(referenced)}_id", f"{referenced}_id"}
        for k in range(1, len(words)):
            if "_".join(words[k:]) in wanted:
                return "_".join(words[:k]), "_".join(words[k:])
    if len(words) >= 3 and words[-1] == "id":
        return "_".join(words[:-2]), f"{words[-2]}_id"
    return None
