"""Escaped HTML fragments for the widgets: every text from a user or a server through ``_escape``."""

from __future__ import annotations

import pandas as pd

from .._escape import html_series, html_text, math_off

_SEVERITY_COLOUR = {"critical": "#c62828", "error": "#c62828", "warning": "#e65100", "info": "#1565c0"}


def table(frame: pd.DataFrame, *, max_rows: int = 50) -> str:
    """``frame`` as an HTML table: every cell escaped (no markup, no ``$`` typeset), out of MathJax's reach."""
    shown = frame.head(max_rows).copy()
    for name in shown.columns:
        shown[name] = html_series(shown[name].astype("string"))
    shown.columns = [html_text(c) for c in shown.columns]
    more = f"<p>… {len(frame) - max_rows} more rows</p>" if len(frame) > max_rows else ""
    return math_off(shown.to_html(escape=False, index=False, na_rep="", border=0) + more)


def finding(row: pd.Series) -> str:
    """One lint finding: severity, code, message and suggestion, escaped."""
    severity = str(row["severity"])
    colour = _SEVERITY_COLOUR.get(severity, "#424242")
    where = "" if pd.isna(row["start"]) else f" <small>(at {int(row['start'])})</small>"
    suggestion = "" if pd.isna(row["suggestion"]) else f"<br><code>{html_text(row['suggestion'])}</code>"
    return math_off(
        f"<span style='color:{colour}'><b>{html_text(severity)}</b></span> <b>{html_text(row['code'])}</b>{where}: "
        f"{html_text(row['message'])}{suggestion}"
    )


def message(text: str, *, tone: str = "info") -> str:
    """A status line; ``tone`` "error" shows it in red."""
    colour = {"error": "#c62828", "warning": "#e65100", "ok": "#2e7d32"}.get(tone, "#424242")
    return math_off(f"<span style='color:{colour}'>{html_text(text)}</span>")
