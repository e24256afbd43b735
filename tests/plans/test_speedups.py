"""The compiled TEXT parser (``make speedups``) reads every plan exactly as the pure-Python one,
its C line readers give what their Python twins give, and an old build is never used."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dbworkbench.errors import PlanParseError
from dbworkbench.plans import _source, _speedups, _text

from ._corpus import SKIP_REASON, plan_files
from .test_robustness import FUZZ, SAMPLES, mutated_sample, plan_like_text

ROOT = Path(__file__).resolve().parents[2]
PLANTED = sorted((Path(__file__).parent / "planted").glob("*.*"))
FAST = {name: _speedups._find(name, honour_env=False) for name in (*_speedups.MODULES, *_speedups.EXTENSIONS)}
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
    with mock.patch.object(_text, "_C", None):  # the Python twins of the C readers, too
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


def _same(fast: Any, python: Any) -> None:
    """A C reader's answer is NotImplemented (not its form) or its Python twin's, value for value and type for type."""
    if fast is NotImplemented:
        return
    assert fast == python
    if python is not None:
        assert [type(v) for v in fast] == [type(v) for v in python]


def _corpus_lines() -> list[str]:
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in [*plan_files(), *PLANTED]]
    return [ln.strip() for text in [*texts, *SAMPLES] for ln in text.splitlines()]


@built
def test_c_readers_agree_with_their_python_twins_on_the_corpus() -> None:
    scan = FAST["_scan"]
    lines = _corpus_lines()
    read = 0
    for line in lines:
        k = line.find("  (cost=")
        if k > 0:
            fast = scan.usual_annotations(line, k)
            _same(fast, _text._usual_annotations(line, k))
            read += fast is not NotImplemented
        if line.startswith("Buffers: "):
            _same(scan.shared_only(line[9:]), _text._shared_only(line[9:]))
    assert read > 100  # the usual node lines are read in C


NUMBER = st.one_of(
    st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,20})?", fullmatch=True),
    st.sampled_from(["1e5", "+1", " 1", "1_0", "١٢", "inf", "nan", "1.", ".5", "", "0" * 19, "9" * 18, "-0.00"]),
)


@st.composite
def annotation(draw: st.DrawFn) -> str:
    n = [draw(NUMBER) for _ in range(8)]
    text = f"Seq Scan on t  (cost={n[0]}..{n[1]} rows={n[2]} width={n[3]})"
    tail = draw(st.sampled_from(["actual", "never", "none", "noise"]))
    if tail == "actual":
        text += f" (actual time={n[4]}..{n[5]} rows={n[6]} loops={n[7]})"
    elif tail == "never":
        text += " (never executed)"
    elif tail == "noise":
        text += draw(st.text(max_size=12))
    return text + draw(st.sampled_from(["", "  ", "\t", "\xa0", ")"]))


@st.composite
def shared_value(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(["hit", "read", "dirtied", "written", "x"]), max_size=5))
    return draw(st.sampled_from(["shared", "local", "shared ", "temp"])) + "".join(f" {p}={draw(NUMBER)}" for p in parts) + draw(
        st.sampled_from(["", " ", ", temp read=1"])
    )


@built
@FUZZ
@given(annotation())
def test_c_annotation_reader_agrees_with_its_twin(line: str) -> None:
    k = line.find("  (cost=")
    _same(FAST["_scan"].usual_annotations(line, k), _text._usual_annotations(line, k))


@built
@FUZZ
@given(shared_value())
def test_c_buffers_reader_agrees_with_its_twin(value: str) -> None:
    _same(FAST["_scan"].shared_only(value), _text._shared_only(value))


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
    assert "_plan not among _source, _text, _scan" in run.stdout


def test_a_c_reader_built_from_other_source_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    stale = types.ModuleType("dbworkbench.plans._scan")
    stale.SOURCE_SHA256 = "0" * 64  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dbworkbench.plans._scan", stale)
    monkeypatch.delenv(_speedups.PURE_ENV, raising=False)
    assert _speedups.extension("_scan") is None
    assert "older than the source" in _speedups.status()["_scan"]
    stale.SOURCE_SHA256 = _speedups.source_hash("_scan")  # type: ignore[attr-defined]
    assert _speedups.extension("_scan") is stale
