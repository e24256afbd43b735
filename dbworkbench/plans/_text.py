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

This module is the walk. The steps it calls each have a module: node names
(``_text_names``), a node line's annotations (``_text_node_line``), line kinds and
wrap repair (``_text_wrap``), property lines and the keys TEXT leaves out
(``_text_details``); psql frames and log prefixes are removed before (``_source``).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import PlanParseError
from ._source import Line, is_footer
from ._text_names import _set_target
from ._text_node_line import _NUM, _number, parse_node_line
from ._text_wrap import _HEADER, _KEY, _PLAN_LEVEL, _TARGET, _TRIGGER, _WORKER, _join_wrapped, _open_parens, _strip_arrow, looks_like_node
from ._text_details import _Ctx, _Entry, _HANDLERS, _fill_defaults, _ms, _property, _top_property


_WORKER_ACTUAL = re.compile(rf"^actual (?:time=({_NUM})\.\.({_NUM}) )?rows=({_NUM}) loops=(\d+)$")


# a child's Parent Relationship when its parent says it; otherwise Outer, then Inner
_CHILD_RELATIONSHIP = {
    **dict.fromkeys(("Append", "Merge Append", "BitmapAnd", "BitmapOr", "Custom Scan"), "Member"),
    "Subquery Scan": "Subquery",
}


class _Wrapped(Exception):
    """The optimistic pass met a line that only makes sense as part of a wrapped one."""


def parse_text(lines: list[Line], root_at: int | None = None) -> dict[str, Any]:
    """Cleaned TEXT lines into ``{"Plan": {...}, "Planning Time": ..., ...}``.

    A first pass takes each line as it is and gives up at the first sign of
    hard-wrapping (a piece at column 0, a line that is no plan line, an open
    parenthesis, a property after a node's children); the second pass then
    glues the pieces back first (``_join_wrapped``). Plans that were never
    wrapped are read in one pass. ``root_at``: the root node line's index, when the caller knows it.
    """
    if root_at is None:
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
