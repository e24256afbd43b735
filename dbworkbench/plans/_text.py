"""Parse EXPLAIN's TEXT format into the dicts PostgreSQL's FORMAT JSON would give.

The parser works on cleaned lines (see ``_source``):

1. find the root node line (the first node line; lines before it are prompts,
   SQL, headers, except an auto_explain ``Query Text:``);
2. walk the lines with a stack keyed on indentation: a node line (``->``)
   belongs under the nearest node whose name starts left of its own name, a
   property under the nearest node left of it, and ``InitPlan`` / ``SubPlan`` /
   ``CTE`` headers and ``Worker N:`` lines open scopes of their own;
3. if that walk meets a sign of hard-wrapping (a piece at column 0, a line that
   is no plan line, an open parenthesis, a property after a node's children),
   start again after gluing the pieces back (``_join_wrapped``).

Names become PostgreSQL's JSON keys: ``Hash Left Join`` is ``Node Type: Hash
Join`` with ``Join Type: Left``, ``HashAggregate`` is ``Aggregate`` with
``Strategy: Hashed``, ``Update on t`` is ``ModifyTable`` with ``Operation:
Update``, ``Parallel``/``Async`` prefixes become ``Parallel Aware``/``Async
Capable``, ``Buffers:`` becomes the ten ``... Blocks`` counters, and keys the
TEXT format leaves out when zero or false are added back at the end.

Regular expressions here are anchored or bounded and work on one line; none can
backtrack catastrophically (``tests/plans/test_robustness.py`` has the cases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import PlanParseError
from . import _keys as K
from ._source import Line, is_footer

_NUM = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
# spaces optional: a mail client may have eaten the one where it wrapped the line
_COST = re.compile(rf"\(cost=({_NUM})\.\.({_NUM}) ?rows=({_NUM}) ?width=(\d+)\)")
_ACTUAL = re.compile(rf"\(actual ?(?:time=({_NUM})\.\.({_NUM}) ?)?rows=({_NUM}) ?loops=(\d+)\)")
_INDEX_SCAN = re.compile(r'(Index Only Scan|Index Scan)( Backward)? using ([^\s"]+|"(?:[^"]|"")+") on (.+)')
_WORKER_ACTUAL = re.compile(rf"^actual (?:time=({_NUM})\.\.({_NUM}) )?rows=({_NUM}) loops=(\d+)$")
_NUMBER = re.compile(rf"^{_NUM}$")
_KEY = re.compile(r"^([A-Z][A-Za-z0-9_/()\-]*(?: [A-Za-z0-9_/()\-]+){0,6}):(?: |$)")
_WORKER = re.compile(r"^Worker (\d+): *")
_TRIGGER = re.compile(rf"^Trigger (.+): (?:time=({_NUM}) )?calls=({_NUM})$")
_HEADER = re.compile(r"^(?:InitPlan|SubPlan)(?: \d+)?(?: \(.*\))?$|^CTE \S")
_TARGET = re.compile(r"^(?:Foreign )?(Insert|Update|Delete|Merge) on \S")
_GAP = re.compile(r"  +")  # two or more spaces: between the pairs of a line
_WAL_PAIRS = re.compile(r"(records|fpi|bytes|buffers full)=(\d+)")
_ESTIMATE_PAIRS = re.compile(r"(capacity|distinct keys|lookups|hit percent)=(\d+(?:\.\d+)?)")
_SAMPLING = re.compile(r"^(\w+) \((.*)\)(?: REPEATABLE \((.*)\))?$")
_JIT_TIMING = re.compile(r"\b(\w+) (\d+(?:\.\d+)?) ms(?: \(Deform (\d+(?:\.\d+)?) ms\))?")

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
# a child's Parent Relationship when its parent says it; otherwise Outer, then Inner
_CHILD_RELATIONSHIP = {
    **dict.fromkeys(("Append", "Merge Append", "BitmapAnd", "BitmapOr", "Custom Scan"), "Member"),
    "Subquery Scan": "Subquery",
}


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


# --------------------------------------------------------------------------- names


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


_MODIFY_OPS = {"Insert": "Insert", "Update": "Update", "Delete": "Delete", "Merge": "Merge"}


def _name_details(name: str, node: dict[str, Any]) -> bool:
    """Fill Node Type and what the name says; True when the name is a node name we know."""
    if name.startswith("Index "):
        m = _INDEX_SCAN.fullmatch(name)
        if m is not None:
            kind, backward, idx, target = m.groups()
            node["Node Type"] = kind
            node["Scan Direction"] = "Backward" if backward else "Forward"
            node["Index Name"] = idx[1:-1].replace('""', '"') if idx.startswith('"') else idx
            _set_target(node, "Relation Name", target)
            return True
    k = name.find(" on ")
    if k > 0:
        prefix = name[:k]
        if prefix in _SCAN_TARGET_KEY:
            node["Node Type"] = prefix
            if prefix == "Foreign Scan":
                node["Operation"] = "Select"
            _set_target(node, _SCAN_TARGET_KEY[prefix], name[k + 4 :])
            return True
        if prefix in _MODIFY_OPS:
            node["Node Type"] = "ModifyTable"
            node["Operation"] = prefix
            _set_target(node, "Relation Name", name[k + 4 :])
            return True
    return _name_details_slow(name, node)


def _name_details_slow(name: str, node: dict[str, Any]) -> bool:
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
    if name == "Nested Loop":
        node["Node Type"] = "Nested Loop"
        node["Join Type"] = "Inner"
        return True
    for base, typ in (("Nested Loop", "Nested Loop"), ("Hash", "Hash Join"), ("Merge", "Merge Join")):
        if name == base + " Join" and base != "Nested Loop":
            node["Node Type"] = typ
            node["Join Type"] = "Inner"
            return True
        if name.startswith(base + " ") and name.endswith(" Join"):
            jt = name[len(base) + 1 : -5]
            if jt in _JOIN_TYPES:
                node["Node Type"] = typ
                node["Join Type"] = jt
                return True
    if name in _AGG_STRATEGY:
        node["Node Type"] = "Aggregate"
        node["Strategy"] = _AGG_STRATEGY[name]
        return True
    for prefix, strategy in (("SetOp ", "Sorted"), ("HashSetOp ", "Hashed")):
        if name.startswith(prefix) and name[len(prefix) :] in ("Intersect", "Intersect All", "Except", "Except All"):
            node["Node Type"] = "SetOp"
            node["Strategy"] = strategy
            node["Command"] = name[len(prefix) :]
            return True
    if name in _SIMPLE_NODES:
        node["Node Type"] = name
        return True
    # Unknown (newer or extension) node: keep the name; "X Scan on rel" still gives a relation.
    on = name.find(" on ")
    if on > 0 and name[:on].endswith("Scan"):
        node["Node Type"] = name[:on]
        _set_target(node, "Relation Name", name[on + 4 :])
    else:
        node["Node Type"] = name
    return False


_COST_KEYS = ("Startup Cost", "Total Cost", "Plan Rows", "Plan Width")
_ACTUAL_KEYS = ("Actual Startup Time", "Actual Total Time", "Actual Rows", "Actual Loops")


def _annotation_start(s: str) -> int:
    """Where ``(cost=``, ``(actual`` or ``(never executed)`` starts (the space before it), or -1."""
    k = s.find("(")
    while k >= 0:
        if s.startswith(("(cost=", "(actual", "(never executed)"), k):
            return k - 1 if k > 0 and s[k - 1] == " " else k
        k = s.find("(", k + 1)
    return -1


def parse_node_line(text: str, rel: str | None = None, subplan: str | None = None) -> tuple[dict[str, Any], bool]:
    """A node line without its ``->`` into a node dict, and whether its annotations were complete."""
    k = text.find("  (cost=")
    numbers = _usual_annotations(text, k) if k > 0 else None
    if numbers is not None:  # the usual "Name  (cost=...) (actual time=...)"
        return _annotated(_named_node(text[:k], rel, subplan), numbers), True
    k = _annotation_start(text)
    name = (text if k < 0 else text[:k]).strip()
    node, _known = node_from_name(name, rel, subplan)
    if k < 0:
        return node, True
    i = k
    n = len(text)
    while i < n:
        while i < n and text[i] == " ":
            i += 1
        if i >= n:
            break
        if text.startswith("(cost=", i):
            m = _COST.match(text, i)
            if m is None:
                break
            node.update(zip(_COST_KEYS, map(_number, m.groups())))
            i = m.end()
        elif text.startswith("(actual", i):
            m = _ACTUAL.match(text, i)
            if m is None:
                break
            # without TIMING: "(actual rows=N loops=N)", no times
            node.update((key, _number(v)) for key, v in zip(_ACTUAL_KEYS, m.groups()) if v is not None)
            i = m.end()
        elif text.startswith("(never executed)", i):
            node.update(zip(_ACTUAL_KEYS, (0.0, 0.0, 0, 0)))
            i += 16
        else:
            break
    return node, i >= n


def _usual_annotations(s: str, k: int) -> tuple[Any, ...] | None:
    """The numbers of the usual annotations at ``s[k:]`` to the end of the line, or None for any other shape.

    ``  (cost=A..B rows=C width=D)``, then `` (actual time=E..F rows=G loops=H)``
    or `` (never executed)`` or nothing, then spaces: (A, B, C, D, E, F, G, H),
    E to H None when not analyzed, 0 when never executed. Read with ``str.find``
    and the number constructors (a regular expression here cost a quarter of
    all TEXT parsing); a piece they refuse sends the line to the general reader.
    """
    if not s.startswith("  (cost=", k):
        return None
    i = k + 8
    j = s.find("..", i)
    r = s.find(" rows=", j + 2) if j >= 0 else -1
    w = s.find(" width=", r + 6) if r >= 0 else -1
    c = s.find(")", w + 7) if w >= 0 else -1
    if c < 0:
        return None
    rest = s[c + 1 :].rstrip()
    try:
        costs = (float(s[i:j]), float(s[j + 2 : r]), int(s[r + 6 : w]), int(s[w + 7 : c]))
        if not rest:
            return (*costs, None, None, None, None)
        if rest == " (never executed)":
            return (*costs, 0.0, 0.0, 0, 0)
        if not (rest.startswith(" (actual time=") and rest.endswith(")")):
            return None
        j = rest.find("..", 14)
        r = rest.find(" rows=", j + 2) if j >= 0 else -1
        lp = rest.find(" loops=", r + 6) if r >= 0 else -1
        if lp < 0:
            return None
        rows = rest[r + 6 : lp]  # PostgreSQL 18 prints decimals
        return (*costs, float(rest[14:j]), float(rest[j + 2 : r]), int(rows) if rows.isdecimal() else _number(rows),
                int(rest[lp + 7 : -1]))
    except ValueError:
        return None


def _annotated(node: dict[str, Any], numbers: tuple[Any, ...]) -> dict[str, Any]:
    """Add what ``_usual_annotations`` read (costs, and actual times unless not analyzed) to a node."""
    startup, total, rows, width, a_startup, a_total, a_rows, loops = numbers
    node["Startup Cost"] = startup
    node["Total Cost"] = total
    node["Plan Rows"] = rows
    node["Plan Width"] = width
    if a_startup is not None:
        node["Actual Startup Time"] = a_startup
        node["Actual Total Time"] = a_total
        node["Actual Rows"] = a_rows
        node["Actual Loops"] = loops
    return node


def _number(s: str) -> int | float:
    """``"12"`` -> 12, ``"0.50"`` -> 0.5 (PostgreSQL 18 prints fractional rows); huge -> float."""
    if "." in s or "e" in s or "E" in s or len(s) > 300:
        return float(s)
    return int(s)


def _value(s: str) -> Any:
    s = s.strip()
    if s.isdecimal() and len(s) <= 300:  # the usual count, without the regular expression
        return int(s)
    if _NUMBER.match(s):
        return _number(s)
    if s == "true":
        return True
    if s == "false":
        return False
    return s


# --------------------------------------------------------------------------- line kinds


def _strip_arrow(s: str) -> str | None:
    if s.startswith("->"):
        return s[2:].lstrip()
    return None


def looks_like_node(content: str, *, arrow_ok: bool = True) -> bool:
    """True for a node line: a name with ``(cost=...``/``(actual ...``, or a node name we know."""
    body = _strip_arrow(content)
    if body is None:
        body = content
    elif not arrow_ok:
        return False
    k = _annotation_start(body)
    if k > 0:
        name = body[:k].strip()
        if name[:1].isupper() and ": " not in name:
            return True
    elif k == 0:
        return False
    # no complete annotation: a known node name, possibly cut short by a wrap
    cut = body.find("  (")
    name = (body if cut < 0 else body[:cut]).strip()
    if not name or not name[:1].isupper():
        return False
    if name in _EXACT or node_from_name(name)[1]:
        return True
    return name.endswith((" on", " using")) and node_from_name(name + " x")[1]


def _key_of(content: str) -> str | None:
    m = _KEY.match(content)
    if m is None:
        return None
    return m.group(1)


def _is_valid_start(content: str, *, strict: bool) -> bool:
    """Can this line start a plan line (after the root)? ``strict`` also checks names."""
    if content.startswith("->"):
        return looks_like_node(content) if strict else True
    if _HEADER.match(content) or _TARGET.match(content):
        return True
    if content.startswith("Trigger ") and _TRIGGER.match(content.strip()):
        return True
    if _WORKER.match(content):
        return True
    key = _key_of(content)
    if key is None:
        return False
    if strict:
        return key in K.KNOWN_TEXT_KEYS or key.startswith("Rows Removed by ")
    return True


def _join_wrapped(lines: list[Line]) -> list[Line]:
    """Put hard-wrapped pieces back on the line they were cut from.

    A piece continues the line before when that line has an open parenthesis or
    quote (and the piece is not a plan line by itself), when it starts at column 0
    (after the root only plan-level lines do), when it cannot start a plan line,
    or when it would be a property of a node whose children were already listed
    (PostgreSQL prints a node's properties before its children). A light copy of
    the node nesting is kept here for that last rule.
    """
    out: list[tuple[int, list[str]]] = []  # (line number, pieces): joined once at the end
    depth, quote = 0, None
    joinable = False
    nest: list[list[int]] = []  # [name position, has children] of the open nodes
    block: int | None = None  # indentation of an open JIT: / Planning: / Serialization: block
    prev_indent = 0
    for k, ln in enumerate(lines):
        s = ln[1]
        c = s.strip()
        if not c:
            joinable = False
            out.append((ln[0], [s]))
            continue
        if is_footer(c):
            out.append((ln[0], [s]))
            joinable = False
            continue
        ind = len(s) - len(s.lstrip())
        if k == 0:
            body = _strip_arrow(c)
            nest.append([ind + (len(c) - len(body)) if body is not None else ind, 0])
        elif joinable and out and _continues(c, s, ind, prev_indent, depth > 0 or quote is not None, nest, block):
            out[-1][1].append(s)
            depth, quote = _open_parens(s, depth, quote)
            depth = max(depth, 0)
            continue
        elif k > 0:
            block = _track(c, ind, nest, block)
        out.append((ln[0], [s]))
        depth, quote = _open_parens(s, 0, None)
        depth = max(depth, 0)
        joinable = True
        prev_indent = ind
    return [(no, "".join(pieces)) for no, pieces in out]


def _continues(c: str, s: str, ind: int, prev_indent: int, unbalanced: bool, nest: list[list[int]], block: int | None) -> bool:
    if unbalanced:
        return not _is_valid_start(c, strict=True)
    if ind == 0 and not _is_plan_level(c):
        return True
    if not _is_valid_start(c, strict=False):
        # a line cut before its colon still starts where its siblings, or the
        # first property of the innermost node, start
        return not (ind >= 2 and (ind == prev_indent or (nest and ind == nest[-1][0] + 2)))
    if c.startswith("->") or _HEADER.match(c) or _is_plan_level(c):
        return False
    if block is not None and ind > block:
        return False
    owner = next((e for e in reversed(nest) if e[0] < ind), None)
    return owner is None or bool(owner[1])


def _track(c: str, ind: int, nest: list[list[int]], block: int | None) -> int | None:
    """Follow the node nesting for ``_continues``; returns the open block's indentation."""
    body = _strip_arrow(c)
    if body is not None:
        name_pos = ind + (len(c) - len(body))
        while nest and nest[-1][0] >= name_pos:
            nest.pop()
        if nest:
            nest[-1][1] = 1
        nest.append([name_pos, 0])
        return None
    if _HEADER.match(c):
        while nest and nest[-1][0] >= ind:
            nest.pop()
        if nest:
            nest[-1][1] = 1
        return None
    if c.startswith(("JIT:", "Planning:", "Serialization:")):
        return ind
    if block is not None and ind > block:
        return block
    return None


_PLAN_LEVEL = (
    "Planning Time:", "Planning time:", "Execution Time:", "Execution time:", "Total runtime:", "Planning:",
    "JIT:", "Settings:", "Serialization:", "Query Identifier:", "Query Text:", "Query Parameters:", "Trigger ",
)


def _is_plan_level(c: str) -> bool:
    return c.startswith(_PLAN_LEVEL)


_PAREN_CHARS = re.compile(r"[()\[\]'\"]")


def _open_parens(s: str, depth: int, quote: str | None) -> tuple[int, str | None]:
    """Track parentheses outside quotes across pieces of one logical line."""
    if quote is None and "'" not in s and '"' not in s:
        return depth + s.count("(") + s.count("[") - s.count(")") - s.count("]"), None
    for m in _PAREN_CHARS.finditer(s):
        ch = m.group()
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch == "'" or ch == '"':
            quote = ch
        elif ch == "(" or ch == "[":
            depth += 1
        else:
            depth -= 1
    return depth, quote


# --------------------------------------------------------------------------- the parser


class _Entry:
    """An open scope while reading: a node, an InitPlan/SubPlan/CTE header, a worker, a block."""

    __slots__ = ("kind", "pos", "target", "header", "owner", "kids")

    def __init__(
        self,
        kind: str,  # "node", "header", "worker", "block"
        pos: int,  # node: where its name starts; others: indentation
        target: dict[str, Any],
        header: str | None = None,
        owner: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self.pos = pos
        self.target = target
        self.header = header
        self.owner = owner
        self.kids = 0  # regular children so far (node entries)


@dataclass
class _Ctx:
    has_buffers: bool = False
    io16: bool = False
    io_old: bool = False
    io_temp: bool = False
    has_io: bool = False
    pg18: bool = False  # fractional actual rows seen
    nodes: list[dict[str, Any]] = field(default_factory=list)


class _Wrapped(Exception):
    """The optimistic pass met a line that only makes sense as part of a wrapped one."""


def parse_text(lines: list[Line]) -> dict[str, Any]:
    """Cleaned TEXT lines into ``{"Plan": {...}, "Planning Time": ..., ...}``.

    A first pass takes each line as it is and gives up at the first sign of
    hard-wrapping (a piece at column 0, a line that is no plan line, an open
    parenthesis, a property after a node's children); the second pass then
    glues the pieces back first (``_join_wrapped``). Plans that were never
    wrapped are read in one pass.
    """
    root_at = _find_root(lines)
    if root_at is None:
        first = next((ln for ln in lines if ln[1].strip()), None)
        raise PlanParseError(
            "no plan node found",
            line=first[0] if first else None,
            expected='a node line such as "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"',
        )
    query = _query_text(lines[:root_at])
    try:
        return _parse_lines(lines[root_at:], *query, strict=True)
    except _Wrapped:
        return _parse_lines(_join_wrapped(lines[root_at:]), *query, strict=False)


def _parse_lines(logical: list[Line], query: str | None, params: str | None, *, strict: bool) -> dict[str, Any]:
    top: dict[str, Any] = {}
    ctx = _Ctx()
    root_line = logical[0]
    root_content = root_line[1].strip()
    indent0 = len(root_line[1]) - len(root_line[1].lstrip())
    body = _strip_arrow(root_content)
    name_pos = indent0
    if body is not None:
        name_pos = indent0 + (len(root_content) - len(body))
        root_content = body
    try:
        root, complete = parse_node_line(root_content)
    except (ValueError, OverflowError) as exc:
        raise PlanParseError(f"cannot read {root_content[:60]!r}: {exc}", line=root_line[0], expected="a plan line") from exc
    if strict and not complete:
        raise _Wrapped
    ctx.nodes.append(root)
    ctx.pg18 = type(root.get("Actual Rows")) is float
    top["Plan"] = root
    if query is not None:
        top["Query Text"] = query
    if params is not None:
        top["Query Parameters"] = params
    stack: list[_Entry] = [_Entry("node", name_pos, root)]
    handlers = _HANDLERS
    for no, raw in logical[1:]:
        c = raw.lstrip()
        try:
            if c[:2] == "->":
                _node_line(c.rstrip(), len(raw) - len(c), no, stack, top, ctx, strict)
                continue
            k = c.find(": ")
            if k > 0:
                key = c[:k]
                handler = handlers.get(key)
                if handler is not None and stack:
                    # the common case, a property of the node just read: no stack walk
                    e = stack[-1]
                    if e.kind == "node" and len(raw) - len(c) > e.pos:
                        target = e.target
                        value = c[k + 2 :]
                        if strict and ("Plans" in target or (("(" in value or ")" in value) and value.count("(") != value.count(")") and _open_parens(value, 0, None) != (0, None))):
                            raise _Wrapped
                        handler(target, key, value.strip(), ctx)
                        continue
            content = c.rstrip()
            if not content:
                continue
            if content[0] == "(" and is_footer(content):
                break
            _line(content, len(raw) - len(c), no, stack, top, ctx, strict)
        except (PlanParseError, _Wrapped):
            raise
        except (ValueError, OverflowError) as exc:  # a number too odd to read
            raise PlanParseError(f"cannot read {raw.strip()[:60]!r}: {exc}", line=no, expected="a plan line") from exc
    _fill_defaults(top, ctx)
    return top


def _find_root(lines: list[Line]) -> int | None:
    for i, ln in enumerate(lines):
        c = ln[1].strip()
        if c and not is_footer(c) and looks_like_node(c):
            return i
    return None


def _query_text(pre: list[Line]) -> tuple[str | None, str | None]:
    """auto_explain's ``Query Text:`` (over as many lines as the query has) and ``Query Parameters:``."""
    for i, ln in enumerate(pre):
        c = ln[1].strip()
        if c.startswith("Query Text:"):
            base = len(ln[1]) - len(ln[1].lstrip())
            parts = [c[11:].strip()]
            params = None
            for more in pre[i + 1 :]:
                t = more[1]
                if t[base:].startswith("Query Parameters: ") and t[:base].strip() == "":
                    params = t[base + 18 :].strip()
                    break
                parts.append(t[base:] if t[:base].strip() == "" else t.strip())
            while parts and not parts[-1].strip():
                parts.pop()
            return "\n".join(p.rstrip() for p in parts), params
    return None, None


_TOP_TIMES = {
    "Planning Time": "Planning Time",
    "Planning time": "Planning Time",
    "Execution Time": "Execution Time",
    "Execution time": "Execution Time",
    "Total runtime": "Total Runtime",
}
_TOP_KEYS = frozenset({"Planning", "Serialization", "Settings", "Query Identifier", "JIT", "Query Text", "Query Parameters"})


def _line(content: str, pos: int, no: int, stack: list[_Entry], top: dict[str, Any], ctx: _Ctx, strict: bool) -> None:
    """Any line but a node line (``_parse_lines`` has taken those)."""
    if strict and pos == 0 and not content.startswith(_PLAN_LEVEL):
        raise _Wrapped
    _pop_to(stack, pos)
    owner = stack[-1] if stack else None
    m = _KEY.match(content)
    key = m.group(1) if m is not None else None

    if key is None:
        if _HEADER.match(content) and owner is not None and owner.kind == "node":
            stack.append(_Entry("header", pos, {}, header=content, owner=owner.target))
            return
        if owner is not None and owner.kind == "node" and owner.target.get("Node Type") == "ModifyTable":
            if _TARGET.match(content):
                t: dict[str, Any] = {}
                _set_target(t, "Relation Name", content[content.index(" on ") + 4 :])
                owner.target.setdefault("Target Tables", []).append(t)
                return
        if strict:
            raise _Wrapped
        return  # stray text (after a blank line, or junk after the plan): ignore it

    if key.startswith("Worker ") and owner is not None and owner.kind in ("node", "header"):
        wm = _WORKER.match(content)
        if wm is not None:
            node = owner.target if owner.kind == "node" else owner.owner
            assert node is not None
            worker = _worker(node, int(wm.group(1)))
            rest = content[wm.end() :]
            if rest:
                wa = _WORKER_ACTUAL.match(rest)
                if wa is not None:
                    if wa.group(1) is not None:
                        worker["Actual Startup Time"] = _number(wa.group(1))
                        worker["Actual Total Time"] = _number(wa.group(2))
                    worker["Actual Rows"] = _number(wa.group(3))
                    worker["Actual Loops"] = _number(wa.group(4))
                else:
                    _property(worker, rest, ctx, stack, pos, node_level=True)
            stack.append(_Entry("worker", pos, worker))
            return
    if key.startswith("Trigger "):
        tm = _TRIGGER.match(content)
        if tm is not None:
            top.setdefault("Triggers", []).append(_trigger(tm))
            return
    name = _TOP_TIMES.get(key)
    if name is not None:
        top[name] = _ms(content[len(key) + 1 :])
        return
    if owner is None or (owner.kind == "node" and key in _TOP_KEYS):
        if strict and owner is None and key not in _TOP_KEYS:
            raise _Wrapped
        _top_property(top, key, content, ctx, stack, pos)
        return
    if strict:
        if owner.kind == "node" and "Plans" in owner.target:
            raise _Wrapped  # PostgreSQL prints a node's properties before its children
        if content.count("(") != content.count(")") and _open_parens(content, 0, None) != (0, None):
            raise _Wrapped
    target = owner.owner if owner.kind == "header" else owner.target
    assert target is not None
    _property(target, content, ctx, stack, pos, node_level=owner.kind in ("node", "header", "worker"))


def _node_line(content: str, pos: int, no: int, stack: list[_Entry], top: dict[str, Any], ctx: _Ctx, strict: bool) -> None:
    body = content[2:].lstrip()
    if not body or body.startswith("("):
        if strict:
            raise _Wrapped  # "->" at the end of a line, the name on the next one
        raise PlanParseError("a node line without a node name", line=no, expected='a node name after "->"')
    name_pos = pos + (len(content) - len(body))
    while stack:
        e = stack[-1]
        if e.kind == "node":
            if name_pos > e.pos:
                break
        elif e.kind == "header" and pos > e.pos:
            break
        stack.pop()
    if not stack:  # indentation left of the root: hang it under the root
        if strict:
            raise _Wrapped
        stack.append(_Entry("node", -1, top["Plan"]))
    e = stack[-1]
    if e.kind == "header":
        parent = e.owner
        assert parent is not None
        rel = "SubPlan" if (e.header or "").startswith("SubPlan") else "InitPlan"
        subplan = e.header
    else:
        parent = e.target
        rel = _CHILD_RELATIONSHIP.get(parent["Node Type"]) or ("Outer" if e.kids == 0 else "Inner")
        e.kids += 1
        subplan = None
    node, complete = parse_node_line(body, rel, subplan)
    if strict and not complete:
        raise _Wrapped
    _add_node(node, parent, name_pos, stack, ctx)


def _add_node(node: dict[str, Any], parent: dict[str, Any], name_pos: int, stack: list[_Entry], ctx: _Ctx) -> None:
    """Hang a node read from a line under its parent and open its scope."""
    if not ctx.pg18 and type(node.get("Actual Rows")) is float:
        ctx.pg18 = True
    ctx.nodes.append(node)
    kids = parent.get("Plans")
    if kids is None:
        parent["Plans"] = [node]
    else:
        kids.append(node)
    stack.append(_Entry("node", name_pos, node))


def _pop_to(stack: list[_Entry], pos: int) -> None:
    while stack:
        e = stack[-1]
        if e.kind == "node":
            if pos > e.pos:
                return
        elif pos > e.pos:
            return
        stack.pop()


def _worker(node: dict[str, Any], number: int) -> dict[str, Any]:
    workers = node.setdefault("Workers", [])
    for w in workers:
        if w.get("Worker Number") == number:
            return w  # type: ignore[no-any-return]
    w = {"Worker Number": number}
    workers.append(w)
    return w


def _trigger(m: re.Match[str]) -> dict[str, Any]:
    head = m.group(1)
    out: dict[str, Any] = {}
    rel = None
    con = None
    k = head.find("for constraint ")
    if k >= 0:
        name = head[:k].strip()
        rest = head[k + 15 :]
        con, _, rel = rest.partition(" on ")
        if name:
            out["Trigger Name"] = name
        out["Constraint Name"] = con
    else:
        name, _, rel = head.partition(" on ")
        out["Trigger Name"] = name
    if rel:
        out["Relation"] = rel
    if m.group(2) is not None:
        out["Time"] = _number(m.group(2))
    out["Calls"] = _number(m.group(3))
    return out


_LEADING_NUMBER = re.compile(rf"^\s*({_NUM})")


def _ms(s: str) -> Any:
    """``" 0.123 ms"`` -> 0.123 (anything after the number is ignored)."""
    m = _LEADING_NUMBER.match(s)
    return _number(m.group(1)) if m else _value(s)


def _kb(s: str) -> Any:
    """``"64kB"`` -> 64; anything else as ``_value`` reads it."""
    s = s.strip()
    return int(s[:-2]) if s.endswith("kB") and s[:-2].isdecimal() else _value(s)


def _pairs(s: str) -> list[tuple[str, str]]:
    """``"A: 1  B: x y  C: 2kB"`` -> [("A", "1"), ("B", "x y"), ("C", "2kB")]."""
    out: list[tuple[str, str]] = []
    for seg in _GAP.split(s.strip()):
        k = seg.find(": ")
        if seg.endswith(":") and k < 0:
            out.append((seg[:-1], ""))
        elif k > 0 and seg[:1].isupper():
            out.append((seg[:k], seg[k + 2 :].strip()))
        elif out:
            key, val = out[-1]
            out[-1] = (key, (val + " " + seg).strip())
    return out


def _kv_tokens(s: str) -> dict[str, str]:
    """``"hit=1 read=2"`` -> {"hit": "1", "read": "2"}."""
    out = {}
    for tok in s.split():
        k, eq, v = tok.partition("=")
        if eq:
            out[k] = v
    return out


_NESTING = re.compile(r"[(\[{'\"]")


def _split_list(s: str) -> list[str]:
    """Split on commas outside parentheses, brackets and quotes."""
    if _NESTING.search(s) is None:
        return [x for x in (p.strip() for p in s.split(", ")) if x]
    out = []
    depth = 0
    quote: str | None = None
    start = 0
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch == "'" or ch == '"':
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth <= 0 and s.startswith(", ", i):
            out.append(s[start:i].strip())
            start = i + 2
            i += 1
        i += 1
    out.append(s[start:].strip())
    return [x for x in out if x]


def _io(target: dict[str, Any], value: str, ctx: _Ctx) -> None:
    ctx.has_io = True
    for part in value.split(","):
        words = part.split()
        if not words:
            continue
        scope = None
        if "=" not in words[0]:
            scope = words[0]
            words = words[1:]
        for k, v in _kv_tokens(" ".join(words)).items():
            if k not in ("read", "write") or not _NUMBER.match(v):
                continue
            what = "Read" if k == "read" else "Write"
            if scope is None or scope == "shared/local":
                ctx.io_old = True
                target[f"I/O {what} Time"] = _number(v)
            elif scope == "temp":
                ctx.io_temp = True
                target[f"Temp I/O {what} Time"] = _number(v)
            elif scope in ("shared", "local"):
                ctx.io16 = True
                target[f"{scope.capitalize()} I/O {what} Time"] = _number(v)
    target.setdefault("_io", True)


def _groups(value: str) -> dict[str, Any]:
    """Incremental Sort's ``Full-sort Groups: 1  Sort Method: quicksort  Average Memory: 1kB  Peak Memory: 1kB``."""
    pairs = _pairs(value)
    out: dict[str, Any] = {}
    head = value.split("  ", 1)[0].strip()
    if _NUMBER.match(head):
        out["Group Count"] = _number(head)
    for k, v in pairs:
        if k in ("Sort Method", "Sort Methods"):
            out["Sort Methods Used"] = [x.strip() for x in v.split(",") if x.strip()]
        elif k in ("Average Memory", "Peak Memory", "Average Disk", "Peak Disk"):
            group = "Sort Space Memory" if k.endswith("Memory") else "Sort Space Disk"
            sub = "Average Sort Space Used" if k.startswith("Average") else "Peak Sort Space Used"
            out.setdefault(group, {})[sub] = _kb(v)
    return out


_JIT_OR_TOP = frozenset(
    {"Functions", "Generation", "Inlining", "Optimization", "Emission", "Total", "Deform", "Planning Time",
     "Execution Time", "Total Runtime", "Query Identifier", "Time", "Calls", "Output Volume", "Memory Used",
     "Memory Allocated"}
)


_ZERO_BUFFERS = dict.fromkeys(K.BUFFER_KEYS, 0)


_SHARED_ONLY = re.compile(r"shared(?: hit=(\d+))?(?: read=(\d+))?(?: dirtied=(\d+))?(?: written=(\d+))?")


def _shared_only(value: str) -> tuple[int | None, ...] | None:
    """(hit, read, dirtied, written) of a Buffers value naming shared buffers only (None where not shown), or None."""
    m = _SHARED_ONLY.fullmatch(value)
    if m is None:
        return None
    return tuple(None if g is None else int(g) for g in m.groups())


def _p_buffers(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    ctx.has_buffers = True
    t.update(_ZERO_BUFFERS)  # PostgreSQL's JSON has all ten; TEXT shows the non-zero ones
    shared = _shared_only(value)
    if shared is not None:  # the usual line: shared buffers only
        hit, read, dirtied, written = shared
        if hit is not None:
            t["Shared Hit Blocks"] = hit
        if read is not None:
            t["Shared Read Blocks"] = read
        if dirtied is not None:
            t["Shared Dirtied Blocks"] = dirtied
        if written is not None:
            t["Shared Written Blocks"] = written
        return
    for part in value.split(", "):
        words = part.split()
        if not words:
            continue
        scope = _BUF_SCOPES.get(words[0])
        if scope is None:
            continue
        for tok in words[1:]:
            k, _, v = tok.partition("=")
            name = scope.get(k)
            if name is not None and v.isdigit():
                t[name] = int(v)


_BUF_SCOPES: dict[str, dict[str, str]] = {
    scope: {what.lower(): f"{scope.capitalize()} {what} Blocks" for what in ("Hit", "Read", "Dirtied", "Written")}
    for scope in ("shared", "local", "temp")
}


def _p_io(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    _io(t, value, ctx)


_WAL_NAMES = {"records": "WAL Records", "fpi": "WAL FPI", "bytes": "WAL Bytes", "buffers full": "WAL Buffers Full"}


def _p_wal(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    for k, v in _WAL_PAIRS.findall(value):
        t[_WAL_NAMES[k]] = int(v)


def _p_sort_method(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    pairs = _pairs("Sort Method: " + value)
    t["Sort Method"] = pairs[0][1] if pairs else value
    for k, v in pairs[1:]:
        if k in ("Memory", "Disk"):
            t["Sort Space Used"] = _kb(v)
            t["Sort Space Type"] = k


def _p_heap_blocks(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    toks = _kv_tokens(value)
    t["Exact Heap Blocks"] = int(toks["exact"]) if toks.get("exact", "").isdigit() else 0
    t["Lossy Heap Blocks"] = int(toks["lossy"]) if toks.get("lossy", "").isdigit() else 0


_ORIGINALLY = re.compile(r"^(\d+)(?: \(originally (\d+)\))?$")


def _p_buckets(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    for k, v in _pairs("Buckets: " + value):
        m = _ORIGINALLY.match(v)
        if k == "Buckets" and m:
            t["Hash Buckets"] = int(m.group(1))
            t["Original Hash Buckets"] = int(m.group(2) or m.group(1))
        elif k == "Batches" and m:
            t["Hash Batches"] = int(m.group(1))
            t["Original Hash Batches"] = int(m.group(2) or m.group(1))
        elif k == "Memory Usage":
            t["Peak Memory Usage"] = _kb(v)
        elif k == "Disk Usage":
            t["Disk Usage"] = _kb(v)


def _p_hashagg(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    for k, v in _pairs(f"{key}: {value}"):
        if k == "Batches":
            t["HashAgg Batches"] = _value(v)
        elif k == "Planned Partitions":
            t["Planned Partitions"] = _value(v)
        elif k == "Memory Usage":
            t["Peak Memory Usage"] = _kb(v)
        elif k == "Disk Usage":
            t["Disk Usage"] = _kb(v)


_CACHE_NAMES = {"Hits": "Cache Hits", "Misses": "Cache Misses", "Evictions": "Cache Evictions", "Overflows": "Cache Overflows"}


def _p_hits(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    for k, v in _pairs("Hits: " + value):
        if k in _CACHE_NAMES:
            t[_CACHE_NAMES[k]] = _value(v)
        elif k == "Memory Usage":
            t["Peak Memory Usage"] = _kb(v)


_ESTIMATE_NAMES = {
    "capacity": "Estimated Capacity",
    "distinct keys": "Estimated Distinct Lookup Keys",
    "lookups": "Estimated Lookups",
    "hit percent": "Estimated Hit Percent",
}


def _p_estimates(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    for k, v in _ESTIMATE_PAIRS.findall(value):
        t[_ESTIMATE_NAMES[k]] = _number(v)


def _p_groups(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    t[key] = _groups(value)


def _p_storage(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    for k, v in _pairs("Storage: " + value):
        if k == "Storage":
            t["Storage"] = v
        elif k == "Maximum Storage":
            t["Maximum Storage"] = _kb(v)


def _p_tuples(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    for k, v in _kv_tokens(value).items():
        if v.isdigit():
            t[f"Tuples {k.capitalize()}"] = int(v)


def _p_sampling(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    m = _SAMPLING.match(value)
    if m:
        t["Sampling Method"] = m.group(1)
        t["Sampling Parameters"] = _split_list(m.group(2))
        if m.group(3) is not None:
            t["Repeatable Seed"] = m.group(3)
    else:
        t["Sampling"] = value


def _p_memory(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    """Planning: ``Memory: used=6kB  allocated=8kB``."""
    for k, v in _kv_tokens(value).items():
        if k in ("used", "allocated"):
            t["Memory " + k.capitalize()] = _kb(v)


def _p_list(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    items = _split_list(value)
    if key in ("Group Key", "Hash Key") and ("Group Key" in t or "Hash Key" in t):
        # grouping sets print one Group Key / Hash Key line per set: keep them all
        sets = t.get("Grouping Sets")
        if sets is None:
            first = "Group Key" if "Group Key" in t else "Hash Key"
            sets = t["Grouping Sets"] = [{first + "s": [t[first]]}]
        sets.append({key + "s": [items]})
        return
    t[key] = items


def _p_text(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    t[key] = value


def _p_value(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    t[key] = _value(value)


_HANDLERS = {
    **{k: _p_list for k in K.LIST_KEYS},
    **{k: _p_text for k in K.STRING_KEYS if k != "Query Text"},
    **{k: _p_value for k in K.NUMERIC_KEYS | K.BOOL_KEYS if k not in _JIT_OR_TOP},
    **{f"Rows Removed by {x}": _p_value for x in ("Filter", "Index Recheck", "Join Filter", "Conflict Filter")},
    # lines with several values, after the generic ones so they win
    "Buffers": _p_buffers,
    "I/O Timings": _p_io,
    "WAL": _p_wal,
    "Sort Method": _p_sort_method,
    "Heap Blocks": _p_heap_blocks,
    "Buckets": _p_buckets,
    "Batches": _p_hashagg,
    "Planned Partitions": _p_hashagg,
    "Hits": _p_hits,
    "Estimates": _p_estimates,
    "Full-sort Groups": _p_groups,
    "Pre-sorted Groups": _p_groups,
    "Storage": _p_storage,
    "Tuples": _p_tuples,
    "Sampling": _p_sampling,
}


_NESTED_KEYS = frozenset({"Plans", "Workers", "Target Tables"})


def _property(
    target: dict[str, Any],
    content: str,
    ctx: _Ctx,
    stack: list[_Entry],
    pos: int,
    *,
    node_level: bool,
) -> None:
    key = _key_of(content)
    if key is None or key in _NESTED_KEYS:  # "Plans: x" in stray text is no property: the walk builds those
        return
    value = content[len(key) + 1 :].strip()
    handler = _HANDLERS.get(key)
    if handler is not None:
        handler(target, key, value, ctx)
    elif key == "Memory":
        _p_memory(target, key, value, ctx)
    elif key == "JIT":
        jit: dict[str, Any] = {}
        target["JIT"] = jit
        stack.append(_Entry("block", pos, jit))
    elif key == "Functions" and "Functions" not in target and _is_jit(target):
        target["Functions"] = _value(value)
    elif key == "Options" and _is_jit(target):
        opts = {}
        for part in value.split(","):
            w = part.split()
            if len(w) == 2:
                opts[w[0]] = w[1] == "true"
        target["Options"] = opts
    elif key == "Timing" and _is_jit(target):
        timing: dict[str, Any] = {}
        for name, ms, deform in _JIT_TIMING.findall(value):
            if deform:
                timing[name] = {"Deform": _number(deform), "Total": _number(ms)}
            else:
                timing[name] = _number(ms)
        target["Timing"] = timing
    else:
        target[key] = _value(value)


def _is_jit(target: dict[str, Any]) -> bool:
    return "Node Type" not in target and "Worker Number" not in target


def _top_property(top: dict[str, Any], key: str, content: str, ctx: _Ctx, stack: list[_Entry], pos: int) -> None:
    value = content[len(key) + 1 :].strip()
    if key == "Planning":
        block: dict[str, Any] = top.setdefault("Planning", {})
        stack.append(_Entry("block", pos, block))
    elif key == "Serialization":
        ser: dict[str, Any] = {}
        for k, v in _kv_tokens(value.replace(" ms", "ms")).items():
            if k == "time":
                ser["Time"] = _ms(v)
            elif k == "output":
                ser["Output Volume"] = _kb(v)
            elif k == "format":
                ser["Format"] = v
        top["Serialization"] = ser
        stack.append(_Entry("block", pos, ser))
    elif key == "JIT":
        jit: dict[str, Any] = {}
        top["JIT"] = jit
        stack.append(_Entry("block", pos, jit))
    elif key == "Settings":
        top["Settings"] = _settings(value)
    elif key == "Query Identifier":
        top[key] = _value(value)
    else:
        top[key] = _value(value) if key not in K.STRING_KEYS else value


def _settings(value: str) -> dict[str, str]:
    """``a = '1', search_path = 'x, y'`` -> {"a": "1", "search_path": "x, y"}."""
    out: dict[str, str] = {}
    i, n = 0, len(value)
    while i < n:
        eq = value.find(" = ", i)
        if eq < 0:
            break
        name = value[i:eq].strip().strip(",").strip()
        j = eq + 3
        if j < n and value[j] == "'":
            parts = []
            j += 1
            while j < n:
                k = value.find("'", j)
                if k < 0:
                    parts.append(value[j:])
                    j = n
                    break
                parts.append(value[j:k])
                if k + 1 < n and value[k + 1] == "'":
                    parts.append("'")
                    j = k + 2
                    continue
                j = k + 1
                break
            val = "".join(parts)
        else:
            k = value.find(", ", j)
            k = n if k < 0 else k
            val = value[j:k]
            j = k
        if name:
            out[name] = val
        while j < n and value[j] in ", ":
            j += 1
        i = j
    return out


_JOINS = ("Nested Loop", "Hash Join", "Merge Join")


def _fill_defaults(top: dict[str, Any], ctx: _Ctx) -> None:
    """Add the keys PostgreSQL's JSON always has and TEXT leaves out when they are zero or false."""
    nodes = ctx.nodes
    analyzed = any("Actual Loops" in n for n in nodes)
    verbose = any("Output" in n for n in nodes)
    pg18 = ctx.pg18 or any("Index Searches" in n or "Disabled" in n or "WAL Buffers Full" in n for n in nodes)
    has_wal = any("WAL Records" in n for n in nodes)
    zeros: tuple[str, ...] = ()
    zero_buffers = analyzed and ctx.has_buffers
    if analyzed:
        if ctx.has_io:
            zeros += K.IO_KEYS_16 if ctx.io16 else K.IO_KEYS_13 + (K.IO_KEYS_TEMP if ctx.io_temp else ())
        if has_wal:
            zeros += ("WAL Records", "WAL FPI", "WAL Bytes") + (("WAL Buffers Full",) if pg18 else ())
    for node in nodes:
        if ctx.has_io:
            node.pop("_io", None)
            for w in node.get("Workers", ()):
                w.pop("_io", None)
        nt = node["Node Type"]
        if pg18 and "Disabled" not in node:
            node["Disabled"] = False
        if nt == "Gather" and "Single Copy" not in node:
            node["Single Copy"] = False
        elif verbose and nt in _JOINS and "Inner Unique" not in node:
            node["Inner Unique"] = False
        if "HashAgg Batches" in node:
            node.setdefault("Disk Usage", 0)
            if "Startup Cost" in node:
                node.setdefault("Planned Partitions", 0)
        if not analyzed:
            continue
        if "Actual Loops" in node:
            if "Filter" in node and "Rows Removed by Filter" not in node:
                node["Rows Removed by Filter"] = 0
            if "Join Filter" in node and "Rows Removed by Join Filter" not in node:
                node["Rows Removed by Join Filter"] = 0
            if (nt == "Index Scan" and "Index Cond" in node) or (nt == "Bitmap Heap Scan" and "Recheck Cond" in node):
                node.setdefault("Rows Removed by Index Recheck", 0)
        if zero_buffers and "Shared Hit Blocks" not in node:
            node.update(_ZERO_BUFFERS)
        for key in zeros:
            if key not in node:
                node[key] = 0
    if analyzed:
        top.setdefault("Triggers", [])
    for block in (top.get("Planning"), top.get("Serialization")):
        if isinstance(block, dict):
            had_io = block.pop("_io", None)
            if "Shared Hit Blocks" in block:
                for key in K.BUFFER_KEYS:
                    block.setdefault(key, 0)
            if had_io:
                for key in K.IO_KEYS_16 if ctx.io16 else K.IO_KEYS_13:
                    block.setdefault(key, 0)
