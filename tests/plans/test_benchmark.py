"""The synthetic plan of ``benchmarks/plans.py``: its JSON and TEXT renderings read the same."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd

from dbworkbench.plans import parse_plan

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "plans.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_plans", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_synthetic_plan_json_and_text_agree() -> None:
    bench = _bench()
    plan = bench.synthetic_plan(600)
    from_json = parse_plan(json.dumps(plan, indent=2))
    from_text = parse_plan(bench.render_text(plan))
    assert len(from_json.nodes) == len(from_text.nodes) > 500
    cols = [c for c in from_json.nodes.columns if c not in ("schema", "io_read_ms", "io_write_ms")]
    pd.testing.assert_frame_equal(from_text.nodes[cols], from_json.nodes[cols])
    assert from_text.execution_ms == from_json.execution_ms


def test_benchmark_runs() -> None:
    rows = _bench().run(n_nodes=300, repeat=1)
    assert [r[0].split(",")[0] for r in rows[:2]] == ["synthetic plan", "synthetic plan"]
    assert all(nodes > 0 and wall > 0 and cpu > 0 for _, nodes, wall, cpu in rows)
