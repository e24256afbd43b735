"""JSON, YAML and XML plans, and checking any plan-shaped Python object.

Whatever the source, the result is PostgreSQL's FORMAT JSON shape for one
statement: ``{"Plan": {"Node Type": ..., "Plans": [...]}, "Planning Time": ...}``.
The tree is copied without recursion (plans can be deep) and checked as it is
copied: every node a dict with a ``Node Type`` string, ``Plans`` a list of nodes.
"""

from __future__ import annotations

import copy
import json
import re
import textwrap
from typing import Any

import orjson
import yaml

from ..errors import PlanParseError
from . import _keys as K
from ._source import Line, is_footer

_XML_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")


# --------------------------------------------------------------------------- objects


def loads(text: str) -> Any:
    """``json.loads``, by orjson where it can (twice as fast on a big plan).

    What orjson refuses (NaN and Infinity, lone surrogates, numbers past the
    float range, nesting over 1,024 levels) goes to ``json``, which accepts
    more. One difference remains, for hand-made JSON only: orjson reads an
    integer beyond 64 bits as a float; PostgreSQL prints none.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def top_from_object(obj: Any, *, copy: bool = True) -> dict[str, Any]:
    """A decoded plan (dict, or the list psycopg returns) as a checked top-level dict.

    ``copy=False`` is for objects this package just decoded: they are checked in
    place instead of copied.
    """
    for _ in range(4):  # psycopg rows: ([{...}],) or [([{...}],)]
        if isinstance(obj, (list, tuple)) and len(obj) == 1 and isinstance(obj[0], (list, tuple)):
            obj = obj[0]
        else:
            break
    if isinstance(obj, (list, tuple)):
        if not obj:
            raise PlanParseError("the plan list is empty", expected='[{"Plan": {...}}]')
        obj = obj[0]
    if not isinstance(obj, dict):
        raise PlanParseError(
            f"a plan must be a JSON object, got {type(obj).__name__}", expected='{"Plan": {"Node Type": ...}}'
        )
    if "Plan" in obj:
        top = obj
    elif "Node Type" in obj:
        top = {"Plan": obj}
    else:
        raise PlanParseError('no "Plan" key in the plan object', expected='{"Plan": {"Node Type": ...}}')
    if not copy:
        _check_tree(top["Plan"])
        return top
    out: dict[str, Any] = {"Plan": None}
    for k, v in top.items():
        if k != "Plan":
            out[str(k)] = _copy_value(v)
    out["Plan"] = _copy_tree(top["Plan"])
    return out


def _copy_value(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return copy.deepcopy(v)


def _copy_tree(src_root: Any) -> dict[str, Any]:
    if not isinstance(src_root, dict):
        raise PlanParseError(f'"Plan" must be an object, got {type(src_root).__name__}', expected='"Plan": {"Node Type": ...}')
    root: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any], dict[str, Any], str]] = [(src_root, root, "Plan")]
    seen: set[int] = set()
    while stack:
        src, dst, where = stack.pop()
        if id(src) in seen:
            raise PlanParseError(f"{where} appears twice in the plan tree (a cycle?)", expected="a tree of nodes")
        seen.add(id(src))
        nt = src.get("Node Type")
        if not isinstance(nt, str) or not nt.strip():
            raise PlanParseError(f'{where} has no "Node Type" string', expected='"Node Type": "Seq Scan" (or another node)')
        for k, v in src.items():
            if k != "Plans":
                dst[str(k)] = _copy_value(v)
        plans = src.get("Plans")
        if plans is None:
            continue
        if not isinstance(plans, (list, tuple)):
            raise PlanParseError(f'"Plans" of {where} is not a list', expected='"Plans": [{...}, ...]')
        children: list[dict[str, Any]] = []
        for i, child in enumerate(plans):
            if not isinstance(child, dict):
                raise PlanParseError(f'{where}.Plans[{i}] is not an object', expected='{"Node Type": ...}')
            c: dict[str, Any] = {}
            children.append(c)
            stack.append((child, c, f"{where}.Plans[{i}]"))
        dst["Plans"] = children
    return root


def _check_tree(root: Any) -> None:
    """What ``_copy_tree`` checks, without copying (JSON and YAML we decoded ourselves)."""
    if not isinstance(root, dict):
        raise PlanParseError(f'"Plan" must be an object, got {type(root).__name__}', expected='"Plan": {"Node Type": ...}')
    stack: list[tuple[dict[str, Any], str]] = [(root, "Plan")]
    while stack:
        node, where = stack.pop()
        nt = node.get("Node Type")
        if type(nt) is not str or not nt.strip():
            raise PlanParseError(f'{where} has no "Node Type" string', expected='"Node Type": "Seq Scan" (or another node)')
        plans = node.get("Plans")
        if plans is None:
            continue
        if type(plans) is not list:
            raise PlanParseError(f'"Plans" of {where} is not a list', expected='"Plans": [{...}, ...]')
        for i, child in enumerate(plans):
            if type(child) is not dict:
                raise PlanParseError(f"{where}.Plans[{i}] is not an object", expected='{"Node Type": ...}')
            stack.append((child, f"{where}.Plans[{i}]"))


def looks_like_plan(obj: Any) -> bool:
    for _ in range(4):
        if isinstance(obj, (list, tuple)) and obj:
            obj = obj[0]
        else:
            break
    return isinstance(obj, dict) and ("Plan" in obj or "Node Type" in obj)


# --------------------------------------------------------------------------- JSON


def find_json(lines: list[Line]) -> tuple[int, str] | None:
    """Index of the first line that opens a JSON value, and the text from there on."""
    for i, ln in enumerate(lines):
        s = ln[1].lstrip()
        if s.startswith(("[", "{")):
            return i, "\n".join(x[1] for x in lines[i:])
    return None


def parse_json(lines: list[Line], start: int, text: str) -> Any:
    """Decode the JSON value starting at ``lines[start]``; trailing text (a footer) is ignored."""
    body = text.lstrip()
    offset_lines = text[: len(text) - len(body)].count("\n")
    try:
        obj, end = json.JSONDecoder().raw_decode(body)
    except json.JSONDecodeError as exc:
        idx = start + offset_lines + exc.lineno - 1
        no = lines[idx][0] if 0 <= idx < len(lines) else None
        raise PlanParseError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=no, expected="JSON") from exc
    except RecursionError as exc:
        raise PlanParseError("JSON nested too deeply", line=lines[start][0], expected="a plan") from exc
    rest = body[end:].strip()
    if rest and not all(is_footer(r) or not r.strip() for r in rest.split("\n")):
        # some clients print several results; only junk after the value is tolerated
        pass
    return obj


# --------------------------------------------------------------------------- YAML

_YAML_START = re.compile(r"^\s*(?:- +)?(?:Plan|Query Text):")
_YAML_NODE = re.compile(r"^\s*(?:- +)?Node Type:")


def find_yaml(lines: list[Line]) -> int | None:
    """First line of a YAML plan: ``- Plan:`` (or auto_explain's ``Query Text:``) with ``Node Type:`` below."""
    for i, ln in enumerate(lines):
        if _YAML_START.match(ln[1]) and any(_YAML_NODE.match(x[1]) for x in lines[i + 1 : i + 40]):
            return i
    return None


_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"' + r"|'(?:[^'\n]|'')*'")
_ANCHOR_OR_ALIAS = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s,\]}]")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(lines: list[Line], start: int) -> Any:
    """Load with libyaml when present; anchors and aliases are refused first.

    PostgreSQL never writes them, and an alias bomb (a few lines that stand for
    an exponential tree) would otherwise make the plan walk explode.
    """
    body = [ln for ln in lines[start:] if not is_footer(ln[1])]
    text = textwrap.dedent("\n".join(ln[1] for ln in body))
    bare = _QUOTED.sub('""', text)
    m = _ANCHOR_OR_ALIAS.search(bare)
    if m is not None:
        row = bare.count("\n", 0, m.start() + 1)
        no = body[row][0] if row < len(body) else None
        raise PlanParseError("YAML anchors and aliases are not allowed in a plan", line=no, expected="plain YAML")
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        no = None
        if mark is not None and 0 <= mark.line < len(body):
            no = body[mark.line][0]
        raise PlanParseError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", line=no, expected="YAML") from exc
    except RecursionError as exc:
        raise PlanParseError("YAML nested too deeply", line=lines[start][0], expected="a plan") from exc


# --------------------------------------------------------------------------- XML


def find_xml(lines: list[Line]) -> int | None:
    for i, ln in enumerate(lines):
        s = ln[1].lstrip()
        if s.startswith(("<explain", "<?xml")):
            return i
    return None


def parse_xml(lines: list[Line], start: int) -> dict[str, Any]:
    from defusedxml import ElementTree as DET

    text = "\n".join(ln[1] for ln in lines[start:])
    end = text.find("</explain>")
    if end >= 0:
        text = text[: end + len("</explain>")]
    try:
        root = DET.fromstring(text.strip())
    except DET.ParseError as exc:
        row = getattr(exc, "position", (None, None))[0]
        no = lines[start + row - 1][0] if row and 0 <= start + row - 1 < len(lines) else None
        raise PlanParseError(f"invalid XML: {exc}", line=no, expected="XML") from exc
    except Exception as exc:  # defusedxml's refusals: DTDForbidden, EntitiesForbidden, ...
        raise PlanParseError(f"XML refused: {type(exc).__name__}", line=lines[start][0], expected="plain XML") from exc
    query = None
    if _local(root.tag) == "Query":
        query = root
    else:
        for child in root:
            if _local(child.tag) == "Query":
                query = child
                break
    if query is None:
        raise PlanParseError("no <Query> element in the XML", line=lines[start][0], expected="<explain><Query>...")
    value = _xml_value(query, "Query")
    if not isinstance(value, dict):
        raise PlanParseError("the <Query> element is empty", line=lines[start][0], expected="<Plan>")
    return value


def _local(tag: Any) -> str:
    tag = str(tag)
    return tag.rsplit("}", 1)[-1]


def _key(tag: str) -> str:
    return K.XML_TAG_TO_KEY.get(tag) or tag.replace("-", " ")


def _xml_value(el: Any, key: str, depth: int = 0) -> Any:
    if depth > 2000:
        raise PlanParseError("XML nested too deeply", expected="a plan")
    children = list(el)
    if not children:
        text = (el.text or "").strip()
        if key in K.XML_LIST_PARENTS or key in K.LIST_KEYS:
            return []
        if key == "Settings" or key in ("JIT", "Planning", "Serialization", "Options", "Timing"):
            return {} if not text else text
        return _xml_scalar(text, key)
    tags = [_local(c.tag) for c in children]
    if key in K.XML_LIST_PARENTS:
        return [_xml_value(c, _key(t), depth + 1) for c, t in zip(children, tags, strict=True)]
    if all(t == "Item" for t in tags):
        return [(c.text or "").strip() for c in children]
    out: dict[str, Any] = {}
    for c, t in zip(children, tags, strict=True):
        if key == "Settings":
            out[t] = (c.text or "").strip()
            continue
        k = _key(t)
        # groups whose XML tag is shared: PostgreSQL writes them in this order
        if k == "Incremental Sort Groups":
            k = "Pre-sorted Groups" if "Full-sort Groups" in out else "Full-sort Groups"
        elif k == "Sort Space":
            k = "Sort Space Disk" if "Sort Space Memory" in out else "Sort Space Memory"
        out[k] = _xml_value(c, k, depth + 1)
    return out


def _xml_scalar(text: str, key: str) -> Any:
    if key in K.STRING_KEYS:
        return text
    if text in ("true", "false"):
        return text == "true"
    if _XML_NUMBER.match(text):
        try:
            return int(text) if re.match(r"^-?\d+$", text) else float(text)
        except (ValueError, OverflowError):
            return text
    return text
