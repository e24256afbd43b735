"""Advice: the chosen indexes with what they buy, per statement before and after, a figure,
reversible migrations, and verification by running the statements.

Columns of :attr:`Advice.selected` (:data:`SELECTED_COLUMNS`): ``index_sql`` string (the
CREATE INDEX CONCURRENTLY statement), ``table`` string, ``columns`` object (list of key
columns; an expression index lists its expression), ``bytes`` Int64 (estimated size),
``benefit_cost`` float64 (the workload's estimated cost saved by this index, given the others,
weighted by calls), ``benefit_pct`` float64 (that as a share of the workload's cost without
any), ``statements_helped`` Int64, ``calls_helped`` Int64, ``total_ms_helped`` float64 (time
the helped statements took in all, from the workload); then ``name`` string and ``index``
object (the :class:`~dbworkbench.advisor.IndexDef`).

Columns of :attr:`Advice.per_statement` (:data:`PER_STATEMENT_COLUMNS`): ``statement_id``
Int64, ``query`` string, ``kind`` string, ``calls`` Int64, ``cost_before``, ``cost_after``,
``benefit_pct`` float64, ``indexes_used`` object (names of chosen indexes the new plan uses),
``note`` string (why a statement could not be costed, else NA).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._escape import html_texts
from .._pretty import pretty_bytes
from ..frames import typed_frame
from .index import IndexDef

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..workbench import Workbench

SELECTED_COLUMNS: dict[str, str] = {
    "index_sql": "string",
    "table": "string",
    "columns": "object",
    "bytes": "Int64",
    "benefit_cost": "float64",
    "benefit_pct": "float64",
    "statements_helped": "Int64",
    "calls_helped": "Int64",
    "total_ms_helped": "float64",
    "name": "string",
    "index": "object",
}

PER_STATEMENT_COLUMNS: dict[str, str] = {
    "statement_id": "Int64",
    "query": "string",
    "kind": "string",
    "calls": "Int64",
    "cost_before": "float64",
    "cost_after": "float64",
    "benefit_pct": "float64",
    "indexes_used": "object",
    "note": "string",
}

VERIFY_COLUMNS: dict[str, str] = {
    "statement_id": "Int64",
    "query": "string",
    "runs": "Int64",
    "ms_before": "float64",
    "ms_after": "float64",
    "speedup": "float64",
    "estimated_benefit_pct": "float64",
    "verdict": "string",
}

_MIGRATION = re.compile(r"^(\d+)_.*\.(up|down)\.sql$")


@dataclass
class Advice:
    """What :meth:`Workbench.advise` found. Build it with ``db.advise(...)``."""

    selected: pd.DataFrame
    per_statement: pd.DataFrame
    candidates: pd.DataFrame
    drops: pd.DataFrame
    workload: pd.DataFrame
    budget_bytes: int
    base_cost: float
    cost: float
    method: str
    requests: int
    explains: int
    seconds: float
    messages: list[str] = field(default_factory=list)

    @property
    def relative_cost(self) -> float:
        """The workload's estimated cost with the advice divided by its cost without (1.0: no gain)."""
        return self.cost / self.base_cost if self.base_cost else 1.0

    @property
    def indexes(self) -> list[IndexDef]:
        return list(self.selected["index"])

    def __repr__(self) -> str:
        size = int(self.selected["bytes"].sum()) if len(self.selected) else 0
        return (f"<Advice {len(self.selected)} index(es), {size / 2**20:,.1f} MB of {self.budget_bytes / 2**20:,.0f} MB, "
                f"workload cost {self.relative_cost:.1%} of today's, {self.method}, {self.requests} cost requests>")

    def text(self) -> str:
        """The chosen indexes as plain text, best first: name, size, what each saves given the others,
        and its whole CREATE INDEX statement (what ``dbworkbench advise`` prints)."""
        lines = []
        ranked = self.selected.sort_values("benefit_cost", ascending=False, kind="stable")
        for k, r in enumerate(ranked.itertuples(index=False), 1):
            share = f"{r.benefit_pct:.1%}" if r.benefit_pct >= 0.0005 else "under 0.1%"
            lines.append(f"{k:>2}. {r.name}: {pretty_bytes(r.bytes)}, saves {share} of the workload's estimated "
                         f"cost ({r.statements_helped} statement(s), {r.calls_helped:,} calls)")
            lines.append(f"    {r.index_sql}")
        return "\n".join(lines)

    # -- migrations ---------------------------------------------------------------------------

    def migration(self) -> tuple[str, str]:
        """``(up_sql, down_sql)``: CREATE INDEX CONCURRENTLY IF NOT EXISTS for each chosen index, and
        the DROP INDEX CONCURRENTLY IF EXISTS statements that undo them (in reverse order).
        Run each file outside a transaction block (psql does by default)."""
        up = [ix.create_sql() for ix in self.indexes]
        down = [ix.drop_sql() for ix in reversed(self.indexes)]
        head = "-- dbworkbench index advice: {} index(es), estimated {:,.1f} MB; workload cost {:.1%} of before\n"
        size = float(self.selected["bytes"].sum()) / 2**20 if len(self.selected) else 0.0
        return (head.format(len(up), size, self.relative_cost) + "\n".join(up) + "\n",
                "-- undoes the matching .up.sql\n" + "\n".join(down) + "\n")

    def write_migration(self, folder: str | Path, name: str = "add_advised_indexes") -> tuple[Path, Path]:
        """Write ``NNN_<name>.up.sql`` and ``.down.sql`` into ``folder`` (made if missing), NNN one
        past the highest number already there, as the handbook lays migrations out."""
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise ValueError(f"migration name {name!r}: use lower-case letters, digits and underscores")
        if not len(self.selected):
            raise ValueError("the advice holds no index, so there is no migration to write")
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in target.iterdir() if (m := _MIGRATION.match(p.name))]
        stem = f"{max(numbers, default=0) + 1:03d}_{name}"
        up, down = self.migration()
        paths = (target / f"{stem}.up.sql", target / f"{stem}.down.sql")
        paths[0].write_text(up, encoding="utf-8")
        paths[1].write_text(down, encoding="utf-8")
        return paths

    # -- pictures -------------------------------------------------------------------------------

    def figure(self) -> go.Figure:
        """Each costed candidate's benefit against its size; the chosen ones filled, the budget as a line."""
        import plotly.graph_objects as go

        fig = go.Figure()
        shown = self.candidates[self.candidates["bytes"].notna()] if "bytes" in self.candidates else self.candidates
        chosen = set(self.selected["name"])
        for picked, label, symbol in ((False, "candidate", "circle-open"), (True, "chosen", "circle")):
            part = shown[shown["name"].isin(chosen) == picked] if len(shown) else shown
            if not len(part):
                continue
            fig.add_scatter(
                x=part["bytes"].astype(float) / 2**20, y=part["benefit_pct"].astype(float) * 100, mode="markers", name=label,
                marker={"symbol": symbol, "size": 11}, customdata=html_texts(part["create_sql"]),
                hovertemplate="%{customdata}<br>%{x:,.2f} MB, saves %{y:.1f} % alone<extra></extra>",
            )
        fig.add_vline(x=self.budget_bytes / 2**20, line_dash="dot", annotation_text="budget")
        fig.update_layout(title="Index candidates: estimated benefit against size",
                          xaxis_title="estimated size (MB)", yaxis_title="workload cost saved alone (%)")
        return fig

    # -- verification ---------------------------------------------------------------------------

    def verify(self, db: Workbench, *, runs: int = 5, max_seconds: float = 120.0,
               params: dict[int, Sequence[Any]] | None = None, progress: bool = True) -> pd.DataFrame:
        """Build the chosen indexes for real (sandbox only), run each helped statement before and
        after, interleaved, and drop the indexes again; :data:`VERIFY_COLUMNS`, one row per statement.

        ``$n`` statements run with values sampled from the columns they are compared with, or with
        ``params[statement_id]``; one with neither is reported as not measured. ``verdict``:
        faster | not faster (an estimate that did not turn into speed) | not measured: <why>.
        """
        from ._verify import verify

        return verify(self, db, runs=runs, max_seconds=max_seconds, params=params or {}, progress=progress)


def selected_frame(rows: list[list[Any]]) -> pd.DataFrame:
    return typed_frame(rows, list(SELECTED_COLUMNS), SELECTED_COLUMNS)


def per_statement_frame(rows: list[list[Any]]) -> pd.DataFrame:
    return typed_frame(rows, list(PER_STATEMENT_COLUMNS), PER_STATEMENT_COLUMNS)


def verify_frame(rows: list[list[Any]]) -> pd.DataFrame:
    return typed_frame(rows, list(VERIFY_COLUMNS), VERIFY_COLUMNS)
