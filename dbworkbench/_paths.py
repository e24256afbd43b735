"""Where dbworkbench finds its shipped data and keeps its own files."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import platformdirs


@cache
def data_dir() -> Path:
    """The shipped ``data/`` folder: inside the wheel, or the repository's in a checkout."""
    packaged = Path(__file__).parent / "_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "data"


@cache
def notebooks_dir() -> Path:
    """The curated notebooks: shipped in the wheel (``_notebooks``), or the repository's ``notebooks/``."""
    packaged = Path(__file__).parent / "_notebooks"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "notebooks"


def home_dir() -> Path:
    """Where the sandbox keeps its data directory: ``$DBWORKBENCH_HOME`` or the user data dir."""
    override = os.environ.get("DBWORKBENCH_HOME")
    base = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("dbworkbench"))
    base.mkdir(parents=True, exist_ok=True)
    return base.resolve()
