"""Compiled copies of the TEXT parser's hot code, used only while they match their source.

``tools/compile_speedups.py`` (run by ``make``) builds, beside their sources:

- ``_source_mypyc`` and ``_text_mypyc``: ``_source.py`` and ``_text.py`` compiled
  with mypyc (same code, run as C);
- ``_scan``: ``_scan.pyx`` compiled with Cython, C readers of the two commonest
  TEXT lines that ``_text.py`` asks first (each has a Python twin there).

Each build carries the SHA-256 of the source it was built from, and is handed
out only while that hash matches the source as it is now, so an edited parser
is never shadowed by an old build. Without a build (no C compiler, a plain
``pip install``) or with ``DBWORKBENCH_PURE_PYTHON=1`` everything runs as pure
Python with the same results (``tests/plans/test_speedups.py`` compares them
on the plan corpus).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path
from types import ModuleType

MODULES = ("_source", "_text")  # compiled with mypyc into <name>_mypyc
EXTENSIONS = ("_scan",)  # written for Cython: <name>.pyx into <name>
SUFFIX = "_mypyc"
PURE_ENV = "DBWORKBENCH_PURE_PYTHON"


def source_path(name: str) -> Path:
    """The source a build of ``name`` is made from."""
    return Path(__file__).with_name(f"{name}.pyx" if name in EXTENSIONS else f"{name}.py")


def source_hash(name: str) -> str:
    """SHA-256 of the source of ``name`` as it is on disk now."""
    return hashlib.sha256(source_path(name).read_bytes()).hexdigest()


def compiled(module: ModuleType) -> ModuleType:
    """The current compiled copy of ``module`` if there is one, else ``module`` itself."""
    found = _find(module.__name__.rpartition(".")[2])
    return found if isinstance(found, ModuleType) else module


def extension(name: str) -> ModuleType | None:
    """The current build of the Cython module ``name``, or None (then its Python twins do the work)."""
    found = _find(name)
    return found if isinstance(found, ModuleType) else None


def status(*, honour_env: bool = True) -> dict[str, str]:
    """For each compiled module: ``compiled``, or why the pure-Python one is used."""
    return {
        name: "compiled" if isinstance(found, ModuleType) else found
        for name in (*MODULES, *EXTENSIONS)
        for found in [_find(name, honour_env)]
    }


def _find(name: str, honour_env: bool = True) -> ModuleType | str:
    """The build of ``name``, or why there is none."""
    if honour_env and os.environ.get(PURE_ENV, "").strip() not in ("", "0"):
        return f"pure Python ({PURE_ENV} is set)"
    if name not in MODULES and name not in EXTENSIONS:
        return "pure Python (not a compiled module)"
    try:
        fast = importlib.import_module(f"{__package__}.{name}{'' if name in EXTENSIONS else SUFFIX}")
    except ImportError:
        return "pure Python (not built: make speedups)"
    try:
        current = source_hash(name)
    except OSError:
        return "pure Python (no source to check the build against)"
    if getattr(fast, "SOURCE_SHA256", None) != current:
        return "pure Python (the build is older than the source: make speedups)"
    return fast
