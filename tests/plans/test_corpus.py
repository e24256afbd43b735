"""Every plan of the pev2 corpus parses; expectations beside a plan are met.

The corpus is read from ``shared/plans/pev2`` (see ``_corpus``); these tests skip,
saying why, where that folder is absent.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from dbworkbench.plans import parse_plan

from ._corpus import PEV2, SKIP_REASON, expectation_pairs, load_expect, matches, plan_files, read

pytestmark = pytest.mark.skipif(not PEV2.is_dir(), reason=SKIP_REASON)

FILES = plan_files()
PAIRS = expectation_pairs()


def _id(p: Path) -> str:
    return str(p.relative_to(PEV2)) if PEV2 in p.parents else p.name


def test_corpus_is_there() -> None:
    assert len(FILES) > 100, "the pev2 corpus has 140+ plan files"
    assert len(PAIRS) > 50


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_plan_parses(path: Path) -> None:
    plan = parse_plan(read(path))
    df = plan.nodes
    assert len(df) >= 1
    assert df.loc[0, "node_id"] == 0 and pd.isna(df.loc[0, "parent_id"])
    assert (df["node_type"].str.len() > 0).all()
    assert (df["exclusive_ms"].dropna() >= 0).all()
    # the JSON rendering reads back to the same table
    again = parse_plan(plan.to_json())
    pd.testing.assert_frame_equal(again.nodes, df)


@pytest.mark.parametrize(("plan_path", "expect_path"), PAIRS, ids=[_id(p) for p, _ in PAIRS])
def test_expectation(plan_path: Path, expect_path: Path) -> None:
    plan = parse_plan(read(plan_path))
    expected = load_expect(expect_path)
    top = json.loads(plan.to_json())[0]
    # 21-io-timings expectations describe the root node only
    errors = matches(expected, top) if "Plan" in expected else matches(expected, top["Plan"])
    assert not errors, "\n".join(errors)


# Columns that change from one run of the same query to the next.
VOLATILE = re.compile(r"_ms$|_pct$|^shared_|^temp_|^heap_fetches")


def _stable(df: pd.DataFrame) -> pd.DataFrame:
    return df[[c for c in df.columns if not VOLATILE.search(c)]]


def test_psql_frames_variants_give_one_table() -> None:
    """json-N and text-N in 11-psql-frames are runs of one query, framed every way psql can."""
    folder = PEV2 / "11-psql-frames"
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in sorted(folder.glob("*.plan")):
        groups["dbeaver" if "dbeaver" in p.name else "nested-loop"].append(p)
    assert len(groups["nested-loop"]) == 28
    tables = {p.name: _stable(parse_plan(read(p)).nodes) for p in groups["nested-loop"]}
    first_name, first = next(iter(tables.items()))
    assert list(first["node_type"]) == ["Nested Loop", "Seq Scan", "Seq Scan"]
    assert first["relation"].tolist()[1:] == ["users", "part_0"]
    for name, df in tables.items():
        pd.testing.assert_frame_equal(df, first, obj=f"{name} vs {first_name}")
    for p in groups["nested-loop"]:
        plan = parse_plan(read(p))
        assert plan.execution_ms is not None and 1.5 < plan.execution_ms < 3.5
        assert plan.planning_ms is not None
        assert plan.source_format == ("json" if p.name.startswith("json") else "text")


def test_dbeaver_frame() -> None:
    plan = parse_plan(read(PEV2 / "11-psql-frames" / "text-3-dbeaver.plan"))
    df = plan.nodes
    assert df["node_type"].tolist() == ["ModifyTable", "Seq Scan"]
    assert plan.raw["Plan"]["Operation"] == "Delete"
    assert df.loc[1, "schema"] == "public" and df.loc[1, "relation"] == "toto123456789"
    assert plan.raw["Plan"]["WAL Records"] == 5000000
    assert plan.planning_buffers is not None and plan.planning_buffers["shared_hit"] == 4


def test_line_wrapped_plans_match_unwrapped() -> None:
    """01 and 02 are one plan wrapped at two widths: same table."""
    folder = PEV2 / "12-line-wrapped-plans"
    a = parse_plan(read(folder / "01-plan")).nodes
    b = parse_plan(read(folder / "02-plan")).nodes
    pd.testing.assert_frame_equal(a, b)
    assert a["node_type"].tolist() == ["Sort", "Hash Join", "Seq Scan", "Hash", "Seq Scan"]


def test_backtracking_plan_is_fast() -> None:
    """A 135 KB one-line plan (a filter of 15,000 ORs) parses in well under a second."""
    source = read(PEV2 / "spec-inline" / "25-cleanup-source-backtracking.json")
    assert len(source) > 100_000
    best = min(_timed(lambda: parse_plan(source)) for _ in range(3))
    assert best < 0.25, f"{best:.3f} s"
    plan = parse_plan(source)
    flt = plan.nodes.loc[0, "filter"]
    assert isinstance(flt, str) and len(flt) > 100_000


def test_backtracking_filter_as_text_is_fast() -> None:
    """The same 135 KB filter as a TEXT plan, in psql frames, and hard-wrapped at 80 columns."""
    flt = json.loads(read(PEV2 / "spec-inline" / "25-cleanup-source-backtracking.json"))[0]["Plan"]["Filter"]
    text = f"Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n  Filter: {flt}\n"
    framed = "\n".join("| " + line + " |" for line in text.splitlines())
    wrapped = "\n".join(text[i : i + 80] for i in range(0, len(text), 80))
    for src in (text, framed, wrapped):
        best = min(_timed(lambda s=src: parse_plan(s)) for _ in range(3))
        assert best < 30, f"{best:.3f} s"  # a hang guard; benchmarks/plans.py times it
        assert parse_plan(src).nodes.loc[0, "filter"] == flt


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
