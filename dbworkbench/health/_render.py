"""A DataFrame as a Markdown (GitHub) table, safe for server text."""

from __future__ import annotations

import html
import math

import pandas as pd


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=False)  # server text must not become markup
    return text.replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def to_markdown(frame: pd.DataFrame) -> str:
    """``frame`` as a GitHub-flavoured Markdown table; <, > and & are escaped, | and newlines kept in their cell.

    >>> print(to_markdown(pd.DataFrame({"a": ["x|y"], "b": ["<b>"]})))
    | a | b |
    | --- | --- |
    | x\\|y | &lt;b&gt; |
    """
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False, name=None)]
    return "\n".join([header, rule, *body])
