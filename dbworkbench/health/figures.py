"""Plotly figures of the scan picture, built from ``db.tables()`` and ``db.indexes()``.

Names come from the server, so every label and hover text is escaped with
:func:`dbworkbench._escape.html_texts` before plotly sees it (plotly renders a few
tags in labels and hover text, and typesets ``$...$`` when MathJax is loaded).

>>> from dbworkbench.health import figures
>>> figures.scan_picture(db.tables())            # doctest: +SKIP
>>> figures.index_size_vs_scans(db.indexes())    # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._escape import html_texts

SEQ_COLOUR, IDX_COLOUR, BAD_COLOUR, OK_COLOUR = "#d62728", "#1f77b4", "#d62728", "#2ca02c"


def _labels(frame: pd.DataFrame) -> list[str]:
    """schema.table, the schema left out when every table is in public."""
    if (frame["schema"] == "public").all():
        return html_texts(frame["table"]).tolist()
    return html_texts(frame["schema"].astype(str) + "." + frame["table"].astype(str)).tolist()


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").fillna(0).astype("float64")


def scan_picture(tables: pd.DataFrame, top: int = 20) -> go.Figure:
    """Per table: sequential vs index scans (left) and the rows each way read (right).

    ``tables``: :meth:`Workbench.tables`. The ``top`` tables by rows read sequentially
    come first. A long red bar on the right with a short blue one is a table read by
    sequential scans: the candidates for an index (check ``seq_scan_heavy``).
    """
    frame = tables.assign(
        _seq=_num(tables["seq_scan"]), _idx=_num(tables["idx_scan"]),
        _seq_rows=_num(tables["seq_tup_read"]), _idx_rows=_num(tables["idx_tup_fetch"]),
    ).sort_values(["_seq_rows", "_seq"], ascending=False).head(top).iloc[::-1]
    labels = _labels(frame)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("scans", "rows read"))
    share = frame["_idx"] / (frame["_seq"] + frame["_idx"]).replace(0, np.nan)
    custom = np.column_stack([share.fillna(0) * 100, _num(frame["n_live_tup"])])
    for col, (seq, idx, what) in enumerate((("_seq", "_idx", "scans"), ("_seq_rows", "_idx_rows", "rows")), start=1):
        fig.add_bar(y=labels, x=frame[seq], orientation="h", name=f"sequential {what}", marker_color=SEQ_COLOUR,
                    legendgroup="seq", showlegend=col == 1, customdata=custom,
                    hovertemplate="%{y}: %{x:,} sequential " + what
                    + "<br>%{customdata[0]:.0f} % of scans use an index, %{customdata[1]:,} rows<extra></extra>",
                    row=1, col=col)
        fig.add_bar(y=labels, x=frame[idx], orientation="h", name=f"index {what}", marker_color=IDX_COLOUR,
                    legendgroup="idx", showlegend=col == 1, customdata=custom,
                    hovertemplate="%{y}: %{x:,} index " + what + "<extra></extra>", row=1, col=col)
    fig.update_xaxes(type="log", title_text="scans (log)", row=1, col=1)
    fig.update_xaxes(type="log", title_text="rows read (log)", row=1, col=2)
    fig.update_layout(barmode="group", title="How each table is read: sequential (red) vs index (blue)",
                      height=max(320, 40 + 28 * len(frame)), legend={"orientation": "h", "y": -0.15})
    return fig


def cache_hit_by_table(tables: pd.DataFrame, threshold: float = 0.99, min_blocks: int = 0) -> go.Figure:
    """Cache hit ratio of each table's heap blocks, with the ``threshold`` line (PgHero: 99 %).

    Tables with fewer than ``min_blocks`` block requests are left out. Red bars are under
    the line: their reads go to the OS cache or disk.
    """
    hit, read = _num(tables["heap_blks_hit"]), _num(tables["heap_blks_read"])
    frame = tables.assign(_hit=hit, _read=read, _total=hit + read)
    frame = frame[frame["_total"] >= max(min_blocks, 1)].copy()
    frame["_ratio"] = frame["_hit"] / frame["_total"]
    frame = frame.sort_values("_ratio", ascending=False)
    colours = [OK_COLOUR if r >= threshold else BAD_COLOUR for r in frame["_ratio"]]
    fig = go.Figure(go.Bar(
        y=_labels(frame), x=frame["_ratio"] * 100, orientation="h", marker_color=colours,
        customdata=np.column_stack([frame["_hit"], frame["_read"]]) if len(frame) else None,
        hovertemplate="%{y}: %{x:.2f} % hit<br>%{customdata[0]:,} blocks hit, %{customdata[1]:,} read"
                      "<extra></extra>",
    ))
    fig.add_vline(x=threshold * 100, line_dash="dot", annotation_text=f"{threshold:.0%}")
    low = float(frame["_ratio"].min() * 100) if len(frame) else 90.0
    fig.update_xaxes(title_text="share of block requests served from shared buffers (%)",
                     range=[min(low, threshold * 100) - 1, 100.5])
    fig.update_layout(title="Cache hit ratio per table", height=max(300, 40 + 26 * len(frame)))
    return fig


def index_size_vs_scans(indexes: pd.DataFrame) -> go.Figure:
    """Each index: size (x) against scans since the statistics reset (y, log; 0 scans drawn at the bottom).

    Red points are never scanned and back no constraint: big red points on the right are
    the unused indexes worth dropping (check ``unused_index``). Grey: never scanned but
    enforcing a primary key or uniqueness. Blue: used.
    """
    scans = _num(indexes["idx_scan"])
    size = _num(indexes["bytes"])
    enforcing = indexes["constraint"].notna() | indexes["is_unique"].fillna(False).astype(bool)
    kind = np.where(scans > 0, "used", np.where(enforcing, "unused, enforces a constraint", "unused"))
    colours = {"used": IDX_COLOUR, "unused": BAD_COLOUR, "unused, enforces a constraint": "#7f7f7f"}
    fig = go.Figure()
    for k, colour in colours.items():
        mask = kind == k
        if not mask.any():
            continue
        part = indexes[mask]
        fig.add_scatter(
            x=size[mask], y=scans[mask] + 1, mode="markers", name=k,
            marker={"color": colour, "size": 9, "line": {"width": 0.5, "color": "#333"}},
            customdata=np.column_stack([html_texts(part["index"]), html_texts(part["table"]), scans[mask]]),
            hovertemplate="%{customdata[0]} on %{customdata[1]}<br>%{x:,.0f} bytes, %{customdata[2]:,} scans"
                          "<extra></extra>",
        )
    fig.update_xaxes(type="log", title_text="index size (bytes, log)")
    fig.update_yaxes(type="log", title_text="scans + 1 (log)")
    fig.update_layout(title="Index size against scans: big and never scanned is pure cost")
    return fig


def dead_tuple_share(tables: pd.DataFrame, threshold: float = 0.2) -> go.Figure:
    """Dead tuples as a share of each table's tuples, with autovacuum's default 20 % trigger line."""
    live, dead = _num(tables["n_live_tup"]), _num(tables["n_dead_tup"])
    frame = tables.assign(_live=live, _dead=dead)
    frame = frame[(frame["_live"] + frame["_dead"]) > 0].copy()
    frame["_share"] = frame["_dead"] / (frame["_live"] + frame["_dead"])
    frame = frame.sort_values("_share")
    colours = [BAD_COLOUR if s >= threshold else OK_COLOUR for s in frame["_share"]]
    fig = go.Figure(go.Bar(
        y=_labels(frame), x=frame["_share"] * 100, orientation="h", marker_color=colours,
        customdata=np.column_stack([frame["_dead"], frame["_live"]]) if len(frame) else None,
        hovertemplate="%{y}: %{x:.1f} % dead<br>%{customdata[0]:,} dead, %{customdata[1]:,} live<extra></extra>",
    ))
    fig.add_vline(x=threshold * 100, line_dash="dot", annotation_text=f"{threshold:.0%}")
    fig.update_xaxes(title_text="dead tuples (% of all tuples)", rangemode="tozero")
    fig.update_layout(title="Dead tuple share per table (autovacuum's trigger: 20 % by default)",
                      height=max(300, 40 + 26 * len(frame)))
    return fig
