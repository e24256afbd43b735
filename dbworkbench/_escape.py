r"""Text from a server or a user, made safe to show: in HTML, in plotly labels and hover text, in Markdown.

Relation names, filters, aliases, query strings and insight messages can hold
anything, ``<script>`` included. Every figure, table and HTML repr passes such text
through this module before it is shown, and never builds markup from it otherwise.

- :func:`html_text` (one value), :func:`html_texts` (an array), :func:`html_series`: ``& < > " '`` become character references,
  so no tag or attribute can start; ``$`` becomes ``&#36;``, so the text is never
  typeset as LaTeX. plotly.js typesets any label holding two ``$`` when MathJax is on
  the page, and turns ``&lt;``, ``&#36;`` and the other numeric references back into
  the characters they name when it draws, so the text reads as it was. Only
  references plotly.js decodes are used (``&#34;``, not ``&quot;``).
- :func:`math_off`: wraps an HTML fragment in the classes MathJax 2 and 3 skip
  (``tex2jax_ignore mathjax_ignore``, as pandas does), since a browser decodes
  ``&#36;`` before MathJax reads the page.
- :func:`markdown_text`: one Markdown table cell: HTML-escaped, Markdown punctuation
  and ``$`` backslash-escaped, ``|`` and line breaks kept inside the cell.

>>> html_text('<b>"x"</b> costs $1 & $2')
'&lt;b&gt;&#34;x&#34;&lt;/b&gt; costs &#36;1 &amp; &#36;2'
>>> print(markdown_text("a|b [x](javascript:alert(1)) $x^2$"))
a\|b \[x\](javascript:alert(1)) \$x^2\$
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["html_series", "html_text", "html_texts", "markdown_text", "math_off", "safe_tables"]

# as html.escape(quote=True), but "&#34;" for '"' (plotly.js decodes no "&quot;") and "&#36;" for "$"
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#x27;", "$": "&#36;"})
# Markdown punctuation that can start emphasis, code, links, math or a cell break; "_" only at a word's edge
# (GFM never emphasises inside a word, so posts_user_id_idx stays readable).
_MARKDOWN = re.compile(r"[\\`*\[\]$|~]|(?<!\w)_|_(?!\w)")


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def html_text(value: object) -> str:
    """``value`` as text that HTML and plotly show literally ('' for None, NA and NaN).

    >>> html_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    return "" if _is_missing(value) else str(value).translate(_HTML)


def html_texts(values: Iterable[object] | pd.Series | np.ndarray) -> np.ndarray:
    """:func:`html_text` of each value, as an object array of str in the same order (vectorised for a Series).

    >>> html_texts(["<b>", None, "$x$"]).tolist()
    ['&lt;b&gt;', '', '&#36;x&#36;']
    """
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(list(values), dtype=object))
    text = series.astype("string").fillna("").str.translate(_HTML)
    return text.to_numpy(dtype=object)


def html_series(values: pd.Series) -> pd.Series:
    """:func:`html_text` of each value of a Series, as a string Series with the same index.

    >>> html_series(pd.Series(["a<b", pd.NA])).tolist()
    ['a&lt;b', '']
    """
    return pd.Series(html_texts(values), index=values.index, dtype="string")


def math_off(fragment: str) -> str:
    """An HTML fragment (already escaped) in a ``div`` that MathJax leaves alone.

    >>> math_off("&#36;1 and &#36;2")
    '<div class="tex2jax_ignore mathjax_ignore">&#36;1 and &#36;2</div>'
    """
    return f'<div class="tex2jax_ignore mathjax_ignore">{fragment}</div>'


def markdown_text(value: object) -> str:
    r"""``value`` as one cell of a Markdown table: no markup, no math, no link, no cell break ('' when missing).

    >>> markdown_text("<b>bold</b>\nnext_line")
    '&lt;b&gt;bold&lt;/b&gt;<br>next_line'
    """
    if _is_missing(value):
        return ""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN.sub(lambda m: "\\" + m.group(0), text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def safe_tables() -> None:
    """Make pandas show server text in this notebook as text: a ``DataFrame.style`` table escapes
    HTML (``styler.format.escape = "html"``) and no table is typeset as math (``$1 … $2`` in a
    query would be). The curated notebooks call it first; call it in your own notebooks too.

    >>> safe_tables(); pd.get_option("styler.format.escape")
    'html'
    """
    pd.set_option("styler.format.escape", "html")
    pd.set_option("styler.html.mathjax", False)
    pd.set_option("display.html.use_mathjax", False)
