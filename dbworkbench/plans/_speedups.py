"""Compiled copies of the TEXT parser's hot modules, used only while they match the source.

``tools/compile_speedups.py`` (run by ``make``) compiles ``_source.py`` and
``_text.py`` with mypyc into the extension modules ``_source_mypyc`` and
``_text_mypyc`` beside them; each carries the SHA-256 of the source it was built
from. :func:`compiled` hands out a compiled copy only while that hash matches
the source as it is now, so an edited parser is never shadowed by an old build.
Without a build (no C compiler, a plain ``pip install``) or with
``DBWORKBENCH_PURE_PYTHON=1`` everything runs as pure Python with the same
results (``tests/plans/test_speedups.py`` compares both on the plan corpus).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from types import ModuleType

MODULES = ("_source", "_text")
SUFFIX = "_mypyc"
PURE_ENV = "DBWORKBENCH_PURE_PYTHON"


def source_hash(name: str) -> str:
    """SHA-256 of this package's ``<name>.py`` as it is on disk now."""
    return hashlib.sha256((Path(__file__).with_name(f"{name}.py")).read_bytes()).hexdigest()


def compiled(module: ModuleType) -> ModuleType:
    """The current compiled copy of ``module`` if there is one, else ``module`` itself."""
    found = _find(module.__name__.rpartition(".")[2])
    return found if isinstance(found, ModuleType) else module


def status(*, honour_env: bool = True) -> dict[str, str]:
    """For each compiled module: ``compiled``, or why the pure-Python one is used."""
    return {name: "compiled" if isinstance(found, ModuleType) else found for name in MODULES for found in [_find(name, honour_env)]}


def _find(name: str, honour_env: bool = True) -> ModuleType | str:
    """The compiled copy of ``name``, or why there is none."""
    if honour_env and os.environ.get(PURE_ENV, "").strip() not in ("", "0"):
        return f"pure Python ({PURE_ENV} is set)"
    if name not in MODULES:
        return "pure Python (not a compiled module)"
    try:
        fast = importlib.import_module(f"{__package__}.{name}{SUFFIX}")
    except ImportError:
        return "pure Python (not built: make speedups)"
    try:
        current = source_hash(name)
    except OSError:
        return "pure Python (no source to check the build against)"
    if getattr(fast, "SOURCE_SHA256", None) != current:
        return "pure Python (the build is older than the source: make speedups)"
    return fast
