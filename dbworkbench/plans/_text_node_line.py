"""A TEXT node line: its name and its ``(cost=...)``, ``(actual ...)`` or ``(never executed)`` annotations."""

from __future__ import annotations

import re
from typing import Any

from ._text_names import _named_node


_NUM = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"


# spaces optional: a mail client may have eaten the one where it wrapped the line
_COST = re.compile(rf"\(cost=({_NUM})\.\.({_NUM}) ?rows=({_NUM}) ?width=(\d+)\)")


_ACTUAL = re.compile(rf"\(actual ?(?:time=({_NUM})\.\.({_NUM}) ?)?rows=({_NUM}) ?loops=(\d+)\)")


_NUMBER = re.compile(rf"^{_NUM}$")




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
    """A node line without its ``->`` into a node dict, and whether its annotations were complete.

    ``Name  (cost=A..B rows=C width=D) (actual time=E..F rows=G loops=H)``; ``(actual rows=G
    loops=H)`` without TIMING, ``(never executed)``, either part alone, and spaces a mail
    client ate are read too. Annotations cut short (a hard-wrapped line) give ``False``.
    """
    k = _annotation_start(text)
    node = _named_node(text if k < 0 else text[:k], rel, subplan)
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
            startup, total, rows, width = m.groups()
            node["Startup Cost"] = float(startup)
            node["Total Cost"] = float(total)
            node["Plan Rows"] = _number(rows)
            node["Plan Width"] = int(width)
            i = m.end()
        elif text.startswith("(actual", i):
            m = _ACTUAL.match(text, i)
            if m is None:
                break
            startup, total, rows, loops = m.groups()
            if startup is not None:  # without TIMING: "(actual rows=N loops=N)", no times
                node["Actual Startup Time"] = float(startup)
                node["Actual Total Time"] = float(total)
            node["Actual Rows"] = _number(rows)  # PostgreSQL 18 prints decimals
            node["Actual Loops"] = int(loops)
            i = m.end()
        elif text.startswith("(never executed)", i):
            node.update(zip(_ACTUAL_KEYS, (0.0, 0.0, 0, 0)))
            i += 16
        else:
            break
    return node, i >= n


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
