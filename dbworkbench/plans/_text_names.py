"""TEXT node names -> the keys PostgreSQL's FORMAT JSON gives them.

``Hash Left Join`` is ``Node Type: Hash Join`` with ``Join Type: Left``, ``HashAggregate`` is
``Aggregate`` with ``Strategy: Hashed``, ``Update on t`` is ``ModifyTable`` with ``Operation:
Update``, ``Parallel``/``Async`` prefixes become ``Parallel Aware``/``Async Capable``; scan
targets (``on schema.table alias``) become Relation Name, Schema and Alias.
"""

from __future__ import annotations

import re
from typing import Any


_JOIN_TYPES = ("Left", "Right", "Full", "Semi", "Anti", "Right Semi", "Right Anti")


_AGG_STRATEGY = {"Aggregate": "Plain", "GroupAggregate": "Sorted", "HashAggregate": "Hashed", "MixedAggregate": "Mixed"}


_SCAN_TARGET_KEY = {
    "Seq Scan": "Relation Name",
    "Sample Scan": "Relation Name",
    "Tid Scan": "Relation Name",
    "Tid Range Scan": "Relation Name",
    "Bitmap Heap Scan": "Relation Name",
    "Foreign Scan": "Relation Name",
    "Function Scan": "Function Name",
    "Table Function Scan": "Table Function Name",
    "CTE Scan": "CTE Name",
    "WorkTable Scan": "CTE Name",
    "Named Tuplestore Scan": "Tuplestore Name",
    "Values Scan": None,
    "Subquery Scan": None,
}


_SIMPLE_NODES = frozenset(
    {
        "Result", "ProjectSet", "ModifyTable", "Append", "Merge Append", "Recursive Union", "BitmapAnd",
        "BitmapOr", "Nested Loop", "Merge Join", "Hash Join", "Gather", "Gather Merge", "Materialize",
        "Memoize", "Sort", "Incremental Sort", "Group", "WindowAgg", "Window Aggregate", "Unique", "SetOp",
        "LockRows", "Limit", "Hash", "Aggregate", "Custom Scan", "Foreign Scan",
    }
)


def _exact_names() -> dict[str, dict[str, Any]]:
    """Node names that need no parsing, and what they stand for."""
    out: dict[str, dict[str, Any]] = {n: {"Node Type": n} for n in _SIMPLE_NODES}
    out["Nested Loop"] = {"Node Type": "Nested Loop", "Join Type": "Inner"}
    for base, typ in (("Nested Loop", "Nested Loop"), ("Hash", "Hash Join"), ("Merge", "Merge Join")):
        if base != "Nested Loop":
            out[f"{base} Join"] = {"Node Type": typ, "Join Type": "Inner"}
        for jt in _JOIN_TYPES:
            out[f"{base} {jt} Join"] = {"Node Type": typ, "Join Type": jt}
    for name, strategy in _AGG_STRATEGY.items():
        out[name] = {"Node Type": "Aggregate", "Strategy": strategy}
    for prefix, strategy in (("SetOp", "Sorted"), ("HashSetOp", "Hashed")):
        for cmd in ("Intersect", "Intersect All", "Except", "Except All"):
            out[f"{prefix} {cmd}"] = {"Node Type": "SetOp", "Strategy": strategy, "Command": cmd}
    out["Foreign Scan"] = {"Node Type": "Foreign Scan", "Operation": "Select"}
    return out


_EXACT = _exact_names()


def _ident(s: str, i: int) -> tuple[str, int] | None:
    """One SQL identifier at ``s[i:]`` as PostgreSQL prints it (bare or double-quoted)."""
    n = len(s)
    if i >= n:
        return None
    if s[i] == '"':
        out = []
        j = i + 1
        while True:
            k = s.find('"', j)
            if k < 0:
                return None
            out.append(s[j:k])
            if k + 1 < n and s[k + 1] == '"':
                out.append('"')
                j = k + 2
                continue
            return "".join(out), k + 1
    j = i
    while j < n and s[j] not in ' ."':
        j += 1
    if j == i:
        return None
    return s[i:j], j


def _qualified(s: str, i: int) -> tuple[list[str], int] | None:
    parts = []
    while True:
        got = _ident(s, i)
        if got is None:
            return None
        parts.append(got[0])
        i = got[1]
        if i < len(s) and s[i] == ".":
            i += 1
            continue
        return parts, i


_BARE_TARGET = re.compile(r'([^\s."]+)(?:\.([^\s."]+))?(?: ([^\s."]+))?')


def _target(s: str) -> tuple[str | None, str, str | None] | None:
    """``[schema.]name [alias]`` as (schema, name, alias), or None when it does not parse."""
    if '"' not in s:
        m = _BARE_TARGET.fullmatch(s)
        if m is None:
            return None
        a, b, alias = m.groups()
        return (a, b, alias) if b is not None else (None, a, alias)
    got = _qualified(s, 0)
    if got is None:
        return None
    parts, i = got
    if len(parts) > 2:
        return None
    schema, name = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    rest = s[i:]
    if not rest.strip():
        return schema, name, None
    if not rest.startswith(" "):
        return None
    rest = rest.strip()
    got2 = _ident(rest, 0)
    if got2 is None or got2[1] != len(rest):
        return None
    return schema, name, got2[0]


def _set_target(node: dict[str, Any], key: str | None, text: str) -> None:
    t = _target(text)
    if t is None:
        if key is not None:
            node[key] = text
        node["Alias"] = text
        return
    schema, name, alias = t
    if key is None:  # Subquery Scan, Values Scan: the single name is the alias
        node["Alias"] = alias if alias is not None else name
        return
    node[key] = name
    if schema is not None:
        node["Schema"] = schema
    node["Alias"] = alias if alias is not None else name


def node_from_name(name: str, rel: str | None = None, subplan: str | None = None) -> tuple[dict[str, Any], bool]:
    """The JSON keys a TEXT node name stands for, and whether it is a node name we know."""
    node: dict[str, Any] = {"Node Type": ""}
    if rel is not None:
        node["Parent Relationship"] = rel
    if subplan is not None:
        node["Subplan Name"] = subplan
    parallel = asyncc = False
    partial: str | None = None
    while name[:1] in ("P", "A", "F"):
        if name.startswith("Parallel "):
            parallel, name = True, name[9:]
        elif name.startswith("Async "):
            asyncc, name = True, name[6:]
        elif name.startswith("Partial "):
            partial, name = "Partial", name[8:]
        elif name.startswith("Finalize "):
            partial, name = "Finalize", name[9:]
        else:
            break
    node["Parallel Aware"] = parallel
    node["Async Capable"] = asyncc
    exact = _EXACT.get(name)
    if exact is not None:
        node.update(exact)
        known = True
    else:
        known = _name_details(name, node)
    if partial is not None or node["Node Type"] == "Aggregate":
        node["Partial Mode"] = partial or "Simple"
    return node, known


_NAMED: dict[str, tuple[str, dict[str, Any]]] = {}  # node name -> its Node Type and the other keys it stands for


def _named_node(name: str, rel: str | None, subplan: str | None) -> dict[str, Any]:
    """``node_from_name`` for a node line, remembering what each name stood for (plans repeat names)."""
    named = _NAMED.get(name)
    if named is None:
        proto, _known = node_from_name(name.strip())
        named = (proto.pop("Node Type"), proto)
        if len(_NAMED) >= 4096:
            _NAMED.clear()
        _NAMED[name] = named
    node: dict[str, Any] = {"Node Type": named[0]}
    if rel is not None:
        node["Parent Relationship"] = rel
    if subplan is not None:
        node["Subplan Name"] = subplan
    node.update(named[1])
    return node


def _name_details(name: str, node: dict[str, Any]) -> bool:
    """Fill Node Type and what a name outside ``_EXACT`` says; True when it is a node name we know."""
    # ModifyTable and foreign DML: "Insert on t", "Foreign Update on t"
    for op in ("Insert", "Update", "Delete", "Merge"):
        if name.startswith(op + " on "):
            node["Node Type"] = "ModifyTable"
            node["Operation"] = op
            _set_target(node, "Relation Name", name[len(op) + 4 :])
            return True
        if name.startswith("Foreign " + op + " on "):
            node["Node Type"] = "Foreign Scan"
            node["Operation"] = op
            _set_target(node, "Relation Name", name[len(op) + 12 :])
            return True
    for kind in ("Index Only Scan", "Index Scan"):
        if name.startswith(kind + " "):
            rest = name[len(kind) + 1 :]
            direction = "Forward"
            if rest.startswith("Backward "):
                direction, rest = "Backward", rest[9:]
            if not rest.startswith("using "):
                break
            got = _ident(rest, 6)
            if got is None or not rest.startswith(" on ", got[1]):
                break
            node["Node Type"] = kind
            node["Scan Direction"] = direction
            node["Index Name"] = got[0]
            _set_target(node, "Relation Name", rest[got[1] + 4 :])
            return True
    if name.startswith("Bitmap Index Scan on "):
        node["Node Type"] = "Bitmap Index Scan"
        got = _ident(name, 21)
        node["Index Name"] = got[0] if got is not None and got[1] == len(name) else name[21:]
        return True
    if name.startswith("Custom Scan ("):
        close = name.find(")", 13)
        if close > 0:
            node["Node Type"] = "Custom Scan"
            node["Custom Plan Provider"] = name[13:close]
            rest = name[close + 1 :]
            if rest.startswith(" on "):
                _set_target(node, "Relation Name", rest[4:])
            return True
    for scan, key in _SCAN_TARGET_KEY.items():
        if name.startswith(scan + " on "):
            node["Node Type"] = scan
            if scan == "Foreign Scan":
                node["Operation"] = "Select"
            _set_target(node, key, name[len(scan) + 4 :])
            return True
        if name == scan:
            node["Node Type"] = scan
            if scan == "Foreign Scan":
                node["Operation"] = "Select"
            return True
    if name.startswith("Subquery Scan "):  # PostgreSQL before 9.0 had no "on"
        node["Node Type"] = "Subquery Scan"
        node["Alias"] = name[14:]
        return True
    # Unknown (newer or extension) node: keep the name; "X Scan on rel" still gives a relation.
    on = name.find(" on ")
    if on > 0 and name[:on].endswith("Scan"):
        node["Node Type"] = name[:on]
        _set_target(node, "Relation Name", name[on + 4 :])
    else:
        node["Node Type"] = name
    return False
