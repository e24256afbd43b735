"""Rows from the server → DataFrames with documented, stable dtypes.

The dtype names used across dbworkbench: ``Int64`` (nullable integer), ``float64``
(NULL → NaN), ``string`` (pandas StringDtype, NULL → <NA>), ``boolean`` (nullable),
``datetime64[us, UTC]`` (NULL → NaT) and ``object`` (Python lists or dicts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

if TYPE_CHECKING:
    from pandas._typing import SequenceNotStr

Schema = Mapping[str, str]


def typed_frame(rows: Sequence[Sequence[Any]], columns: Sequence[str], schema: Schema) -> pd.DataFrame:
    """A DataFrame of ``rows`` whose columns in ``schema`` get their declared dtype.

    Columns in ``schema`` come first in its order; other columns follow as pandas infers them.
    """
    records = cast("list[SequenceNotStr[Any]]", list(rows))  # rows are sequences of values, never str
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    for name in schema:
        if name not in frame.columns:
            frame[name] = None
    frame = frame[list(schema) + [c for c in frame.columns if c not in schema]]
    return frame.astype(_astype(frame, schema))


def empty_frame(schema: Schema) -> pd.DataFrame:
    """An empty DataFrame with the columns and dtypes of ``schema``."""
    return typed_frame([], list(schema), schema)


def _astype(frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, dtype in schema.items():
        if dtype == "object":
            continue
        if dtype == "float64" and frame[name].dtype == object:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
        if dtype.startswith("datetime64"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        out[name] = dtype
    return out
