"""What the lab reads from a :class:`~dbworkbench.timing.Comparison`: history facts and escaped HTML.

``cmp.same_results`` is there for a stopped comparison too (``db.compare`` checks the results
before the timed runs); where the time budget cut that check short, reading it makes it now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from . import _html

if TYPE_CHECKING:
    from ..timing import Comparison


def facts(cmp: Comparison) -> dict[str, Any]:
    """One history row's values for variant B of ``cmp``."""
    summary = cmp.summary.set_index("variant")
    same = cmp.same_results

    def value(variant: str, column: str) -> Any:
        return summary.loc[variant, column] if variant in summary.index else None

    return {
        "runs": value("B", "runs"),
        "median_ms": value("B", "median_ms"),
        "baseline_ms": value("A", "median_ms"),
        "ratio": value("B", "ratio"),
        "verdict": cmp.verdict,
        "same_results": same.same,
        "stopped": cmp.stopped is not None,
    }


def verdict_html(cmp: Comparison) -> str:
    """The verdict in a sentence, then the summary table; in red when B returns other rows."""
    same = cmp.same_results
    tone = "error" if not same.same else ("warning" if cmp.stopped else "ok")
    return _html.message(f"{cmp.verdict}: {cmp.verdict_text}", tone=tone) + _html.table(cmp.summary)


def same_results_html(cmp: Comparison) -> str:
    """Whether B returned A's rows, and the first differing rows when not."""
    same = cmp.same_results
    if same.same:
        return _html.message(f"same results: yes, {same.reason}", tone="ok")
    first: pd.DataFrame = same.first_differences
    return _html.message(f"WRONG REWRITE: B does not return A's rows: {same.reason}", tone="error") + _html.table(first)
