"""The pev2 sample plans in ``shared/plans/pev2`` and a subset matcher for their expectations.

The plans are read where they are (never copied into the project). The
expectations were written for pev2's own TEXT parser, which differs from
PostgreSQL's FORMAT JSON in a few places; ``matches`` accepts PostgreSQL's
spelling for each of those, so the check is "same meaning as pev2 expects, in
the keys PostgreSQL uses". Each difference is listed in ``PEV2_SPELLINGS``.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PEV2 = Path(os.environ.get("DBWORKBENCH_PLAN_CORPUS", ROOT.parent / "shared" / "plans" / "pev2"))
if not PEV2.is_dir():  # a clone with shared/ beside it (as CI has)
    PEV2 = ROOT / "shared" / "plans" / "pev2"
SKIP_REASON = f"pev2 sample plans not found at {PEV2} (set DBWORKBENCH_PLAN_CORPUS to their folder)"

# pev2's spelling -> PostgreSQL's (FORMAT JSON) spelling, as handled in ``matches``:
PEV2_SPELLINGS = {
    '"Node Type": "Nested Loop Join", "Hash Semi Join", ...': '"Node Type": "Nested Loop" / "Hash Join" + "Join Type"',
    '"Node Type": "GroupAggregate" / "HashAggregate"': '"Node Type": "Aggregate" + "Strategy": Sorted / Hashed',
    '"Node Type": "Insert" / "Update" / "Delete" / "Merge"': '"Node Type": "ModifyTable" + "Operation"',
    '"Node Type": "Subquery Scan x" (PostgreSQL < 9.0)': '"Node Type": "Subquery Scan" + "Alias": "x"',
    '"Relation Name": "schema.table" (VERBOSE)': '"Schema": "schema" + "Relation Name": "table"',
    '"Index Name" / "Relation Name" with SQL quotes': "names without quotes, as PostgreSQL's JSON has them",
    '"Output": "a, b"': '"Output": ["a", "b"]',
    '"Sort Space Used": "25" (a string)': '"Sort Space Used": 25',
    '"Temp Hit Blocks" / "Temp Dirtied Blocks": 0': "not reported by PostgreSQL (no such counters): skipped",
    '"*..." keys': "pev2's own computed values: skipped",
    '"Query Identifier": -5424821330993577000 (JavaScript float)': "compared as a number, to 15 digits",
}


def plan_files() -> list[Path]:
    """Every plan file of the corpus (expectations and query files left out)."""
    if not PEV2.is_dir():
        return []
    out = []
    for p in sorted(PEV2.rglob("*")):
        if not p.is_file():
            continue
        name = p.name
        if name.endswith(("-expect", ".expect", ".query.sql")) or name.startswith("."):
            continue
        out.append(p)
    return out


def expectation_pairs() -> list[tuple[Path, Path]]:
    pairs = []
    for p in plan_files():
        name = p.name
        exp = None
        if name.endswith("-plan"):
            exp = p.with_name(name[: -len("-plan")] + "-expect")
        elif name.endswith(".plan"):
            exp = p.with_name(name[: -len(".plan")] + ".expect")
        if exp is not None and exp.is_file():
            pairs.append((p, exp))
    return pairs


def read(p: Path) -> str:
    return p.read_text(encoding="utf-8", errors="replace")


def load_expect(p: Path) -> Any:
    return json.loads(read(p))


_BARE = re.compile(r"^[a-z_][a-z0-9_$]*$")


def _quote(name: str) -> str:
    return name if _BARE.match(name) else '"' + name.replace('"', '""') + '"'


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _same(exp: Any, act: Any) -> bool:
    if isinstance(exp, bool) or isinstance(act, bool):
        return exp is act
    e, a = _num(exp), _num(act)
    if e is not None and a is not None and (not isinstance(exp, str) or not isinstance(act, str)):
        return math.isclose(e, a, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(exp, str) and isinstance(act, list):
        return exp == ", ".join(str(x) for x in act)
    return bool(exp == act)


def matches(exp: Any, act: Any, path: str = "$") -> list[str]:
    """Differences between an expected (pev2) subset and our node/plan dict; [] when it matches."""
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return [f"{path}: expected an object, got {act!r:.80}"]
        errors: list[str] = []
        for k, v in exp.items():
            if k.startswith("*"):
                continue
            if k in ("Temp Hit Blocks", "Temp Dirtied Blocks") and v == 0:
                continue
            here = f"{path}.{k}"
            if k == "Node Type" and isinstance(v, str):
                errors += _node_type(v, act, here)
                continue
            if k == "Relation Name" and isinstance(v, str) and k in act:
                names = {act[k], _quote(act[k])}
                if act.get("Schema"):
                    names |= {f"{act['Schema']}.{act[k]}", f"{_quote(act['Schema'])}.{_quote(act[k])}"}
                if v not in names:
                    errors.append(f"{here}: expected {v!r}, got {sorted(names)}")
                continue
            if k == "Index Name" and isinstance(v, str) and k in act:
                if v not in (act[k], _quote(act[k])):
                    errors.append(f"{here}: expected {v!r}, got {act[k]!r}")
                continue
            if k == "Plans":
                kids = act.get("Plans", [])
                if not isinstance(v, list) or len(v) != len(kids):
                    errors.append(f"{here}: expected {len(v)} children, got {len(kids)}")
                    continue
                for i, (ev, av) in enumerate(zip(v, kids, strict=True)):
                    errors += matches(ev, av, f"{here}[{i}]")
                continue
            if k not in act:
                errors.append(f"{here}: missing (expected {v!r:.80})")
                continue
            errors += matches(v, act[k], here)
        return errors
    if isinstance(exp, list) and isinstance(act, list):
        if len(exp) != len(act):
            return [f"{path}: expected {len(exp)} items, got {len(act)}"]
        out: list[str] = []
        for i, (e, a) in enumerate(zip(exp, act, strict=True)):
            out += matches(e, a, f"{path}[{i}]")
        return out
    if not _same(exp, act):
        return [f"{path}: expected {exp!r:.80}, got {act!r:.80}"]
    return []


def _node_type(v: str, act: dict[str, Any], here: str) -> list[str]:
    got = act.get("Node Type")
    ok = got == v
    m = re.match(r"^(Nested Loop|Hash|Merge)(?: (Left|Right|Full|Semi|Anti|Right Semi|Right Anti))? Join$", v)
    if m:
        base = "Nested Loop" if m.group(1) == "Nested Loop" else m.group(1) + " Join"
        ok = got == base and (m.group(2) is None or act.get("Join Type") == m.group(2))
    elif v in ("GroupAggregate", "HashAggregate", "MixedAggregate"):
        ok = got == "Aggregate" and act.get("Strategy") == {"GroupAggregate": "Sorted", "HashAggregate": "Hashed", "MixedAggregate": "Mixed"}[v]
    elif v in ("Insert", "Update", "Delete", "Merge"):
        ok = got == "ModifyTable" and act.get("Operation") == v
    elif v.startswith("Subquery Scan "):
        ok = got == "Subquery Scan" and act.get("Alias") == v[len("Subquery Scan ") :]
    return [] if ok else [f"{here}: expected {v!r}, got {got!r}"]
