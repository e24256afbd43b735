"""The timing tests' workbenches on the module's demo database: read-only, and with writes allowed."""

from __future__ import annotations

import pytest

import dbworkbench as wb


@pytest.fixture(scope="module")
def ro(demo_db):
    with wb.connect(demo_db) as db:
        yield db


@pytest.fixture(scope="module")
def rw(demo_db):
    with wb.connect(demo_db, allow_writes=True) as db:
        yield db
