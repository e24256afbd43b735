"""``parse_plan``: recognise the format, parse, and wrap into a Plan."""

from __future__ import annotations

import os
from typing import Any

from ..errors import PlanParseError
from ._plan import Plan
from . import _source, _text
from ._source import Line
from ._structured import (
    find_json,
    find_xml,
    find_yaml,
    loads,
    looks_like_plan,
    parse_json,
    parse_xml,
    parse_yaml,
    top_from_object,
)

MAX_INPUT_CHARS = 200_000_000


def parse_plan(source: Any) -> Plan:
    """Parse an EXPLAIN plan from any of the forms PostgreSQL and its tools produce.

    ``source`` is a string (or bytes, or a path to a file) holding a plan in
    FORMAT JSON, TEXT (as psql prints it, framed or not, hard-wrapped or not),
    YAML or XML, or an auto_explain log entry; or the list/dict psycopg returns
    for ``EXPLAIN (FORMAT JSON)``; or a list of TEXT rows. PostgreSQL 9.6 to 18.

    Anything that is not a plan raises :class:`~dbworkbench.errors.PlanParseError`
    naming the line and what was expected there.

    >>> plan = parse_plan('''
    ...  Limit  (cost=0.00..0.04 rows=1 width=4) (actual time=0.011..0.012 rows=1 loops=1)
    ...    ->  Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual time=0.010..0.010 rows=1 loops=1)
    ...  Planning Time: 0.050 ms
    ...  Execution Time: 0.030 ms
    ... ''')
    >>> plan.nodes[["node_type", "relation", "exclusive_ms"]].values.tolist()
    [['Limit', <NA>, 0.002], ['Seq Scan', 't', 0.01]]
    >>> plan.execution_ms
    0.03
    """
    try:
        return _parse(source)
    except PlanParseError:
        raise
    except RecursionError as exc:
        raise PlanParseError("the plan is nested too deeply to read", expected="a plan") from exc
    except MemoryError:
        raise
    except Exception as exc:  # a bug of ours: still say it as a parse error, keep the cause
        raise PlanParseError(
            f"could not read this plan ({type(exc).__name__}: {exc}); please report it with the plan",
            expected="a plan",
        ) from exc


def _parse(source: Any) -> Plan:
    """``parse_plan`` without the last-resort conversion of unexpected errors (tests use it)."""
    if isinstance(source, os.PathLike):
        with open(source, encoding="utf-8", errors="replace") as fh:
            source = fh.read()
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = bytes(source).decode("utf-8", errors="replace")
    if isinstance(source, (list, tuple)) and source and all(
        isinstance(r, str) or (isinstance(r, (list, tuple)) and len(r) == 1 and isinstance(r[0], str)) for r in source
    ):
        rows = [r if isinstance(r, str) else r[0] for r in source]
        if len(rows) > 1 or not rows[0].lstrip().startswith(("[", "{", "<")):
            source = "\n".join(rows)  # TEXT rows as psycopg returns them: [("Seq Scan ...",), ...]
        else:
            source = rows[0]
    if isinstance(source, (dict, list, tuple)):
        return Plan(top_from_object(source), "json")
    if source is None:
        raise PlanParseError("no plan given (None)", expected="a plan as text, JSON or the list psycopg returns")
    if not isinstance(source, str):
        raise PlanParseError(
            f"cannot read a plan from {type(source).__name__}", expected="str, bytes, dict or list"
        )
    if len(source) > MAX_INPUT_CHARS:
        raise PlanParseError(f"input of {len(source):,} characters is too large", expected="a plan")
    if "\x00" in source:
        source = source.replace("\x00", "")
    if "\t" in source:
        source = source.replace("\t", "    ")
    fast = _fast_json(source)
    if fast is not None:
        return fast
    lines = _source.split_lines(source)
    if "plan:" in source:
        lines, _from_log = _source.strip_auto_explain(lines)
    lines = _source.clean(lines)
    if not any(ln[1].strip() for ln in lines):
        raise PlanParseError("the input is empty", line=None, expected="a plan")
    return _dispatch(lines, source)


def _fast_json(source: str) -> Plan | None:
    """Plain JSON (what psql -At, psycopg or a file give): decode it in one go."""
    head = source.lstrip()[:1]
    if head not in ("[", "{"):
        return None
    try:
        obj = loads(source)
    except (ValueError, RecursionError):
        return None  # framed, quoted or broken: the line-by-line path will say where
    if not looks_like_plan(obj):
        return None
    return Plan(top_from_object(obj, copy=False), "json")


def _dispatch(lines: list[Line], source: str) -> Plan:
    # most inputs are TEXT plans: when one starts within the first lines and no
    # JSON, XML or YAML starts before it, there is no need to look further
    early = _text._find_root(lines[:_EARLY])
    if early is not None and not _structured_marker(lines[: early + 1]):
        return Plan(_text.parse_text(lines), "text")
    j = find_json(lines) if ("Node Type" in source or source.lstrip()[:1] in ("[", "{")) else None
    x = find_xml(lines) if ("<explain" in source or "<?xml" in source) else None
    y = find_yaml(lines) if "Node Type:" in source else None
    starts = sorted((i, kind) for i, kind in ((j[0] if j else None, "json"), (x, "xml"), (y, "yaml")) if i is not None)
    first = starts[0][0] if starts else len(lines)
    if _text._find_root(lines[:first]) is None:
        error: PlanParseError | None = None
        for i, kind in starts:
            try:
                return _structured(lines, i, kind, j[1] if (kind == "json" and j) else "")
            except PlanParseError as exc:
                error = error or exc
        # no JSON, XML or YAML plan: a TEXT plan further down, or an error
        if error is not None and _text._find_root(lines) is None:
            raise error
    return Plan(_text.parse_text(lines), "text")


_EARLY = 50


def _structured_marker(lines: list[Line]) -> bool:
    """Whether a JSON, XML or YAML plan may start on one of ``lines`` (what ``_dispatch`` looks for)."""
    for _no, s in lines:
        t = s.lstrip()
        if t[:1] in ("[", "{") or "Node Type" in t or "<explain" in t or "<?xml" in t:
            return True
    return False


def _structured(lines: list[Line], i: int, kind: str, text: str) -> Plan:
    if kind == "json":
        obj = parse_json(lines, i, text)
        expected = '[{"Plan": {"Node Type": ...}}]'
    elif kind == "xml":
        return Plan(top_from_object(parse_xml(lines, i), copy=False), "xml")
    else:
        obj = parse_yaml(lines, i)
        expected = "- Plan:"
    if not looks_like_plan(obj):
        raise PlanParseError(f"this {kind.upper()} is not a plan", line=lines[i][0], expected=expected)
    # YAML may have non-string keys: copy (and so normalise) it; JSON we can check in place
    return Plan(top_from_object(obj, copy=kind == "yaml"), kind)
