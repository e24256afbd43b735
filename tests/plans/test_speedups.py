"""The compiled TEXT parser (``make speedups``) reads every plan exactly as the pure-Python one,
and an old build is never used."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from dbworkbench.errors import PlanParseError
from dbworkbench.plans import _source, _speedups, _text

from ._corpus import SKIP_REASON, plan_files
from .test_robustness import FUZZ, SAMPLES, mutated_sample, plan_like_text

ROOT = Path(__file__).resolve().parents[2]
PLANTED = sorted((Path(__file__).parent / "planted").glob("*.*"))
FAST = {name: _speedups._find(name, honour_env=False) for name in _speedups.MODULES}
built = pytest.mark.skipif(
    not all(isinstance(m, types.ModuleType) for m in FAST.values()),
    reason=f"compiled parser not built ({FAST}): make speedups",
)


def _read(text: str, source: Any, reader: Any) -> tuple[str, Any]:
    """What the cleaner and the TEXT parser make of ``text``: the plan dict, or the error's message."""
    lines = source.clean(source.split_lines(text))
    try:
        return "plan", reader.parse_text(lines)
    except PlanParseError as exc:
        return "error", str(exc)


def _agree(text: str) -> None:
    pure = _read(text, _source, _text)
    fast = _read(text, FAST["_source"], FAST["_text"])
    assert fast == pure


@built
@pytest.mark.skipif(not plan_files(), reason=SKIP_REASON)
def test_compiled_and_pure_agree_on_the_corpus() -> None:
    for path in [*plan_files(), *PLANTED]:
        _agree(path.read_text(encoding="utf-8", errors="replace"))


@built
def test_compiled_and_pure_agree_on_a_long_plan() -> None:
    _agree("\n".join(SAMPLES))


@built
@FUZZ
@given(mutated_sample())
def test_compiled_and_pure_agree_on_mutated_plans(source: str) -> None:
    _agree(source)


@built
@FUZZ
@given(plan_like_text())
def test_compiled_and_pure_agree_on_plan_like_text(source: str) -> None:
    _agree(source)


def test_a_build_of_other_source_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = types.ModuleType("dbworkbench.plans._text_mypyc")
    stale.SOURCE_SHA256 = "0" * 64  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dbworkbench.plans._text_mypyc", stale)
    monkeypatch.delenv(_speedups.PURE_ENV, raising=False)
    assert _speedups.compiled(_text) is _text
    assert "older than the source" in _speedups.status()["_text"]
    stale.SOURCE_SHA256 = _speedups.source_hash("_text")  # type: ignore[attr-defined]
    assert _speedups.compiled(_text) is stale
    assert _speedups.status()["_text"] == "compiled"


def test_pure_python_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    current = types.ModuleType("dbworkbench.plans._text_mypyc")
    current.SOURCE_SHA256 = _speedups.source_hash("_text")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dbworkbench.plans._text_mypyc", current)
    monkeypatch.setenv(_speedups.PURE_ENV, "1")
    assert _speedups.compiled(_text) is _text
    assert _speedups.PURE_ENV in _speedups.status()["_text"]
    assert _speedups.compiled(_speedups) is _speedups  # not a compiled module


def test_compile_tool_names_unknown_modules() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "compile_speedups.py"), "_plan"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "_plan not among _source, _text" in run.stdout
