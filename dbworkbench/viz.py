"""Plotly figures built from the collectors' DataFrames (never from private state).

plotly does not escape text: it renders ``<b>``, ``<a href>``, ``<span style>``,
``<br>`` and a few more tags in labels and hover text (values a hovertemplate
inserts included) and typesets text holding two ``$`` (``$1 ... $2`` in a normalised
query) when MathJax is loaded. So query strings are cut to length and then escaped
with :func:`dbworkbench._escape.html_series` before plotly sees them.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ._escape import html_series


def _short(query: pd.Series, width: int = 60) -> pd.Series:
    """Each query on one line, cut at ``width`` characters, escaped for plotly."""
    flat = query.astype("string").str.replace(r"\s+", " ", regex=True).str.strip()
    return html_series(flat.where(flat.str.len() <= width, flat.str.slice(0, width - 1) + "…"))


def statements_pareto(statements: pd.DataFrame, top: int = 20) -> go.Figure:
    """Bars of total execution time per statement with the cumulative share as a line.

    ``statements``: the frame of :meth:`Workbench.statements` (or a snapshot delta's).
    The statements left of the 80 % mark are where tuning pays.
    """
    frame = statements.sort_values("total_exec_ms", ascending=False).head(top).reset_index(drop=True)
    total = statements["total_exec_ms"].sum() or 1.0
    cumulative = frame["total_exec_ms"].cumsum() / total * 100
    labels = [f"#{i + 1}" for i in range(len(frame))]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(
        x=labels, y=frame["total_exec_ms"], name="total time (ms)",
        customdata=pd.DataFrame({"q": _short(frame["query"], 90), "c": frame["calls"]}).to_numpy(),
        hovertemplate="%{customdata[0]}<br>total %{y:,.1f} ms over %{customdata[1]:,} calls<extra></extra>",
    )
    fig.add_scatter(x=labels, y=cumulative, name="cumulative share (%)", mode="lines+markers", secondary_y=True)
    # the 80 % line and its label on the share axis (y2); add_hline would place the label by the left axis
    fig.add_shape(type="line", xref="paper", x0=0, x1=1, yref="y2", y0=80, y1=80, line={"dash": "dot", "color": "#555"})
    fig.add_annotation(xref="paper", x=1, xanchor="right", yref="y2", y=80, yanchor="bottom", text="80 %", showarrow=False)
    fig.update_yaxes(title_text="total execution time (ms)", secondary_y=False)
    fig.update_yaxes(title_text="cumulative share of all time (%)", range=[0, 101], tickvals=[0, 20, 40, 60, 80, 100],
                     ticksuffix=" %", showgrid=False, secondary_y=True)
    fig.update_layout(title="Where the time goes: statements by total execution time", xaxis_title="statement rank")
    return fig


def statements_scatter(statements: pd.DataFrame) -> go.Figure:
    """Mean time against calls (log-log), coloured by cache hit ratio, sized by rows per call.

    Top right: frequent and slow, tune first. Far right with low mean: many tiny
    calls, often an N+1 pattern. Red points read from disk rather than the cache.
    """
    frame = statements[statements["calls"] > 0]
    size = frame["rows_per_call"].fillna(0).clip(lower=0)
    fig = go.Figure(
        go.Scatter(
            x=frame["calls"], y=frame["mean_exec_ms"], mode="markers",
            marker={
                "color": frame["cache_hit_ratio"].fillna(1.0), "colorscale": "RdYlGn", "cmin": 0, "cmax": 1,
                "colorbar": {"title": "cache hit"}, "size": 6 + 24 * (size / (size.max() or 1)) ** 0.5,
                "line": {"width": 0.5, "color": "#333"},
            },
            customdata=pd.DataFrame({"q": _short(frame["query"], 90), "r": frame["rows_per_call"]}).to_numpy(),
            hovertemplate="%{customdata[0]}<br>%{x:,} calls, mean %{y:.3f} ms, %{customdata[1]:.1f} rows/call<extra></extra>",
        )
    )
    fig.update_xaxes(type="log", title_text="calls")
    fig.update_yaxes(type="log", title_text="mean execution time (ms)")
    fig.update_layout(title="Mean time against calls (colour: cache hit ratio, size: rows per call)")
    return fig


def rates_bar(delta_statements: pd.DataFrame, top: int = 15) -> go.Figure:
    """Execution milliseconds per second of wall time, per statement, from a snapshot delta."""
    frame = delta_statements.sort_values("total_exec_ms_per_s", ascending=False).head(top)
    fig = go.Figure(
        go.Bar(
            x=frame["total_exec_ms_per_s"], y=_short(frame["query"]), orientation="h",
            customdata=frame["calls_per_s"], hovertemplate="%{x:.2f} ms/s, %{customdata:.1f} calls/s<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(title="Load between the two snapshots: execution ms per second", xaxis_title="ms of execution per second")
    return fig
