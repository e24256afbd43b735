"""A DataFrame as a Markdown (GitHub) table, safe for server text (cells escaped by :mod:`dbworkbench._escape`)."""

from __future__ import annotations

import pandas as pd

from .._escape import markdown_text as _cell


def to_markdown(frame: pd.DataFrame) -> str:
    """``frame`` as a GitHub-flavoured Markdown table: <, > and & as character references; Markdown
    punctuation (``|``, ``$``, ``[``, ``*``, backticks, ...) backslash-escaped, so no markup, math or link starts
    in a cell; newlines kept in their cell.

    >>> print(to_markdown(pd.DataFrame({"a": ["x|y"], "b": ["<b>"], "c": ["$1 and $2"]})))
    | a | b | c |
    | --- | --- | --- |
    | x\\|y | &lt;b&gt; | \\$1 and \\$2 |
    """
    header = "| " + " | ".join(_cell(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False, name=None)]
    return "\n".join([header, rule, *body])
