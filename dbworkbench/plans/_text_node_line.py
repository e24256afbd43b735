"""A TEXT node line: its name and its ``(cost=...)``, ``(actual ...)`` or ``(never executed)`` annotations."""

from __future__ import annotations

import re
from typing import Any

from ._text_names import _named_node, node_from_name


_NUM = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"


# spaces optional: a mail client may have eaten the one where it wrapped the line
_COST = re.compile(rf"\(cost=({_NUM})\.\.({_NUM}) ?rows=({_NUM}) ?width=(\d+)\)")


_ACTUAL = re.compile(rf"\(actual ?(?:time=({_NUM})\.\.({_NUM}) ?)?rows=({_NUM}) ?loops=(\d+)\)")


_NUMBER = re.compile(rf"^{_NUM}$")


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
