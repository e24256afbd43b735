"""TEXT property lines (``Buffers:``, ``Sort Method:``, ``Hash Cond:``, ...) into FORMAT JSON keys, and the keys
TEXT leaves out when zero or false, added back at the end.

Regular expressions here are anchored or bounded and work on one line; none can backtrack
catastrophically (``tests/plans/test_robustness.py`` has the cases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import _keys as K
from ._text_node_line import _NUM, _NUMBER, _number, _value
from ._text_wrap import _key_of


_GAP = re.compile(r"  +")  # two or more spaces: between the pairs of a line


_WAL_PAIRS = re.compile(r"(records|fpi|bytes|buffers full)=(\d+)")


_ESTIMATE_PAIRS = re.compile(r"(capacity|distinct keys|lookups|hit percent)=(\d+(?:\.\d+)?)")


_SAMPLING = re.compile(r"^(\w+) \((.*)\)(?: REPEATABLE \((.*)\))?$")


_JIT_TIMING = re.compile(r"\b(\w+) (\d+(?:\.\d+)?) ms(?: \(Deform (\d+(?:\.\d+)?) ms\))?")


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


def _p_buffers(t: dict[str, Any], key: str, value: str, ctx: _Ctx) -> None:
    ctx.has_buffers = True
    t.update(_ZERO_BUFFERS)  # PostgreSQL's JSON has all ten; TEXT shows the non-zero ones
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
