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


def test_benchmark_measures_every_kind_of_input(capsys) -> None:  # type: ignore[no-untyped-def]
    bench = _bench()
    inputs: dict = {}
    units: dict = {}
    bench.offline_inputs(300, inputs, units)
    log = "2026-01-01 00:00:00 UTC [1] LOG:  duration: 1.0 ms  plan:\n\tResult  (cost=0.00..0.01 rows=1 width=4)\n"
    inputs["log"] = {"kind": "log", "texts": [log * 3], "entries": bench.log_entries(log * 3)}
    units["log"] = (3, "plans")
    inputs["each"] = {"kind": "parse", "texts": bench.log_entries(log * 3)}
    units["each"] = (3, "plans")
    assert len(inputs["log"]["entries"]) == 3 and inputs["each"]["texts"][0] == "Result  (cost=0.00..0.01 rows=1 width=4)"
    results = {"ours": bench.measure(inputs, 1)}
    assert set(results["ours"]) == set(inputs) and all(r["seconds"] > 0 for r in results["ours"].values())
    bench._print_table(inputs, units, results)
    out = capsys.readouterr().out
    assert "synthetic plan, JSON" in out and "synthetic plan, TEXT" in out and "/s" in out
