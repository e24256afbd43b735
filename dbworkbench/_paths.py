"""Where dbworkbench finds its shipped data and keeps its own files."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import platformdirs


def _shipped(packaged: str, repository: str) -> Path:
    inside = Path(__file__).parent / packaged
    return inside if inside.is_dir() else Path(__file__).resolve().parent.parent / repository


@cache
def data_dir() -> Path:
    """The shipped ``data/`` folder: inside the wheel (``_data``), or the repository's in a checkout."""
    return _shipped("_data", "data")


@cache
def notebooks_dir() -> Path:
    """The curated notebooks: shipped in the wheel (``_notebooks``), or the repository's ``notebooks/``."""
    return _shipped("_notebooks", "notebooks")


def home_dir() -> Path:
    """Where the sandbox keeps its data directory: ``$DBWORKBENCH_HOME`` or the user data dir."""
    override = os.environ.get("DBWORKBENCH_HOME")
    base = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("dbworkbench"))
    base.mkdir(parents=True, exist_ok=True)
    return base.resolve()
