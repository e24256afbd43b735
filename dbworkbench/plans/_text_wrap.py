"""What kind of line a TEXT line is, and gluing back lines that a mail client or terminal hard-wrapped."""

from __future__ import annotations

import re

from . import _keys as K
from ._source import Line, is_footer
from ._text_names import _EXACT, node_from_name
from ._text_node_line import _NUM, _annotation_start


_KEY = re.compile(r"^([A-Z][A-Za-z0-9_/()\-]*(?: [A-Za-z0-9_/()\-]+){0,6}):(?: |$)")


_WORKER = re.compile(r"^Worker (\d+): *")


_TRIGGER = re.compile(rf"^Trigger (.+): (?:time=({_NUM}) )?calls=({_NUM})$")


_HEADER = re.compile(r"^(?:InitPlan|SubPlan)(?: \d+)?(?: \(.*\))?$|^CTE \S")


_TARGET = re.compile(r"^(?:Foreign )?(Insert|Update|Delete|Merge) on \S")


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
