"""Input that is not a plan raises PlanParseError, naming the line and what was expected;
nothing else escapes, whatever the input; nothing is slow.

The property tests call ``_parse`` (``parse_plan`` without its last-resort
conversion of unexpected exceptions), so a bug of ours shows as a failure here
instead of hiding as a PlanParseError.
"""

from __future__ import annotations

import json
import os
import string
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbworkbench.errors import PlanParseError
from dbworkbench.plans import Plan, parse_plan
from dbworkbench.plans._parse import _parse

DATA = Path(__file__).parent / "data"
SAMPLES = [(DATA / f"{q}.{f}").read_text(encoding="utf-8") for q in ("serial", "memoize", "update") for f in ("text", "json", "yaml", "xml")]
SAMPLES += [(DATA / "parallel.log-text").read_text(encoding="utf-8")]


def _only_parse_errors(source: Any) -> Plan | None:
    try:
        plan = _parse(source)
    except PlanParseError as exc:
        assert str(exc)
        assert exc.line is None or (isinstance(exc.line, int) and exc.line >= 1)
        return None
    # a plan came out: its pieces must work too
    assert len(plan.nodes) >= 1
    assert (plan.nodes["exclusive_ms"].dropna() >= 0).all()
    plan.text()
    repr(plan)
    plan._repr_html_()
    again = _parse(plan.to_json())
    assert len(again.nodes) == len(plan.nodes)
    return plan


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("source", "line", "expected"),
    [
        ("", None, "a plan"),
        ("   \n\n  ", None, "a plan"),
        ("hello world\nthis is not a plan", 1, "node line"),
        ("QUERY PLAN\n----------\n(0 rows)", 1, "node line"),
        ("SELECT * FROM t;\n", 1, "node line"),
        ('[{"Plan": {"Node Type": "Seq Scan",\n  "Total Cost": }}]', 2, "JSON"),
        ('[{"Plan": {"Node Type": 5}}]', None, '"Node Type"'),
        ('{"Plan": {"Node Type": "Limit", "Plans": {"Node Type": "Seq Scan"}}}', None, '"Plans"'),
        ('{"Plan": {"Node Type": "Limit", "Plans": [1, 2]}}', None, '"Node Type"'),
        ('{"Query": 1}', 1, '"Plan"'),
        ("[]", 1, "Plan"),
        ("<explain><Query><Plan><Node-Type>Seq Scan</Node-Type>", 1, "XML"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><explain><Query/></explain>', 1, "XML"),
        ("- Plan:\n    Node Type: [unclosed\n", 3, "YAML"),
        ("- Plan: &a\n    Node Type: x\n- Plan: *a\n", 1, "YAML"),
    ],
)
def test_not_a_plan(source: str, line: int | None, expected: str) -> None:
    with pytest.raises(PlanParseError) as info:
        parse_plan(source)
    err = info.value
    assert err.line == line, str(err)
    assert err.expected is not None and expected.lower() in err.expected.lower(), str(err)
    if line is not None:
        assert f"line {line}:" in str(err)


@pytest.mark.parametrize("value", [None, 42, 3.5, object(), {"a": 1}, [1], [[]], ("x", 1)])
def test_not_a_plan_objects(value: Any) -> None:
    with pytest.raises(PlanParseError):
        parse_plan(value)


def test_cycle_in_a_python_object() -> None:
    node: dict[str, Any] = {"Node Type": "Limit"}
    node["Plans"] = [node]
    with pytest.raises(PlanParseError, match="twice"):
        parse_plan({"Plan": node})


def test_deep_json_is_refused_cleanly() -> None:
    with pytest.raises(PlanParseError, match="deep"):
        parse_plan("[" * 100_000 + "]" * 100_000)


def _deep_text(depth: int) -> str:
    lines = ["Limit  (cost=0.00..1.00 rows=1 width=4) (actual time=0.010..9.000 rows=1 loops=1)"]
    for d in range(1, depth):
        lines.append(" " * (6 * d - 4) + "->  Limit  (cost=0.00..1.00 rows=1 width=4) (actual time=0.010..8.000 rows=1 loops=1)")
    return "\n".join(lines)


def test_deep_text_plan_parses() -> None:
    """A 3,000-level TEXT plan: the parser, timing, text and JSON output use no recursion."""
    plan = parse_plan(_deep_text(3000))
    assert len(plan.nodes) == 3000 and plan.nodes["depth"].max() == 2999
    assert plan.text().count("\n") == 2999
    assert plan.to_json().count('"Node Type"') == 3000


def test_deep_plan_round_trip() -> None:
    """JSON reading is bounded by Python's recursion limit: 400 levels (PostgreSQL plans are far shallower)."""
    plan = parse_plan(_deep_text(400))
    assert len(parse_plan(plan.to_json()).nodes) == 400


def test_stray_nested_keys_in_text_are_not_properties() -> None:
    """A YAML plan pasted under a TEXT one has "Plans:" and "Workers:" lines: the TEXT walk must not take them."""
    plan = _only_parse_errors("\n".join(SAMPLES))
    assert plan is not None and len(plan.nodes) > 1
    text = "Gather  (cost=0.00..1.00 rows=1 width=4)\n  Workers: 2\n  Plans: x\n  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"
    nodes = parse_plan(text).nodes
    assert nodes["node_type"].tolist() == ["Gather", "Seq Scan"]


def test_garbage_in_numbers_is_missing_not_an_error() -> None:
    plan = parse_plan(
        {"Plan": {"Node Type": "Seq Scan", "Actual Loops": "many", "Actual Total Time": 1e400,
                  "Plan Rows": True, "Shared Hit Blocks": 2**80, "Actual Rows": float("nan"),
                  "Workers Launched": -3, "Sort Key": [1, None], "Filter": {"x": 1}}}
    )
    row = plan.nodes.iloc[0]
    assert row.isna()[["actual_loops", "actual_total_ms", "plan_rows", "shared_hit", "actual_rows"]].all()
    assert row["sort_key"] == "1, None"


# --------------------------------------------------------------------------- speed


PATHOLOGICAL = {
    "open parens": "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n  Filter: " + "(" * 200_000,
    "quotes": "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n  Filter: " + "'" * 200_001,
    "spaces": "Seq Scan on t" + " " * 200_000 + "x",
    "spaces then cost": "Seq Scan on t" + " " * 200_000 + "(cost=1",
    "one long word in JIT timing": "Result  (cost=0.00..0.01 rows=1 width=4)\nJIT:\n  Timing: " + "a" * 200_000,
    "digits in costs": "Seq Scan on t  (cost=" + "1" * 100_000 + ".." + "2" * 100_000 + " rows=1 width=1) x",
    "colons": "Result  (cost=0.00..0.01 rows=1 width=4)\n  " + "A: " * 100_000,
    "trigger": "Result  (cost=0.00..0.01 rows=1 width=4)\nTrigger " + ": x" * 100_000,
    "many wrapped pieces": "Result  (cost=0.00..0.01 rows=1 width=4)\n  Output: (\n" + "x,\n" * 100_000,
    "initplan header": "Result  (cost=0.00..0.01 rows=1 width=4)\n  InitPlan 1 (" + "(" * 100_000,
    "cost-like": "Seq Scan on t  (cost=" + "1." * 100_000,
    "many nodes at one level": "Append  (cost=0.00..1.00 rows=1 width=4)\n"
    + "  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n" * 20_000,
    "log markers": "LOG:  duration: 1.0 ms  plan:\n" * 50_000,
    "json strings": '["' + "\\u0041" * 100_000 + '"]',
    "yaml-ish": "- Plan:\n" + "    Node Type: x\n" * 20_000,
    "brackets": "{" * 50_000,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_no_catastrophic_slowness(name: str) -> None:
    source = PATHOLOGICAL[name]
    t = time.perf_counter()
    _only_parse_errors(source)
    # A guard against hangs (catastrophic backtracking), not a speed target: benchmarks/plans.py measures speed.
    assert time.perf_counter() - t < 60


# --------------------------------------------------------------------------- properties

PLAN_TOKENS = [
    "->  ", "  ", "\n", "(cost=0.00..1.00 rows=1 width=4)", "(actual time=0.1..0.2 rows=1 loops=1)",
    "(never executed)", "Seq Scan on t", "Hash Join", "Hash", "Nested Loop", "Index Scan using i on t",
    "Filter: (a = 1)", "InitPlan 1 (returns $0)", "SubPlan 2", "CTE x", "CTE Scan on x", "Worker 0:  ",
    "actual time=1..2 rows=1 loops=1", "Buffers: shared hit=1 read=2", "I/O Timings: read=1.0",
    "Planning Time: 1.0 ms", "Execution Time: 2.0 ms", "JIT:", "Functions: 3", "Timing: Generation 1 ms",
    "Sort Method: quicksort  Memory: 25kB", "Buckets: 1024  Batches: 1  Memory Usage: 9kB", "Settings: a = '1'",
    "Trigger t: time=1.0 calls=1", '"', "'", "(", ")", "[", "{", "}", "]", ":", "|", "+", "│", "(1 row)",
    "QUERY PLAN", "------", "LOG:  duration: 1.0 ms  plan:", "\t", "Gather", "Workers Launched: 2", "<explain>",
    "- Plan:", "Node Type:", "Planning:", "Query Text: x", "Update on t", "$0", "(InitPlan 1).col1",
]


@st.composite
def plan_like_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(st.sampled_from(PLAN_TOKENS), st.text(max_size=8)), max_size=60))
    return "".join(parts)


@st.composite
def mutated_sample(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "swap_lines", "truncate", "replace"]))
        n = len(text)
        i = draw(st.integers(0, max(n - 1, 0)))
        j = draw(st.integers(i, min(n, i + 200)))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.one_of(st.sampled_from(PLAN_TOKENS), st.text(max_size=20))) + text[i:]
        elif op == "swap_lines":
            lines = text.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            b = draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
        elif op == "truncate":
            text = text[:i]
        else:
            text = text[:i] + draw(st.text(alphabet=string.printable, max_size=5)) + text[j:]
    return text


JSON_KEYS = [
    "Plan", "Plans", "Node Type", "Actual Loops", "Actual Total Time", "Actual Rows", "Plan Rows",
    "Parent Relationship", "Subplan Name", "CTE Name", "Workers Launched", "Filter", "Output", "Triggers",
    "JIT", "Timing", "Generation", "Settings", "Planning", "Serialization", "Shared Hit Blocks", "Workers",
    "Sort Key", "Startup Cost", "Total Cost", "Execution Time", "Planning Time", "Query Text", "Time", "Calls",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10), st.sampled_from(["InitPlan", "CTE x", "InitPlan 1 (returns $0)", "Gather", "CTE Scan", "$0"]),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=6)), inner, max_size=6),
    ),
    max_leaves=40,
)
node_like = st.recursive(
    st.fixed_dictionaries({"Node Type": st.sampled_from(["Seq Scan", "Gather", "CTE Scan", "Hash Join", ""])},
                          optional={k: scalars for k in JSON_KEYS if k != "Node Type"}),
    lambda inner: st.fixed_dictionaries(
        {"Node Type": st.sampled_from(["Limit", "Gather Merge", "Append", "Result"]), "Plans": st.lists(inner, max_size=4)},
        optional={k: scalars for k in JSON_KEYS if k not in ("Plans", "Node Type")},
    ),
    max_leaves=20,
)

# more examples: DBWORKBENCH_FUZZ_EXAMPLES=5000 pytest tests/plans/test_robustness.py
FUZZ = settings(
    max_examples=int(os.environ.get("DBWORKBENCH_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@FUZZ
@given(st.text(max_size=400))
def test_random_text(source: str) -> None:
    _only_parse_errors(source)


@FUZZ
@given(plan_like_text())
def test_plan_like_text(source: str) -> None:
    _only_parse_errors(source)


@FUZZ
@given(mutated_sample())
def test_mutated_samples(source: str) -> None:
    _only_parse_errors(source)


@FUZZ
@given(json_like)
def test_random_json_structures(value: Any) -> None:
    _only_parse_errors(value)
    try:
        text = json.dumps(value)
    except (ValueError, TypeError):
        return
    _only_parse_errors(text)


@FUZZ
@given(node_like, st.dictionaries(st.sampled_from(JSON_KEYS), json_like, max_size=4))
def test_random_plan_trees(root: dict[str, Any], top: dict[str, Any]) -> None:
    top = {**top, "Plan": root}
    _only_parse_errors(top)
    _only_parse_errors([top])
    _only_parse_errors(json.dumps([top], default=str))
